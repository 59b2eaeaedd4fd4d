"""The site: a search page (sync and async), a page per entry, completions for the search box."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse_lazy

from djangoes.views import AsyncSearchView, SearchView
from library import search
from library.models import Entry


class EntrySearchMixin:
    """Results for ``?q=``, narrowed by ``?package=``/``?kind=``/``?module=``, a page at a time."""

    index = search.INDEX
    queryset = Entry.objects.select_related("module")
    facets = search.FACETS
    sort = search.SORT
    highlight = search.HIGHLIGHT
    suggest_field = search.SPELLING_FIELD
    paginate_by = search.PAGE_SIZE
    template_name = "library/search.html"

    def get_query(self, terms: str) -> dict[str, Any]:
        return search.query(terms)


class EntrySearch(EntrySearchMixin, SearchView):
    """The search page (``/``)."""


class AsyncEntrySearch(EntrySearchMixin, AsyncSearchView):
    """The same page as an async view (``/async/``): the search box there searches here."""

    extra_context = {"search_url": reverse_lazy("library:async-search")}


def entry(request: HttpRequest, pk: int) -> HttpResponse:
    """One documented object, from the database."""
    found = get_object_or_404(Entry.objects.select_related("module"), pk=pk)
    return render(request, "library/entry.html", {"entry": found})
