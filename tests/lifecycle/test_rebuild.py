"""rebuild_index: a new physical index, loaded, then every alias moved in one atomic call."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from djangoes import connections
from djangoes.backends.abstracts import Base
from djangoes.indexing import (
    NoModelsError,
    RebuildAborted,
    create_index,
    index_state,
    physical_indexes,
    rebuild_index,
    update_index,
)
from djangoes.indexing.lifecycle import swap_actions
from djangoes.indexing.names import IndexState
from tests.lifecycle.conftest import behind, documents, expected_ids, requests_to
from tests.testapp.models import Post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live(conn: Base, blog_data: dict[str, Any]) -> str:
    """The blog index created and loaded; its physical index."""
    physical = create_index("blog")
    assert physical is not None
    update_index("blog")
    return physical


def test_rebuild_switches_to_a_new_physical_index(
    conn: Base, blog_data: dict[str, Any], live: str
) -> None:
    Post.objects.filter(pk=blog_data["posts"][0].pk).update(title="changed behind its back")
    result = rebuild_index("blog")
    assert result.new_index != live
    assert result.previous == [live]
    assert result.deleted == [live]
    assert result.loaded.indexed == 13
    # NAME and every alias point to exactly one index: the new one.
    assert behind(conn, "blog") == [result.new_index]
    assert behind(conn, "blog_public") == [result.new_index]
    assert index_state(conn, live).kind == "missing"
    docs = documents(conn)
    assert set(docs) == expected_ids(blog_data)
    assert docs[str(blog_data["posts"][0].pk)]["title"] == "changed behind its back"


def test_the_aliases_move_in_one_atomic_call(conn: Base, live: str, settings: Any) -> None:
    settings.DEBUG = True
    conn.reset_queries()
    new = rebuild_index("blog").new_index
    calls = requests_to(conn, "/_aliases")
    assert len(calls) == 1
    body = calls[0]["body"]
    for alias in ("blog", "blog_public"):
        assert f'"remove":{{"index":"{live}","alias":"{alias}"}}' in body
        assert f'"add":{{"index":"{new}","alias":"{alias}"}}' in body


def test_searches_never_fail_during_a_rebuild(conn: Base, live: str) -> None:
    """A searching thread (its own connection) sees the whole old or the whole new index."""
    seen: list[int] = []
    errors: list[Exception] = []
    stop = threading.Event()

    def search() -> None:
        try:
            while not stop.is_set():
                found = connections["default"].count(index="blog")["count"]
                seen.append(found)
        except Exception as exc:  # noqa: BLE001 - any failing search is what is looked for
            errors.append(exc)
        finally:
            connections.close_all()

    searcher = threading.Thread(target=search)
    searcher.start()
    try:
        for _ in range(3):
            rebuild_index("blog", chunk_size=2)
    finally:
        stop.set()
        searcher.join()
    assert errors == []
    assert len(seen) > 10
    assert set(seen) == {13}  # never a partial or empty index


def test_rebuild_replaces_a_plain_index_atomically(conn: Base, blog_data: dict[str, Any]) -> None:
    """NAME made by the test utilities is a plain index: it is swapped for the alias."""
    conn.create_indices()
    update_index("blog")
    result = rebuild_index("blog")
    assert result.previous == ["blog"]
    state = index_state(conn, "blog")
    assert state.kind == "alias"
    assert list(state.indices) == [result.new_index]
    assert behind(conn, "blog_public") == [result.new_index]
    assert set(documents(conn)) == expected_ids(blog_data)


def test_rebuild_of_a_missing_index_creates_it(conn: Base, blog_data: dict[str, Any]) -> None:
    result = rebuild_index("blog")
    assert result.previous == []
    assert behind(conn, "blog") == [result.new_index]
    assert set(documents(conn)) == expected_ids(blog_data)


def test_keep_old_indexes(conn: Base, live: str, settings: Any) -> None:
    settings.DJANGOES = {**settings.DJANGOES, "KEEP_OLD_INDEXES": 1}
    second = rebuild_index("blog")
    assert (second.deleted, second.kept) == ([], [live])
    third = rebuild_index("blog")
    assert (third.deleted, third.kept) == ([live], [second.new_index])
    assert physical_indexes(conn, "blog") == [third.new_index, second.new_index]
    # A kept index serves no name.
    assert index_state(conn, second.new_index).indices == {second.new_index: frozenset()}


def test_failed_documents_abandon_the_rebuild(
    conn: Base, blog_data: dict[str, Any], live: str, settings: Any
) -> None:
    settings.DJANGOES = {**settings.DJANGOES, "MAX_DOCUMENT_SIZE": 300}
    big = blog_data["posts"][3]
    Post.objects.filter(pk=big.pk).update(body="x" * 400)
    with pytest.raises(RebuildAborted, match="left as it was") as info:
        rebuild_index("blog")
    assert [f.operation.pk for f in info.value.failures] == [big.pk]
    assert physical_indexes(conn, "blog") == [live]  # the new index was deleted
    assert behind(conn, "blog") == [live]
    assert len(documents(conn)) == 13
    result = rebuild_index("blog", allow_failures=True)
    assert behind(conn, "blog") == [result.new_index]
    assert len(documents(conn)) == 12


def test_an_error_while_loading_leaves_the_live_index(
    conn: Base, blog_data: dict[str, Any], live: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in as_search_document (installed for this test) must not break search."""

    def broken(self: Post, *, index: str) -> dict[str, Any]:
        raise RuntimeError("bug in as_search_document")

    monkeypatch.setattr(Post, "as_search_document", broken)
    with pytest.raises(RuntimeError, match="bug in as_search_document"):
        rebuild_index("blog")
    assert physical_indexes(conn, "blog") == [live]
    assert behind(conn, "blog") == [live]


def test_rebuild_of_an_index_without_models_creates_nothing(conn: Base) -> None:
    create_index("notes")
    with pytest.raises(NoModelsError):
        rebuild_index("notes")
    assert len(physical_indexes(conn, "notes")) == 1


def test_auto_sync_after_a_rebuild_writes_to_the_new_index(
    conn: Base, blog_data: dict[str, Any], live: str, settings: Any
) -> None:
    new = rebuild_index("blog").new_index
    settings.DJANGOES = {**settings.DJANGOES, "AUTO_SYNC": True}
    post = Post.objects.create(title="after the rebuild", author=blog_data["author"])
    assert conn.get(index="blog", id=str(post.pk))["_index"] == new


def test_swap_actions_for_each_state() -> None:
    aliases = {"blog": {}, "blog_public": {}, "filtered": {"filter": {"term": {"x": 1}}}}
    plain = swap_actions(IndexState("blog", "index", {"blog": frozenset()}), "blog-2", aliases)
    assert plain[0] == {"remove_index": {"index": "blog"}}
    assert {"add": {"filter": {"term": {"x": 1}}, "index": "blog-2", "alias": "filtered"}} in plain
    old = IndexState("blog", "alias", {"blog-1": frozenset({"blog", "other"})})
    moved = swap_actions(old, "blog-2", aliases)
    assert moved[0] == {"remove": {"index": "blog-1", "alias": "blog"}}
    assert not any("remove" in a and a["remove"]["alias"] == "other" for a in moved)
    created = swap_actions(IndexState("blog", "missing", {}), "b", aliases)
    assert [a for a in created if "remove" in a] == []
