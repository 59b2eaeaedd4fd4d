"""Databases for tests: one of its own for the processes a test starts, locks held elsewhere."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def locked_elsewhere(take_locks: Callable[[], object], timeout: float = 60.0) -> Iterator[None]:
    """Hold the locks ``take_locks()`` takes, in another connection, for the block.

    ``take_locks`` runs in a transaction of a thread of its own (so a database
    connection of its own), which stays open until the block ends or
    ``timeout`` seconds pass: a statement that blocked on the locks fails
    then instead of hanging the test.
    """
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                take_locks()
                locked.set()
                release.wait(timeout)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(timeout), "the other connection did not get its locks"
        yield
    finally:
        release.set()
        holder.join(timeout)


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
