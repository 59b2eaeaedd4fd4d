"""SearchView and CompletionView on a running engine, SearchForm's validation.

Every view test runs twice: with the sync view, and with its async twin
(AsyncSearchView, AsyncCompletionView) run as Django runs an async view, in
an event loop where touching the database raises ``SynchronousOnlyOperation``.
The async requests' ``request.user`` is lazy, as under ASGI: loading it in
the loop would fail. Both must give the same context.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.core.paginator import Page
from django.http import QueryDict
from django.template.response import TemplateResponse
from django.test import AsyncRequestFactory, RequestFactory
from django.utils.functional import SimpleLazyObject

from djangoes import connections
from djangoes.backends.abstracts import Base
from djangoes.forms import SearchForm
from djangoes.search.facets import TermsFacet
from djangoes.search.models import SearchQuery
from djangoes.views import (
    AsyncCompletionView,
    AsyncSearchView,
    CompletionMixin,
    CompletionView,
    SearchMixin,
    SearchView,
)
from tests.testapp.models import Post

pytestmark = pytest.mark.django_db

POST_SEARCH = {
    "index": "blog",
    "model": Post,
    "search_fields": ["title^3", "body"],
    "facets": [TermsFacet("author")],
    "highlight": {"fields": {"body": {}}},
    "suggest_field": "body",
    "paginate_by": 2,
}


@pytest.fixture(params=[SearchView, AsyncSearchView], ids=["sync", "async"])
def post_search(request: pytest.FixtureRequest) -> type[SearchMixin]:
    """``PostSearch``: the view of the tests, on SearchView and on AsyncSearchView."""
    return type("PostSearch", (request.param,), dict(POST_SEARCH))


def get(view: type[SearchMixin], user: Any = None, **params: Any) -> TemplateResponse:
    """The view's response to ``GET /?params`` (list values repeat the parameter)."""
    if not view.view_is_async:  # type: ignore[attr-defined]
        request = RequestFactory().get("/search/", params)
        request.user = user or AnonymousUser()
        response = view.as_view()(request)  # type: ignore[attr-defined]
    else:
        request = AsyncRequestFactory().get("/search/", params)
        pk = user.pk if user is not None else None
        request.user = SimpleLazyObject(  # loaded from the database on first use, as under ASGI
            lambda: get_user_model().objects.get(pk=pk) if pk is not None else AnonymousUser()
        )
        response = async_to_sync(view.as_view())(request)  # type: ignore[attr-defined]
    assert isinstance(response, TemplateResponse)
    response.render()  # as Django's handlers do, outside the event loop
    return response


def query_of(url: str) -> dict[str, list[str]]:
    assert url.startswith("?")
    return dict(QueryDict(url[1:]).lists())


def test_the_page_has_the_objects_in_hit_order_with_highlights_page_facets_and_log(
    post_search: type[SearchMixin], posts: list[Post], user: Any
) -> None:
    response = get(post_search, user, q="django")
    context = response.context_data
    assert context is not None
    search_query: SearchQuery = context["search_query"]
    assert search_query.pk is not None  # the query log's row
    assert (search_query.user, search_query.search_terms) == (user, "django")
    assert search_query.total_hits == 3

    page_obj = context["page_obj"]
    assert isinstance(page_obj, Page)
    assert (page_obj.number, page_obj.paginator.num_pages, context["is_paginated"]) == (1, 2, True)
    found = list(context["post_list"])
    assert found == list(context["object_list"]) == list(page_obj)
    assert [post.pk for post in found] == [int(i) for i in search_query.object_ids]
    assert [post.search_rank for post in found] == [1, 2]
    assert all("<em>django</em>" in " ".join(post.search_highlights["body"]) for post in found)

    [author] = context["facets"]
    assert (author.name, author.label) == ("author", "Author")
    assert {bucket.key: bucket.count for bucket in author.buckets} == {"Bob": 2, "Ada": 1}
    assert not author.selected
    assert context["suggestion"] is None
    assert context["duration_ms"] == search_query.duration * 1000

    html = response.content.decode()
    assert '<p id="total">3</p>' in html
    assert f"1. {found[0].title}: " in html
    assert '<a rel="next" href="?q=django&amp;page=2">' in html

    second = get(post_search, user, q="django", page="2").context_data
    assert second is not None
    assert [p.search_rank for p in second["post_list"]] == [3]
    assert SearchQuery.objects.count() == 2  # a search per page


def test_entries_with_every_word_come_first(
    post_search: type[SearchMixin], posts: list[Post]
) -> None:
    context = get(post_search, q="django search").context_data
    assert context is not None
    titles = [post.title for post in context["post_list"]]
    assert sorted(titles) == ["Django search pagination", "Searching with Django"]


def test_facets_are_multi_select(post_search: type[SearchMixin], posts: list[Post]) -> None:
    """A chosen author narrows the results; the other authors stay listed with their counts."""
    context = get(post_search, q="django", author="Ada").context_data
    assert context is not None
    assert {post.author.name for post in context["post_list"]} == {"Ada"}
    assert context["search_query"].total_hits == 1
    [author] = context["facets"]
    buckets = {bucket.key: bucket for bucket in author.buckets}
    assert {key: b.count for key, b in buckets.items()} == {"Bob": 2, "Ada": 1}
    assert [b.key for b in author.selected] == ["Ada"]
    # each value's link toggles it, keeping the words and the other choices
    assert query_of(buckets["Bob"].url) == {"q": ["django"], "author": ["Ada", "Bob"]}
    assert query_of(buckets["Ada"].url) == {"q": ["django"]}

    both = get(post_search, q="django", author=["Ada", "Bob"]).context_data
    assert both is not None
    assert both["search_query"].total_hits == 3
    assert {b.key for b in both["facets"][0].selected} == {"Ada", "Bob"}


def test_a_chosen_value_no_result_has_is_still_listed(
    post_search: type[SearchMixin], posts: list[Post]
) -> None:
    context = get(post_search, q="pasta", author="Ada").context_data
    assert context is not None
    assert context["search_query"].total_hits == 0
    buckets = {
        bucket.key: (bucket.count, bucket.selected) for bucket in context["facets"][0].buckets
    }
    assert buckets == {"Cy": (1, False), "Ada": (0, True)}


def test_a_chosen_value_beyond_the_facet_size_is_listed_with_its_count(
    post_search: type[SearchMixin], posts: list[Post]
) -> None:
    class OneAuthor(post_search):
        facets = [TermsFacet("author", size=1)]

    context = get(OneAuthor, q="django").context_data
    assert context is not None
    assert [(b.key, b.count) for b in context["facets"][0].buckets] == [("Bob", 2)]
    context = get(OneAuthor, q="django", author="Ada").context_data
    assert context is not None
    assert [(b.key, b.count, b.selected) for b in context["facets"][0].buckets] == [
        ("Bob", 2, False),
        ("Ada", 1, True),
    ]


def test_a_misspelt_search_gets_did_you_mean(
    post_search: type[SearchMixin], posts: list[Post]
) -> None:
    context = get(post_search, q="djnago serch", author="Bob").context_data
    assert context is not None
    assert context["suggestion"] == "django search"
    assert query_of(context["suggestion_url"]) == {"q": ["django search"], "author": ["Bob"]}


def test_the_term_suggester_corrects_word_by_word(
    post_search: type[SearchMixin], posts: list[Post]
) -> None:
    class TermSearch(post_search):
        suggest_phrase = False

    context = get(TermSearch, q="djnago admin").context_data
    assert context is not None
    assert context["suggestion"] == "django admin"


def test_without_words_or_choices_only_the_form_is_shown(
    post_search: type[SearchMixin], posts: list[Post]
) -> None:
    context = get(post_search).context_data
    assert context is not None
    assert context["search_query"] is None
    assert "page_obj" not in context
    assert isinstance(context["form"], SearchForm)
    assert not SearchQuery.objects.exists()

    class Everything(post_search):
        search_everything = True

    context = get(Everything).context_data
    assert context is not None
    assert context["search_query"].total_hits == 5


def test_choices_alone_search(post_search: type[SearchMixin], posts: list[Post]) -> None:
    context = get(post_search, author="Bob").context_data
    assert context is not None
    assert {post.title for post in context["object_list"]} == {
        "Django admin tips",
        "Django search pagination",
    }


@pytest.mark.parametrize(("page", "shown"), [("99", 2), ("0", 2), ("two", 1), ("", 1)])
def test_a_page_out_of_range_shows_the_last_or_first_one(
    post_search: type[SearchMixin], posts: list[Post], page: str, shown: int
) -> None:
    context = get(post_search, q="django", page=page).context_data
    assert context is not None
    assert context["page_obj"].number == shown
    ranks = [post.search_rank for post in context["post_list"]]
    assert ranks == ([1, 2] if shown == 1 else [3])
    assert context["search_query"].pk == SearchQuery.objects.latest("pk").pk


def test_without_a_model_the_results_are_hits(
    post_search: type[SearchMixin], posts: list[Post]
) -> None:
    class HitSearch(post_search):
        model = None
        template_name = "testapp/post_search.html"

    context = get(HitSearch, q="pasta").context_data
    assert context is not None
    [hit] = context["object_list"]
    assert hit.source["title"] == "Cooking pasta"
    assert "post_list" not in context


def test_filters_narrow_results_and_counts(
    post_search: type[SearchMixin], posts: list[Post]
) -> None:
    class Popular(post_search):
        def get_filters(self, form: SearchForm) -> list[dict[str, Any]]:
            return [{"range": {"views": {"gte": 20}}}]

    context = get(Popular, q="django").context_data
    assert context is not None
    assert {post.views for post in context["object_list"]} == {30, 20}
    assert {b.key: b.count for b in context["facets"][0].buckets} == {"Ada": 1, "Bob": 1}


def test_sort_orders_the_results_and_keeps_the_scores(
    post_search: type[SearchMixin], posts: list[Post]
) -> None:
    class ByViews(post_search):
        sort = [{"views": "asc"}]

    context = get(ByViews, q="django").context_data
    assert context is not None
    assert [post.views for post in context["post_list"]] == [10, 20]
    assert context["search_query"].query["sort"] == [{"views": "asc"}]

    class TiesByViews(post_search):
        sort = ["_score", {"views": "desc"}]
        search_everything = True  # every score is 1: the views decide

    context = get(TiesByViews, page="1").context_data
    assert context is not None
    assert [post.views for post in context["post_list"]] == [50, 30]
    assert [post.search_score for post in context["post_list"]] == [1.0, 1.0]


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"index": ""}, "PostSearch needs an index: the ES_INDICES key to search."),
        ({"search_fields": ()}, "PostSearch needs search_fields (the fields the words are"),
        ({"model": None}, "PostSearch needs a template_name (or a model, whose"),
    ],
)
def test_a_view_missing_its_configuration_says_what_to_add(
    post_search: type[SearchMixin], blog_index: Base, attributes: dict[str, Any], message: str
) -> None:
    view = type("PostSearch", (post_search,), attributes)
    with pytest.raises(ImproperlyConfigured) as info:
        get(view, q="django")
    assert message in str(info.value)


def test_a_facet_named_like_the_search_box_is_refused() -> None:
    with pytest.raises(ValueError, match=r"The facet 'q' has the name of a field of SearchForm"):
        SearchForm({}, facets=[TermsFacet("q")])


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ([str(i) for i in range(51)], "Choose at most 50 values."),
        (["x" * 201], "A value may have at most 200 characters."),
    ],
)
def test_bad_choices_are_form_errors_and_nothing_is_searched(
    post_search: type[SearchMixin], posts: list[Post], values: list[str], error: str
) -> None:
    context = get(post_search, q="django", author=values).context_data
    assert context is not None
    assert context["form"].errors == {"author": [error]}
    assert context["search_query"] is None
    assert not SearchQuery.objects.exists()


def test_the_form_reads_words_and_choices() -> None:
    form = SearchForm(
        QueryDict("q=+event+loop+&kind=class&kind=class&kind=function&other=x"),
        facets=[TermsFacet("kind"), TermsFacet("package")],
    )
    assert form.is_valid()
    assert form.terms == "event loop"
    assert form.chosen == {"kind": ["class", "function"]}


# -- completions ---------------------------------------------------------------------------

WORDS_MAPPING = {"mappings": {"properties": {"name": {"type": "completion"}}}}


@pytest.fixture
def words(settings: Any, engine_url: str) -> Base:
    settings.ES_SERVERS = {
        "default": {
            "HOSTS": [engine_url],
            "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
            "INDICES": ["words"],
        }
    }
    settings.ES_INDICES = {"words": {"SETTINGS": WORDS_MAPPING}}
    conn = connections["default"]
    conn.create_indices()
    # the weights order the completions: the best first
    for weight, name in enumerate(["loop", "path", "partial", "parser", "parse"]):
        conn.index(id=name, document={"name": {"input": [name], "weight": weight + 1}})
    conn.refresh()
    return conn


COMPLETION_VIEWS = pytest.mark.parametrize(
    "completion_view", [CompletionView, AsyncCompletionView], ids=["sync", "async"]
)


def complete(view: type[CompletionMixin], **params: Any) -> Any:
    """The view's answer to ``GET /complete/?params``."""
    if not view.view_is_async:  # type: ignore[attr-defined]
        response = view.as_view()(RequestFactory().get("/complete/", params))  # type: ignore[attr-defined]
    else:
        request = AsyncRequestFactory().get("/complete/", params)
        response = async_to_sync(view.as_view())(request)  # type: ignore[attr-defined]
    assert response.status_code == 200
    return json.loads(response.content)


@COMPLETION_VIEWS
def test_completions_of_what_is_typed(words: Base, completion_view: type[CompletionMixin]) -> None:
    view = type("Complete", (completion_view,), {"index": "words", "field": "name", "size": 3})
    assert complete(view, q=" par ") == {"suggestions": ["parse", "parser", "partial"]}
    assert complete(view) == {"suggestions": []}
    assert not SearchQuery.objects.exists()  # keystrokes are not searches to log


@COMPLETION_VIEWS
def test_a_completion_view_without_its_field_says_so(
    completion_view: type[CompletionMixin],
) -> None:
    view = type("Complete", (completion_view,), {"index": "words"})
    with pytest.raises(ImproperlyConfigured, match=r"Complete needs an index .* and the field"):
        complete(view, q="p")
