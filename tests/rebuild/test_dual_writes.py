"""Dual writes: the rebuild table as every process sees it, and the writes the new index refuses.

Some tests change a test model's hook (``prepare_search_documents``,
``as_search_document``) for their duration, to make a save happen at an
exact point of the load or a document the new mapping refuses; the engine,
the database and the sync path are the real ones.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from djangoes.backends.abstracts import Base
from djangoes.indexing import (
    RebuildAborted,
    dualwrite,
    index_state,
    physical_indexes,
    rebuild_index,
    update_index,
)
from djangoes.models import IndexRebuild, RebuildFailedWrite
from tests.lifecycle.conftest import BLOG_MAPPING
from tests.rebuild.helpers import database_documents, index_documents
from tests.testapp.models import Post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def live(conn: Base) -> list[str]:
    return sorted(index_state(conn, "blog").indices)


def test_the_table_is_read_again_after_the_poll_interval_only(
    rebuild_settings: Any, transactional_db: None
) -> None:
    rebuild_settings.DJANGOES = {**rebuild_settings.DJANGOES, "REBUILD_POLL_SECONDS": 3600}
    assert dualwrite.provider("default", ["blog"]) == {}
    IndexRebuild.objects.create(  # another process starts a rebuild
        connection="default", name="blog", index="blog", new_index="blog-20250102t030405123456",
        owner="a" * 32, host="web-2", pid=7,
    )  # fmt: skip
    assert dualwrite.provider("default", ["blog"]) == {}  # this process trusts what it read
    dualwrite.forget()  # as if REBUILD_POLL_SECONDS had passed
    assert dualwrite.provider("default", ["blog"]) == {"blog": ["blog-20250102t030405123456"]}
    rebuild_settings.DJANGOES = {**rebuild_settings.DJANGOES, "REBUILD_POLL_SECONDS": 0}
    IndexRebuild.objects.all().delete()
    assert dualwrite.provider("default", ["blog"]) == {}
    # A row without its new index yet asks for no copy.
    IndexRebuild.objects.create(
        connection="default", name="blog", index="blog", owner="b" * 32, host="web-2", pid=8
    )
    assert dualwrite.provider("default", ["blog"]) == {}


def test_a_save_in_the_middle_of_a_chunk_is_redone(
    conn: Base, blog: dict[str, Any], rebuild_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worst order: a chunk is read, the row is saved (a partial update, which the new
    index refuses as the document is not there yet), then the stale chunk arrives."""
    rebuild_settings.DJANGOES = {**rebuild_settings.DJANGOES, "UPDATE_STRATEGY": "partial"}
    target = blog["posts"][7]
    saving: list[bool] = []
    done: list[int] = []

    def prepare(cls: type[Post], objects: list[Post], *, index: str) -> None:
        if not saving and any(obj.pk == target.pk for obj in objects):
            saving.append(True)  # once (the save's own sync comes here too)
            fresh = Post.objects.get(pk=target.pk)
            fresh.title = "saved while its chunk was in flight"
            fresh.save(update_fields=["title"])
            done.append(RebuildFailedWrite.objects.count())

    monkeypatch.setattr(Post, "prepare_search_documents", classmethod(prepare))
    result = rebuild_index("blog")
    assert done == [1]  # the refused copy was recorded...
    assert result.redone == 1  # ...and written again from the database
    assert not RebuildFailedWrite.objects.exists()
    assert index_documents(conn)[str(target.pk)]["title"] == "saved while its chunk was in flight"
    assert index_documents(conn) == database_documents()


def write_strict_mapping(settings: Any) -> None:
    strict = json.loads(json.dumps(BLOG_MAPPING))
    strict["mappings"]["dynamic"] = "strict"
    Path(settings.DJANGOES["MAPPINGS_DIR"], "blog.json").write_text(json.dumps(strict))


def test_a_change_the_new_mapping_refuses_abandons_the_rebuild(
    conn: Base, blog: dict[str, Any], rebuild_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A post saved during the load gets a field the new (strict) mapping refuses."""
    write_strict_mapping(rebuild_settings)
    original = Post.as_search_document

    def as_search_document(self: Post, *, index: str) -> dict[str, Any]:
        document = original(self, index=index)
        if self.title == "odd one":
            document["unmapped"] = 1
        return document

    monkeypatch.setattr(Post, "as_search_document", as_search_document)
    odd = blog["posts"][0]  # loaded with the first chunk, changed after it

    def progress(done: int, total: int | None) -> None:
        if done == 10:
            odd.title = "odd one"
            odd.save()  # the live index (not strict) takes it; the new one refuses it

    before = live(conn)
    with pytest.raises(RebuildAborted) as info:
        rebuild_index("blog", progress=progress)
    [failure] = info.value.failures
    assert f"testapp.Post pk={odd.pk}" in str(failure)
    assert "strict" in failure.reason
    assert f"testapp.Post pk={odd.pk}" in str(info.value)
    assert live(conn) == before
    assert physical_indexes(conn, "blog") == before  # the new index was deleted
    assert not IndexRebuild.objects.exists()
    assert index_documents(conn)[str(odd.pk)]["title"] == "odd one"
    result = rebuild_index("blog", allow_failures=True)
    assert [f.operation.pk for f in result.loaded.failures] == [odd.pk]
    assert live(conn) == [result.new_index]


def test_update_index_during_a_rebuild_reaches_the_new_index(
    conn: Base, blog: dict[str, Any]
) -> None:
    """Rows changed without signals and reloaded in place while a rebuild runs."""
    first = blog["posts"][0]

    def progress(done: int, total: int | None) -> None:
        if done == 15:  # the first post was loaded long ago
            Post.objects.filter(pk=first.pk).update(title="changed behind its back")
            update_index("blog")

    rebuild_index("blog", progress=progress)
    assert index_documents(conn)[str(first.pk)]["title"] == "changed behind its back"
    assert index_documents(conn) == database_documents()


def test_saves_after_the_rebuild_go_to_the_new_index_only(conn: Base, blog: dict[str, Any]) -> None:
    result = rebuild_index("blog")
    post = Post.objects.create(title="afterwards", author=blog["author"])
    assert conn.get(index="blog", id=str(post.pk))["_index"] == result.new_index
    assert physical_indexes(conn, "blog") == [result.new_index]
    assert index_documents(conn) == database_documents()
