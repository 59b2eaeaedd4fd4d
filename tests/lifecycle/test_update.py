"""update_index: every object of every model, streamed in chunks, memory-flat."""

from __future__ import annotations

import weakref
from typing import Any

import pytest
from django.db import connection as db_connection
from django.db import models
from django.test.utils import CaptureQueriesContext

from djangoes import connections
from djangoes.backends.abstracts import Base
from djangoes.exceptions import ConnectionError
from djangoes.indexing import (
    IndexMissingError,
    NoModelsError,
    create_index,
    delete_index,
    index_state,
    update_index,
)
from djangoes.sync import SyncError
from tests.lifecycle.conftest import CHUNK_SIZE, documents, expected_ids, requests_to
from tests.servers import closed_port_url
from tests.testapp.models import Page, Post

pytestmark = pytest.mark.django_db(transaction=True)


def test_update_indexes_every_object_of_every_model(conn: Base, blog_data: dict[str, Any]) -> None:
    create_index("blog")
    result = update_index("blog")
    assert result.objects == {"testapp.Post": 10, "testapp.Page": 3}
    assert result.indexed == 13
    assert result.failures == []
    docs = documents(conn)
    assert set(docs) == expected_ids(blog_data)  # no draft: get_search_queryset filters them
    page = blog_data["pages"][0]
    assert docs[str(page.uid)] == {"title": page.title}
    assert docs[str(blog_data["posts"][0].pk)]["author"] == "Ada"


def test_update_is_searchable_at_once_and_idempotent(conn: Base, blog_data: dict[str, Any]) -> None:
    create_index("blog")
    update_index("blog")
    Post.objects.filter(pk=blog_data["posts"][0].pk).update(title="renamed")
    result = update_index("blog")
    assert result.indexed == 13  # everything is sent again, whatever the document cache says
    hits = conn.search(index="blog", query={"match": {"title": "renamed"}})["hits"]["hits"]
    assert [hit["_id"] for hit in hits] == [str(blog_data["posts"][0].pk)]


def test_update_streams_chunks_with_keyset_pagination(
    conn: Base, blog_data: dict[str, Any], settings: Any
) -> None:
    """With BULK_DOCUMENTS at CHUNK_SIZE, one request per chunk; SQL pages by primary key."""
    settings.DEBUG = True
    settings.DJANGOES = {**settings.DJANGOES, "BULK_DOCUMENTS": CHUNK_SIZE}
    create_index("blog")
    with CaptureQueriesContext(db_connection) as sql:
        update_index("blog")
    selects = [q["sql"] for q in sql.captured_queries if q["sql"].startswith("SELECT")]
    assert not any("OFFSET" in s for s in selects)
    assert sum(f"LIMIT {CHUNK_SIZE}" in s for s in selects) == 3 + 1  # posts 4+4+2, pages 3
    assert any('"id" >' in s for s in selects)  # the next page starts after the last key
    bulks = requests_to(connections["default"], "/_bulk")  # a new connection: settings changed
    counts = [b["body"].count('"index":') for b in bulks]
    # posts' chunks: two threads send once more than a request's worth came, in either order
    assert (sorted(counts[:3]), counts[3:]) == ([2, 4, 4], [3])


def test_update_merges_chunks_into_requests_of_bulk_bytes(
    conn: Base, blog_data: dict[str, Any], settings: Any
) -> None:
    """Chunks bound the reads; requests grow up to BULK_BYTES (fewer, larger requests).

    A model's first chunk goes alone, at once (the engine starts while the rest is
    read); the chunks after it are merged.
    """
    settings.DEBUG = True
    create_index("blog")
    result = update_index("blog")  # the default BULK_BYTES holds each model's documents
    assert result.indexed == 13
    # posts: a first chunk of 4, then 4 + 2 merged; pages: one chunk of 3
    assert [b["body"].count('"index":') for b in requests_to(conn, "/_bulk")] == [4, 6, 3]
    settings.DJANGOES = {**settings.DJANGOES, "BULK_BYTES": 1}  # a cap: every document alone
    assert update_index("blog").indexed == 13
    bulks = requests_to(connections["default"], "/_bulk")  # a new connection: settings changed
    assert [b["body"].count('"index":') for b in bulks] == [1] * 13


@pytest.mark.postgres
def test_no_reindex_request_exceeds_bulk_bytes(
    conn: Base, blog_data: dict[str, Any], settings: Any
) -> None:
    """Regression: chunks were merged until a request *reached* BULK_BYTES, so a request
    could overshoot it by a whole chunk."""
    settings.DEBUG = True
    create_index("blog")
    update_index("blog")
    posts = requests_to(conn, "/_bulk")[0]["body"].encode()
    cap = len(posts) * 3 // 10  # room for three of these documents, not four
    settings.DJANGOES = {**settings.DJANGOES, "BULK_BYTES": cap}
    assert update_index("blog").indexed == 13
    sizes = [len(b["body"].encode()) for b in requests_to(connections["default"], "/_bulk")]
    assert all(size <= cap for size in sizes), (cap, sizes)
    assert len(sizes) >= 5


def test_update_calls_prepare_search_documents_per_chunk(
    conn: Base, blog_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch hook is observed by replacing it on the model with a recording one."""
    batches: list[tuple[int, str]] = []

    def record(cls: type[models.Model], objects: list[models.Model], *, index: str) -> None:
        batches.append((len(objects), index))

    monkeypatch.setattr(Post, "prepare_search_documents", classmethod(record))
    create_index("blog")
    update_index("blog", chunk_size=3)
    assert batches == [(3, "blog"), (3, "blog"), (3, "blog"), (1, "blog")]


def test_update_builds_each_document_as_its_row_is_read(
    conn: Base, blog_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a prepare_search_documents of its own, a model's objects are made one at a
    time and each is gone once its document is built (weak references to them, taken by
    a wrapper of as_search_document, show which are alive)."""
    refs: list[weakref.ref[models.Model]] = []
    alive: list[int] = []
    build = Post.as_search_document

    def recording(self: Post, *, index: str) -> dict[str, Any]:
        refs.append(weakref.ref(self))
        alive.append(sum(ref() is not None for ref in refs))
        return build(self, index=index)

    monkeypatch.setattr(Post, "as_search_document", recording)
    create_index("blog")
    assert update_index("blog", chunk_size=4).indexed == 13
    assert alive == [1] * 10
    assert set(documents(conn)) == expected_ids(blog_data)


def test_update_reports_progress(conn: Base, blog_data: dict[str, Any]) -> None:
    create_index("blog")
    calls: list[tuple[int, int | None]] = []
    update_index("blog", progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 13), (4, 13), (8, 13), (10, 13), (13, 13)]


def test_update_of_a_missing_index_creates_nothing(conn: Base, blog_data: dict[str, Any]) -> None:
    """A bulk write to a missing name would create an index with guessed mappings."""
    with pytest.raises(IndexMissingError, match="create_search_index blog"):
        update_index("blog")
    assert index_state(conn, "blog").kind == "missing"


def test_update_of_an_index_without_models(conn: Base) -> None:
    create_index("notes")
    with pytest.raises(NoModelsError, match=r"ES_INDICES\['notes'\] has no MODELS"):
        update_index("notes")


def test_update_of_a_plain_index(conn: Base, blog_data: dict[str, Any]) -> None:
    """NAME made by the test utilities (a plain index) is loaded in place."""
    conn.create_indices()
    assert update_index("blog").indexed == 13
    assert set(documents(conn)) == expected_ids(blog_data)


def test_failed_documents_do_not_stop_the_run(
    conn: Base, blog_data: dict[str, Any], settings: Any
) -> None:
    settings.DJANGOES = {**settings.DJANGOES, "MAX_DOCUMENT_SIZE": 300}
    big = blog_data["posts"][5]
    Post.objects.filter(pk=big.pk).update(body="x" * 400)
    create_index("blog")
    result = update_index("blog", raise_errors=False)
    assert result.indexed == 12
    assert [f.operation.pk for f in result.failures] == [big.pk]
    assert "MAX_DOCUMENT_SIZE" in result.failures[0].reason
    # The ON_ERROR policy ("raise") applies at the end, after every other document went.
    delete_index("blog")
    create_index("blog")
    with pytest.raises(SyncError, match=rf"pk={big.pk}"):
        update_index("blog")
    assert len(documents(conn)) == 12


def test_the_page_model_keeps_its_uuid_document_ids(conn: Base, blog_data: dict[str, Any]) -> None:
    create_index("blog")
    update_index("blog")
    uids = {str(uid) for uid in Page.objects.values_list("uid", flat=True)}
    assert uids <= set(documents(conn))


def test_unreachable_engine_fails_at_once(
    lifecycle_settings: Any, blog_data: dict[str, Any]
) -> None:
    lifecycle_settings.ES_SERVERS = {
        "default": {
            **lifecycle_settings.ES_SERVERS["default"],
            "HOSTS": [closed_port_url()],
            "PARAMS": {"max_retries": 0},
        }
    }
    with pytest.raises(ConnectionError):
        update_index("blog")
