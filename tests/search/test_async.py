"""The async read path: ``aexecute_search`` / ``aexecute_count`` and hits back to objects.

The coroutines run as Django runs an async view (asgiref's ``async_to_sync``):
touching the database from the event loop raises ``SynchronousOnlyOperation``,
so these tests fail if any step does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils.functional import SimpleLazyObject

from djangoes import connections
from djangoes.exceptions import IndexDoesNotExist
from djangoes.models import (
    SearchQuery,
    aexecute_count,
    aexecute_search,
    execute_search,
    flush_query_log,
)
from tests.testapp.models import Post

pytestmark = pytest.mark.django_db(transaction=True)


def run(main: Callable[[], Awaitable[Any]]) -> Any:
    async def with_cleanup() -> Any:
        try:
            return await main()
        finally:
            await connections.aclose_all()

    return async_to_sync(with_cleanup)()


def test_a_search_is_logged_like_a_sync_one(posts: list[Post], user: Any) -> None:
    # --8<-- [start:search]
    async def main() -> SearchQuery:
        return await aexecute_search(
            "blog",
            {
                "query": {"match": {"title": "django"}},
                "aggs": {"authors": {"terms": {"field": "author"}}},
            },
            user=user,
            search_terms="django",
        )

    # --8<-- [end:search]

    sq = run(main)
    same = execute_search(
        "blog",
        {"query": {"match": {"title": "django"}}, "aggs": {"authors": {"terms": {
            "field": "author"}}}},
        save=False,
    )  # fmt: skip
    assert flush_query_log(10)  # written off the event loop, in a thread: wait for it
    assert sq.pk is not None  # saved
    stored = SearchQuery.objects.get(pk=sq.pk)
    assert (stored.user, stored.search_terms, stored.total_hits) == (user, "django", 3)
    assert stored.hits == same.hits
    assert stored.aggregations == same.aggregations
    assert stored.query == same.query
    assert sq.search_response["hits"]["total"]["value"] == 3


def test_a_count(posts: list[Post]) -> None:
    async def main() -> SearchQuery:
        return await aexecute_count("blog", {"match": {"body": "django"}}, reference="counts")

    sq = run(main)
    assert flush_query_log(10)
    stored = SearchQuery.objects.get(pk=sq.pk)
    assert (stored.query_type, stored.total_hits, stored.reference) == ("COUNT", 3, "counts")


def test_hits_come_back_as_objects_in_hit_order(posts: list[Post]) -> None:
    # --8<-- [start:objects]
    async def main() -> list[tuple[str, int, float | None, dict[str, list[str]]]]:
        sq = await aexecute_search(
            "blog",
            {"query": {"match": {"body": "search"}}, "highlight": {"fields": {"body": {}}}},
        )
        return [
            (post.title, post.search_rank, post.search_score, post.search_highlights)
            async for post in Post.objects.from_search_query(sq)
        ]

    # --8<-- [end:objects]

    with CaptureQueriesContext(db_connection) as sql:
        found = run(main)
    # the objects in one SQL query (the log row's INSERT apart: a thread of its own writes it,
    # or the search itself on an in-memory SQLite database)
    reads = [q["sql"] for q in sql.captured_queries if not q["sql"].startswith("INSERT")]
    assert [read.split(" FROM ")[1].split()[0] for read in reads] == [f'"{Post._meta.db_table}"']
    expected = execute_search(
        "blog", {"query": {"match": {"body": "search"}}, "highlight": {"fields": {"body": {}}}}
    )
    assert [title for title, *_ in found] == [
        Post.objects.get(pk=hit["id"]).title for hit in expected.hits
    ]
    assert [rank for _, rank, *_ in found] == [1, 2, 3]
    assert [score for _, _, score, _ in found] == expected.scores
    for title, _, _, highlights in found:
        assert "<em>search</em>" in highlights["body"][0].lower(), title


def test_a_lazy_request_user_is_read_outside_the_event_loop(posts: list[Post], user: Any) -> None:
    """An async view's ``request.user`` is lazy: loading it queries the database."""
    lazy = SimpleLazyObject(lambda: get_user_model().objects.get(pk=user.pk))

    async def main() -> SearchQuery:
        return await aexecute_search("blog", {"match_all": {}}, user=lazy, size=1)

    sq = run(main)
    assert flush_query_log(10)
    assert SearchQuery.objects.get(pk=sq.pk).user == user


def test_save_false_logs_nothing(posts: list[Post]) -> None:
    async def main() -> SearchQuery:
        return await aexecute_search("blog", {"match_all": {}}, save=False)

    assert run(main).total_hits == 5
    assert not SearchQuery.objects.exists()


def test_bad_arguments_and_unknown_indices_raise_as_in_sync_code(posts: list[Post]) -> None:
    async def main() -> None:
        with pytest.raises(IndexDoesNotExist):
            await aexecute_search("nope")
        with pytest.raises(ValueError, match="size must be a whole number"):
            await aexecute_search("blog", size=-1)
        with pytest.raises(ValueError, match="the count API only takes 'query'"):
            await aexecute_count("blog", {"query": {"match_all": {}}, "post_filter": {}})

    run(main)
    assert not SearchQuery.objects.exists()
