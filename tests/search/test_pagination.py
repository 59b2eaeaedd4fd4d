"""SearchResults with Django's Paginator and SearchPaginator; results in templates."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.paginator import EmptyPage, Paginator
from django.template import Context, Template

from djangoes import connections
from djangoes.backends.abstracts import Base
from djangoes.search.models import SearchQuery
from djangoes.search.results import Hit, SearchPaginator, SearchResults
from tests.testapp.models import Post

pytestmark = pytest.mark.django_db

BY_VIEWS = {"query": {"match_all": {}}, "sort": [{"views": "desc"}]}


def searches(conn: Base) -> list[str]:
    """Paths of the search requests the connection made since its log was reset."""
    return [q["path"] for q in conn.queries if "_search" in q["path"]]


@pytest.fixture
def logged(blog_index: Base) -> Base:
    """The blog connection, keeping its requests in ``queries``."""
    blog_index.force_debug = True
    blog_index.reset_queries()
    return blog_index


@pytest.mark.postgres
def test_django_paginator_pages_through_the_hits(posts: list[Post], logged: Base) -> None:
    paginator = Paginator(SearchResults("blog", BY_VIEWS, queryset=Post), 2)
    assert paginator.count == 5
    assert paginator.num_pages == 3
    page = paginator.page(2)
    assert [(p.search_rank, p.views) for p in page] == [(3, 20), (4, 10)]
    assert page.has_next()
    assert page.has_previous()
    assert (page.start_index(), page.end_index()) == (3, 4)
    # One request for the total (not logged), one for the page (logged).
    assert len(searches(logged)) == 2
    sq = SearchQuery.objects.get()
    assert sq.page_slice == (2, 2)
    assert page.object_list.search_query == sq


@pytest.mark.postgres
def test_search_paginator_makes_one_request_per_page(posts: list[Post], logged: Base) -> None:
    results = SearchResults("blog", BY_VIEWS, queryset=Post.objects.all(), search_terms="all")
    paginator = SearchPaginator(results, 2)
    page = paginator.get_page(3)
    assert [p.views for p in page] == [5]
    assert paginator.num_pages == 3
    assert len(searches(logged)) == 1
    first = paginator.page(1)
    assert [p.views for p in first] == [50, 30]
    assert len(searches(logged)) == 2
    assert SearchQuery.objects.filter(search_terms="all").count() == 2


def test_async_pages_are_one_search_each_then_served_from_memory(
    posts: list[Post], logged: Base
) -> None:
    """``aget_page()``/``apage()``/``afetch()`` in an event loop, where the ORM may not be used."""
    results = SearchResults("blog", BY_VIEWS, queryset=Post.objects.all())
    paginator = SearchPaginator(results, 2)

    async def main() -> tuple[Any, Any, Any, list[str]]:
        try:
            page = await paginator.aget_page(3)
            again = await paginator.apage(3)  # the page fetched last: no request
            with pytest.raises(EmptyPage):
                await paginator.apage(4)
            first = await results.afetch(0, 2)
            return page, again, first, searches(logged)  # the requests of the loop's thread
        finally:
            await connections.aclose_all()

    page, again, first, requests = async_to_sync(main)()
    assert [(p.search_rank, p.views) for p in page] == [(5, 5)]
    assert list(again) == list(page)
    assert (paginator.count, paginator.num_pages) == (5, 3)  # from the responses
    assert [p.views for p in first] == [50, 30]
    assert [p.views for p in results[1:2]] == [30]  # served from the page fetched last
    # pages 3 and 1, each logged (page 3 ended the results: no page 4 was asked for)
    assert len(requests) == 2
    assert [sq.page_slice for sq in SearchQuery.objects.order_by("pk")] == [(4, 2), (0, 2)]


def test_get_page_falls_back_like_any_paginator(posts: list[Post]) -> None:
    paginator = SearchPaginator(SearchResults("blog", BY_VIEWS, queryset=Post), 2)
    assert paginator.get_page("not a number").number == 1
    last = paginator.get_page(99)
    assert last.number == 3
    assert [p.views for p in last] == [5]
    with pytest.raises(EmptyPage):
        paginator.page(4)


def test_orphans_join_the_last_page(posts: list[Post]) -> None:
    paginator = SearchPaginator(SearchResults("blog", BY_VIEWS, queryset=Post), 2, orphans=1)
    assert paginator.num_pages == 2
    assert [p.views for p in paginator.page(2)] == [20, 10, 5]


def test_without_a_queryset_the_results_are_hits(posts: list[Post]) -> None:
    paginator = SearchPaginator(SearchResults("blog", BY_VIEWS), 2)
    page = paginator.page(1)
    assert all(isinstance(hit, Hit) for hit in page)
    assert [hit.source["views"] for hit in page if hit.source] == [50, 30]
    assert [hit.rank for hit in page] == [1, 2]
    assert [hit.sort for hit in page] == [[50], [30]]


def test_an_empty_result_is_one_empty_page(blog_index: Base) -> None:
    paginator = SearchPaginator(SearchResults("blog", BY_VIEWS, queryset=Post), 10)
    page = paginator.get_page(1)
    assert (paginator.count, paginator.num_pages, len(page)) == (0, 1, 0)
    assert page.object_list.total_hits == 0


def test_results_stop_at_max_results(posts: list[Post]) -> None:
    results = SearchResults("blog", BY_VIEWS, queryset=Post, max_results=3)
    assert len(results) == 3
    assert [p.views for p in results[2:10]] == [20]


def test_slicing_and_indexing(posts: list[Post], logged: Base) -> None:
    results = SearchResults("blog", BY_VIEWS, queryset=Post, save=False)
    assert [p.views for p in results[1:3]] == [30, 20]
    assert results[1].views == 30  # inside the page fetched last: no new request
    assert len(searches(logged)) == 1
    assert results[4].views == 5
    assert len(searches(logged)) == 2
    with pytest.raises(IndexError):
        results[5]
    with pytest.raises(ValueError, match="negative indexing"):
        results[-1]
    with pytest.raises(TypeError, match="cannot be iterated"):
        list(results)
    assert not SearchQuery.objects.exists()


def test_paging_keys_in_the_body_are_refused(blog_index: Base) -> None:
    with pytest.raises(ValueError, match="remove 'from', 'size'"):
        SearchResults("blog", {"query": {"match_all": {}}, "size": 10, "from": 5})
    with pytest.raises(TypeError, match="queryset must be a QuerySet"):
        SearchResults("blog", queryset="testapp.Post")
    with pytest.raises(TypeError, match="SearchPaginator pages SearchResults"):
        SearchPaginator([1, 2, 3], 2)  # type: ignore[arg-type]


PAGE_TEMPLATE = Template(
    "{% for post in page_obj %}"
    "{{ post.search_rank }}. {{ post.title }}: "
    "{{ post.search_highlights.title|safeseq|join:' ... ' }}\n"
    "{% endfor %}"
    "{% for bucket in page_obj.object_list.facets.authors %}"
    "[{{ bucket.key }} {{ bucket.doc_count }}]"
    "{% endfor %}"
    " page {{ page_obj.number }} of {{ page_obj.paginator.num_pages }},"
    " {{ page_obj.object_list.total_hits }} hits"
)


def test_a_page_renders_with_highlights_and_facets(posts: list[Post]) -> None:
    body = {
        "query": {"match": {"title": "django"}},
        "sort": ["_score", {"views": "desc"}],
        "highlight": {"fields": {"title": {}}, "encoder": "html"},
        "aggs": {"authors": {"terms": {"field": "author", "order": {"_key": "asc"}}}},
    }
    paginator = SearchPaginator(SearchResults("blog", body, queryset=Post), 2)
    html = PAGE_TEMPLATE.render(Context({"page_obj": paginator.get_page(1)}))
    lines = html.splitlines()
    assert lines[0].startswith("1. ")
    assert lines[1].startswith("2. ")
    assert "<em>" in lines[0].lower()
    assert lines[2] == "[Ada 1][Bob 2] page 1 of 2, 3 hits"


HIT_TEMPLATE = Template(
    "{% for hit in page_obj %}{{ hit.rank }}:{{ hit.source.title }}:{{ hit.score }};{% endfor %}"
)


def test_hits_render_in_templates(posts: list[Post]) -> None:
    paginator = SearchPaginator(SearchResults("blog", BY_VIEWS), 2)
    html = HIT_TEMPLATE.render(Context({"page_obj": paginator.page(1)}))
    assert html == "1:Search relevance:None;2:Searching with Django:None;"


def test_results_expose_the_last_search(posts: list[Post], user: Any) -> None:
    body = {**BY_VIEWS, "aggs": {"authors": {"terms": {"field": "author"}}}}
    results = SearchResults("blog", body, user=user, reference="listing")
    assert results.search_query is None
    assert results.facets == {}
    results[0:2]
    assert results.search_query is not None
    assert results.search_query.user == user
    assert results.search_query.reference == "listing"
    assert {b["key"] for b in results.facets["authors"]} == {"Ada", "Bob", "Cy"}
    assert "authors" in results.aggregations
