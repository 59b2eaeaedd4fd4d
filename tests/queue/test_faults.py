"""The queue when the engine misbehaves: a bad id, malformed answers, overload.

A fault-injecting proxy (``tests/faults.py``) stands between djangoes and a
running engine. Run on SQLite and PostgreSQL: on PostgreSQL a value too long
for its column aborts the transaction that writes it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from djangoes import connections
from djangoes.backends.abstracts import Base
from djangoes.sync import disable_search_updates
from djangoes.sync.drain import drain
from djangoes.sync.models import SyncQueueEntry
from tests.faults import FaultProxy, MissingItem, RejectItems, Status
from tests.queue.conftest import rows
from tests.sync.conftest import indexed
from tests.testapp.models import Author, Note, Post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

LONG_SLUG = "x" * 600  # the engines accept ids of 512 bytes at most


@pytest.fixture
def through_proxy(queued: Base, settings: Any, proxy: FaultProxy) -> Base:
    """The queued blog index (holding Notes too), reached through the proxy; short retries."""
    settings.ES_SERVERS = {
        "default": {**settings.ES_SERVERS["default"], "HOSTS": [proxy.url],
                    "PARAMS": {"max_retries": 0}},
    }  # fmt: skip
    settings.ES_INDICES = {
        "blog": {**settings.ES_INDICES["blog"], "MODELS": ["testapp.Post", "testapp.Note"]}
    }
    return connections["default"]


def unclaim() -> None:
    SyncQueueEntry.objects.update(claimed_by="", claimed_until=None)


def test_one_bad_document_id_does_not_hold_back_the_others(
    through_proxy: Base, ada: Author
) -> None:
    """Regression: an id over 512 bytes made the engine refuse the whole bulk request; it was
    taken as transient and retried forever, and the 50 entries batched with it waited (0 of
    51 sent after three drains)."""
    from djangoes.sync.operations import Operation
    from djangoes.sync.queue import enqueue, new_claim

    with disable_search_updates():
        posts = [Post.objects.create(title=f"post {i}", author=ada) for i in range(50)]
        note = Note.objects.create(slug=LONG_SLUG, text="too long an id")
    ops = [Operation.for_instance("index", "blog", p) for p in posts[:25]]
    ops.append(Operation("index", "blog", Note, "", note.pk))  # its id as the row reads it
    ops += [Operation.for_instance("index", "blog", p) for p in posts[25:]]
    enqueue(ops, "default", new_claim())
    unclaim()
    result = drain()
    assert (result.entries, result.sent, result.failed, result.retrying) == (51, 50, 1, 0)
    assert sorted(indexed(through_proxy)) == sorted(str(p.pk) for p in posts)
    failed = rows()
    assert [(e.object_pk, e.state) for e in failed] == [(str(note.pk), "failed")]
    assert "600 bytes long, more than the 512 bytes" in failed[0].last_error


def test_a_document_id_too_long_for_the_queue_never_rolls_back_the_save(
    through_proxy: Base, ada: Author
) -> None:
    """Regression: on PostgreSQL, an id longer than the queue's column aborted the user's
    transaction (the queue row is written inside it)."""
    with transaction.atomic():
        note = Note.objects.create(slug="y" * 700, text="kept")
        post = Post.objects.create(title="saved with it", author=ada)
    assert Note.objects.filter(pk=note.pk).exists()
    assert list(indexed(through_proxy)) == [str(post.pk)]
    entry = SyncQueueEntry.objects.get()
    assert (entry.object_pk, entry.state, entry.doc_id) == (str(note.pk), "failed", "")
    assert "700 bytes long, more than the 512 bytes" in entry.last_error


def test_a_malformed_answer_at_commit_is_retried_and_never_raised_after_the_commit(
    through_proxy: Base, proxy: FaultProxy, ada: Author
) -> None:
    """Regression: a bulk answer missing an item raised ValueError into the caller after
    the commit."""
    proxy.add(MissingItem(1))
    with transaction.atomic():
        posts = [Post.objects.create(title=f"post {i}", author=ada) for i in range(3)]
    assert sorted(indexed(through_proxy)) == sorted(str(p.pk) for p in posts)
    assert rows() == []
    assert len(proxy.requests()) == 2  # the malformed answer, then the request again


def test_a_drain_never_blames_documents_for_a_malformed_answer(
    through_proxy: Base, proxy: FaultProxy, ada: Author, settings: Any
) -> None:
    """Regression: in search_sync a malformed answer was blamed on the documents, which
    were then marked failed for good."""
    settings.DJANGOES = {**settings.DJANGOES, "RETRY_BUDGET": 0.5}
    with disable_search_updates():
        posts = [Post.objects.create(title=f"post {i}", author=ada) for i in range(4)]
    from djangoes.sync.operations import Operation
    from djangoes.sync.queue import enqueue, new_claim

    enqueue([Operation.for_instance("index", "blog", p) for p in posts], "default", new_claim())
    unclaim()
    proxy.add(MissingItem(0), times=1000)  # the engine keeps answering badly
    result = drain()
    assert (result.sent, result.failed, result.retrying) == (0, 0, 4)
    assert "answered a bulk request of 4 action(s) with 3 item(s)" in (result.stopped or "")
    assert {(e.state, e.attempts) for e in rows()} == {("pending", 1)}
    proxy.clear()
    assert drain(ignore_backoff=True).sent == 4
    assert rows() == []


def test_overload_at_commit_is_retried_until_the_engine_takes_the_documents(
    through_proxy: Base, proxy: FaultProxy, ada: Author, settings: Any
) -> None:
    settings.DJANGOES = {**settings.DJANGOES, "INLINE_RETRY_BUDGET": 20}  # room for two pauses
    proxy.add(Status(429))
    proxy.add(RejectItems((0, 2)))
    with transaction.atomic():
        posts = [Post.objects.create(title=f"post {i}", author=ada) for i in range(4)]
    assert sorted(indexed(through_proxy)) == sorted(str(p.pk) for p in posts)
    assert rows() == []
