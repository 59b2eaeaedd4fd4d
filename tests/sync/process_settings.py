"""Settings of the worker processes of ``tests/sync/processes.py``.

The database, the engine and the policies come from the environment, so that
every test gives its workers their own: ``SYNC_TEST_PG`` (a PostgreSQL
database name: the test's own) or ``SYNC_TEST_DB`` (a SQLite file),
``SYNC_TEST_ENGINE_URL``, ``SYNC_TEST_ON_ERROR`` and ``SYNC_TEST_QUEUE_SEND``.
Every other setting is the default, as a project has it: each process has its
own cache (``LocMemCache``).
"""

import os

import django

SECRET_KEY = "djangoes-sync-process-tests"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "djangoes",
    "tests.testapp",
]
if os.environ.get("SYNC_TEST_PG"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ["SYNC_TEST_PG"],
            "USER": os.environ.get("DJANGOES_PG_USER", "postgres"),
            "HOST": os.environ.get("DJANGOES_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("DJANGOES_PG_PORT", "5432"),
        }
    }
else:
    _options: dict[str, object] = {"timeout": 60}
    if django.VERSION >= (5, 1):
        # BEGIN IMMEDIATE: a transaction that reads then writes waits for the
        # other processes' write lock instead of failing at once
        _options["transaction_mode"] = "IMMEDIATE"
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ["SYNC_TEST_DB"],
            "OPTIONS": _options,
        }
    }
ES_SERVERS = {
    "default": {
        "HOSTS": [os.environ["SYNC_TEST_ENGINE_URL"]],
        "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
        "INDICES": ["blog"],
        "PARAMS": {"max_retries": 0},
    }
}
ES_INDICES = {"blog": {"MODELS": ["testapp.Post", "testapp.Page"]}}
DJANGOES = {
    "MAPPINGS_DIR": os.environ.get("SYNC_TEST_MAPPINGS", "/nonexistent"),
    "ON_ERROR": os.environ.get("SYNC_TEST_ON_ERROR", "queue"),
    "QUEUE_SEND": os.environ.get("SYNC_TEST_QUEUE_SEND", "commit"),
}
