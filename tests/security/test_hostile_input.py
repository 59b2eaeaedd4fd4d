"""Hostile input cannot reach another index or crash the process.

What an end user controls is the search terms; what a misconfiguration or a
confused caller controls is the index key. Neither may reach the ``secret``
index that sits on the same engine, and neither may end in anything but a
result or a djangoes exception; the query log keeps what was typed.
"""

from __future__ import annotations

from typing import Any

import pytest

from djangoes.backends.abstracts import Base
from djangoes.exceptions import BadRequestError, IndexDoesNotExist
from djangoes.models import SearchQuery, execute_count, execute_search, flush_query_log
from tests.security.conftest import SECRET
from tests.testapp.models import Author, Post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

HOSTILE_INDEXES = [
    "secret",
    "blog,secret",
    "secret,blog",
    "*",
    "_all",
    "blog*",
    "s*",
    "../secret",
    "blog/../secret",
    "blog%2Csecret",
    "blog/_doc/1",
    "blog?index=secret",
    "BLOG",
    " blog",
    "",
]

HOSTILE_TERMS = [
    '" OR 1=1 --',
    '{"match_all": {}}',
    "secret",
    SECRET,
    "_index:secret",
    "*:*",
    "title:* OR _index:secret",
    "\\",
    "\\u0000",
    "\x00",
    "line\nbreak\r\n",
    "🙂" * 50,
    "a" * 100_000,
    "<script>alert(1)</script>",
    "((((((((((",
    "/.*/",
    "%00%2e%2e",
]


@pytest.fixture
def posts(blog_index: Base, secret: str) -> list[Post]:
    ada = Author.objects.create(name="Ada")
    made = [Post.objects.create(title=f"post about search {i}", author=ada) for i in range(3)]
    blog_index.meta.indices.refresh(index="blog")
    return made


def reached(conn: Base, name: str) -> list[str]:
    """Paths of the requests that named ``name``."""
    return [q["path"] for q in conn.queries if name in q["path"]]


@pytest.mark.parametrize("index", HOSTILE_INDEXES)
def test_an_index_key_cannot_reach_another_index(
    blog_index: Base, posts: list[Post], index: str, settings: Any
) -> None:
    settings.DEBUG = True
    blog_index.reset_queries()
    with pytest.raises(IndexDoesNotExist):
        execute_search(index, {"query": {"match_all": {}}})
    with pytest.raises(IndexDoesNotExist):
        execute_count(index)
    assert reached(blog_index, "secret") == []
    assert flush_query_log(30)  # the rows are written by a thread
    assert not SearchQuery.objects.exists()


@pytest.mark.parametrize("terms", HOSTILE_TERMS, ids=lambda t: repr(t)[:30])
def test_search_terms_stay_data(blog_index: Base, posts: list[Post], terms: str) -> None:
    """In a match query, or in the lenient query syntax, whatever the user typed."""
    for query in (
        {"match": {"title": terms}},
        {"simple_query_string": {"query": terms, "fields": ["title", "body"]}},
        {"multi_match": {"query": terms, "fields": ["*"]}},
    ):
        sq = execute_search("blog", {"query": query}, search_terms=terms)
        assert {hit["index"] for hit in sq.hits} <= {"blog"}
        hits = sq.search_response["hits"]["hits"] if sq.search_response else []
        assert all(SECRET not in str(hit.get("_source")) for hit in hits)
        assert flush_query_log(30)  # the rows are written by a thread
        saved = SearchQuery.objects.get(pk=sq.pk)
        assert saved.search_terms == sq.search_terms
        assert len(saved.search_terms) <= 400


@pytest.mark.parametrize("terms", ["((((((((((", "title:[a TO", "\\", "/["], ids=repr)
def test_a_query_syntax_error_is_a_djangoes_error(
    blog_index: Base, posts: list[Post], terms: str
) -> None:
    """The strict query syntax refuses what it cannot parse: an error to handle, not a crash."""
    with pytest.raises(BadRequestError) as info:
        execute_search("blog", {"query": {"query_string": {"query": terms}}})
    assert info.value.status == 400
    assert flush_query_log(30)  # the rows are written by a thread
    assert not SearchQuery.objects.exists()  # a failed search is not logged


def test_the_query_syntax_cannot_name_another_index(blog_index: Base, posts: list[Post]) -> None:
    sq = execute_search("blog", {"query": {"query_string": {"query": "_index:secret OR *"}}})
    assert {hit["index"] for hit in sq.hits} <= {"blog"}
    assert sq.total_hits == 3


def test_url_parameters_cannot_name_another_index(blog_index: Base, posts: list[Post]) -> None:
    with pytest.raises((TypeError, ValueError)):
        execute_search("blog", params={"index": "secret"})
    with pytest.raises((TypeError, ValueError)):
        execute_search("blog", params={"body": {"query": {"match_all": {}}}})


def test_a_nul_character_is_logged_as_a_replacement_character(
    blog_index: Base, posts: list[Post]
) -> None:
    """PostgreSQL stores no NUL in text or JSON: the log keeps U+FFFD in its place."""
    terms = "search\x00me"
    sq = execute_search("blog", {"query": {"match": {"title": terms}}}, search_terms=terms)
    assert flush_query_log(30)  # the rows are written by a thread
    saved = SearchQuery.objects.get(pk=sq.pk)
    assert saved.search_terms == "search\ufffdme"
    assert saved.query["query"] == {"match": {"title": "search\ufffdme"}}
    counted = execute_count("blog", {"match": {"title": terms}}, search_terms=terms)
    assert flush_query_log(30)  # the rows are written by a thread
    assert SearchQuery.objects.get(pk=counted.pk).search_terms == "search\ufffdme"


def test_nul_characters_in_hits_are_logged_as_replacement_characters(
    blog_index: Base, posts: list[Post]
) -> None:
    """A document id and a sort value may carry NUL too."""
    blog_index.index(id="odd\x00id", document={"title": "odd\x00title searching"})
    blog_index.meta.indices.refresh(index="blog")
    sq = execute_search(
        "blog",
        {
            "query": {"match": {"title": "searching"}},
            "sort": [{"_id": "asc"}],
        },
    )
    assert flush_query_log(30)  # the rows are written by a thread
    [hit] = SearchQuery.objects.get(pk=sq.pk).hits
    assert hit["id"] == "odd\ufffdid"
    assert hit["index"] == sq.search_response["hits"]["hits"][0]["_index"]
    assert hit["rank"] == 1
    assert hit["sort"] == ["odd\ufffdid"]
