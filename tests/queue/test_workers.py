"""Several workers draining one queue on PostgreSQL (``SELECT ... FOR UPDATE SKIP LOCKED``).

On SQLite, which has no row locks, djangoes supports one worker at a time
(docs/queue.md); these tests are skipped there and run in the PostgreSQL lane.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from djangoes.backends.abstracts import Base
from djangoes.sync import disable_search_updates
from djangoes.sync.drain import DrainResult, claim_entries, drain
from djangoes.sync.models import SyncQueueEntry
from djangoes.sync.operations import Operation
from djangoes.sync.queue import enqueue, new_claim
from tests.databases import locked_elsewhere
from tests.queue.conftest import rows
from tests.testapp.models import Author, Post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks: one worker at a time (run the PostgreSQL lane)")


def make_entries(author: Author, count: int) -> list[Post]:
    """``count`` posts (not synced) with a queue entry each, and a second one for every third."""
    with disable_search_updates():
        posts = [Post.objects.create(title=f"post {i}", author=author) for i in range(count)]
    ops = [Operation.for_instance("index", "blog", p) for p in posts]
    ops += [Operation.for_instance("index", "blog", p) for p in posts[::3]]
    enqueue(ops, "default", new_claim())
    SyncQueueEntry.objects.update(claimed_by="", claimed_until=None)
    return posts


def test_a_claim_skips_rows_another_worker_has_locked(queued: Base, ada: Author) -> None:
    make_entries(ada, 20)
    first = sorted(SyncQueueEntry.objects.values_list("pk", flat=True))[:10]
    locks = SyncQueueEntry.objects.select_for_update().filter(pk__in=first)
    with locked_elsewhere(lambda: list(locks)):  # bounded: a claim that blocked fails, not hangs
        claimed = claim_entries("default", "second worker", limit=5)
    assert len(claimed) >= 5
    assert not {e.pk for e in claimed} & set(first)


def test_two_workers_drain_everything_and_never_send_an_entry_twice(
    queued: Base, ada: Author
) -> None:
    posts = make_entries(ada, 300)
    total = SyncQueueEntry.objects.count()
    start = threading.Barrier(2)
    results: dict[str, DrainResult] = {}

    def worker(name: str) -> None:  # an exception leaves no result (and pytest shows it)
        try:
            start.wait()
            results[name] = drain(batch_size=7)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["a", "b"]
    a, b = results["a"], results["b"]
    assert not set(a.entry_ids) & set(b.entry_ids)
    assert sorted(a.entry_ids + b.entry_ids) == sorted(set(a.entry_ids + b.entry_ids))
    assert len(a.entry_ids) + len(b.entry_ids) == total
    assert a.sent + b.sent == total
    assert rows() == []
    found = queued.search(query={"match_all": {}}, size=1000)["hits"]["hits"]
    assert sorted(hit["_id"] for hit in found) == sorted(str(p.pk) for p in posts)
