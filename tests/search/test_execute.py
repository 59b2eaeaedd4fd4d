"""execute_search / execute_count against the running engine, and what they log."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

import djangoes.search.execute as execute_module
from djangoes import models as public_models
from djangoes.backends.abstracts import Base
from djangoes.exceptions import BadRequestError, IndexDoesNotExist
from djangoes.models import execute_search
from djangoes.search.execute import build_count_body, build_search_body, execute_count
from djangoes.search.models import SearchQuery
from tests.testapp.models import Post

pytestmark = pytest.mark.django_db

MATCH_DJANGO = {"query": {"match": {"body": "django"}}}


def test_a_search_is_logged_with_its_hits_and_the_response_is_kept_in_memory(
    posts: list[Post], user: Any
) -> None:
    sq = execute_search(
        "blog", MATCH_DJANGO, user=user, search_terms="django", reference="session-1"
    )
    assert sq.pk is not None
    assert sq.query_type == SearchQuery.QueryType.SEARCH
    assert sq.index == "blog"
    assert sq.user == user
    assert sq.search_terms == "django"
    assert sq.reference == "session-1"
    assert sq.query == {"query": {"match": {"body": "django"}}, "size": 25, "from": 0}
    assert sq.total_hits == 3
    assert sq.total_hits_relation == "eq"
    assert sq.is_exact_total
    expected_ids = {str(p.pk) for p in posts if "django" in p.body.lower()}
    assert set(sq.object_ids) == expected_ids
    assert [hit["rank"] for hit in sq.hits] == [1, 2, 3]
    for hit in sq.hits:
        assert set(hit) == {"id", "index", "score", "rank"}
        assert hit["index"] == "blog"
        assert isinstance(hit["score"], float)
    assert sq.duration > 0
    assert sq.executed_at is not None
    # The whole response is on the object, documents included...
    assert sq.search_response is not None
    assert {h["_source"]["title"] for h in sq.search_response["hits"]["hits"]} == {
        p.title for p in posts if str(p.pk) in expected_ids
    }
    # ...and only in memory: the row keeps the metadata.
    stored = SearchQuery.objects.get(pk=sq.pk)
    assert stored.search_response is None
    assert stored.hits == sq.hits
    assert stored.query == sq.query
    assert stored.user_id == user.pk
    assert list(user.search_queries.all()) == [stored]


def test_the_public_names_are_reexported_by_djangoes_models() -> None:
    assert public_models.execute_search is execute_module.execute_search
    assert public_models.execute_count is execute_module.execute_count
    assert public_models.SearchQuery is SearchQuery
    assert SearchQuery._meta.app_label == "djangoes"


def test_the_query_given_and_the_query_logged_stay_as_they_were(posts: list[Post]) -> None:
    """The request gets its own copy of the body: neither the caller's dict nor the
    logged one changes, whatever the client does with the body it is given."""
    query = {"query": {"match_all": {}}, "from": 1, "size": 2, "sort": [{"views": "desc"}]}
    given = copy.deepcopy(query)
    sq = execute_search("blog", query)
    counted = execute_count("blog", {"query": {"match_all": {}}})
    assert query == given
    assert sq.query == given
    assert counted.query == {"query": {"match_all": {}}}
    assert [hit["rank"] for hit in sq.hits] == [2, 3]


def test_a_bare_query_clause_is_wrapped_and_no_query_matches_everything(
    posts: list[Post],
) -> None:
    sq = execute_search("blog", {"match": {"title": "django"}})
    assert sq.query["query"] == {"match": {"title": "django"}}
    assert sq.total_hits == 3
    everything = execute_search("blog")
    assert everything.query["query"] == {"match_all": {}}
    assert everything.total_hits == len(posts)


def test_the_page_size_defaults_to_the_page_size_option(
    posts: list[Post], blog_settings: Any
) -> None:
    blog_settings.DJANGOES = {**blog_settings.DJANGOES, "PAGE_SIZE": 2}
    sq = execute_search("blog", {"query": {"match_all": {}}})
    assert sq.query["size"] == 2
    assert sq.page_size == 2
    assert sq.total_hits == 5
    bigger = execute_search("blog", {"query": {"match_all": {}}}, size=4, from_=2)
    assert bigger.page_slice == (2, 4)
    assert bigger.page_size == 3
    assert [hit["rank"] for hit in bigger.hits] == [3, 4, 5]
    in_body = execute_search("blog", {"query": {"match_all": {}}, "size": 1})
    assert in_body.page_size == 1


def test_source_is_left_out_when_include_source_is_off(
    posts: list[Post], blog_settings: Any
) -> None:
    blog_settings.DJANGOES = {**blog_settings.DJANGOES, "INCLUDE_SOURCE": False}
    sq = execute_search("blog", MATCH_DJANGO)
    assert sq.query["_source"] is False
    assert sq.search_response is not None
    assert all("_source" not in hit for hit in sq.search_response["hits"]["hits"])
    # A body that asks for fields gets them.
    titles = execute_search("blog", {**MATCH_DJANGO, "_source": ["title"]})
    assert titles.search_response is not None
    assert all(set(h["_source"]) == {"title"} for h in titles.search_response["hits"]["hits"])


def test_save_false_logs_nothing(posts: list[Post]) -> None:
    sq = execute_search("blog", MATCH_DJANGO, save=False)
    assert sq.pk is None
    assert sq.total_hits == 3
    assert sq.search_response is not None
    assert not SearchQuery.objects.exists()


def test_an_anonymous_user_is_not_recorded(posts: list[Post]) -> None:
    sq = execute_search("blog", MATCH_DJANGO, user=AnonymousUser())
    assert sq.user is None
    assert SearchQuery.objects.get().user is None


def test_long_search_terms_are_cut_and_a_long_reference_is_refused(posts: list[Post]) -> None:
    sq = execute_search("blog", MATCH_DJANGO, search_terms="x" * 1000)
    assert sq.search_terms == "x" * 400
    with pytest.raises(ValueError, match="reference is 101 characters long"):
        execute_search("blog", MATCH_DJANGO, reference="r" * 101)


def test_the_duration_keeps_whole_seconds(
    posts: list[Post], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: elasticsearch-django logged a 2.25 s search as 0.25 s.

    The clock is replaced because no engine can be made to answer in exactly
    2.25 s; the search itself runs against the engine.
    """
    readings = iter([100.0, 102.25])
    monkeypatch.setattr(execute_module, "perf_counter", lambda: next(readings))
    sq = execute_search("blog", MATCH_DJANGO)
    assert sq.duration == pytest.approx(2.25)
    assert SearchQuery.objects.get().duration == pytest.approx(2.25)


def test_the_duration_is_the_time_the_request_took(posts: list[Post]) -> None:
    before = time.perf_counter()
    sq = execute_search("blog", MATCH_DJANGO)
    elapsed = time.perf_counter() - before
    assert 0 < sq.duration <= elapsed


def test_a_failed_search_raises_the_engine_error_and_is_not_logged(posts: list[Post]) -> None:
    with pytest.raises(BadRequestError) as info:
        execute_search("blog", {"query": {"no_such_query": {}}})
    assert info.value.status == 400
    assert not SearchQuery.objects.exists()


def test_an_unknown_index_is_named(blog_index: Base) -> None:
    with pytest.raises(IndexDoesNotExist, match="'shop'"):
        execute_search("shop", MATCH_DJANGO)


def test_the_connection_can_be_chosen_and_url_parameters_passed(posts: list[Post]) -> None:
    sq = execute_search("blog", MATCH_DJANGO, using="default", params={"preference": "_local"})
    assert sq.total_hits == 3
    with pytest.raises(ValueError, match="params are URL parameters; 'size' belongs in the query"):
        execute_search("blog", MATCH_DJANGO, params={"size": 10})
    with pytest.raises(ValueError, match="'size', 'sort' belong in the query body"):
        execute_search("blog", MATCH_DJANGO, params={"size": 10, "sort": "views"})


def test_aggregations_and_highlights_are_logged(posts: list[Post]) -> None:
    sq = execute_search(
        "blog",
        {
            "query": {"match": {"title": "django"}},
            "aggs": {"authors": {"terms": {"field": "author"}}},
            "highlight": {"fields": {"title": {}}},
        },
    )
    assert sq.has_aggs
    assert sq.has_highlights
    buckets = {b["key"]: b["doc_count"] for b in sq.aggregations["authors"]["buckets"]}
    assert buckets == {"Ada": 1, "Bob": 2}
    assert {b["key"] for b in sq.facets["authors"]} == {"Ada", "Bob"}
    for hit in sq.hits:
        assert any("<em>" in f.lower() for f in hit["highlight"]["title"])
    stored = SearchQuery.objects.get()
    assert stored.aggregations == sq.aggregations
    assert stored.highlights == sq.highlights


def test_a_custom_sort_logs_null_scores_and_sort_values(posts: list[Post]) -> None:
    sq = execute_search("blog", {"query": {"match_all": {}}, "sort": [{"views": "desc"}]})
    assert [hit["score"] for hit in sq.hits] == [None] * 5
    assert [hit["sort"] for hit in sq.hits] == [[50], [30], [20], [10], [5]]


def test_a_total_that_is_a_lower_bound_is_logged_as_such(posts: list[Post]) -> None:
    sq = execute_search("blog", {"query": {"match_all": {}}, "track_total_hits": 2})
    assert sq.total_hits == 2
    assert sq.total_hits_relation == SearchQuery.TotalHitsRelation.ESTIMATE
    assert not sq.is_exact_total
    untracked = execute_search(
        "blog", {"query": {"match_all": {}}, "track_total_hits": False}, size=2, from_=1
    )
    # No total in the response: the hits seen so far are a lower bound.
    assert untracked.total_hits == 3
    assert untracked.total_hits_relation == "gte"


def test_execute_count_logs_the_number_of_matches(posts: list[Post], user: Any) -> None:
    aggs = {"a": {"max": {"field": "views"}}}
    body = {**MATCH_DJANGO, "sort": ["views"], "size": 1, "aggs": aggs}
    sq = execute_count("blog", body, user=user, search_terms="django", reference="ref")
    assert sq.is_count
    assert sq.total_hits == 3
    assert sq.total_hits_relation == "eq"
    assert sq.hits == []
    assert sq.query == MATCH_DJANGO  # what the count API was sent
    assert sq.search_response is not None
    assert sq.search_response["count"] == 3
    assert sq.max_score == 0.0  # no hits
    stored = SearchQuery.objects.get()
    assert (stored.query_type, stored.user, stored.search_terms) == ("COUNT", user, "django")
    assert execute_count("blog", save=False).total_hits == 5


def test_execute_count_refuses_what_it_cannot_apply(blog_index: Base) -> None:
    with pytest.raises(ValueError, match="'post_filter'"):
        execute_count("blog", {**MATCH_DJANGO, "post_filter": {"term": {"author": "Ada"}}})


def test_bad_arguments_are_named(blog_settings: Any) -> None:
    with pytest.raises(TypeError, match="query must be a search body"):
        build_search_body([{"match_all": {}}])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="size=5 contradicts 'size': 10"):
        build_search_body({"query": {"match_all": {}}, "size": 10}, size=5)
    with pytest.raises(ValueError, match="from_ must be a whole number"):
        build_search_body(None, from_=-1)
    assert build_search_body({"size": 10}, size=10) == {"size": 10, "from": 0}
    assert build_count_body({"match_all": {}}) == {"query": {"match_all": {}}}
    assert build_count_body(None) == {"query": {"match_all": {}}}
