"""Settings of the Django processes started by the queue tests (``python -m django``, Celery).

The SQLite file, the engine URL, the mapping directory and the Celery broker
come from the environment, so that every test gives its processes its own.
"""

import os

from tests.process_settings import INSTALLED_APPS, engine_servers

SECRET_KEY = "djangoes-queue-tests"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = list(INSTALLED_APPS)
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["QUEUE_TEST_DB"]}
}
ES_SERVERS = engine_servers(os.environ["QUEUE_TEST_ENGINE_URL"])
ES_INDICES = {"blog": {"MODELS": ["testapp.Post", "testapp.Page"]}}
DJANGOES = {
    "MAPPINGS_DIR": os.environ["QUEUE_TEST_MAPPINGS"],
    "ON_ERROR": "queue",
    "QUEUE_DISPATCH": os.environ.get("QUEUE_TEST_DISPATCH") or None,
    "RETRY_BUDGET": float(os.environ.get("QUEUE_TEST_RETRY_BUDGET", "60")),
}

CELERY_BROKER_URL = os.environ.get("QUEUE_TEST_BROKER", "redis://127.0.0.1:6379/0")
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("QUEUE_TEST_CELERY_QUEUE", "djangoes-tests")
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
