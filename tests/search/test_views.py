"""SearchView and CompletionView on a running engine, SearchForm's validation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.core.paginator import Page
from django.http import QueryDict
from django.template.response import TemplateResponse
from django.test import RequestFactory

from djangoes import connections
from djangoes.backends.abstracts import Base
from djangoes.forms import SearchForm
from djangoes.search.facets import TermsFacet
from djangoes.search.models import SearchQuery
from djangoes.views import CompletionView, SearchView
from tests.testapp.models import Post

pytestmark = pytest.mark.django_db


class PostSearch(SearchView):
    index = "blog"
    model = Post
    search_fields = ["title^3", "body"]
    facets = [TermsFacet("author")]
    highlight = {"fields": {"body": {}}}
    suggest_field = "body"
    paginate_by = 2


def get(view: type[SearchView], user: Any = None, **params: Any) -> TemplateResponse:
    """The view's response to ``GET /?params`` (list values repeat the parameter)."""
    request = RequestFactory().get("/search/", params)
    request.user = user or AnonymousUser()
    response = view.as_view()(request)
    assert isinstance(response, TemplateResponse)
    response.render()
    return response


def query_of(url: str) -> dict[str, list[str]]:
    assert url.startswith("?")
    return dict(QueryDict(url[1:]).lists())


def test_the_page_has_the_objects_in_hit_order_with_highlights_page_facets_and_log(
    posts: list[Post], user: Any
) -> None:
    response = get(PostSearch, user, q="django")
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

    second = get(PostSearch, user, q="django", page="2").context_data
    assert second is not None
    assert [p.search_rank for p in second["post_list"]] == [3]
    assert SearchQuery.objects.count() == 2  # a search per page


def test_entries_with_every_word_come_first(posts: list[Post]) -> None:
    context = get(PostSearch, q="django search").context_data
    assert context is not None
    titles = [post.title for post in context["post_list"]]
    assert sorted(titles) == ["Django search pagination", "Searching with Django"]


def test_facets_are_multi_select(posts: list[Post]) -> None:
    """A chosen author narrows the results; the other authors stay listed with their counts."""
    context = get(PostSearch, q="django", author="Ada").context_data
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

    both = get(PostSearch, q="django", author=["Ada", "Bob"]).context_data
    assert both is not None
    assert both["search_query"].total_hits == 3
    assert {b.key for b in both["facets"][0].selected} == {"Ada", "Bob"}


def test_a_chosen_value_no_result_has_is_still_listed(posts: list[Post]) -> None:
    context = get(PostSearch, q="pasta", author="Ada").context_data
    assert context is not None
    assert context["search_query"].total_hits == 0
    buckets = {
        bucket.key: (bucket.count, bucket.selected) for bucket in context["facets"][0].buckets
    }
    assert buckets == {"Cy": (1, False), "Ada": (0, True)}


def test_a_chosen_value_beyond_the_facet_size_is_listed_with_its_count(posts: list[Post]) -> None:
    class OneAuthor(PostSearch):
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


def test_a_misspelt_search_gets_did_you_mean(posts: list[Post]) -> None:
    context = get(PostSearch, q="djnago serch", author="Bob").context_data
    assert context is not None
    assert context["suggestion"] == "django search"
    assert query_of(context["suggestion_url"]) == {"q": ["django search"], "author": ["Bob"]}


def test_the_term_suggester_corrects_word_by_word(posts: list[Post]) -> None:
    class TermSearch(PostSearch):
        suggest_phrase = False

    context = get(TermSearch, q="djnago admin").context_data
    assert context is not None
    assert context["suggestion"] == "django admin"


def test_without_words_or_choices_only_the_form_is_shown(posts: list[Post]) -> None:
    context = get(PostSearch).context_data
    assert context is not None
    assert context["search_query"] is None
    assert "page_obj" not in context
    assert isinstance(context["form"], SearchForm)
    assert not SearchQuery.objects.exists()

    class Everything(PostSearch):
        search_everything = True

    context = get(Everything).context_data
    assert context is not None
    assert context["search_query"].total_hits == 5


def test_choices_alone_search(posts: list[Post]) -> None:
    context = get(PostSearch, author="Bob").context_data
    assert context is not None
    assert {post.title for post in context["object_list"]} == {
        "Django admin tips",
        "Django search pagination",
    }


def test_a_page_out_of_range_shows_the_last_one(posts: list[Post]) -> None:
    context = get(PostSearch, q="django", page="99").context_data
    assert context is not None
    assert context["page_obj"].number == 2


def test_without_a_model_the_results_are_hits(posts: list[Post]) -> None:
    class HitSearch(PostSearch):
        model = None
        template_name = "testapp/post_search.html"

    context = get(HitSearch, q="pasta").context_data
    assert context is not None
    [hit] = context["object_list"]
    assert hit.source["title"] == "Cooking pasta"
    assert "post_list" not in context


def test_filters_narrow_results_and_counts(posts: list[Post]) -> None:
    class Popular(PostSearch):
        def get_filters(self, form: SearchForm) -> list[dict[str, Any]]:
            return [{"range": {"views": {"gte": 20}}}]

    context = get(Popular, q="django").context_data
    assert context is not None
    assert {post.views for post in context["object_list"]} == {30, 20}
    assert {b.key: b.count for b in context["facets"][0].buckets} == {"Ada": 1, "Bob": 1}


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"index": ""}, "PostSearch needs an index: the ES_INDICES key to search."),
        ({"search_fields": ()}, "PostSearch needs search_fields (the fields the words are"),
        ({"model": None}, "PostSearch needs a template_name (or a model, whose"),
    ],
)
def test_a_view_missing_its_configuration_says_what_to_add(
    blog_index: Base, attributes: dict[str, Any], message: str
) -> None:
    view = type("PostSearch", (PostSearch,), attributes)
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
    posts: list[Post], values: list[str], error: str
) -> None:
    context = get(PostSearch, q="django", author=values).context_data
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


def test_completions_of_what_is_typed(words: Base) -> None:
    view = CompletionView.as_view(index="words", field="name", size=3)
    response = view(RequestFactory().get("/complete/", {"q": " par "}))
    assert response.status_code == 200
    assert json.loads(response.content) == {"suggestions": ["parse", "parser", "partial"]}
    empty = view(RequestFactory().get("/complete/"))
    assert json.loads(empty.content) == {"suggestions": []}
    assert not SearchQuery.objects.exists()  # keystrokes are not searches to log


def test_a_completion_view_without_its_field_says_so() -> None:
    view = CompletionView.as_view(index="words")
    with pytest.raises(ImproperlyConfigured, match=r"needs an index .* and the field"):
        view(RequestFactory().get("/complete/", {"q": "p"}))
