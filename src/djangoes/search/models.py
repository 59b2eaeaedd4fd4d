"""The query log: one :class:`SearchQuery` row per search or count that was run.

A ``SearchQuery`` records what was asked (index, query body, the user and the
terms they typed) and what came back, without the documents: the metadata of
each hit (id, index, score, rank, highlights, sort values), the total, the
aggregations and how long the engine took. The whole response stays on the
object in memory (:attr:`SearchQuery.search_response`) and is never stored.

Rows are made by :func:`djangoes.search.execute.execute_search` and
:func:`~djangoes.search.execute.execute_count`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Expression
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from djangoes.search.logwriter import wait_until_written

__all__ = ["SearchQuery"]


class SearchQuery(models.Model):
    """A search or count run against an index, with the metadata of its results."""

    class QueryType(models.TextChoices):
        """Whether hits were asked for, or only their number (``query_type``)."""

        SEARCH = "SEARCH", _("Search")
        COUNT = "COUNT", _("Count")

    class TotalHitsRelation(models.TextChoices):
        """How ``total_hits`` relates to the true number of matches (``hits.total.relation``)."""

        ACCURATE = "eq", _("Exact")
        ESTIMATE = "gte", _("Lower bound")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        related_name="search_queries",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("user"),
        help_text=_("Who ran the search (empty for anonymous users)."),
    )
    index = models.CharField(
        _("index"),
        max_length=100,
        help_text=_("The ES_INDICES key of the index searched."),
    )
    search_terms = models.CharField(
        _("search terms"),
        max_length=400,
        blank=True,
        default="",
        help_text=_("What the user typed, as opposed to the query built from it."),
    )
    query = models.JSONField(
        _("query"),
        encoder=DjangoJSONEncoder,
        default=dict,
        help_text=_("The request body sent to the engine (query, size, aggs...)."),
    )
    query_type = models.CharField(
        _("query type"),
        max_length=10,
        choices=QueryType.choices,
        default=QueryType.SEARCH,
    )
    hits = models.JSONField(
        _("hits"),
        encoder=DjangoJSONEncoder,
        default=list,
        help_text=_("Metadata of each hit returned: id, index, score, rank."),
    )
    total_hits = models.BigIntegerField(
        _("total hits"),
        default=0,
        help_text=_("Number of matches, not the number of hits returned in the page."),
    )
    total_hits_relation = models.CharField(
        _("total hits relation"),
        max_length=3,
        choices=TotalHitsRelation.choices,
        default=TotalHitsRelation.ACCURATE,
        help_text=_("'eq': total hits is exact; 'gte': it is a lower bound."),
    )
    aggregations = models.JSONField(
        _("aggregations"),
        encoder=DjangoJSONEncoder,
        default=dict,
        help_text=_("The aggregations of the response, as the engine returned them."),
    )
    reference = models.CharField(
        _("reference"),
        max_length=100,
        blank=True,
        default="",
        help_text=_("Free text grouping related searches (a session id...)."),
    )
    executed_at = models.DateTimeField(_("executed at"), default=timezone.now, db_index=True)
    duration = models.FloatField(
        _("duration"),
        default=0.0,
        help_text=_("Seconds between sending the request and receiving the response."),
    )

    #: The engine's whole response (a dict), kept in memory only: ``None`` on
    #: objects loaded from the database.
    search_response: dict[str, Any] | None = None

    #: Hit metadata keys kept in :attr:`hits` besides id, index, score and rank.
    OPTIONAL_HIT_KEYS: ClassVar[tuple[str, ...]] = ("highlight", "sort")

    class Meta:
        app_label = "djangoes"
        verbose_name = _("search query")
        verbose_name_plural = _("search queries")
        get_latest_by = "executed_at"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # elasticsearch-django 8.1+ passes the response as a keyword.
        response = kwargs.pop("query_response", None)
        super().__init__(*args, **kwargs)
        if response is not None:
            self.search_response = getattr(response, "body", response)

    def __str__(self) -> str:
        terms = f" for {self.search_terms!r}" if self.search_terms else ""
        return f"{self.get_query_type_display()} of {self.index!r}{terms}"

    def __repr__(self) -> str:
        return (
            f"<SearchQuery id={self.pk} index={self.index!r} type={self.query_type} "
            f"total_hits={self.total_hits} duration={self.duration:.3f}s>"
        )

    def save(  # type: ignore[override]
        self,
        *args: Any,
        user: Any = None,
        reference: str | None = None,
        search_terms: str | None = None,
        **kwargs: Any,
    ) -> SearchQuery:
        """Save the query log entry; returns it, as elasticsearch-django 8.1+ does.

        ``user``, ``reference`` and ``search_terms`` are recorded first when
        given (``SearchQuery.do_search(...).save(user=request.user)``); an
        anonymous user is not recorded.
        """
        from djangoes.search.execute import (  # execute imports this module
            check_reference,
            terms_to_log,
            user_to_log,
        )

        wait_until_written(self)  # a row the log's thread holds: written once, then updated
        if user is not None:
            self.user = user_to_log(user)
        if reference is not None:
            self.reference = check_reference(reference)
        if search_terms is not None:
            self.search_terms = terms_to_log(search_terms)
        super().save(*args, **kwargs)
        return self

    @property  # type: ignore[no-redef]
    def pk(self) -> Any:
        """The primary key; a row the query log's thread has yet to write is written first.

        See :mod:`djangoes.search.logwriter`: a search in autocommit mode hands
        its row to a thread, and this keeps ``execute_search(...).pk`` what it
        was when the row was saved at once.
        """
        wait_until_written(self)
        return super().pk

    @pk.setter
    def pk(self, value: Any) -> None:
        models.Model.pk.fset(self, value)

    @property
    def query_response(self) -> dict[str, Any] | None:
        """elasticsearch-django's name of :attr:`search_response`."""
        return self.search_response

    @query_response.setter
    def query_response(self, value: Any) -> None:
        self.search_response = getattr(value, "body", value)

    @classmethod
    def do_search(
        cls,
        index: str,
        query: Mapping[str, Any] | None = None,
        client: Any = None,
        **search_kwargs: Any,
    ) -> SearchQuery:
        """Search ``index`` with the query clause ``query``; the (unsaved) log entry.

        elasticsearch-django 8.1's API: ``search_kwargs`` are the other
        fields of the request (``from``/``from_``, ``size``, ``aggs``,
        ``highlight``, ``sort``, ``_source``...), ``size`` defaulting to
        ``PAGE_SIZE``. ``client`` is a connection (``connections[alias]``) or
        an alias; by default the connection holding the index. Call
        ``.save(user=..., search_terms=..., reference=...)`` on the result to
        log it. Raises what :func:`~djangoes.search.execute.execute_search`
        raises.
        """
        from djangoes.search.execute import execute_search  # execute imports this module

        body = _request_body(query, search_kwargs)
        return execute_search(index, body, save=False, using=_alias_of(client, index))

    @classmethod
    def do_count(
        cls,
        index: str,
        query: Mapping[str, Any] | None = None,
        client: Any = None,
        **count_kwargs: Any,
    ) -> SearchQuery:
        """Count the documents of ``index`` matching the query clause ``query``; unsaved.

        ``count_kwargs`` are URL parameters of the count API (``routing``...).
        See :meth:`do_search` for ``client`` and saving.
        """
        from djangoes.search.execute import execute_count  # execute imports this module

        body = {} if query is None else {"query": dict(query)}
        return execute_count(
            index, body, save=False, using=_alias_of(client, index), params=count_kwargs
        )

    # -- what kind of query --------------------------------------------------

    @property
    def is_count(self) -> bool:
        """Whether this was a count (no hits, only a number)."""
        return self.query_type == self.QueryType.COUNT

    @property
    def has_aggs(self) -> bool:
        """Whether the query asked for aggregations."""
        query = self.query or {}
        return "aggs" in query or "aggregations" in query

    @property
    def has_highlights(self) -> bool:
        """Whether the query asked for highlights."""
        return "highlight" in (self.query or {})

    @property
    def has_fields(self) -> bool:
        """Whether the query asked for explicit ``fields``."""
        return "fields" in (self.query or {})

    @property
    def is_exact_total(self) -> bool:
        """Whether :attr:`total_hits` is the exact number of matches (not a lower bound)."""
        return self.total_hits_relation == self.TotalHitsRelation.ACCURATE

    # -- scores --------------------------------------------------------------

    @property
    def scores(self) -> list[float]:
        """The scores of the hits, in hit order, leaving out null ones.

        Scores are null when the query sorted by something else than
        relevance (``"sort": [{"created": "desc"}]``).
        """
        return [float(hit["score"]) for hit in self.hits or () if hit.get("score") is not None]

    @property
    def max_score(self) -> float | None:
        """The highest score of the page: 0.0 without hits, None when no hit has a score."""
        scores = self.scores
        if scores:
            return max(scores)
        return None if self.hits else 0.0

    @property
    def min_score(self) -> float | None:
        """The lowest score of the page: 0.0 without hits, None when no hit has a score."""
        scores = self.scores
        if scores:
            return min(scores)
        return None if self.hits else 0.0

    # -- hits ----------------------------------------------------------------

    @property
    def object_ids(self) -> list[str]:
        """The document ids of the hits, in hit order (strings, as the engine gives them).

        A document id is the object's ``get_search_document_id()``: its
        primary key as a string unless the model says otherwise.
        """
        seen: set[str] = set()
        ids: list[str] = []
        for hit in self.hits or ():
            doc_id = str(hit["id"])
            if doc_id not in seen:
                seen.add(doc_id)
                ids.append(doc_id)
        return ids

    @property
    def page_slice(self) -> tuple[int, int] | None:
        """``(from, size)`` of the request (0-based offset, page size); None without a query."""
        if not self.query:
            return None
        return int(self.query.get("from", 0)), int(self.query.get("size", 10))

    @property
    def page_size(self) -> int:
        """Number of hits returned (at most the size asked for)."""
        return len(self.hits or ())

    @property
    def page_from(self) -> int:
        """1-based position of the first hit returned; 0 when none was."""
        return (self.page_slice or (0, 0))[0] + 1 if self.page_size else 0

    @property
    def page_to(self) -> int:
        """1-based position of the last hit returned; 0 when none was."""
        return (self.page_slice or (0, 0))[0] + self.page_size if self.page_size else 0

    def get_hit(self, doc_id: Any) -> dict[str, Any]:
        """The metadata of the hit with document id ``doc_id``.

        Raises ``KeyError`` when no hit of this page has that id.
        """
        wanted = str(doc_id)
        for hit in self.hits or ():
            if str(hit["id"]) == wanted:
                return dict(hit)
        raise KeyError(f"No hit with document id {wanted!r} in {self!r}.")

    def get_doc_rank(self, doc_id: Any) -> int:
        """The 1-based rank of document ``doc_id`` in the whole result list (KeyError if absent)."""
        return int(self.get_hit(doc_id)["rank"])

    def get_doc_score(self, doc_id: Any) -> float | None:
        """The score of document ``doc_id``; None for a custom sort (KeyError if absent)."""
        score = self.get_hit(doc_id).get("score")
        return None if score is None else float(score)

    def get_doc_highlights(self, doc_id: Any) -> dict[str, list[str]]:
        """The highlights of document ``doc_id`` (field -> fragments; KeyError if absent)."""
        return dict(self.get_hit(doc_id).get("highlight") or {})

    def search_rank_annotation(self, pk_field_name: str = "pk") -> Expression | None:
        """An expression giving each row of a queryset its hit's rank (None without hits).

        ``pk_field_name`` is the field holding the document id. For a
        ``.annotate(search_rank=...)``; :class:`SearchResultsQuerySet` does it.
        """
        return self._hit_annotation(pk_field_name, "rank")

    def search_score_annotation(self, pk_field_name: str = "pk") -> Expression | None:
        """An expression giving each row its hit's score (NULL for unscored hits)."""
        return self._hit_annotation(pk_field_name, "score")

    def _hit_annotation(self, pk_field_name: str, what: str) -> Expression | None:
        from djangoes.search.results import hit_expression  # results imports this module

        return hit_expression(self, pk_field_name, what) if self.hits else None

    @property
    def highlights(self) -> dict[str, dict[str, list[str]]]:
        """Document id -> highlights (field -> fragments) of every hit that has some."""
        return {str(hit["id"]): hit["highlight"] for hit in self.hits or () if hit.get("highlight")}

    # -- aggregations ----------------------------------------------------------

    @property
    def facets(self) -> dict[str, list[dict[str, Any]]]:
        """The buckets of each top-level bucket aggregation, by aggregation name.

        Keyed buckets (``"keyed": true``) become a list too, each with its
        ``key``. Aggregations without buckets (``avg``, ``max``...) are left
        out: read them from :attr:`aggregations`. In a template::

            {% for bucket in search_query.facets.authors %}
              {{ bucket.key }} ({{ bucket.doc_count }})
            {% endfor %}
        """
        facets: dict[str, list[dict[str, Any]]] = {}
        for name, agg in (self.aggregations or {}).items():
            if not isinstance(agg, Mapping) or "buckets" not in agg:
                continue
            buckets = agg["buckets"]
            if isinstance(buckets, Mapping):
                facets[name] = [{"key": key, **bucket} for key, bucket in buckets.items()]
            else:
                facets[name] = [dict(bucket) for bucket in buckets]
        return facets


def _request_body(query: Mapping[str, Any] | None, fields: Mapping[str, Any]) -> dict[str, Any]:
    """elasticsearch-django's ``(query, **search_kwargs)`` as one request body."""
    body: dict[str, Any] = {"query": dict(query) if query is not None else {"match_all": {}}}
    for key, value in fields.items():
        name = {"from_": "from", "source": "_source"}.get(key, key)
        if name in body:
            raise ValueError(f"do_search() got {name!r} twice ({key!r} and another spelling).")
        body[name] = value
    return body


def _alias_of(client: Any, index: str) -> str | None:
    """The connection alias ``client`` stands for (a connection, an alias, or None)."""
    if client is None or isinstance(client, str):
        return client
    alias = getattr(client, "alias", None)
    if isinstance(alias, str) and hasattr(client, "server_indices"):
        return alias
    raise TypeError(
        f"client must be a djangoes connection (connections[alias]) or an alias, not "
        f"{type(client).__name__}: djangoes sends the request through the connection so that "
        f"it targets the index's name and is logged. Use client=connections['default']."
    )
