"""The site: a search page, a page per entry, and completions for the search box."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render

from djangoes.models import SearchQuery, execute_search
from djangoes.search.results import SearchPaginator, SearchResults
from library.models import Entry
from library.search import (
    FACETS,
    FILTERS,
    INDEX,
    PAGE_SIZE,
    completion_body,
    completions,
    did_you_mean,
    search_body,
)


def search(request: HttpRequest) -> HttpResponse:
    """Results for ``?q=`` narrowed by ``?package=``/``?kind=``/``?module=``, a page at a time."""
    terms = request.GET.get("q", "").strip()
    filters = {name: request.GET[name] for name in FILTERS if request.GET.get(name)}
    context: dict[str, Any] = {"terms": terms, "filters": filters}
    if terms or filters:
        results = SearchResults(
            INDEX,
            search_body(terms, filters),
            queryset=Entry.objects.select_related("module"),
            user=request.user,
            search_terms=terms,
        )
        # one request per page: the hits, their total, the facets and the suggestions
        page_obj = SearchPaginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
        search_query: SearchQuery = page_obj.object_list.search_query
        suggestion = did_you_mean(terms, search_query.search_response or {})
        context |= {
            "page_obj": page_obj,
            "search_query": search_query,
            "milliseconds": search_query.duration * 1000,
            "facets": facet_links(terms, filters, search_query.facets),
            "active_filters": [
                {"name": name, "value": value, "url": link(terms, filters, **{name: None})}
                for name, value in filters.items()
            ],
            "suggestion": suggestion,
            "suggestion_url": link(suggestion or "", filters),
            "page_url": link(terms, filters),  # + "&page=N"
        }
    return render(request, "library/search.html", context)


def entry(request: HttpRequest, pk: int) -> HttpResponse:
    """One documented object, from the database."""
    found = get_object_or_404(Entry.objects.select_related("module"), pk=pk)
    return render(request, "library/entry.html", {"entry": found})


def suggest(request: HttpRequest) -> JsonResponse:
    """``{"suggestions": [...]}``: names completing ``?q=`` (for the search box)."""
    prefix = request.GET.get("q", "").strip()
    if not prefix:
        return JsonResponse({"suggestions": []})
    # each keystroke is a request, not a search someone made: not written to the log
    search_query = execute_search(INDEX, completion_body(prefix), save=False)
    return JsonResponse({"suggestions": completions(search_query.search_response or {})})


def link(terms: str, filters: dict[str, str], **changes: str | None) -> str:
    """The query string of the search for ``terms`` and ``filters`` with ``changes``.

    A change to None removes that filter.
    """
    params = {"q": terms} if terms else {}
    params |= {name: value for name, value in {**filters, **changes}.items() if value}
    return "?" + urlencode(params)


def facet_links(
    terms: str, filters: dict[str, str], facets: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Each facet's buckets with the link that narrows the results to it."""
    return [
        {
            "name": name,
            "buckets": [
                {
                    "key": bucket["key"],
                    "count": bucket["doc_count"],
                    "selected": filters.get(name) == bucket["key"],
                    "url": link(terms, filters, **{name: bucket["key"]}),
                }
                for bucket in facets.get(name, [])
            ],
        }
        for name in FACETS
    ]
