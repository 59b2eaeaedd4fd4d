"""Settings of the sample project run by ``tests/test_testing/test_runner.py``.

Environment:

* ``DJANGOES_ENGINE_URL`` (required): the engine the connections use;
* ``RUNNERPROJECT_TEST_RUNNER``: ``TEST_RUNNER`` (default djangoes' runner);
* ``RUNNERPROJECT_START_METHOD``: multiprocessing start method for ``--parallel``.
"""

import multiprocessing
import os

from django.core.exceptions import ImproperlyConfigured

try:
    ENGINE_URL = os.environ["DJANGOES_ENGINE_URL"]
except KeyError:
    raise ImproperlyConfigured(
        "Set DJANGOES_ENGINE_URL to the URL of a running engine to run this project's tests."
    ) from None

if os.environ.get("RUNNERPROJECT_START_METHOD"):
    # Django's --parallel uses the platform default (fork on Linux, spawn on
    # macOS and Windows); this lets the tests exercise both on one machine.
    multiprocessing.set_start_method(os.environ["RUNNERPROJECT_START_METHOD"], force=True)

SECRET_KEY = "runnerproject"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django.contrib.contenttypes", "djangoes", "searchapp"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
TEST_RUNNER = os.environ.get("RUNNERPROJECT_TEST_RUNNER", "djangoes.test.runner.DiscoverRunner")

ES_SERVERS = {
    "default": {
        "HOSTS": [ENGINE_URL],
        "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
        "INDICES": ["posts"],
    }
}
ES_INDICES = {
    "posts": {
        "NAME": "posts_v1",
        "ALIASES": ["posts_public"],
        "SETTINGS": {
            "mappings": {"properties": {"title": {"type": "text"}, "author": {"type": "keyword"}}}
        },
    }
}
