"""Run a search or a count and log it as a :class:`~djangoes.search.models.SearchQuery`.

::

    from djangoes.models import execute_search

    sq = execute_search(
        "blog",
        {"query": {"match": {"title": terms}}, "aggs": {"authors": {"terms": {"field": "author"}}}},
        user=request.user,
        search_terms=terms,
    )
    sq.total_hits, sq.hits, sq.aggregations   # logged
    sq.search_response                         # the whole response, in memory only

The engine's errors are raised as they are (``djangoes.exceptions``); a search
that fails is not logged.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from time import perf_counter
from typing import Any

from asgiref.sync import sync_to_async
from django.db import models
from django.utils import timezone

from djangoes import connections
from djangoes.backends.api import SPECS
from djangoes.search.logwriter import log
from djangoes.search.models import SearchQuery

__all__ = [
    "CountResponseParser",
    "SearchResponseParser",
    "aexecute_count",
    "aexecute_search",
    "build_count_body",
    "build_search_body",
    "execute_count",
    "execute_search",
]

#: Top-level keys of a search request body (anything else is a query clause).
SEARCH_BODY_KEYS = frozenset(
    SPECS["search"].renames.get(key, key) for key in SPECS["search"].body_fields
) | {"from", "_source", "aggregations"}

#: Keys of a search body that do not change which documents match: a count
#: ignores them, so one body serves both the search and its count.
NOT_COUNTED_KEYS = frozenset(
    {
        "_source", "aggregations", "aggs", "collapse", "docvalue_fields", "explain", "fields",
        "from", "highlight", "indices_boost", "profile", "rescore", "script_fields",
        "search_after", "seq_no_primary_term", "size", "sort", "stats", "stored_fields",
        "suggest", "timeout", "track_scores", "track_total_hits", "version",
    }
)  # fmt: skip


def as_body(query: object) -> dict[str, Any]:
    """A deep copy of ``query`` as a request body (a bare query clause is wrapped)."""
    if query is None:
        return {"query": {"match_all": {}}}
    if not isinstance(query, Mapping):
        hint = (
            " (an elasticsearch-dsl Search: pass search.to_dict())"
            if hasattr(query, "to_dict")
            else ""
        )
        raise TypeError(
            f"query must be a search body (a dict such as {{'query': {{'match_all': {{}}}}}}), "
            f"not {type(query).__name__}{hint}."
        )
    body = copy.deepcopy(dict(query))
    if body and not body.keys() & SEARCH_BODY_KEYS:
        # {"match_all": {}} as in elasticsearch-django's README: a query clause.
        return {"query": body}
    return body


def _page_value(body: dict[str, Any], key: str, given: int | None, default: int) -> int:
    """The ``size`` / ``from`` to send: the argument, else the body's, else the default."""
    name = "from_" if key == "from" else key
    if given is not None and key in body and body[key] != given:
        raise ValueError(
            f"{name}={given!r} contradicts {key!r}: {body[key]!r} in the query body; give it once."
        )
    value = given if given is not None else body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number of at least 0, not {value!r}.")
    return value


def build_search_body(
    query: Mapping[str, Any] | None,
    *,
    size: int | None = None,
    from_: int | None = None,
) -> dict[str, Any]:
    """The request body :func:`execute_search` sends for ``query`` (a new dict).

    ``query`` is a search body (``{"query": ..., "aggs": ..., "sort": ...}``),
    a bare query clause (``{"match_all": {}}``, wrapped as ``{"query": ...}``)
    or None (every document). ``size`` defaults to the body's, else to
    ``DJANGOES['PAGE_SIZE']``; ``from_`` to the body's, else 0. With
    ``DJANGOES['INCLUDE_SOURCE'] = False`` the body asks for no ``_source``
    unless it says otherwise.

    Raises ``TypeError`` if ``query`` is not a dict, ``ValueError`` if
    ``size``/``from_`` are negative or contradict the body.
    """

    options = connections.options
    body = as_body(query)
    body["size"] = _page_value(body, "size", size, options.PAGE_SIZE)
    body["from"] = _page_value(body, "from", from_, 0)
    if not options.INCLUDE_SOURCE:
        body.setdefault("_source", False)
    return body


def build_count_body(query: Mapping[str, Any] | None) -> dict[str, Any]:
    """The request body :func:`execute_count` sends for ``query`` (a new dict).

    The same bodies as :func:`build_search_body` are accepted; what does not
    change which documents match (``size``, ``sort``, ``aggs``,
    ``highlight``...) is left out. Raises ``ValueError`` for keys that would
    change the number of matches but that the count API cannot take
    (``post_filter``, ``min_score``...): count with a ``bool`` query instead.
    """
    body = as_body(query)
    refused = sorted(set(body) - NOT_COUNTED_KEYS - {"query"})
    if refused:
        raise ValueError(
            f"execute_count() cannot apply {', '.join(map(repr, refused))} of the query body: "
            "the count API only takes 'query'. Put those conditions into the query (a 'bool' "
            "query with a 'filter'), or use execute_search(..., size=0) and its total_hits."
        )
    return {"query": body["query"]} if "query" in body else {}


def user_to_log(user: Any) -> Any:
    """The user to store: None for no user or an anonymous one (``request.user`` works)."""
    if user is None or getattr(user, "is_anonymous", False):
        return None
    return user


def _max_length(name: str) -> int:
    """``max_length`` of the query log's text field ``name``."""
    field = SearchQuery._meta.get_field(name)
    assert isinstance(field, models.CharField)
    assert field.max_length is not None
    return field.max_length


def check_reference(reference: str | None) -> str:
    reference = reference or ""
    limit = _max_length("reference")
    if len(reference) > limit:
        raise ValueError(
            f"reference is {len(reference)} characters long; the query log keeps at most "
            f"{limit}. Use a shorter reference (a session key, a page name...)."
        )
    return reference


def terms_to_log(search_terms: str | None) -> str:
    """What the user typed, cut to the length of the log's field (it is end-user input)."""
    limit = _max_length("search_terms")
    return (search_terms or "")[:limit].replace("\x00", "\ufffd")


def loggable(value: Any) -> Any:
    """``value`` with NUL characters replaced by U+FFFD, for the query log.

    Some databases (PostgreSQL) cannot store NUL in text or JSON, and a user
    can type one: the log keeps a visible stand-in rather than failing the
    search. Lists and dicts are copied; other values are returned as they are.
    """
    kind = type(value)  # the exact types of decoded JSON first: this runs for every hit
    if kind is str:
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if kind is dict:
        return {loggable(key): loggable(item) for key, item in value.items()}
    if kind is list:
        return [loggable(item) for item in value]
    if kind is int or kind is float or kind is bool or value is None:
        return value
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, Mapping):
        return {loggable(key): loggable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [loggable(item) for item in value]
    return value


def hit_metadata(hit: Mapping[str, Any], rank: int) -> dict[str, Any]:
    """What the query log keeps of one hit: id, index, score, rank, and highlight/sort if any.

    Each value in its :func:`loggable` form, built at once: this runs for every
    hit of every search.
    """
    meta: dict[str, Any] = {
        "id": loggable(str(hit["_id"])),
        "index": loggable(hit.get("_index")),
        "score": loggable(hit.get("_score")),
        "rank": rank,
    }
    for key in SearchQuery.OPTIONAL_HIT_KEYS:
        value = hit.get(key)
        if value is not None:
            meta[key] = loggable(value)
    return meta


def total_of(hits: Mapping[str, Any], offset: int) -> tuple[int, str]:
    """``(total hits, relation)`` from a response's ``hits`` object.

    Without a total (``track_total_hits: false``) the hits seen so far are a
    lower bound.
    """
    total = hits.get("total")
    if isinstance(total, Mapping):
        relation = str(total.get("relation") or SearchQuery.TotalHitsRelation.ACCURATE)
        return int(total["value"]), relation
    if isinstance(total, int):
        return total, SearchQuery.TotalHitsRelation.ACCURATE
    return offset + len(hits.get("hits") or ()), SearchQuery.TotalHitsRelation.ESTIMATE


def _connection(index: str, using: str | None) -> Any:

    return connections[using if using is not None else connections.alias_for_index(index)]


def _check_params(params: Mapping[str, Any] | None, api: str) -> dict[str, Any]:
    """``params`` as a dict; ValueError for names that are body fields of ``api``."""
    params = dict(params or {})
    in_body = sorted(k for k in params if k in SPECS[api].body_fields or k == "body")
    if in_body:
        verb = "belongs" if len(in_body) == 1 else "belong"
        raise ValueError(
            f"params are URL parameters; {', '.join(map(repr, in_body))} {verb} in the query "
            "body (so that the log shows what was asked)."
        )
    return params


def execute_search(
    index: str,
    query: Mapping[str, Any] | None = None,
    *,
    user: Any = None,
    search_terms: str = "",
    reference: str = "",
    save: bool = True,
    size: int | None = None,
    from_: int | None = None,
    using: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> SearchQuery:
    """Search ``index`` (an ``ES_INDICES`` key) and return the logged :class:`SearchQuery`.

    ``query`` is the request body (see :func:`build_search_body` for the
    forms it may take and how ``size``/``from_`` and ``_source`` are set).
    ``user`` (None or anonymous: not recorded), ``search_terms`` (cut to 400
    characters) and ``reference`` (at most 100) are stored with it. The
    request goes to the connection holding the index, or to ``using``;
    ``params`` are URL parameters (``routing``, ``preference``...).

    The returned object is logged unless ``save=False``: inside a
    transaction it is saved in it; in autocommit mode a thread writes it
    off the request path, in a batch, and it gets its ``pk`` then
    (:func:`~djangoes.search.logwriter.flush_query_log` waits for that).
    Its ``search_response`` is the engine's whole response (kept in memory
    only).
    ``duration`` is the time the request took, in seconds.

    Raises the engine's errors as ``djangoes.exceptions.TransportError``
    subclasses (nothing is logged then), ``IndexDoesNotExist`` for an
    unknown index, ``TypeError``/``ValueError`` for bad arguments.
    """
    body, url_params, reference, conn = _search_request(
        index, query, size=size, from_=from_, reference=reference, using=using, params=params
    )
    executed_at = timezone.now()
    started = perf_counter()
    # the client gets its own top-level dict (a client may rename keys of the body it gets)
    response: dict[str, Any] = conn.search(index=index, body=dict(body), **url_params)
    duration = perf_counter() - started
    search_query = _search_record(body, response)
    _fill(
        search_query, index=index, body=body, response=response, user=user_to_log(user),
        search_terms=search_terms, reference=reference, executed_at=executed_at,
        duration=duration,
    )  # fmt: skip
    if save:
        log(search_query)
    return search_query


def _search_request(
    index: str,
    query: Mapping[str, Any] | None,
    *,
    size: int | None,
    from_: int | None,
    reference: str,
    using: str | None,
    params: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, Any], str, Any]:
    """What a search sends (body, URL parameters), its checked reference, its connection."""
    body = build_search_body(query, size=size, from_=from_)
    url_params = _check_params(params, "search")
    return body, url_params, check_reference(reference), _connection(index, using)


def _search_record(body: Mapping[str, Any], response: dict[str, Any]) -> SearchQuery:
    """The log entry of a search's response (the hits' metadata, total, aggregations)."""
    hits = response.get("hits") or {}
    offset = body["from"]
    total, relation = total_of(hits, offset)
    return SearchQuery(
        query_type=SearchQuery.QueryType.SEARCH,
        hits=[
            hit_metadata(hit, offset + position)
            for position, hit in enumerate(hits.get("hits") or (), start=1)
        ],
        total_hits=total,
        total_hits_relation=relation,
        aggregations=loggable(response.get("aggregations") or {}),
    )


def _fill(
    search_query: SearchQuery,
    *,
    index: str,
    body: Mapping[str, Any],
    response: dict[str, Any],
    user: Any,
    search_terms: str,
    reference: str,
    executed_at: Any,
    duration: float,
) -> None:
    """Fill in what every logged query has and keep the response on it (``user``: checked)."""
    search_query.user = user
    search_query.index = index
    search_query.search_terms = terms_to_log(search_terms)
    search_query.query = loggable(body)
    search_query.reference = reference
    search_query.executed_at = executed_at
    search_query.duration = duration
    search_query.search_response = response


def execute_count(
    index: str,
    query: Mapping[str, Any] | None = None,
    *,
    user: Any = None,
    search_terms: str = "",
    reference: str = "",
    save: bool = True,
    using: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> SearchQuery:
    """Count the documents of ``index`` matching ``query``; return the logged :class:`SearchQuery`.

    Takes the same arguments as :func:`execute_search` (without paging);
    the body sent is :func:`build_count_body` of ``query``. The result is in
    ``total_hits`` (always exact), ``hits`` is empty, ``search_response``
    the engine's response.

    Raises what :func:`execute_search` raises, and ``ValueError`` for body
    keys a count cannot apply.
    """
    body, url_params, reference, conn = _count_request(index, query, reference, using, params)
    executed_at = timezone.now()
    started = perf_counter()
    response: dict[str, Any] = conn.count(index=index, body=dict(body) or None, **url_params)
    duration = perf_counter() - started
    search_query = _count_record(response)
    _fill(
        search_query, index=index, body=body, response=response, user=user_to_log(user),
        search_terms=search_terms, reference=reference, executed_at=executed_at,
        duration=duration,
    )  # fmt: skip
    if save:
        log(search_query)
    return search_query


def _count_request(
    index: str,
    query: Mapping[str, Any] | None,
    reference: str,
    using: str | None,
    params: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, Any], str, Any]:
    """What a count sends (body, URL parameters), its checked reference, its connection."""
    body = build_count_body(query)
    url_params = _check_params(params, "count")
    return body, url_params, check_reference(reference), _connection(index, using)


def _count_record(response: dict[str, Any]) -> SearchQuery:
    """The log entry of a count's response."""
    return SearchQuery(
        query_type=SearchQuery.QueryType.COUNT,
        hits=[],
        total_hits=int(response["count"]),
        total_hits_relation=SearchQuery.TotalHitsRelation.ACCURATE,
        aggregations={},
    )


# -- async -----------------------------------------------------------------------


async def aexecute_search(
    index: str,
    query: Mapping[str, Any] | None = None,
    *,
    user: Any = None,
    search_terms: str = "",
    reference: str = "",
    save: bool = True,
    size: int | None = None,
    from_: int | None = None,
    using: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> SearchQuery:
    """:func:`execute_search` for async code: the same arguments, result and errors.

    The request goes through the connection's async client
    (:meth:`~djangoes.backends.aio.AsyncOperations.asearch`); the query log
    row is logged as :func:`execute_search` logs it, in a thread (inside
    a transaction there, it is saved in it), so the event loop never waits
    for the database. ``user`` may be an async view's lazy ``request.user``:
    it is resolved in a thread as well.
    """
    body, url_params, reference, conn = _search_request(
        index, query, size=size, from_=from_, reference=reference, using=using, params=params
    )
    executed_at = timezone.now()
    started = perf_counter()
    response: dict[str, Any] = await conn.asearch(index=index, body=dict(body), **url_params)
    duration = perf_counter() - started
    search_query = _search_record(body, response)
    _fill(
        search_query, index=index, body=body, response=response, user=await _auser_to_log(user),
        search_terms=search_terms, reference=reference, executed_at=executed_at,
        duration=duration,
    )  # fmt: skip
    if save:
        await sync_to_async(log)(search_query)
    return search_query


async def aexecute_count(
    index: str,
    query: Mapping[str, Any] | None = None,
    *,
    user: Any = None,
    search_terms: str = "",
    reference: str = "",
    save: bool = True,
    using: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> SearchQuery:
    """:func:`execute_count` for async code (see :func:`aexecute_search`)."""
    body, url_params, reference, conn = _count_request(index, query, reference, using, params)
    executed_at = timezone.now()
    started = perf_counter()
    response: dict[str, Any] = await conn.acount(index=index, body=dict(body) or None, **url_params)
    duration = perf_counter() - started
    search_query = _count_record(response)
    _fill(
        search_query, index=index, body=body, response=response, user=await _auser_to_log(user),
        search_terms=search_terms, reference=reference, executed_at=executed_at,
        duration=duration,
    )  # fmt: skip
    if save:
        await sync_to_async(log)(search_query)
    return search_query


async def _auser_to_log(user: Any) -> Any:
    """:func:`user_to_log` without touching the database in the event loop.

    ``request.user`` of an async view is lazy: reading it loads the session
    and the user, which Django only allows outside the event loop.
    """
    if user is None:
        return None
    return await sync_to_async(user_to_log)(user)


class SearchResponseParser:
    """The parts of a search response the query log keeps (elasticsearch-django 8.1's API).

    ``response`` is the engine's response: a dict, or a client response
    object (its ``body`` is read).
    """

    def __init__(self, response: Any) -> None:
        self.body: dict[str, Any] = dict(getattr(response, "body", response) or {})
        self._hits: Mapping[str, Any] = self.body.get("hits") or {}

    @property
    def raw_hits(self) -> list[dict[str, Any]]:
        """The hits as the engine returned them."""
        return list(self._hits.get("hits") or [])

    @property
    def hits(self) -> list[dict[str, Any]]:
        """Each hit's metadata: id, index, score, rank, and highlight/sort when present."""
        return [hit_metadata(hit, rank) for rank, hit in enumerate(self.raw_hits, start=1)]

    @property
    def total(self) -> dict[str, Any]:
        """``hits.total`` (``{"value": ..., "relation": ...}``)."""
        total = self._hits.get("total")
        return dict(total) if isinstance(total, Mapping) else {}

    @property
    def total_hits(self) -> int:
        return total_of(self._hits, 0)[0]

    @property
    def total_hits_relation(self) -> str:
        return total_of(self._hits, 0)[1]

    @property
    def aggregations(self) -> dict[str, Any]:
        return dict(self.body.get("aggregations") or {})


class CountResponseParser:
    """The number a count response gives (elasticsearch-django 8.1's API)."""

    def __init__(self, response: Any) -> None:
        self.body: dict[str, Any] = dict(getattr(response, "body", response) or {})

    @property
    def total_hits(self) -> int:
        return int(self.body.get("count", 0))

    @property
    def total_hits_relation(self) -> str:
        return str(SearchQuery.TotalHitsRelation.ACCURATE)
