"""Settings of the sample project run by ``tests/test_testing/test_runner.py``.

Environment:

* ``DJANGOES_ENGINE_URL``: the engine the connection uses, unless
* ``RUNNERPROJECT_EMBEDDED_RUNTIME_DIR`` is set: then it is the embedded
  engine of that runtime directory;
* ``RUNNERPROJECT_TEST_RUNNER``: ``TEST_RUNNER`` (default djangoes' runner);
* ``RUNNERPROJECT_START_METHOD``: multiprocessing start method for ``--parallel``.
"""

import multiprocessing
import os

from django.core.exceptions import ImproperlyConfigured

EMBEDDED_RUNTIME_DIR = os.environ.get("RUNNERPROJECT_EMBEDDED_RUNTIME_DIR")
if EMBEDDED_RUNTIME_DIR:
    SERVER = {
        "ENGINE": "djangoes.backends.embedded.EmbeddedBackend",
        "PARAMS": {"runtime_dir": EMBEDDED_RUNTIME_DIR},
    }
elif os.environ.get("DJANGOES_ENGINE_URL"):
    SERVER = {
        "HOSTS": [os.environ["DJANGOES_ENGINE_URL"]],
        "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
    }
else:
    raise ImproperlyConfigured(
        "Set DJANGOES_ENGINE_URL to the URL of a running engine (or "
        "RUNNERPROJECT_EMBEDDED_RUNTIME_DIR) to run this project's tests."
    )

if os.environ.get("RUNNERPROJECT_START_METHOD"):
    # Django's --parallel uses the platform default (fork on Linux, spawn on
    # macOS and Windows); this lets the tests exercise both on one machine.
    multiprocessing.set_start_method(os.environ["RUNNERPROJECT_START_METHOD"], force=True)

SECRET_KEY = "runnerproject"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "djangoes", "searchapp"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
TEST_RUNNER = os.environ.get("RUNNERPROJECT_TEST_RUNNER", "djangoes.test.runner.DiscoverRunner")

ES_SERVERS = {"default": {**SERVER, "INDICES": ["posts"]}}
ES_INDICES = {
    "posts": {
        "NAME": "posts_v1",
        "ALIASES": ["posts_public"],
        "SETTINGS": {
            "mappings": {"properties": {"title": {"type": "text"}, "author": {"type": "keyword"}}}
        },
    }
}
