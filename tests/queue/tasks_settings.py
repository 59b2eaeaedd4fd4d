"""Settings of the processes of the django.tasks tests: the queue tests' project, plus a
task backend with workers (django-tasks-db), on SQLite or, with ``QUEUE_TEST_PG_NAME``,
on a PostgreSQL database of the test's own.

``DJANGOES`` does not set ``QUEUE_DISPATCH``: the task backend makes djangoes choose
``djangoes.django_tasks.dispatch`` by itself.
"""

import os

from tests.queue import settings as base

SECRET_KEY = base.SECRET_KEY
USE_TZ = base.USE_TZ
DEFAULT_AUTO_FIELD = base.DEFAULT_AUTO_FIELD
INSTALLED_APPS = [*base.INSTALLED_APPS, "django_tasks_db"]
ES_SERVERS = base.ES_SERVERS
ES_INDICES = base.ES_INDICES
DJANGOES = {key: value for key, value in base.DJANGOES.items() if key != "QUEUE_DISPATCH"}
# --8<-- [start:tasks]
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # e.g. django-tasks-db
# --8<-- [end:tasks]

if os.environ.get("QUEUE_TEST_PG_NAME"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ["QUEUE_TEST_PG_NAME"],
            "USER": os.environ.get("DJANGOES_PG_USER", "postgres"),
            "HOST": os.environ.get("DJANGOES_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("DJANGOES_PG_PORT", "5432"),
        }
    }
else:
    # the web process and the worker share the file: a writer waits for the other's lock
    DATABASES = {
        "default": {
            **base.DATABASES["default"],
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
        }
    }
