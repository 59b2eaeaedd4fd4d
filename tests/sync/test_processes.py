"""Sync with several processes, as deployments run: the index ends equal to the database.

The workers (``tests/sync/processes.py``) are real Django processes with the
default settings (each has its own cache), sharing one database — the test's
PostgreSQL database in the ``postgres`` lane, else a SQLite file — and the
test's engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections as db_connections

from djangoes.backends.abstracts import Base
from tests.databases import own_postgres_database
from tests.sync.conftest import indexed
from tests.sync.processes import Worker, migrate, worker_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def database(blog_index: Base, tmp_path: Path) -> dict[str, str]:
    """Where the workers keep their rows: this test's PostgreSQL database, or a SQLite file."""
    settings_dict = db_connections["default"].settings_dict
    if settings_dict["ENGINE"].endswith("postgresql"):
        return {"SYNC_TEST_PG": str(settings_dict["NAME"])}
    return {"SYNC_TEST_DB": str(tmp_path / "db.sqlite3")}


@pytest.fixture
def start(database: dict[str, str], engine_url: str) -> Iterator[Any]:
    """Start workers: ``start(**settings)``; they are stopped at the end."""
    started: list[Worker] = []
    migrated: list[bool] = []

    def starting(**settings: str) -> Worker:
        env = worker_env(database, engine_url, **settings)
        if "SYNC_TEST_DB" in database and not migrated:
            migrate(env)
            migrated.append(True)
        started.append(Worker(env))
        return started[-1]

    try:
        yield starting
    finally:
        for worker in started:
            worker.close()


def titles_in_index(conn: Base) -> dict[str, str]:
    return {doc_id: doc["title"] for doc_id, doc in indexed(conn).items()}


def test_a_save_by_another_process_is_never_taken_for_unchanged(
    blog_index: Base, start: Any
) -> None:
    """Regression: worker 1 saves A, worker 2 saves B, worker 1 saves A again: 20 of 20
    documents ended as B, because worker 1's own cache said A was unchanged."""
    first, second = start(), start()
    pks = first.ask({"do": "create", "count": 20})
    first.ask({"do": "save", "pks": pks, "titles": ["A"]})
    second.ask({"do": "save", "pks": pks, "titles": ["B"]})
    first.ask({"do": "save", "pks": pks, "titles": ["A"]})
    assert titles_in_index(blog_index) == {str(pk): "A" for pk in pks}
    assert first.ask({"do": "queue"}) == 0


def test_concurrent_saves_of_one_row_end_with_the_last_committed(
    blog_index: Base, start: Any
) -> None:
    """Regression: four processes saving one row together ended with an older value in the
    index (4 to 8 of 300 rounds) and an empty queue: each sent the instance it held in
    memory, with a version taken after its commit, so a process that committed first but
    took its version last won. Here each of 150 rows is saved by the four at once."""
    workers = [start() for _ in range(4)]
    pks = workers[0].ask({"do": "create", "count": 150})
    for worker in workers:
        assert worker.ask({"do": "queue"}) == 0  # started and ready
    for pk in pks:  # one round per row: the four save it together
        for seed, worker in enumerate(workers):
            worker.send({"do": "race", "pk": pk, "seed": seed})
        for worker in workers:
            assert worker.answer() is True
    database = workers[0].ask({"do": "titles"})
    assert titles_in_index(blog_index) == database
    assert workers[0].ask({"do": "queue"}) == 0


def test_background_sending_a_b_a_in_a_process_of_its_own(blog_index: Base, start: Any) -> None:
    """Regression (background sending, on a database threads can share: a SQLite file or
    PostgreSQL): quick saves A -> B -> A left B in the index."""
    worker = start(QUEUE_SEND="background")
    pks = worker.ask({"do": "create", "count": 50})
    assert worker.ask({"do": "wait"}) is True
    worker.ask({"do": "save", "pks": pks, "titles": ["A", "B", "A"]})
    assert worker.ask({"do": "wait"}) is True
    assert titles_in_index(blog_index) == {str(pk): "A" for pk in pks}
    assert worker.ask({"do": "queue"}) == 0


@pytest.fixture
def replica(database: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """A database the workers' reads are routed to, and which never receives their writes."""
    if "SYNC_TEST_PG" in database:
        with own_postgres_database() as name:
            assert name is not None
            yield name
    else:
        yield str(tmp_path / "replica.sqlite3")


def test_documents_are_read_where_the_rows_are_written_never_from_a_replica(
    blog_index: Base, start: Any, replica: str, database: dict[str, str], engine_url: str
) -> None:
    """With reads routed to a replica that lags (here: one that never catches up), every
    read that builds documents or decides deletes goes to the database the change was
    committed on: the commit's sync, the queue's drain, update_index and prune. Reading
    the replica would delete the documents of rows it does not have yet."""
    migrate(worker_env(database, engine_url, REPLICA=replica), "replica")
    worker = start(REPLICA=replica)
    pks = worker.ask({"do": "create", "count": 20})
    worker.ask({"do": "save", "pks": pks, "titles": ["A"]})
    every_one = {str(pk): "A" for pk in pks}
    assert titles_in_index(blog_index) == every_one
    assert worker.ask({"do": "drain", "pks": pks}) == 20
    assert titles_in_index(blog_index) == every_one
    assert worker.ask({"do": "prune"}) == 0
    assert worker.ask({"do": "update_index"}) == 20
    assert titles_in_index(blog_index) == every_one
    assert worker.ask({"do": "queue"}) == 0


def test_a_process_killed_while_sending_in_the_background_loses_nothing(
    blog_index: Base, start: Any
) -> None:
    """Background sending (the production default) settles the rows of what it sent
    lazily, in batches. A process killed at any point (before its thread sent, while it
    sends, after it sent but before it deleted the rows) leaves rows its transactions
    claimed; once the claims run out, the drain sends them (again), and the versions make
    that harmless: the index ends equal to the database, the queue empty."""
    worker = start(QUEUE_SEND="background")
    pks = worker.ask({"do": "create", "count": 50})
    worker.ask({"do": "save", "pks": pks, "titles": ["A", "B", "C"]})
    worker.process.kill()
    worker.process.wait()
    drainer = start()
    assert drainer.ask({"do": "queue"}) > 0  # what the killed process had not settled
    drainer.ask({"do": "expire_and_drain"})
    assert titles_in_index(blog_index) == drainer.ask({"do": "titles"})
    assert set(drainer.ask({"do": "titles"}).values()) == {"C"}
    assert drainer.ask({"do": "queue"}) == 0
