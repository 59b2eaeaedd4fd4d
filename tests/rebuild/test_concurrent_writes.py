"""A rebuild while another thread keeps saving and deleting: nothing lost, no search fails.

The writer thread and the searching thread have their own database and
engine connections. The rebuild is made to wait, after each chunk, until the
writer has committed a few more transactions, so the writes are certainly
spread over the whole load (no sleeping, no timing assumption).

Threads need a database they can share: PostgreSQL (the ``postgres`` lane)
or a SQLite file. The suite's SQLite database is in memory, where SQLite
locks whole tables between the threads' connections ("database table is
locked") — something no production database does — so there the test is
skipped; ``test_processes.py`` runs the same writer in another process on a
SQLite file.
"""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest
from django.db import connections as db_connections

from djangoes import connections
from djangoes.backends.abstracts import Base
from djangoes.indexing import index_state, rebuild_index
from tests.rebuild.helpers import SearchThread, database_documents, index_documents
from tests.rebuild.writers import KEEP_PUBLISHED, one_step

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

#: Transactions the writer commits between two chunks of the load.
STEPS_PER_CHUNK = 3
#: Longest wait for the writer, in seconds (a hang guard, not a measurement).
GUARD = 120


class WriterThread(threading.Thread):
    """Commits random changes (``writers.one_step``) until stopped; counts its steps."""

    def __init__(self, author_id: int, seed: int) -> None:
        super().__init__(name="writer")
        self.author_id = author_id
        self.rng = random.Random(seed)
        self.steps = 0
        self.errors: list[BaseException] = []
        self.stop = threading.Event()
        self.progressed = threading.Condition()

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                one_step(self.rng, self.author_id)
                with self.progressed:
                    self.steps += 1
                    self.progressed.notify_all()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.errors.append(exc)
        finally:
            with self.progressed:
                self.progressed.notify_all()
            db_connections.close_all()
            connections.close_all()

    def wait_for(self, steps: int) -> None:
        """Block until the writer has done ``steps`` steps in all (or failed)."""
        with self.progressed:
            done = self.progressed.wait_for(
                lambda: self.steps >= steps or bool(self.errors), timeout=GUARD
            )
        assert not self.errors, self.errors
        assert done, f"the writer did only {self.steps} of {steps} steps"


def test_a_rebuild_while_a_thread_saves_and_deletes(conn: Base, blog: dict[str, Any]) -> None:
    database = db_connections["default"]
    if database.vendor == "sqlite" and database.is_in_memory_db():
        pytest.skip("threads cannot share an in-memory SQLite database (see the module docstring)")
    live = sorted(index_state(conn, "blog").indices)
    writer = WriterThread(blog["author"].pk, seed=4)
    searcher = SearchThread()
    chunks = 0

    def progress(done: int, total: int | None) -> None:
        nonlocal chunks
        chunks += 1
        writer.wait_for(chunks * STEPS_PER_CHUNK)

    writer.start()
    searcher.start()
    try:
        writer.wait_for(STEPS_PER_CHUNK)  # some writes before the rebuild starts, too
        result = rebuild_index("blog", progress=progress)
        writer.wait_for(writer.steps + STEPS_PER_CHUNK)  # and some after the switch
    finally:
        writer.stop.set()
        searcher.stop.set()
        writer.join(GUARD)
        searcher.join(GUARD)
    assert writer.errors == []
    assert searcher.errors == []
    assert chunks > 5  # the load really was spread over the writes
    assert writer.steps >= chunks * STEPS_PER_CHUNK
    # Every search found the complete old or the complete new index, never both.
    assert len(searcher.seen) > 0
    assert all(hits >= KEEP_PUBLISHED for hits, _ in searcher.seen)
    assert all(len(physical) == 1 for _, physical in searcher.seen)
    assert {next(iter(physical)) for _, physical in searcher.seen} <= {*live, result.new_index}
    # The new index is live and holds exactly what the database holds.
    assert sorted(index_state(conn, "blog").indices) == [result.new_index]
    assert sorted(index_state(conn, "blog_public").indices) == [result.new_index]
    assert index_documents(conn) == database_documents()
