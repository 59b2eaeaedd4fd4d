"""What a commit sends is the committed rows, capped requests, and only documents that can exist.

Run on SQLite and PostgreSQL. Each test is the regression test of a failure
seen in the field; the docstrings say which.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from typing import Any

import pytest
from django.db import transaction

from djangoes import connections
from djangoes.backends.abstracts import Base
from djangoes.sync.models import SyncQueueEntry
from tests.sync.conftest import indexed
from tests.testapp.models import Author, Note, Post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def ada(blog_index: Base) -> Author:
    return Author.objects.create(name="Ada")


@pytest.fixture
def notes_index(blog_settings: Any) -> Base:
    """The blog index holding ``Note`` too (documents keyed by a nullable text slug)."""
    blog_settings.ES_INDICES = {
        "blog": {**blog_settings.ES_INDICES["blog"], "MODELS": ["testapp.Post", "testapp.Note"]}
    }
    conn = connections["default"]
    conn.create_indices()
    return conn


def bulk_bodies(conn: Base) -> list[str]:
    return [q["body"] for q in conn.queries if q["path"].split("?")[0] == "/_bulk"]


@pytest.mark.parametrize("in_transaction", [False, True], ids=["autocommit", "atomic"])
def test_a_partial_save_of_a_stale_instance_sends_the_committed_row(
    blog_index: Base, ada: Author, in_transaction: bool
) -> None:
    """Regression: ``save(update_fields=[...])`` with the default full strategy built the
    whole document from the saving instance, so a view bumping a counter on an instance
    loaded before an editor changed the title put the old title back (20 of 20)."""
    posts = [Post.objects.create(title=f"draft {i}", author=ada) for i in range(20)]
    stale = {post.pk: Post.objects.get(pk=post.pk) for post in posts}  # the view loads them
    for post in posts:  # the editor saves a new title
        post.title = post.title.replace("draft", "final")
        post.save()
    with transaction.atomic() if in_transaction else nullcontext():
        for view in stale.values():  # the view bumps its counter
            view.views += 1
            view.save(update_fields=["views"])
    docs = indexed(blog_index)
    assert {docs[str(p.pk)]["title"] for p in posts} == {f"final {i}" for i in range(20)}
    assert {docs[str(p.pk)]["views"] for p in posts} == {1}


def test_a_model_method_sends_the_row_not_the_instance(blog_index: Base, ada: Author) -> None:
    post = Post.objects.create(title="saved", author=ada)
    post.title = "only in memory"
    post.index_search_document(index="blog")
    assert indexed(blog_index)[str(post.pk)]["title"] == "saved"


def test_an_object_without_a_document_id_is_refused_not_indexed_as_none(
    notes_index: Base, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Regression: a nullable ``search_document_id_field`` that was None indexed the id
    "None": two objects shared one document, and deleting one removed the other's."""
    settings.DJANGOES = {**settings.DJANGOES, "ON_ERROR": "log"}
    with caplog.at_level(logging.ERROR, logger="djangoes.sync"):
        first = Note.objects.create(slug=None, text="first")
        Note.objects.create(slug=None, text="second")
        named = Note.objects.create(slug="named", text="third")
    assert indexed(notes_index) == {"named": {"text": "third", "score": 0.0}}
    errors = [r.getMessage() for r in caplog.records if r.name == "djangoes.sync"]
    assert len(errors) == 2
    assert f"testapp.Note pk={first.pk} has no document id: its 'slug' is None" in errors[0]
    first.delete()  # deletes no other object's document
    assert list(indexed(notes_index)) == [named.slug]


def test_an_object_without_a_document_id_is_a_failed_queue_entry(
    notes_index: Base, settings: Any
) -> None:
    settings.DJANGOES = {**settings.DJANGOES, "ON_ERROR": "queue"}
    with transaction.atomic():
        note = Note.objects.create(slug=None, text="no id")
        Note.objects.create(slug="fine", text="fine")
    assert list(indexed(notes_index)) == ["fine"]
    entry = SyncQueueEntry.objects.get()
    assert (entry.object_pk, entry.state) == (str(note.pk), "failed")
    assert "has no document id: its 'slug' is None" in entry.last_error


def test_a_transaction_is_sent_in_requests_capped_by_bulk_bytes(
    blog_index: Base, ada: Author, settings: Any
) -> None:
    """Regression: a commit sent its whole transaction in one request, however large."""
    settings.DEBUG = True
    with transaction.atomic():
        posts = [Post.objects.create(title=f"post {i:03}", body="x" * 300, author=ada)
                 for i in range(60)]  # fmt: skip
    one = max(len(body) for body in bulk_bodies(blog_index)) // 60
    cap = 10 * one
    settings.DJANGOES = {**settings.DJANGOES, "BULK_BYTES": cap}
    conn = connections["default"]  # a new connection: the settings changed
    with transaction.atomic():
        for post in posts:
            post.body = "y" * 300
            post.save()
    bodies = bulk_bodies(conn)
    assert len(bodies) >= 6
    assert all(len(body.encode()) <= cap for body in bodies)
    assert sum(body.count('"index":') for body in bodies) == 60
    assert {doc["body"] for doc in indexed(conn).values()} == {"y" * 300}


def test_a_transaction_is_sent_in_requests_of_at_most_bulk_documents(
    blog_index: Base, ada: Author, settings: Any
) -> None:
    settings.DEBUG = True
    settings.DJANGOES = {**settings.DJANGOES, "BULK_DOCUMENTS": 7}
    conn = connections["default"]
    with transaction.atomic():
        for i in range(30):
            Post.objects.create(title=f"post {i}", author=ada)
    assert [body.count('"index":') for body in bulk_bodies(conn)] == [7, 7, 7, 7, 2]
    assert len(indexed(conn)) == 30


def test_a_commit_reads_each_model_once_per_chunk(blog_index: Base, ada: Author) -> None:
    """The committed state costs one query per model and index (and CHUNK_SIZE objects)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        for i in range(40):
            Post.objects.create(title=f"post {i}", author=ada)
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    assert len([sql for sql in reads if "testapp_post" in sql]) == 1
    assert len(indexed(blog_index)) == 40


def test_a_change_committed_after_a_sender_read_the_row_is_never_overwritten(
    blog_index: Base, ada: Author
) -> None:
    """A sender takes its version *before* it reads the rows, so a change committed after
    its read (and sent with a later version) is never overwritten by what it read. Here
    the sender of a commit reads its post, and right after that read another change of
    the row is committed and sent (through ``execute_wrapper``, Django's hook around each
    query): the index ends with the later change."""
    from django.db import connection

    post = Post.objects.create(title="first", author=ada)
    interleaved: list[str] = []

    def then_another_change(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        if not interleaved and sql.startswith("SELECT") and "testapp_post" in sql:
            interleaved.append(sql)
            later = Post.objects.get(pk=post.pk)
            later.title = "later"
            later.save()  # autocommit: committed and sent at once
        return result

    with connection.execute_wrapper(then_another_change), transaction.atomic():
        Post.objects.filter(pk=post.pk).update(title="second")
        post.title = "second"
        post.save(update_fields=["title"])
    assert interleaved
    assert Post.objects.get(pk=post.pk).title == "later"
    assert indexed(blog_index)[str(post.pk)]["title"] == "later"
