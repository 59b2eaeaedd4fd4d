"""Settings of the Django processes started by the lifecycle tests (``python -m django``).

The engine URL, the SQLite file and the mapping directory come from the
environment, so that every test gives its processes its own.
"""

import os

SECRET_KEY = "djangoes-lifecycle-tests"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "djangoes",
    "tests.testapp",
]
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["LIFECYCLE_TEST_DB"]}
}
ES_SERVERS = {
    "default": {
        "HOSTS": [os.environ["LIFECYCLE_TEST_ENGINE_URL"]],
        "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
        "INDICES": ["blog"],
        "PARAMS": {"max_retries": 0},
    }
}
ES_INDICES = {"blog": {"ALIASES": ["blog_public"], "MODELS": ["testapp.Post", "testapp.Page"]}}
DJANGOES = {
    "MAPPINGS_DIR": os.environ["LIFECYCLE_TEST_MAPPINGS"],
    "CHUNK_SIZE": 2,
    "AUTO_SYNC": False,
}
