"""``QUEUE_SEND = "background"``: a commit does not wait for the engine; nothing is lost.

The sending thread reads the rows and settles the queue with a database
connection of its own: threads need a database they can share. PostgreSQL
(the ``postgres`` lane) or a SQLite file can; the suite's SQLite database is
in memory, where SQLite locks whole tables between the threads' connections
("database table is locked"), something no production database does. There
these tests are skipped; ``tests/sync/test_processes.py`` runs background
sending in a process of its own on a SQLite file.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections as db_connections
from django.db import transaction

from djangoes import connections
from djangoes.backends.abstracts import Base
from djangoes.sync import wait_for_background
from tests.faults import FaultProxy
from tests.queue.conftest import engine_down, indexed, rows
from tests.testapp.models import Author, Post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def background(queued: Base, settings: Any) -> Iterator[Base]:
    database = db_connections["default"]
    if database.vendor == "sqlite" and database.is_in_memory_db():
        pytest.skip("threads cannot share an in-memory SQLite database (see the module docstring)")
    settings.DJANGOES = {**settings.DJANGOES, "QUEUE_SEND": "background"}
    yield queued
    assert wait_for_background(timeout=60)  # the thread lets go of the test's database


def test_a_commit_hands_its_operations_to_the_sending_thread(background: Base) -> None:
    ada = Author.objects.create(name="Ada")
    with transaction.atomic():
        posts = [Post.objects.create(title=f"post {i}", author=ada) for i in range(20)]
    assert wait_for_background(timeout=60)
    assert sorted(indexed(background)) == sorted(str(p.pk) for p in posts)
    assert rows() == []  # settled by the sending thread


def test_what_the_thread_cannot_send_stays_in_the_queue(background: Base, settings: Any) -> None:
    ada = Author.objects.create(name="Ada")
    servers = engine_down(settings)
    post = Post.objects.create(title="kept", author=ada)
    assert wait_for_background(timeout=60)
    kept = rows()
    assert [(r.object_pk, r.state, r.attempts) for r in kept] == [(str(post.pk), "pending", 1)]
    settings.ES_SERVERS = servers
    assert indexed(background) == {}


def test_the_commit_keeps_documents_current_as_saved(background: Base) -> None:
    """The document is read from the database: changes in memory only are never sent."""
    ada = Author.objects.create(name="Ada")
    with transaction.atomic():
        post = Post.objects.create(title="as committed", author=ada)
    post.title = "changed in memory only"
    assert wait_for_background(timeout=60)
    assert indexed(background)[str(post.pk)]["title"] == "as committed"


def test_quick_saves_a_b_a_end_with_a(background: Base) -> None:
    """Regression: with background sending, saves A -> B -> A in quick succession left B in
    the index (50 of 50): an "unchanged document" check ran before the earlier batches of
    the same document had been sent. The queue was empty afterwards."""
    ada = Author.objects.create(name="Ada")
    posts = [Post.objects.create(title=f"A {i}", author=ada) for i in range(50)]
    assert wait_for_background(timeout=60)
    for post in posts:
        post.title = post.title.replace("A", "B")
        post.save()
        post.title = post.title.replace("B", "A")
        post.save()
    assert wait_for_background(timeout=60)
    docs = indexed(background)
    assert sorted(docs[str(p.pk)]["title"] for p in posts) == sorted(f"A {i}" for i in range(50))
    assert rows() == []


def test_unpublish_then_republish_keeps_every_document(background: Base) -> None:
    """Regression: unpublishing then republishing quickly left 4 to 10 of 50 documents
    missing, with an empty queue."""
    ada = Author.objects.create(name="Ada")
    posts = [Post.objects.create(title=f"post {i}", author=ada) for i in range(50)]
    assert wait_for_background(timeout=60)
    for post in posts:
        post.published = False
        post.save()
        post.published = True
        post.save()
    assert wait_for_background(timeout=60)
    assert sorted(indexed(background)) == sorted(str(p.pk) for p in posts)
    assert rows() == []


def test_commits_handed_over_while_the_thread_sends_go_out_together(
    background: Base, settings: Any, monkeypatch: pytest.MonkeyPatch, proxy: FaultProxy
) -> None:
    """The thread takes every commit that came in while it was busy in one round: one read,
    one bulk request for all of them, each row settled by its document's outcome."""
    settings.ES_SERVERS = {
        "default": {**settings.ES_SERVERS["default"], "HOSTS": [proxy.url]},
    }  # the proxy counts the requests, whichever thread sends them
    conn = connections["default"]
    ada = Author.objects.create(name="Ada")
    entered, busy = threading.Event(), threading.Event()
    original = Post.as_search_document

    def as_search_document(self: Post, *, index: str) -> dict[str, Any]:
        if self.title == "first":
            entered.set()  # the first round is gathered and read: the others come after it
            assert busy.wait(60)  # the thread is busy until the 20 commits are handed over
        return original(self, index=index)

    monkeypatch.setattr(Post, "as_search_document", as_search_document)
    first = Post.objects.create(title="first", author=ada)
    assert entered.wait(60)
    posts = [Post.objects.create(title=f"post {i}", author=ada) for i in range(20)]
    busy.set()
    assert wait_for_background(timeout=60)
    sent = [seen.body.count(b'"index":') for seen in proxy.requests()]
    assert (len(sent), sum(sent)) == (2, 21)  # the first round, then all the others
    assert sorted(indexed(conn)) == sorted(str(p.pk) for p in [first, *posts])
    assert rows() == []


def test_the_rows_of_sent_documents_are_deleted_later_together(
    background: Base, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows of what the engine took are settled lazily: until then their transactions'
    claims keep drainers off them; wait_for_background() (and the exit) settles them."""
    from djangoes.sync import background as sending_thread
    from djangoes.sync.drain import drain

    monkeypatch.setattr(sending_thread, "SETTLE_SECONDS", 3600.0)
    ada = Author.objects.create(name="Ada")
    posts = [Post.objects.create(title=f"post {i}", author=ada) for i in range(5)]
    expected = sorted(str(p.pk) for p in posts)
    for _ in range(600):  # until the thread has sent them (a hang guard, not a measurement)
        if sorted(indexed(background)) == expected:
            break
        time.sleep(0.1)
    assert sorted(indexed(background)) == expected
    assert [row.object_pk for row in rows() if row.claimed_by] == expected
    assert drain().entries == 0  # claimed: nothing to send twice
    assert wait_for_background(timeout=60)
    assert rows() == []


def test_at_exit_the_rows_the_thread_still_holds_are_released(
    background: Base, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process exiting while its thread is still busy (the engine slow, a retry budget
    running) waits a few seconds, then releases its rows' claims: a drainer sends them at
    once instead of minutes later."""
    from djangoes.sync import background as sending_thread
    from djangoes.sync.drain import drain

    stuck, original = threading.Event(), Post.as_search_document

    def as_search_document(self: Post, *, index: str) -> dict[str, Any]:
        if self.title == "stuck" and threading.current_thread().name == "djangoes-sync-sender":
            assert stuck.wait(60)  # the thread is busy until the test lets it go
        return original(self, index=index)

    monkeypatch.setattr(Post, "as_search_document", as_search_document)
    post = Post.objects.create(title="stuck", author=Author.objects.create(name="Ada"))
    assert [row.claimed_by != "" for row in rows()] == [True]
    sending_thread._sender.shutdown(0.5)  # what runs at exit
    assert [row.claimed_by for row in rows()] == [""]
    assert drain().sent == 1
    assert list(indexed(background)) == [str(post.pk)]
    stuck.set()
    assert wait_for_background(timeout=60)
    assert rows() == []


def test_queue_send_is_checked() -> None:
    from djangoes.conf import Problem
    from djangoes.options import parse_options

    problems: list[Problem] = []
    parse_options({"QUEUE_SEND": "later"}, problems)
    assert [p.msg for p in problems] == [
        "DJANGOES['QUEUE_SEND'] = 'later' must be one of 'background', 'commit'."
    ]
