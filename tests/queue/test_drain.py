"""Draining the queue: current database state, last one wins, versions, claims, failures."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from djangoes import connections
from djangoes.backends.abstracts import Base
from djangoes.sync import disable_search_updates
from djangoes.sync.drain import claim_entries, drain, process_entries, sync_entries
from djangoes.sync.models import SyncQueueEntry
from djangoes.sync.operations import Operation
from djangoes.sync.queue import enqueue, new_claim
from tests.queue.conftest import engine_down, rows
from tests.sync.conftest import indexed
from tests.testapp.models import Author, Page, Post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def queue(*changes: tuple[str, Any]) -> None:
    """Write queue rows as auto-sync would, unclaimed, for (action, object) pairs."""
    ops = [Operation.for_instance(action, "blog", obj) for action, obj in changes]  # type: ignore[arg-type]
    enqueue(ops, "default", new_claim())
    SyncQueueEntry.objects.update(claimed_by="", claimed_until=None)


def bulk_bodies(conn: Base) -> list[str]:
    return [q["body"] for q in conn.queries if q["path"].split("?")[0] == "/_bulk"]


@pytest.fixture
def quiet(queued: Base, ada: Author) -> Author:
    """Saves in this test are not synced by themselves; returns an author."""
    return ada


def test_documents_are_built_from_the_current_database_state(queued: Base, quiet: Author) -> None:
    with disable_search_updates():
        post = Post.objects.create(title="as queued", author=quiet)
    queue(("index", post))
    Post.objects.filter(pk=post.pk).update(title="as it is now")
    result = drain()
    assert (result.entries, result.sent, result.indexed) == (1, 1, 1)
    assert indexed(queued)[str(post.pk)]["title"] == "as it is now"
    assert rows() == []


def test_a_missing_object_becomes_a_delete(queued: Base, quiet: Author) -> None:
    kept = Post.objects.create(title="kept", author=quiet)
    gone = Post.objects.create(title="gone", author=quiet)
    hidden = Post.objects.create(title="hidden", author=quiet)
    page = Page.objects.create(title="about")
    assert len(indexed(queued)) == 4
    queue(("index", kept), ("index", gone), ("index", hidden), ("index", page))
    with disable_search_updates():
        Post.objects.filter(pk=gone.pk).delete()
        Page.objects.filter(pk=page.pk).delete()  # its document id (a UUID) comes from the row
    Post.objects.filter(pk=hidden.pk).update(published=False)  # left get_search_queryset
    result = drain()
    assert (result.sent, result.indexed, result.deleted) == (4, 1, 3)
    assert list(indexed(queued)) == [str(kept.pk)]


def test_the_entries_of_one_document_make_one_write_and_the_last_state_wins(
    queued: Base, quiet: Author, settings: Any
) -> None:
    settings.DEBUG = True
    with disable_search_updates():
        post = Post.objects.create(title="v1", author=quiet)
        other = Post.objects.create(title="other", author=quiet)
    for title in ("v2", "v3", "v4"):
        post.title = title
        with disable_search_updates():
            post.save()
        queue(("index", post))
    queue(("delete", other), ("index", other))  # deleted, then saved again: it exists
    connections["default"].queries.clear()
    result = drain()
    assert (result.entries, result.sent, result.indexed, result.deleted) == (5, 5, 2, 0)
    [body] = bulk_bodies(connections["default"])
    assert body.count('"index":') == 2
    assert indexed(queued)[str(post.pk)]["title"] == "v4"
    assert str(other.pk) in indexed(queued)


def test_entries_of_one_document_are_claimed_together(queued: Base, quiet: Author) -> None:
    with disable_search_updates():
        first = Post.objects.create(title="first", author=quiet)
        second = Post.objects.create(title="second", author=quiet)
    queue(("index", first), ("index", second), ("index", first))
    claimed = claim_entries("default", "worker", limit=1)
    assert [(e.object_pk, e.claimed_by) for e in claimed] == [
        (str(first.pk), "worker"), (str(first.pk), "worker"),
    ]  # fmt: skip


def test_a_stale_entry_never_overwrites_a_newer_document(
    queued: Base, quiet: Author, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save commits and syncs between the drain's read and its write: the save wins.

    ``prepare_search_documents`` (called between reading the objects and
    sending) is the only place to run code at that moment, so the test puts
    the concurrent save there; the database and the engine are real.
    """
    with disable_search_updates():
        post = Post.objects.create(title="old", author=quiet)
    queue(("index", post))

    def concurrent_save(objects: list[Post], *, index: str) -> None:
        def save() -> None:
            fresh = Post.objects.get(pk=post.pk)
            fresh.title = "new"
            fresh.save()  # commits and syncs now, with a newer version
            connection.close()

        if objects[0].title == "old":
            thread = threading.Thread(target=save)
            thread.start()
            thread.join()

    monkeypatch.setattr(Post, "prepare_search_documents", concurrent_save, raising=False)
    result = drain()
    assert (result.sent, result.indexed, result.superseded) == (1, 0, 1)
    assert indexed(queued)[str(post.pk)]["title"] == "new"
    assert rows() == []


def test_sending_a_document_clears_its_older_failures(queued: Base, quiet: Author) -> None:
    with disable_search_updates():
        post = Post.objects.create(title="fixed", author=quiet)
    queue(("index", post))
    SyncQueueEntry.objects.update(state="failed", last_error="mapper_parsing_exception")
    queue(("index", post))
    result = drain()
    assert (result.entries, result.sent) == (2, 2)
    assert rows() == []


def test_a_document_whose_code_raises_fails_alone(
    queued: Base, quiet: Author, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in a model's document code: the other documents go, the bad one is kept as failed.

    The bug is put in by replacing ``as_search_document`` for one title (no
    engine can show it).
    """
    with disable_search_updates():
        posts = [Post.objects.create(title=f"post {i}", author=quiet) for i in range(5)]
    queue(*(("index", p) for p in posts))
    original = Post.as_search_document

    def buggy(self: Post, *, index: str) -> dict[str, Any]:
        if self.title == "post 3":
            raise AttributeError("'NoneType' object has no attribute 'name'")
        return original(self, index=index)

    monkeypatch.setattr(Post, "as_search_document", buggy)
    result = drain()
    assert (result.sent, result.failed) == (4, 1)
    assert sorted(indexed(queued)) == sorted(str(p.pk) for p in posts if p.title != "post 3")
    [row] = rows()
    assert row.state == "failed"
    assert row.last_error == (
        "building the document raised AttributeError(\"'NoneType' object has no attribute 'name'\")"
    )
    assert "Building the search document of testapp.Post" in caplog.text


def test_entries_that_can_never_be_sent_fail_with_the_reason(
    queued: Base, quiet: Author, settings: Any
) -> None:
    with disable_search_updates():
        post = Post.objects.create(title="p", author=quiet)
    now = timezone.now()
    SyncQueueEntry.objects.create(index="blog", model="gone.Model", object_pk="1", doc_id="1",
                                  action="index", next_attempt=now)  # fmt: skip
    SyncQueueEntry.objects.create(index="blog", model="testapp.Post", object_pk="x", doc_id="x",
                                  action="index", next_attempt=now)  # fmt: skip
    queue(("index", post))
    settings.ES_INDICES = {**settings.ES_INDICES, "blog": {**settings.ES_INDICES["blog"],
                                                           "MODELS": ["testapp.Page"]}}  # fmt: skip
    result = drain()
    assert (result.sent, result.failed) == (0, 3)
    assert [r.last_error for r in rows()] == [
        "the model 'gone.Model' is not installed any more",
        "testapp.Post is not in index 'blog' any more (ES_INDICES['blog']['MODELS'])",
        "testapp.Post is not in index 'blog' any more (ES_INDICES['blog']['MODELS'])",
    ]


def test_an_invalid_primary_key_fails(queued: Base) -> None:
    SyncQueueEntry.objects.create(index="blog", model="testapp.Post", object_pk="x", doc_id="x",
                                  action="index", next_attempt=timezone.now())  # fmt: skip
    result = drain()
    assert result.failed == 1
    assert rows()[0].last_error.startswith("the primary key 'x' is not valid: ")


def test_a_run_stops_at_the_first_batch_the_engine_cannot_take(
    queued: Base, quiet: Author, settings: Any
) -> None:
    with disable_search_updates():
        posts = [Post.objects.create(title=f"post {i}", author=quiet) for i in range(6)]
    queue(*(("index", p) for p in posts))
    servers = engine_down(settings)
    result = drain(batch_size=2)
    assert (result.entries, result.retrying) == (2, 2)
    assert result.stopped is not None
    assert "connect" in result.stopped.lower()
    assert [r.attempts for r in rows()] == [1, 1, 0, 0, 0, 0]
    settings.ES_SERVERS = servers
    result = drain(batch_size=2)  # the two in backoff wait; the other four go
    assert (result.entries, result.sent) == (4, 4)
    assert len(rows()) == 2


def test_each_entry_is_tried_once_per_run_even_ignoring_the_backoff(
    queued: Base, quiet: Author, settings: Any
) -> None:
    with disable_search_updates():
        post = Post.objects.create(title="p", author=quiet)
    queue(("index", post))
    engine_down(settings)
    result = drain(ignore_backoff=True)
    assert (result.entries, result.retrying) == (1, 1)


def test_claims_of_live_processes_are_respected_and_expired_ones_taken(
    queued: Base, quiet: Author
) -> None:
    with disable_search_updates():
        live = Post.objects.create(title="live", author=quiet)
        crashed = Post.objects.create(title="crashed", author=quiet)
    queue(("index", live), ("index", crashed))
    now = timezone.now()
    SyncQueueEntry.objects.filter(object_pk=str(live.pk)).update(
        claimed_by="busy", claimed_until=now + timedelta(minutes=5)
    )
    SyncQueueEntry.objects.filter(object_pk=str(crashed.pk)).update(
        claimed_by="dead", claimed_until=now - timedelta(seconds=1)
    )
    result = drain()
    assert result.sent == 1
    assert list(indexed(queued)) == [str(crashed.pk)]
    assert [r.object_pk for r in rows()] == [str(live.pk)]


def test_sync_entries_takes_over_the_rows_of_its_transaction(queued: Base, quiet: Author) -> None:
    """What the Celery task runs: the writing transaction's claim hands the rows over."""
    with disable_search_updates():
        post = Post.objects.create(title="p", author=quiet)
    claim = new_claim()
    with transaction.atomic():
        op = Operation.for_instance("index", "blog", post)
        enqueue([op], "default", claim)
    assert op.queue_entry is not None
    assert sync_entries([op.queue_entry], claim="someone else").entries == 0
    result = sync_entries([op.queue_entry], claim=claim)
    assert (result.entries, result.sent) == (1, 1)
    assert rows() == []
    assert list(indexed(queued)) == [str(post.pk)]


def test_process_entries_settles_only_its_own_claim(queued: Base, quiet: Author) -> None:
    with disable_search_updates():
        post = Post.objects.create(title="p", author=quiet)
    queue(("index", post))
    entries = claim_entries("default", "mine", limit=10)
    result = process_entries(entries, using="default", claim="mine")
    assert result.sent == 1
    assert rows() == []
