"""Settings of the worker processes of ``tests/sync/processes.py``.

The database, the engine and the policies come from the environment, so that
every test gives its workers their own: ``SYNC_TEST_PG`` (a PostgreSQL
database name: the test's own) or ``SYNC_TEST_DB`` (a SQLite file),
``SYNC_TEST_ENGINE_URL``, ``SYNC_TEST_ON_ERROR`` and ``SYNC_TEST_QUEUE_SEND``.
With ``SYNC_TEST_REPLICA`` (a PostgreSQL database name, or a SQLite file in
the SQLite runs) reads are routed to that database, a replica that never
catches up (:class:`ReplicaRouter`); writes go to ``default``.
Every other setting is the default, as a project has it: each process has its
own cache (``LocMemCache``).
"""

import os

from tests.process_settings import INSTALLED_APPS, engine_servers, sqlite_file

SECRET_KEY = "djangoes-sync-process-tests"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = list(INSTALLED_APPS)
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
    DATABASES = sqlite_file(os.environ["SYNC_TEST_DB"])
if os.environ.get("SYNC_TEST_REPLICA"):
    replica = os.environ["SYNC_TEST_REPLICA"]
    if os.environ.get("SYNC_TEST_PG"):
        DATABASES["replica"] = {**DATABASES["default"], "NAME": replica}
    else:
        DATABASES["replica"] = sqlite_file(replica)["default"]
    DATABASE_ROUTERS = ["tests.sync.process_settings.ReplicaRouter"]


class ReplicaRouter:
    """Reads from "replica", writes to "default", as a project with a read replica routes."""

    def db_for_read(self, model: object, **hints: object) -> str:
        return "replica"

    def db_for_write(self, model: object, **hints: object) -> str:
        return "default"


ES_SERVERS = engine_servers(os.environ["SYNC_TEST_ENGINE_URL"])
ES_INDICES = {"blog": {"MODELS": ["testapp.Post", "testapp.Page"]}}
DJANGOES = {
    "MAPPINGS_DIR": os.environ.get("SYNC_TEST_MAPPINGS", "/nonexistent"),
    "ON_ERROR": os.environ.get("SYNC_TEST_ON_ERROR", "queue"),
    "QUEUE_SEND": os.environ.get("SYNC_TEST_QUEUE_SEND", "commit"),
}
