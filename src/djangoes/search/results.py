"""Search results that fit Django: ordered querysets, hits for templates, pagination.

* :func:`queryset_from_search_query` - the objects of a page of hits, in hit
  order, annotated with ``search_rank`` and ``search_score`` (what
  ``Model.objects.from_search_query(sq)`` returns);
* :class:`Hit` - one hit with template-friendly names (``hit.source.title``:
  templates cannot read keys that start with an underscore, like ``_source``);
* :class:`SearchResults` - a lazy, sliceable search for
  ``django.core.paginator.Paginator``; :class:`SearchPaginator` gets a page
  and the total in one request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TypeVar, cast

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import models
from django.db.models import FloatField, IntegerField, Value

from djangoes import connections
from djangoes.exceptions import ConfigurationError
from djangoes.search.execute import (
    NOT_COUNTED_KEYS,
    aexecute_search,
    as_body,
    execute_search,
    total_of,
)
from djangoes.search.models import SearchQuery
from djangoes.search.sql import HitLookup

__all__ = [
    "Hit",
    "ResultList",
    "SearchPaginator",
    "SearchResults",
    "SearchResultsQuerySet",
    "annotate_hits",
    "filter_by_hits",
    "hit_expression",
    "hits_of",
    "queryset_from_search_query",
]

_M = TypeVar("_M", bound=models.Model)

#: Largest ``from + size`` of a page, as engines allow by default
#: (``index.max_result_window``).
MAX_RESULT_WINDOW = 10_000


# -- hits back to objects --------------------------------------------------------


def document_id_field(
    model: type[models.Model], name: str | None = None
) -> tuple[str, models.Field[Any, Any]]:
    """``(lookup, field)`` of the field holding a model's document ids.

    ``name``, else the model's ``search_document_id_field`` (``"pk"`` by
    default), names it. Raises :class:`~djangoes.exceptions.ConfigurationError`
    when that is not a field of the model.
    """
    if name is None:
        name = getattr(model, "search_document_id_field", "pk")
    if name == "pk":
        pk = model._meta.pk
        assert pk is not None
        return "pk", pk
    try:
        found = model._meta.get_field(name)
    except FieldDoesNotExist:
        raise ConfigurationError(
            f"{model._meta.label}.search_document_id_field = {name!r} is not a field of "
            f"{model._meta.label}; name the (unique) field whose value is the document id."
        ) from None
    if not isinstance(found, models.Field):
        raise ConfigurationError(
            f"{model._meta.label}.search_document_id_field = {name!r} is a reverse relation; "
            "name a concrete field of the model."
        )
    return name, found


class _HitInfo(NamedTuple):
    rank: int
    score: float | None
    highlights: dict[str, list[str]]


#: The output fields of the hit expressions (unbound fields, shared as Django's
#: own functions share theirs: building a field per search costs more than its SQL).
_RANK = IntegerField()
_SCORE = FloatField()
_HIGHLIGHTS = models.JSONField()


def _hits_for_model(
    search_query: SearchQuery, id_field: models.Field[Any, Any]
) -> dict[Any, _HitInfo]:
    """Id field value -> rank, score, highlights, for the hits this model can hold.

    A hit whose id is not a valid value of the id field (a UUID for an
    integer primary key...) is a document of another model of the index.
    """
    found: dict[Any, _HitInfo] = {}
    for position, hit in enumerate(search_query.hits or (), start=1):
        try:
            value = id_field.to_python(hit["id"])
        except ValidationError:
            continue  # not an id of this model: another model's document
        if value is None or value in found:
            continue
        score = hit.get("score")
        highlight = hit.get("highlight")
        found[value] = _HitInfo(
            int(hit.get("rank", position)),
            None if score is None else float(score),
            dict(highlight) if highlight else {},
        )
    return found


def hit_expression(
    search_query: SearchQuery, field_name: str, what: str, model: type[models.Model] | None = None
) -> HitLookup | Value:
    """The ``rank``, ``score`` or ``highlights`` of each row's hit, as an expression.

    ``field_name`` is the field holding the document id (``"pk"``...).
    ``model`` types the ids (without one they are compared as given).
    Rows without a hit get NULL; so do hits without a score.
    """
    if model is not None:
        lookup, id_field = document_id_field(model, field_name)
    else:
        lookup, id_field = field_name, models.CharField()
    return _expression(_hits_for_model(search_query, id_field), lookup, id_field, what)


def _expression(
    found: dict[Any, _HitInfo], lookup: str, id_field: models.Field[Any, Any], what: str
) -> HitLookup | Value:
    """:func:`hit_expression` of hits already mapped to ids (:func:`_hits_for_model`)."""
    if what == "rank":
        return HitLookup(lookup, id_field, {v: i.rank for v, i in found.items()}, _RANK)
    if what == "score":
        scores = {v: i.score for v, i in found.items() if i.score is not None}
        if not scores:
            return Value(None, output_field=_SCORE)  # every score is null: custom sort
        return HitLookup(lookup, id_field, scores, _SCORE)  # a float, on every database
    if what == "highlights":
        texts = {v: json.dumps(i.highlights, ensure_ascii=False) for v, i in found.items()}
        return HitLookup(lookup, id_field, texts, _HIGHLIGHTS)
    raise ValueError(f"what must be 'rank', 'score' or 'highlights', not {what!r}")


def queryset_from_search_query(
    queryset: models.QuerySet[_M], search_query: SearchQuery, field_name: str | None = None
) -> models.QuerySet[_M]:
    """The objects of ``search_query``'s hits, from ``queryset``, in hit order.

    Each object is annotated with ``search_rank`` (the hit's 1-based rank in
    the whole result list: page 2 of 25 starts at 26) and ``search_score``
    (None when the query sorted by something else than relevance). When the
    query asked for highlights, each object has ``search_highlights`` (field
    -> fragments, ``{}`` for a hit without any).

    Documents map to objects through ``field_name``, by default the model's
    ``search_document_id_field`` (the primary key unless it says otherwise).
    Hits that are not objects of ``queryset`` (documents of other models of
    the index, objects deleted or filtered out since) are left out. The
    queryset is lazy and can be chained; evaluating it is one SQL query,
    whatever the page size (see :class:`~djangoes.search.sql.HitLookup` for
    how rows get their rank).

    Raises :class:`~djangoes.exceptions.ConfigurationError` for a bad
    ``search_document_id_field``.
    """
    lookup, id_field = document_id_field(queryset.model, field_name)
    found = _hits_for_model(search_query, id_field)
    if not found:
        return _no_hits(queryset).order_by("search_rank")
    # the hits are mapped to ids once, for the filter and both annotations
    annotations = {
        "search_rank": _expression(found, lookup, id_field, "rank"),
        "search_score": _expression(found, lookup, id_field, "score"),
    }
    if search_query.has_highlights:
        annotations["search_highlights"] = _expression(found, lookup, id_field, "highlights")
    annotated = queryset.filter(**{f"{lookup}__in": list(found)}).annotate(**annotations)
    return cast("models.QuerySet[_M]", annotated.order_by("search_rank"))


def _no_hits(queryset: models.QuerySet[_M]) -> models.QuerySet[_M]:
    """An empty ``queryset``, annotated so that callers can still order by the annotations."""
    empty = queryset.none().annotate(
        search_rank=Value(None, output_field=IntegerField()),
        search_score=Value(None, output_field=FloatField()),
    )
    return cast("models.QuerySet[_M]", empty)


def filter_by_hits(
    queryset: models.QuerySet[_M], search_query: SearchQuery, field_name: str | None = None
) -> models.QuerySet[_M]:
    """``queryset`` limited to the objects of ``search_query``'s hits (unordered).

    Without any hit this model can hold, the result is empty and annotated
    (``search_rank``, ``search_score``) so that callers can still order by them.
    """
    lookup, id_field = document_id_field(queryset.model, field_name)
    found = _hits_for_model(search_query, id_field)
    if not found:
        return _no_hits(queryset)
    return queryset.filter(**{f"{lookup}__in": list(found)})


def annotate_hits(
    queryset: models.QuerySet[_M],
    search_query: SearchQuery,
    field_name: str | None = None,
    *,
    rank: bool = True,
    score: bool = True,
    highlights: bool | None = None,
) -> models.QuerySet[_M]:
    """``queryset`` annotated with its rows' ``search_rank``, ``search_score`` and highlights.

    ``search_highlights`` (field -> fragments, ``{}`` for a hit without any)
    is added when the query asked for highlights (``highlights=None``) or
    when ``highlights`` is True. Annotations are ordinary query expressions:
    they survive ``.filter()``, ``.values()``... chained on the result.
    """
    name = field_name or document_id_field(queryset.model)[0]
    model = queryset.model
    annotations: dict[str, Any] = {}
    if rank:
        annotations["search_rank"] = hit_expression(search_query, name, "rank", model)
    if score:
        annotations["search_score"] = hit_expression(search_query, name, "score", model)
    if highlights or (highlights is None and search_query.has_highlights):
        annotations["search_highlights"] = hit_expression(search_query, name, "highlights", model)
    return cast("models.QuerySet[_M]", queryset.annotate(**annotations))


class SearchResultsQuerySet(models.QuerySet[_M]):
    """A queryset that maps search hits onto its rows (elasticsearch-django 8.1's API).

    Use it as a model's manager (``objects = SearchResultsQuerySet.as_manager()``)
    or on any model whose rows the documents stand for::

        sq = SearchQuery.do_search("blog", {"match": {"title": "django"}})
        posts = Post.objects.from_search_results(sq)    # in hit order
        posts[0].search_rank, posts[0].search_score

    ``search_document_id_field`` names the field holding the document id;
    None (the default) takes the model's own (``"pk"`` unless it says otherwise).
    """

    search_document_id_field: ClassVar[str | None] = None

    def filter_search_results(self, search_query: SearchQuery) -> SearchResultsQuerySet[_M]:
        """The rows of the hits, unordered."""
        return filter_by_hits(self, search_query, self.search_document_id_field)  # type: ignore[return-value]

    def add_search_rank(self, search_query: SearchQuery) -> SearchResultsQuerySet[_M]:
        """Annotate ``search_rank``: the 1-based rank of each row's hit."""
        return annotate_hits(  # type: ignore[return-value]
            self, search_query, self.search_document_id_field, score=False, highlights=False
        )

    def add_search_score(self, search_query: SearchQuery) -> SearchResultsQuerySet[_M]:
        """Annotate ``search_score``: each row's hit's score (NULL for a custom sort)."""
        return annotate_hits(  # type: ignore[return-value]
            self, search_query, self.search_document_id_field, rank=False, highlights=False
        )

    def add_search_annotations(self, search_query: SearchQuery) -> SearchResultsQuerySet[_M]:
        """Annotate ``search_rank`` and ``search_score``."""
        return annotate_hits(  # type: ignore[return-value]
            self, search_query, self.search_document_id_field, highlights=False
        )

    def add_search_highlights(self, search_query: SearchQuery) -> SearchResultsQuerySet[_M]:
        """Annotate ``search_highlights`` (a queryset: elasticsearch-django returned a list)."""
        return annotate_hits(  # type: ignore[return-value]
            self, search_query, self.search_document_id_field, rank=False, score=False,
            highlights=True,
        )  # fmt: skip

    def from_search_results(self, search_query: SearchQuery) -> SearchResultsQuerySet[_M]:
        """The rows of the hits, in hit order, annotated (:func:`queryset_from_search_query`)."""
        return queryset_from_search_query(  # type: ignore[return-value]
            self, search_query, self.search_document_id_field
        )


# -- hits for templates --------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One search hit, with names templates can read (``{{ hit.source.title }}``)."""

    #: Document id.
    id: str
    #: Name of the index (physical name) the document is in.
    index: str | None
    #: 1-based rank in the whole result list.
    rank: int
    #: Relevance score; None when the query sorted by something else.
    score: float | None
    #: The document (None when ``_source`` was not asked for, or when the
    #: hit was read back from the query log, which keeps no documents).
    source: dict[str, Any] | None = None
    #: Field -> highlighted fragments.
    highlights: dict[str, list[str]] = field(default_factory=dict)
    #: Sort values (for ``search_after``), when the query sorted.
    sort: list[Any] | None = None


def hits_of(search_query: SearchQuery) -> list[Hit]:
    """The hits of ``search_query`` as :class:`Hit` objects, in rank order.

    Documents come from ``search_query.search_response`` when it is in
    memory; a query read from the log has hits without ``source``.
    """
    sources: dict[str, Any] = {}
    if search_query.search_response is not None:
        for raw in (search_query.search_response.get("hits") or {}).get("hits") or ():
            sources.setdefault(str(raw["_id"]), raw.get("_source"))
    return [
        Hit(
            id=str(meta["id"]),
            index=meta.get("index"),
            rank=int(meta.get("rank", position)),
            score=None if meta.get("score") is None else float(meta["score"]),
            source=sources.get(str(meta["id"])),
            highlights=dict(meta.get("highlight") or {}),
            sort=meta.get("sort"),
        )
        for position, meta in enumerate(search_query.hits or (), start=1)
    ]


class ResultList(list[Any]):
    """A page of results (objects or :class:`Hit`), with the search that produced it."""

    def __init__(self, items: list[Any], search_query: SearchQuery | None) -> None:
        super().__init__(items)
        #: The logged search of this page (None for an empty slice that needed no search).
        self.search_query = search_query

    @property
    def total_hits(self) -> int:
        """Number of matches of the whole search (0 when no search was made)."""
        return self.search_query.total_hits if self.search_query is not None else 0

    @property
    def aggregations(self) -> dict[str, Any]:
        """The search's aggregations, as the engine returned them."""
        return self.search_query.aggregations if self.search_query is not None else {}

    @property
    def facets(self) -> dict[str, list[dict[str, Any]]]:
        """Buckets of each bucket aggregation (see :attr:`SearchQuery.facets`)."""
        return self.search_query.facets if self.search_query is not None else {}


# -- pagination --------------------------------------------------------------------


@dataclass
class _Window:
    start: int
    size: int
    #: One entry per hit (None: the hit has no object in the queryset).
    items: list[Any]
    search_query: SearchQuery

    def covers(self, start: int, stop: int) -> bool:
        if start < self.start:
            return False
        # Fewer hits than asked for: the results end inside this window.
        return stop <= self.start + self.size or len(self.items) < self.size

    def slice(self, start: int, stop: int) -> ResultList:
        chosen = self.items[start - self.start : stop - self.start]
        return ResultList([item for item in chosen if item is not None], self.search_query)


class SearchResults:
    """A search that runs when sliced: ``Paginator(SearchResults("blog", body), 25)``.

    ``results[50:75]`` runs :func:`~djangoes.search.execute.execute_search`
    with ``from_=50, size=25`` (logged, with ``user``, ``search_terms`` and
    ``reference``) and returns a :class:`ResultList`: the objects of the
    hits when ``queryset`` (a queryset, manager or model) is given, annotated
    as :func:`queryset_from_search_query` does, else :class:`Hit` objects.
    ``len()``/``count()`` is the total number of hits, at most
    ``max_results`` (engines refuse pages beyond ``index.max_result_window``,
    10,000 by default); before any page was fetched it costs one request
    (``size: 0``, not logged). :class:`SearchPaginator` avoids it.

    The query body may not have ``size`` or ``from``: paging is done here.
    """

    #: Django's Paginator warns about unordered object lists; hits are ordered.
    ordered: ClassVar[bool] = True

    def __init__(
        self,
        index: str,
        query: Mapping[str, Any] | None = None,
        *,
        queryset: Any = None,
        user: Any = None,
        search_terms: str = "",
        reference: str = "",
        save: bool = True,
        using: str | None = None,
        params: Mapping[str, Any] | None = None,
        max_results: int = MAX_RESULT_WINDOW,
    ) -> None:
        body = as_body(query)
        paging = sorted({"size", "from"} & set(body))
        if paging:
            raise ValueError(
                f"SearchResults pages the results itself: remove {', '.join(map(repr, paging))} "
                "from the query body (slice the results or use a Paginator instead)."
            )
        if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 0:
            raise ValueError(f"max_results must be a whole number >= 0, not {max_results!r}.")
        self.index = index
        self.query = body
        self.queryset = _as_queryset(queryset)
        self.user = user
        self.search_terms = search_terms
        self.reference = reference
        self.save = save
        self.using = using
        self.params = dict(params or {})
        self.max_results = max_results
        self._window: _Window | None = None
        self._count: int | None = None

    def __repr__(self) -> str:
        return f"<SearchResults index={self.index!r} query={self.query!r}>"

    # -- what a Paginator needs --------------------------------------------------

    def count(self) -> int:
        """Total number of hits (at most ``max_results``); one request if none was made yet."""
        if self._count is None:
            if self._window is not None:
                total = self._window.search_query.total_hits
            else:
                total = self._count_hits()
            self._count = min(total, self.max_results)
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: int | slice) -> Any:
        """``results[i]``: one result; ``results[a:b]``: a :class:`ResultList` (one search)."""
        if isinstance(key, slice):
            if key.step not in (None, 1):
                raise ValueError("SearchResults slices take no step.")
            start = 0 if key.start is None else key.start
            stop = self.count() if key.stop is None else key.stop
            return self.fetch(start, stop)
        if not isinstance(key, int) or isinstance(key, bool):
            raise TypeError(f"SearchResults indices must be integers or slices, not {key!r}.")
        page = self.fetch(key, key + 1)
        if not page:
            raise IndexError(f"No result at position {key} of {self!r}.")
        return page[0]

    def __iter__(self) -> Iterator[Any]:
        raise TypeError(
            "SearchResults cannot be iterated: it is a whole result list, fetched a page at a "
            "time. Slice it (results[:25]) or paginate it (SearchPaginator(results, 25))."
        )

    # -- fetching ----------------------------------------------------------------

    def fetch(self, start: int, stop: int) -> ResultList:
        """Results ``start`` to ``stop`` (0-based, ``stop`` excluded), as one search.

        A slice inside the page fetched last is served from it. Raises
        ``ValueError`` for negative positions, and what
        :func:`~djangoes.search.execute.execute_search` raises.
        """
        stop, served = self._served(start, stop)
        if served is not None:
            return served
        search_query = execute_search(self.index, self.query, **self._search_kwargs(start, stop))
        return self._keep(start, stop, search_query, self._items(search_query))

    async def afetch(self, start: int, stop: int) -> ResultList:
        """:meth:`fetch` for async code, with :func:`~djangoes.search.execute.aexecute_search`.

        The objects of the hits are read with ``async for``; after it, the
        page is served from memory to the sync methods (``len()``, slices,
        a :class:`SearchPaginator`'s pages) without any request.
        """
        stop, served = self._served(start, stop)
        if served is not None:
            return served
        search_query = await aexecute_search(
            self.index, self.query, **self._search_kwargs(start, stop)
        )
        return self._keep(start, stop, search_query, await self._aitems(search_query))

    def _served(self, start: int, stop: int) -> tuple[int, ResultList | None]:
        """``stop`` within ``max_results``, and the slice if no search is needed for it."""
        if start < 0 or stop < 0:
            raise ValueError("SearchResults does not support negative indexing.")
        stop = min(stop, self.max_results)
        window = self._window
        if window is not None and window.covers(start, stop):
            return stop, window.slice(start, stop)
        if stop <= start:
            return stop, ResultList([], window.search_query if window is not None else None)
        return stop, None

    def _search_kwargs(self, start: int, stop: int) -> dict[str, Any]:
        return {
            "size": stop - start, "from_": start, "user": self.user,
            "search_terms": self.search_terms, "reference": self.reference, "save": self.save,
            "using": self.using, "params": self.params,
        }  # fmt: skip

    def _keep(
        self, start: int, stop: int, search_query: SearchQuery, items: list[Any]
    ) -> ResultList:
        """Keep the page fetched (``items``: one per hit) and return its slice."""
        self._window = window = _Window(start, stop - start, items, search_query)
        return window.slice(start, stop)

    def _items(self, search_query: SearchQuery) -> list[Any]:
        """One entry per hit: its object (or None), or its :class:`Hit`."""
        if self.queryset is None:
            return list(hits_of(search_query))
        objects = {
            obj.search_rank: obj for obj in queryset_from_search_query(self.queryset, search_query)
        }
        return self._by_rank(search_query, objects)

    async def _aitems(self, search_query: SearchQuery) -> list[Any]:
        """:meth:`_items`, reading the objects with ``async for``."""
        if self.queryset is None:
            return list(hits_of(search_query))
        objects = {
            obj.search_rank: obj
            async for obj in queryset_from_search_query(self.queryset, search_query)
        }
        return self._by_rank(search_query, objects)

    @staticmethod
    def _by_rank(search_query: SearchQuery, objects: dict[int, Any]) -> list[Any]:
        return [objects.get(int(hit["rank"])) for hit in search_query.hits]

    def _count_hits(self) -> int:
        """The total from a ``size: 0`` search of the query (not logged)."""

        body = {k: v for k, v in self.query.items() if k not in NOT_COUNTED_KEYS}
        if "track_total_hits" in self.query:
            body["track_total_hits"] = self.query["track_total_hits"]
        body["size"] = 0
        alias = self.using if self.using is not None else connections.alias_for_index(self.index)
        response = connections[alias].search(index=self.index, body=body, **self.params)
        return total_of(response.get("hits") or {}, 0)[0]

    # -- for templates -------------------------------------------------------------

    @property
    def search_query(self) -> SearchQuery | None:
        """The logged search of the page fetched last (None before the first page)."""
        return self._window.search_query if self._window is not None else None

    @property
    def aggregations(self) -> dict[str, Any]:
        """Aggregations of the page fetched last (``{}`` before the first page)."""
        return self.search_query.aggregations if self.search_query is not None else {}

    @property
    def facets(self) -> dict[str, list[dict[str, Any]]]:
        """Buckets of each bucket aggregation of the page fetched last."""
        return self.search_query.facets if self.search_query is not None else {}


def _as_queryset(value: Any) -> models.QuerySet[Any] | None:
    """A queryset from a queryset, a manager or a model class (None stays None)."""
    if value is None or isinstance(value, models.QuerySet):
        return value
    if isinstance(value, type) and issubclass(value, models.Model):
        default: models.QuerySet[Any] = value._default_manager.get_queryset()
        return default
    if isinstance(value, models.Manager):
        queryset: models.QuerySet[Any] = value.get_queryset()
        return queryset
    raise TypeError(
        f"queryset must be a QuerySet, a Manager or a model class, not {type(value).__name__}."
    )


if TYPE_CHECKING:
    _Paginator = Paginator[Any]
    _Page = Page[Any]
else:  # generic for type checkers only
    _Paginator = Paginator
    _Page = Page


class SearchPaginator(_Paginator):
    """A ``Paginator`` for :class:`SearchResults`: each page is one search request.

    A plain ``Paginator`` asks for the total first, then for the page; this
    one fetches the page (``per_page + orphans`` hits) and learns the total
    from the same response. Use it as any ``Paginator``::

        paginator = SearchPaginator(SearchResults("blog", body, queryset=Post), 25)
        page_obj = paginator.get_page(request.GET.get("page"))
        page_obj.object_list.facets   # aggregations of that search
    """

    object_list: SearchResults

    def __init__(self, object_list: SearchResults, per_page: int, *args: Any, **kwargs: Any):
        if not isinstance(object_list, SearchResults):
            raise TypeError(
                f"SearchPaginator pages SearchResults, not {type(object_list).__name__}; use "
                "django.core.paginator.Paginator for other object lists."
            )
        super().__init__(object_list, per_page, *args, **kwargs)

    def _window_of(self, number: Any) -> tuple[int, int] | None:
        """Positions of page ``number``'s hits (None when it is not a whole number >= 1)."""
        try:
            page = int(number)
        except (TypeError, ValueError):
            return None  # the Paginator reports it (PageNotAnInteger)
        if page < 1:
            return None
        start = (page - 1) * int(self.per_page)
        return start, start + int(self.per_page) + self.orphans

    def _prefetch(self, number: Any) -> None:
        """Fetch page ``number`` before the Paginator asks for the total."""
        window = self._window_of(number)
        if window is not None:
            self.object_list.fetch(*window)

    async def _aprefetch(self, number: Any) -> None:
        window = self._window_of(number)
        if window is not None:
            await self.object_list.afetch(*window)

    def page(self, number: Any) -> _Page:
        """The page ``number`` (one search request); raises as ``Paginator.page`` does."""
        self._prefetch(number)
        return super().page(number)

    def get_page(self, number: Any) -> _Page:
        """The page ``number``, or the first/last page when it is not valid."""
        self._prefetch(number)
        return super().get_page(number)

    async def apage(self, number: Any) -> _Page:
        """:meth:`page` for async code: the search is made with ``aexecute_search``.

        Named as Django 6's ``AsyncPaginator.apage()``; the page returned is
        an ordinary ``Page``, its objects already read.
        """
        await self._aprefetch(number)
        return self.page(number)

    async def aget_page(self, number: Any) -> _Page:
        """:meth:`get_page` for async code (see :meth:`apage`)."""
        # not a page number: the first page, which also tells how many there are
        await self._aprefetch(number if self._window_of(number) is not None else 1)
        try:
            number = self.validate_number(number)
        except PageNotAnInteger:
            number = 1
        except EmptyPage:
            number = self.num_pages
        await self._aprefetch(number)  # served from memory when it was fetched above
        return self.page(number)
