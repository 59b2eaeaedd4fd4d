"""Settings of the Django processes started by the rebuild tests.

The engine URL, the SQLite file and the mapping directory come from the
environment, so that every test gives its processes their own. Auto-sync is
on and REBUILD_POLL_SECONDS keeps its default: these processes are the
"other processes" whose cached view of the rebuild table a rebuild must wait
out.
"""

import os

SECRET_KEY = "djangoes-rebuild-tests"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "djangoes",
    "tests.testapp",
]
# BEGIN IMMEDIATE: a transaction that reads then writes waits for the
# other process's write lock instead of failing at once ("database is locked")
_options: dict[str, object] = {"timeout": 60, "transaction_mode": "IMMEDIATE"}
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["REBUILD_TEST_DB"],
        "OPTIONS": _options,
    }
}
ES_SERVERS = {
    "default": {
        "HOSTS": [os.environ["REBUILD_TEST_ENGINE_URL"]],
        "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
        "INDICES": ["blog"],
        "PARAMS": {"max_retries": 0},
    }
}
ES_INDICES = {"blog": {"ALIASES": ["blog_public"], "MODELS": ["testapp.Post", "testapp.Page"]}}
DJANGOES = {
    "MAPPINGS_DIR": os.environ["REBUILD_TEST_MAPPINGS"],
    "CHUNK_SIZE": 5,
    "ON_ERROR": "raise",
}
