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

from typing import Any

import pytest
from django.db import connections as db_connections
from django.db import transaction

from djangoes.backends.abstracts import Base
from djangoes.sync import wait_for_background
from tests.queue.conftest import engine_down, indexed, rows
from tests.testapp.models import Author, Post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def background(queued: Base, settings: Any) -> Base:
    database = db_connections["default"]
    if database.vendor == "sqlite" and database.is_in_memory_db():
        pytest.skip("threads cannot share an in-memory SQLite database (see the module docstring)")
    settings.DJANGOES = {**settings.DJANGOES, "QUEUE_SEND": "background"}
    return queued


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


def test_queue_send_is_checked() -> None:
    from djangoes.conf import Problem
    from djangoes.options import parse_options

    problems: list[Problem] = []
    parse_options({"QUEUE_SEND": "later"}, problems)
    assert [p.msg for p in problems] == [
        "DJANGOES['QUEUE_SEND'] = 'later' must be one of 'background', 'commit'."
    ]
