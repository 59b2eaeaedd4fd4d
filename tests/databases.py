"""A database of its own for the processes a test starts (a server, a worker...)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def own_postgres_database() -> Iterator[str | None]:
    """In the PostgreSQL lane a new PostgreSQL database (its name; dropped after), else None.

    None means SQLite: the test's processes share a file of their own.
    """
    if os.environ.get("DJANGOES_TEST_DB") != "postgres":
        yield None
        return
    import psycopg

    name = f"djangoes_{uuid.uuid4().hex[:16]}"
    params = {
        "host": os.environ.get("DJANGOES_PG_HOST", "127.0.0.1"),
        "port": int(os.environ.get("DJANGOES_PG_PORT", "5432")),
        "user": os.environ.get("DJANGOES_PG_USER", "postgres"),
        "dbname": os.environ.get("DJANGOES_PG_NAME", "test"),
        "autocommit": True,
    }
    with psycopg.connect(**params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(**params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
