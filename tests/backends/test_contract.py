"""The contract every backend keeps, run against a running engine for each of them.

``es_config`` (tests/conftest.py) is parametrized over every ENGINE, so each
test here runs once per backend, on its own fresh engine.
"""

from __future__ import annotations

import inspect
import json
import logging
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from djangoes import connection, connections
from djangoes.backends.abstracts import Base
from djangoes.exceptions import (
    BadRequestError,
    ConflictError,
    IndexDoesNotExist,
    NotFoundError,
    SingleIndexOperationError,
    TransportError,
)


@pytest.fixture
def blog(es_config: dict[str, Any]) -> Base:
    conn = connections["default"]
    conn.create_indices()
    return conn


@pytest.fixture
def multi(es_config: dict[str, Any]) -> Base:
    conn = connections["multi"]
    conn.create_indices(exist_ok=True)
    return conn


def titles(result: dict[str, Any]) -> list[str]:
    return sorted(hit["_source"]["title"] for hit in result["hits"]["hits"])


def test_names_follow_the_seed(blog: Base, multi: Base) -> None:
    assert blog.indices == ["blog_public"]
    assert blog.index_names == ["blog_v1"]
    assert blog.alias_names == ["blog_public"]
    assert multi.indices == ["blog_public", "shop"]
    assert multi.index_names == ["blog_v1", "shop"]
    assert multi.alias_names == ["blog_public"]


def test_create_indices_uses_settings_and_aliases(blog: Base) -> None:
    mapping = blog.meta.indices.get_mapping(index="blog_v1")
    assert mapping["blog_v1"]["mappings"]["properties"]["tag"] == {"type": "keyword"}
    aliases = blog.meta.indices.get_alias(index="blog_v1")
    assert list(aliases["blog_v1"]["aliases"]) == ["blog_public"]
    assert blog.meta.indices.exists(index="blog_v1") is True
    assert blog.delete_indices() == ["blog_v1"]
    assert blog.meta.indices.exists(index="blog_v1") is False


def test_document_round_trip_keyword_style(blog: Base) -> None:
    created = blog.index(id="1", document={"title": "Hello world", "tag": "a", "views": 1})
    assert created["result"] == "created"
    assert created["_index"] == "blog_v1"
    assert blog.exists(id="1") is True
    assert blog.exists(id="2") is False
    blog.update(id="1", doc={"views": 2})
    assert blog.get(id="1")["_source"] == {"title": "Hello world", "tag": "a", "views": 2}
    blog.create(id="2", document={"title": "Second", "tag": "b", "views": 5})
    docs = blog.mget(ids=["1", "2", "3"])["docs"]
    assert [d["found"] for d in docs] == [True, True, False]
    assert blog.delete(id="1")["result"] == "deleted"
    assert blog.exists(id="1") is False


def test_document_round_trip_body_style(blog: Base) -> None:
    blog.index(id="1", body={"title": "Hello", "tag": "a"})
    blog.update(id="1", body={"doc": {"tag": "b"}})
    assert blog.get(id="1")["_source"] == {"title": "Hello", "tag": "b"}
    docs = blog.mget(body={"docs": [{"_id": "1"}]})["docs"]
    assert docs[0]["_source"]["tag"] == "b"


def test_the_guides_positional_calls_still_run(blog: Base) -> None:
    """The 0.3 guide: ``create(doc_id, doc)``, ``search(doc_type, body)``, ``search(body)``."""
    with pytest.warns(DeprecationWarning, match=r"read as create\(id, document\)"):
        blog.create("1", {"title": "Positional", "tag": "x"})
    blog.refresh()
    query = {"query": {"match": {"title": "positional"}}}
    with pytest.warns(DeprecationWarning, match="doc_type is ignored"):
        by_type = connection.search("entry", query)
    with pytest.warns(DeprecationWarning, match="doc_type is ignored"):
        by_keyword = connection.search(doc_type="entry", body=query)
    plain = connection.search(query)
    assert titles(by_type) == titles(by_keyword) == titles(plain) == ["Positional"]
    assert blog.get("1")["_source"]["title"] == "Positional"
    assert blog.exists("1")
    blog.update("1", {"doc": {"tag": "y"}})
    assert blog.delete("1")["result"] == "deleted"


def test_search_keyword_and_body_styles_agree(blog: Base) -> None:
    for i, (title, tag) in enumerate(
        [("red apple", "fruit"), ("red car", "thing"), ("green apple", "fruit")]
    ):
        blog.index(id=str(i), document={"title": title, "tag": tag, "views": i})
    blog.refresh()
    keyword = blog.search(
        query={"match": {"title": "apple"}},
        aggs={"tags": {"terms": {"field": "tag"}}},
        sort=[{"views": "desc"}],
        size=1,
        from_=0,
        source=["title"],
    )
    body = blog.search(
        body={
            "query": {"match": {"title": "apple"}},
            "aggs": {"tags": {"terms": {"field": "tag"}}},
            "sort": [{"views": "desc"}],
            "size": 1,
            "from": 0,
            "_source": ["title"],
        }
    )
    for result in (keyword, body):
        assert result["hits"]["total"]["value"] == 2
        assert [h["_source"] for h in result["hits"]["hits"]] == [{"title": "green apple"}]
        assert result["aggregations"]["tags"]["buckets"] == [{"key": "fruit", "doc_count": 2}]
    mixed = blog.search(body={"query": {"match": {"title": "red"}}}, size=5)
    assert titles(mixed) == ["red apple", "red car"]
    with pytest.raises(TypeError, match="got 'size' both in body and as an argument"):
        blog.search(body={"size": 1}, size=2)


def test_count_msearch_and_by_query(blog: Base) -> None:
    for i in range(5):
        blog.index(
            id=str(i), document={"title": f"doc {i}", "tag": "even" if i % 2 == 0 else "odd"}
        )
    blog.refresh()
    assert blog.count()["count"] == 5
    assert blog.count(query={"term": {"tag": "odd"}})["count"] == 2
    assert blog.count(body={"query": {"term": {"tag": "even"}}})["count"] == 3
    responses = blog.msearch(
        searches=[{}, {"query": {"term": {"tag": "odd"}}}, {}, {"query": {"match_all": {}}}]
    )["responses"]
    assert [r["hits"]["total"]["value"] for r in responses] == [2, 5]
    blog.update_by_query(query={"term": {"tag": "odd"}}, refresh=True)
    deleted = blog.delete_by_query(query={"term": {"tag": "odd"}}, refresh=True)
    assert deleted["deleted"] == 2
    assert blog.count()["count"] == 3


def test_bulk_accepts_operations_or_body(blog: Base) -> None:
    result = blog.bulk(
        operations=[
            {"index": {"_id": "1"}},
            {"title": "one"},
            {"index": {"_id": "2"}},
            {"title": "two"},
        ],
        refresh=True,
    )
    assert result["errors"] is False
    assert [item["index"]["_index"] for item in result["items"]] == ["blog_v1", "blog_v1"]
    blog.bulk(body=[{"delete": {"_id": "1"}}], refresh=True)
    assert blog.count()["count"] == 1


def test_multi_index_search_uses_aliases_and_names(multi: Base) -> None:
    multi.index(index="blog", id="1", document={"title": "a blog post"}, refresh=True)
    multi.index(index="shop", id="1", document={"name": "a shop item"}, refresh=True)
    hits = multi.search(query={"match_all": {}})["hits"]["hits"]
    assert sorted(h["_index"] for h in hits) == ["blog_v1", "shop"]
    assert multi.count(index="shop")["count"] == 1


def test_single_index_calls_on_a_multi_index_connection_explain(multi: Base) -> None:
    with pytest.raises(SingleIndexOperationError) as info:
        multi.get("1")
    assert str(info.value) == (
        "get() works on one index but connection 'multi' has 2 indices ('blog', 'shop'). "
        "Pass index= with one of them, or use a connection with a single index."
    )
    with pytest.raises(SingleIndexOperationError, match="works on one index"):
        multi.index(index=["blog", "shop"], id="1", document={})


def test_a_connection_without_indices_says_so(settings: Any, engine_url: str) -> None:
    settings.ES_SERVERS = {"default": {"HOSTS": [engine_url], "INDICES": []}}
    settings.ES_INDICES = {}
    with pytest.raises(IndexDoesNotExist) as info:
        connections["default"].search(index="blog")
    assert str(info.value) == (
        "Connection 'default' has no index 'blog': its INDICES are empty. "
        "Add the index to its INDICES."
    )


def test_calls_cannot_reach_another_index(blog: Base) -> None:
    blog.meta.indices.create(index="secret")
    with pytest.raises(IndexDoesNotExist, match="has no index 'secret'"):
        blog.search(index="secret")
    with pytest.raises(IndexDoesNotExist, match="names index 'secret'"):
        blog.bulk(operations=[{"index": {"_index": "secret", "_id": "1"}}, {"title": "x"}])
    with pytest.raises(IndexDoesNotExist, match="names index 'secret'"):
        blog.mget(docs=[{"_index": "secret", "_id": "1"}])
    with pytest.raises(IndexDoesNotExist, match="names index 'secret'"):
        blog.msearch(searches=[{"index": "secret"}, {"query": {"match_all": {}}}])
    assert (
        blog.meta.indices.stats(index="secret")["indices"]["secret"]["primaries"]["docs"]["count"]
        == 0
    )


def test_doc_type_is_ignored_with_a_deprecation_warning(blog: Base) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        blog.index(doc_type="entry", id="1", document={"title": "typed"})
        blog.get(doc_type="entry", id="1")
    assert [w.category for w in caught] == [DeprecationWarning, DeprecationWarning]
    assert "mapping types were removed" in str(caught[0].message)
    # attributed to the calling line, here, not to djangoes' code
    assert {w.filename for w in caught} == {__file__}
    with warnings.catch_warnings(record=True) as through_the_proxy:
        warnings.simplefilter("always")
        line = inspect.getframeinfo(inspect.currentframe()).lineno + 1  # type: ignore[arg-type]
        connection.get(doc_type="entry", id="1")
    assert [(w.filename, w.lineno) for w in through_the_proxy] == [(__file__, line)]


def test_errors_are_djangoes_errors_with_status_and_cause(blog: Base) -> None:
    with pytest.raises(NotFoundError) as missing:
        blog.get(id="nope")
    assert missing.value.status == 404
    assert missing.value.__cause__ is not None
    assert str(missing.value).startswith("404 [default]")
    blog.create(id="1", document={"title": "x"})
    with pytest.raises(ConflictError) as conflict:
        blog.create(id="1", document={"title": "x"})
    assert conflict.value.status == 409
    assert conflict.value.error_type == "version_conflict_engine_exception"
    with pytest.raises(BadRequestError) as bad:
        blog.search(query={"no_such_query": {}})
    assert bad.value.status == 400
    assert isinstance(bad.value, ValueError)
    with pytest.raises(NotFoundError) as meta_missing:
        blog.meta.indices.get_mapping(index="nothing_here")
    assert meta_missing.value.error_type == "index_not_found_exception"


def test_responses_are_plain_data(blog: Base) -> None:
    result = blog.index(id="1", document={"title": "x"})
    assert type(result) is dict
    assert type(blog.meta.indices.get(index="blog_v1")) is dict
    assert type(blog.info()) is dict
    assert blog.ping() is True


def test_bad_arguments_name_the_connection_and_the_method(blog: Base) -> None:
    with pytest.raises(TypeError, match=r"connections\['default'\]\.index\(\) needs 'document'"):
        blog.index(id="1")
    with pytest.raises(TypeError, match=r"takes at most 2 positional arguments"):
        blog.index("entry", {}, "1", "extra")
    with pytest.raises(TypeError, match="got both 'body' and 'document'"):
        blog.index(id="1", body={}, document={})


def test_the_meta_client_reaches_every_meta_api(blog: Base) -> None:
    assert blog.meta.cluster.health()["status"] in {"green", "yellow", "red"}
    assert isinstance(blog.meta.nodes.info()["nodes"], dict)
    assert blog.meta.indices.exists_alias(name="blog_public") is True
    # no such repository (404 on OpenSearch; the emulator has no snapshot API: 400):
    # what matters is that the client's error arrives as a djangoes error,
    # whichever client is underneath
    with pytest.raises(TransportError) as info:
        blog.meta.snapshot.get(repository="missing", snapshot="none")
    assert info.value.status in {400, 404}
    assert isinstance(info.value.__cause__, Exception)


@pytest.mark.parametrize(
    "query",
    [
        {"terms": {"tag": {"index": "secret", "id": "1", "path": "tags"}}},
        {"more_like_this": {"fields": ["title"], "like": [{"_index": "secret", "_id": "1"}]}},
        {"bool": {"filter": [{"geo_shape": {"loc": {"indexed_shape": {"index": "secret",
                                                                       "id": "1"}}}}]}},
        {"percolate": {"field": "q", "index": "secret", "id": "1"}},
    ],
)  # fmt: skip
def test_query_lookups_cannot_read_another_index(blog: Base, query: dict[str, Any]) -> None:
    with pytest.raises(IndexDoesNotExist, match="names index 'secret'"):
        blog.search(query=query)
    with pytest.raises(IndexDoesNotExist, match="names index 'secret'"):
        blog.count(body={"query": query})
    with pytest.raises(IndexDoesNotExist, match="names index 'secret'"):
        blog.msearch(searches=[{}, {"query": query}])
    allowed = {"terms": {"tag": {"index": "blog_v1", "id": "1", "path": "tag"}}}
    assert blog.search(query=allowed)["hits"]["total"]["value"] == 0


def test_keywords_reach_the_client_as_given(blog: Base, settings: Any) -> None:
    """The client's keyword API sorts body fields from URL parameters, not a table of ours.

    A keyword no client knows is refused by the client before anything is
    sent (it used to become a URL parameter, refused by the engine), and a
    body field goes into the body whichever client is underneath.
    """
    settings.DEBUG = True
    blog.index(id="1", document={"title": "red apple", "views": 3}, refresh=True)
    blog.reset_queries()
    with pytest.raises(TypeError, match="no_such_keyword"):
        blog.search(query={"match_all": {}}, no_such_keyword=1)
    assert blog.queries == []
    found = blog.search(query={"match": {"title": "apple"}}, post_filter={"term": {"views": 3}})
    assert [hit["_id"] for hit in found["hits"]["hits"]] == ["1"]
    (sent,) = blog.queries
    assert json.loads(sent["body"] or "{}")["post_filter"] == {"term": {"views": 3}}
    assert "post_filter" not in sent["path"]


def test_threads_requesting_at_once_keep_their_connections(
    blog: Base, caplog: pytest.LogCaptureFixture
) -> None:
    """Several threads requesting at once (a reindex's sending threads, a threaded web
    server) reuse the node's open connections: none is opened and then thrown away with
    urllib3's "Connection pool is full" warning (opensearch-py's urllib3 backend keeps one
    per node unless told; djangoes tells it 10, elasticsearch-py's default)."""
    threads = 4
    together = threading.Barrier(threads)

    def searches(_: int) -> list[int]:
        together.wait(timeout=30)
        return [blog.count()["count"] for _ in range(25)]

    with caplog.at_level(logging.WARNING, logger="urllib3"), ThreadPoolExecutor(threads) as pool:
        answers = list(pool.map(searches, range(threads)))
    assert answers == [[0] * 25] * threads
    assert [r.getMessage() for r in caplog.records if r.name.startswith("urllib3")] == []
