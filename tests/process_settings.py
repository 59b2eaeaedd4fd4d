"""What the settings of the suite's Django processes share (``python -m django``, workers).

Each package's settings module reads its own environment variables and builds
its settings from these pieces.
"""

from typing import Any

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "djangoes",
    "tests.testapp",
]


def sqlite_file(name: str) -> dict[str, Any]:
    """DATABASES for a SQLite file several processes write to.

    A writer waits for the lock (60 s), and a transaction that reads then
    writes takes the write lock at BEGIN (IMMEDIATE) instead of failing at its
    first write ("database is locked").
    """
    options = {"timeout": 60, "transaction_mode": "IMMEDIATE"}
    return {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": name, "OPTIONS": options}}


def engine_servers(url: str) -> dict[str, Any]:
    """ES_SERVERS: one connection to the engine at ``url``, holding the blog index."""
    return {
        "default": {
            "HOSTS": [url],
            "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
            "INDICES": ["blog"],
            "PARAMS": {"max_retries": 0},
        }
    }
