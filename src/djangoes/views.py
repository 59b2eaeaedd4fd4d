"""Class-based views for a search page and a search box's completions.

:class:`SearchView` is configured like Django's generic views::

    from djangoes.search.facets import TermsFacet
    from djangoes.views import SearchView

    class PostSearch(SearchView):
        index = "blog"                          # an ES_INDICES key
        model = Post                            # or queryset = Post.objects.select_related(...)
        search_fields = ["title^3", "body"]     # what the words are looked for in
        facets = [TermsFacet("author"), TermsFacet("tags")]
        highlight = {"fields": {"body": {}}}    # the request's "highlight" section
        suggest_field = "body"                  # "did you mean", from this field's words
        paginate_by = 20

and renders ``blog/post_search.html`` with the page's objects in hit order,
each with ``search_rank``, ``search_score`` and ``search_highlights``, and
the facets, the "did you mean" and the logged search (see
:meth:`SearchView.get_context_data`). :class:`CompletionView` answers a
search box's completions as JSON.

:class:`AsyncSearchView` and :class:`AsyncCompletionView` are the same views
for async code (under ASGI): the same attributes, methods and context, with
the search made by :func:`~djangoes.search.execute.aexecute_search`, the
objects read with ``async for`` and the query log written in a thread.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.generic import View
from django.views.generic.base import ContextMixin, TemplateResponseMixin

from djangoes.forms import SearchForm
from djangoes.search.execute import aexecute_search, execute_search
from djangoes.search.facets import FacetResult, TermsFacet, facet_request, facet_results
from djangoes.search.models import SearchQuery
from djangoes.search.queries import text_query
from djangoes.search.results import ResultList, SearchPaginator, SearchResults
from djangoes.search.suggest import (
    completion_suggestion,
    completions,
    did_you_mean,
    spelling_suggestion,
)

__all__ = [
    "AsyncCompletionView",
    "AsyncSearchView",
    "CompletionMixin",
    "CompletionView",
    "SearchMixin",
    "SearchView",
]


class SearchMixin(TemplateResponseMixin, ContextMixin):
    """What :class:`SearchView` and :class:`AsyncSearchView` share: all but making the search.

    Its attributes configure the search; its ``get_*`` methods build the
    form, the request body and the context of a page of results.
    """

    http_method_names: Sequence[str] = ["get", "head", "options"]

    #: The ``ES_INDICES`` key searched.
    index: str = ""
    #: Where the objects of the hits come from: a model, or a queryset
    #: (``select_related``...). Neither: the results are
    #: :class:`~djangoes.search.results.Hit` objects with the documents.
    model: type[models.Model] | None = None
    queryset: models.QuerySet[Any] | None = None
    #: The fields the words are looked for in, with boosts (``"title^3"``),
    #: for :func:`~djangoes.search.queries.text_query`. Or override :meth:`get_query`.
    search_fields: Sequence[str] = ()
    #: Multi-select facets (:class:`~djangoes.search.facets.TermsFacet`).
    facets: Sequence[TermsFacet] = ()
    #: The request's ``highlight`` section, asked for when words are searched;
    #: ``"encoder": "html"`` is added unless it says otherwise, so that only
    #: the engine's ``<em>`` tags are markup.
    highlight: Mapping[str, Any] | None = None
    #: The request's ``sort`` (None: by relevance). ``["_score", {"title": "asc"}]``
    #: keeps relevance and puts equal scores in a fixed order, which the engine
    #: otherwise leaves to the order the documents were indexed in.
    sort: Sequence[Any] | None = None
    #: The text field whose words "did you mean" proposes (None: no suggestion).
    suggest_field: str | None = None
    #: The phrase suggester (True) or the term suggester (False) for "did you mean".
    suggest_phrase: bool = True
    #: Results per page (None: ``DJANGOES["PAGE_SIZE"]``), and as Paginator takes them.
    paginate_by: int | None = None
    paginate_orphans: int = 0
    page_kwarg: str = "page"
    #: Without words or a chosen value: show every document (True) or only the form.
    search_everything: bool = False
    #: Write each search to the query log.
    save: bool = True
    form_class: type[SearchForm] = SearchForm
    context_object_name: str | None = None
    template_name_suffix: str = "_search"

    # -- the request -------------------------------------------------------------------

    def get_form(self) -> SearchForm:
        """The form, bound to the query string (an empty one too: no words, no choices)."""
        return self.form_class(self.request.GET, facets=self.get_facets())

    def get_facets(self) -> Sequence[TermsFacet]:
        return self.facets

    def should_search(self, form: SearchForm) -> bool:
        """Whether to search: a valid form with words or choices (or ``search_everything``)."""
        return form.is_valid() and bool(form.terms or form.chosen or self.search_everything)

    # -- the search body ---------------------------------------------------------------

    def get_query(self, terms: str) -> dict[str, Any]:
        """The query clause for the words ``terms`` (not called without words)."""
        if not self.search_fields:
            raise ImproperlyConfigured(
                f"{type(self).__name__} needs search_fields (the fields the words are looked "
                "for in, e.g. ['title^3', 'body']) or a get_query(terms) method."
            )
        return text_query(terms, self.search_fields)

    def get_filters(self, form: SearchForm) -> list[dict[str, Any]]:
        """Filter clauses narrowing every result and facet count (none by default)."""
        return []

    def get_search_body(self, form: SearchForm) -> dict[str, Any]:
        """The request body: query and filters, sort, facets, highlight and suggestion."""
        terms = form.terms
        query = self.get_query(terms) if terms else {"match_all": {}}
        filters = self.get_filters(form)
        if filters:
            query = {"bool": {"must": [query], "filter": filters}}
        body: dict[str, Any] = {"query": query}
        facets = self.get_facets()
        if facets:
            body.update(facet_request(facets, form.chosen))
        if self.sort:
            body["sort"] = copy.deepcopy(list(self.sort))
        if terms and self.highlight is not None:
            body["highlight"] = {"encoder": "html", **copy.deepcopy(dict(self.highlight))}
        if terms and self.suggest_field:
            body["suggest"] = spelling_suggestion(
                terms, self.suggest_field, phrase=self.suggest_phrase
            )
        return body

    # -- the results -------------------------------------------------------------------

    def get_queryset(self) -> models.QuerySet[Any] | None:
        """Where the hits' objects come from (None: :class:`Hit` objects)."""
        if self.queryset is not None:
            copied: models.QuerySet[Any] = self.queryset.all()
            return copied
        if self.model is not None:
            queryset: models.QuerySet[Any] = self.model._default_manager.all()
            return queryset
        return None

    def get_reference(self) -> str:
        """The query log's ``reference`` of the searches (``""``)."""
        return ""

    def get_results(self, form: SearchForm) -> SearchResults:
        """The lazy :class:`SearchResults` of ``form``'s search, which the paginator pages."""
        if not self.index:
            raise ImproperlyConfigured(
                f"{type(self).__name__} needs an index: the ES_INDICES key to search."
            )
        return SearchResults(
            self.index,
            self.get_search_body(form),
            queryset=self.get_queryset(),
            # read when the search is logged (by aexecute_search in a thread: an
            # async view's request.user is lazy, and loading it queries the database)
            user=getattr(self.request, "user", None),
            search_terms=form.terms,
            reference=self.get_reference(),
            save=self.save,
        )

    def get_paginator(self, results: SearchResults) -> SearchPaginator:
        return SearchPaginator(results, self.get_paginate_by(), orphans=self.paginate_orphans)

    def get_paginate_by(self) -> int:
        if self.paginate_by is not None:
            return self.paginate_by
        from djangoes import connections

        return connections.options.PAGE_SIZE

    # -- the template ------------------------------------------------------------------

    def query_string(self, **changes: list[str]) -> str:
        """The current query string with ``changes`` (name -> values), without the page."""
        params = self.request.GET.copy()
        params.pop(self.page_kwarg, None)
        for name, values in changes.items():
            params.setlist(name, values)
        return params.urlencode()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        """The template's context.

        Always: ``form``, ``terms``. After a search, also:

        * ``page_obj``, ``paginator``, ``is_paginated``, and ``object_list``
          (and ``<model>_list``, or ``context_object_name``): the page's
          objects in hit order, with ``search_rank``, ``search_score`` and
          ``search_highlights``;
        * ``search_query``: the logged :class:`~djangoes.models.SearchQuery`
          (``total_hits``, ``duration``...), and ``duration_ms``, how long
          the engine took, in milliseconds;
        * ``facets``: a :class:`~djangoes.search.facets.FacetResult` per
          facet, each bucket with its ``count``, ``selected`` and ``url``
          (the query string toggling it);
        * ``suggestion`` ("did you mean", or None) and ``suggestion_url``;
        * ``page_url``: the query string of the search, to end with a page
          number (``{{ page_url }}{{ page_obj.next_page_number }}``).
        """
        form: SearchForm = kwargs["form"]
        context: dict[str, Any] = {"terms": form.terms, "search_query": None}
        context.update(kwargs)
        return super().get_context_data(**context)

    def results_context(self, form: SearchForm, page_obj: Any) -> dict[str, Any]:
        """The context entries of a search's page ``page_obj`` (its objects already read)."""
        object_list: ResultList = page_obj.object_list
        search_query = object_list.search_query or page_obj.paginator.object_list.search_query
        response = search_query.search_response if search_query is not None else None
        chosen = form.chosen
        suggestion = did_you_mean(form.terms, response) if form.terms else None
        query = self.query_string()
        context = {
            "paginator": page_obj.paginator,
            "page_obj": page_obj,
            "is_paginated": page_obj.has_other_pages(),
            "object_list": object_list,
            "search_query": search_query,
            "duration_ms": search_query.duration * 1000 if search_query is not None else None,
            "facets": self.get_facet_results(search_query, chosen),
            "suggestion": suggestion,
            "suggestion_url": f"?{self.query_string(q=[suggestion])}" if suggestion else "",
            "page_url": f"?{query}&{self.page_kwarg}=" if query else f"?{self.page_kwarg}=",
        }
        name = self.get_context_object_name()
        if name:
            context[name] = object_list
        return context

    def get_facet_results(
        self, search_query: SearchQuery | None, chosen: Mapping[str, list[str]]
    ) -> list[FacetResult]:
        return facet_results(
            self.get_facets(),
            search_query.aggregations if search_query is not None else None,
            chosen,
            link=lambda name, values: f"?{self.query_string(**{name: values})}",
        )

    def get_context_object_name(self) -> str | None:
        if self.context_object_name:
            return self.context_object_name
        queryset = self.get_queryset()
        if queryset is not None:
            return f"{queryset.model._meta.model_name}_list"
        return None

    def get_template_names(self) -> list[str]:
        """``template_name``, else ``<app_label>/<model_name>_search.html``."""
        if self.template_name is not None:
            return [self.template_name]
        queryset = self.get_queryset()
        if queryset is None:
            raise ImproperlyConfigured(
                f"{type(self).__name__} needs a template_name (or a model, whose "
                f"<app_label>/<model_name>{self.template_name_suffix}.html is used)."
            )
        meta = queryset.model._meta
        return [f"{meta.app_label}/{meta.model_name}{self.template_name_suffix}.html"]


class SearchView(SearchMixin, View):
    """A search page: a :class:`~djangoes.forms.SearchForm`, a page of results, facets.

    Each page is one search request, logged in the query log with the user
    and the words searched. Configure it with class attributes (or
    ``as_view(**attributes)``), and override the ``get_*`` methods for
    more.
    """

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.get_form()
        return self.render_to_response(self.get_context_data(form=form))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        """:meth:`SearchMixin.get_context_data`, with the search made when the form asks for one."""
        form: SearchForm = kwargs["form"]
        if self.should_search(form):
            kwargs = {**self.search(form), **kwargs}
        return super().get_context_data(**kwargs)

    def search(self, form: SearchForm) -> dict[str, Any]:
        """Run the search of ``form``: the context entries of its results."""
        paginator = self.get_paginator(self.get_results(form))
        page_obj = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return self.results_context(form, page_obj)


class AsyncSearchView(SearchMixin, View):
    """:class:`SearchView` for async code: the same configuration, methods and context.

    ::

        class PostSearch(AsyncSearchView):
            index = "blog"
            model = Post
            search_fields = ["title^3", "body"]

    The page's search is made with
    :func:`~djangoes.search.execute.aexecute_search` (the connection's async
    client), its objects are read with ``async for``, and the query log entry
    and ``request.user`` are written and read in a thread: the event loop
    never waits for the database. The template is rendered as Django renders
    every ``TemplateResponse`` of an async view: in a thread.
    """

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.get_form()
        found = await self.asearch(form) if self.should_search(form) else {}
        return self.render_to_response(self.get_context_data(form=form, **found))

    async def asearch(self, form: SearchForm) -> dict[str, Any]:
        """Run the search of ``form``: the context entries of its results."""
        paginator = self.get_paginator(self.get_results(form))
        page_obj = await paginator.aget_page(self.request.GET.get(self.page_kwarg))
        return self.results_context(form, page_obj)


class CompletionMixin:
    """What :class:`CompletionView` and :class:`AsyncCompletionView` share."""

    http_method_names: Sequence[str] = ["get", "head", "options"]

    #: The ``ES_INDICES`` key and its ``completion`` field.
    index: str = ""
    field: str = ""
    #: At most this many completions.
    size: int = 8
    #: The request parameter holding what was typed.
    param: str = "q"

    def get_prefix(self, request: HttpRequest) -> str:
        """What was typed (``""``: nothing to complete); checks the configuration first."""
        if not self.index or not self.field:
            raise ImproperlyConfigured(
                f"{type(self).__name__} needs an index (an ES_INDICES key) and the field "
                "of its mapping of type 'completion'."
            )
        return request.GET.get(self.param, "").strip()

    def get_completion_body(self, prefix: str) -> dict[str, Any]:
        """The request body asking for the completions of ``prefix``."""
        return {
            "_source": False,
            "suggest": completion_suggestion(prefix, self.field, size=self.size),
        }

    def completions_response(self, search_query: SearchQuery | None) -> JsonResponse:
        found = completions(search_query.search_response) if search_query is not None else []
        return JsonResponse({"suggestions": found})


class CompletionView(CompletionMixin, View):
    """``{"suggestions": [...]}``: completions of ``?q=`` from a ``completion`` field.

    ::

        path("complete/", CompletionView.as_view(index="blog", field="suggest"))

    Completions are not written to the query log (each keystroke is a request).
    """

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        prefix = self.get_prefix(request)
        if not prefix:
            return self.completions_response(None)
        body = self.get_completion_body(prefix)
        return self.completions_response(execute_search(self.index, body, size=0, save=False))


class AsyncCompletionView(CompletionMixin, View):
    """:class:`CompletionView` for async code (the search: ``aexecute_search``).

    ::

        path("complete/", AsyncCompletionView.as_view(index="blog", field="suggest"))
    """

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        prefix = self.get_prefix(request)
        if not prefix:
            return self.completions_response(None)
        body = self.get_completion_body(prefix)
        found = await aexecute_search(self.index, body, size=0, save=False)
        return self.completions_response(found)
