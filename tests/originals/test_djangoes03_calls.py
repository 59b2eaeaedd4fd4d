"""The call forms of djangoes 0.3's connections, run against every backend.

djangoes 0.3's backends took ``doc_type`` first (``index(doc_type, body,
doc_id)``, ``delete(doc_type, doc_id)``, ``update(doc_type, doc_id, body)``,
``get(doc_id, doc_type)``, ``search(doc_type, body)``...), and its guide
shows ``create(doc_id, document)``. Each form still does what it did, with a
DeprecationWarning attributed to the line that made the call (here), however
many djangoes frames lie between. Methods whose API left the engines raise an
error naming what replaced them, never an ``AttributeError``.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from djangoes import connection, connections
from djangoes.exceptions import BadRequestError, NotFoundError, RemovedAPIError


def _call(function: Callable[[], Any], match: str) -> Any:
    """``function()``, which must warn once with ``match``, from this file."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function()
    messages = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    assert messages, "no DeprecationWarning"
    assert all(match in message for message in messages), messages
    assert {w.filename for w in caught if issubclass(w.category, DeprecationWarning)} == {__file__}
    return result


@pytest.fixture
def conn(es_config: dict[str, Any]) -> Any:
    conn = connections["default"]
    conn.create_indices()
    return conn


def test_documents_written_and_read_in_the_0_3_forms(conn: Any) -> None:
    result = _call(lambda: conn.index("entry", {"title": "one"}, "1"), "index(doc_type, body, id)")
    assert (result["_id"], result["result"]) == ("1", "created")
    _call(lambda: conn.index("entry", {"title": "two"}, doc_id="2"), "doc_type is ignored")
    _call(lambda: conn.create("entry", {"title": "three"}, "3"), "create(doc_type, body, id)")
    got = _call(lambda: conn.get("1", "entry"), "get(id, doc_type)")
    assert got["_source"] == {"title": "one"}
    assert _call(lambda: conn.exists("1", "entry"), "exists(id, doc_type)") is True
    assert _call(lambda: conn.get_source("2", "entry"), "get_source(id, doc_type)") == {
        "title": "two"
    }
    _call(
        lambda: conn.update("entry", "1", {"doc": {"title": "uno"}}), "update(doc_type, id, body)"
    )
    _call(lambda: conn.update("entry", "2", body={"doc": {"title": "dos"}}), "update(doc_type, id)")
    assert conn.get(id="1")["_source"] == {"title": "uno"}
    assert conn.get(id="2")["_source"] == {"title": "dos"}
    deleted = _call(lambda: conn.delete("entry", "3"), "delete(doc_type, id)")
    assert deleted["result"] == "deleted"
    with pytest.raises(NotFoundError):
        conn.get(id="3")


def test_searches_and_lines_in_the_0_3_forms(conn: Any) -> None:
    conn.bulk(
        operations=[{"index": {"_id": "1"}}, {"title": "red apple"},
                    {"index": {"_id": "2"}}, {"title": "green pear"}],
        refresh=True,
    )  # fmt: skip
    query = {"query": {"match": {"title": "apple"}}}
    hits = _call(lambda: conn.search("entry", query), "doc_type is ignored")["hits"]["hits"]
    assert [h["_id"] for h in hits] == ["1"]
    assert _call(lambda: conn.count("entry", query), "doc_type is ignored")["count"] == 1
    explained = _call(
        lambda: conn.explain("entry", "1", {"query": {"match": {"title": "apple"}}}),
        "explain(doc_type, id, body)",
    )
    assert explained["matched"] is True
    docs = _call(lambda: conn.mget({"ids": ["1", "2"]}, "blog_v1", "entry"), "mget(body, index")
    assert [d["found"] for d in docs["docs"]] == [True, True]
    result = _call(
        lambda: conn.bulk([{"delete": {"_id": "2"}}], None, "entry"), "bulk(body, index, doc_type)"
    )
    assert result["items"][0]["delete"]["result"] == "deleted"


def test_the_other_methods_in_the_0_3_forms(conn: Any) -> None:
    """msearch, scroll, clear_scroll, delete_by_query, mtermvectors, termvector, search_shards."""
    conn.bulk(
        operations=[{"index": {"_id": "1"}}, {"title": "red apple", "tag": "fruit"},
                    {"index": {"_id": "2"}}, {"title": "green pear", "tag": "fruit"},
                    {"index": {"_id": "3"}}, {"title": "blue car", "tag": "car"}],
        refresh=True,
    )  # fmt: skip
    lines = [{}, {"query": {"match": {"title": "apple"}}}, {}, {"query": {"match_all": {}}}]
    found = _call(lambda: conn.msearch(lines, None, "entry"), "msearch(body, index, doc_type)")
    assert [r["hits"]["total"]["value"] for r in found["responses"]] == [1, 3]
    page = conn.search(query={"match_all": {}}, size=2, scroll="1m")
    rest = conn.scroll(page["_scroll_id"], scroll="1m")  # scroll(scroll_id), no warning
    assert len(page["hits"]["hits"]) + len(rest["hits"]["hits"]) == 3
    assert conn.clear_scroll(rest["_scroll_id"])["succeeded"] is True
    vectors = _call(lambda: conn.termvector("entry", "1", {"fields": ["title"]}), "termvectors")
    assert set(vectors["term_vectors"]["title"]["terms"]) == {"red", "apple"}
    many = _call(lambda: conn.mtermvectors("entry", {"ids": ["1", "2"]}), "doc_type is ignored")
    assert [d["_id"] for d in many["docs"]] == ["1", "2"]
    template = {"source": {"query": {"match": {"title": "{{word}}"}}}, "params": {"word": "pear"}}

    def search_template() -> Any:
        try:
            return conn.search_template("entry", template)
        except BadRequestError as exc:  # the emulator has no search templates
            assert "/blog_public/_search/template" in str(exc)  # noqa: PT017 - sent, and where
            return None

    templated = _call(search_template, "doc_type is ignored")
    assert templated is None or [h["_id"] for h in templated["hits"]["hits"]] == ["2"]
    shards = _call(lambda: conn.search_shards("entry"), "doc_type is ignored")
    assert shards["shards"]
    deleted = _call(
        lambda: conn.delete_by_query("entry", {"query": {"term": {"tag": "car"}}}, refresh=True),
        "doc_type is ignored",
    )
    assert deleted["deleted"] == 1
    assert conn.count()["count"] == 2


def test_the_guides_create_form_warns_which_way_it_is_read(conn: Any) -> None:
    created = _call(lambda: conn.create("c1", {"name": "shoes"}), "read as create(id, document)")
    assert created["_id"] == "c1"
    indexed = _call(lambda: conn.index("i1", {"name": "hat"}), "djangoes 0.3 read index(doc_type")
    assert indexed["_id"] == "i1"


def test_warnings_point_at_the_caller_through_the_proxy(conn: Any) -> None:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1  # type: ignore[union-attr]
        connection.index("entry", {"title": "x"}, "9")
    assert [(w.filename, w.lineno) for w in record] == [(__file__, line)]


@pytest.mark.parametrize(
    ("name", "replacement"),
    [
        ("percolate", "'percolate' query"),
        ("count_percolate", "'percolate'"),
        ("mpercolate", "msearch()"),
        ("mlt", "'more_like_this' query"),
        ("suggest", "search(suggest={...})"),
        ("benchmark", "profile=True"),
        ("abort_benchmark", "never released"),
        ("list_benchmarks", "never released"),
        ("put_template", "put_script"),
        ("get_template", "get_script"),
        ("delete_template", "delete_script"),
        ("put_script", "connection.client.put_script"),
        ("get_script", "connection.client.get_script"),
        ("delete_script", "connection.client.delete_script"),
    ],
)
def test_methods_the_engines_removed_say_what_replaced_them(
    name: str, replacement: str, settings: Any
) -> None:
    conn = connections["default"]  # no request is sent: the test settings point nowhere
    assert hasattr(conn, name)
    with pytest.raises(RemovedAPIError) as info:
        getattr(conn, name)("entry", {"query": {}})
    assert f"connection.{name}() no longer exists" in str(info.value)
    assert replacement in str(info.value)
    assert isinstance(info.value, NotImplementedError)


def test_an_unknown_attribute_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'no_such_method'"):
        connections["default"].no_such_method  # noqa: B018
