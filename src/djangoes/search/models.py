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
from typing import Any, ClassVar, Final

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["SearchQuery"]


class SearchQuery(models.Model):
    """A search or count run against an index, with the metadata of its results."""

    class QueryType:
        """Whether hits were asked for, or only their number (``query_type``)."""

        SEARCH: Final = "SEARCH"
        COUNT: Final = "COUNT"
        choices: Final = [(SEARCH, _("Search")), (COUNT, _("Count"))]

    class TotalHitsRelation:
        """How ``total_hits`` relates to the true number of matches (``hits.total.relation``)."""

        ACCURATE: Final = "eq"
        ESTIMATE: Final = "gte"
        choices: Final = [(ACCURATE, _("Exact")), (ESTIMATE, _("Lower bound"))]

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

    def __str__(self) -> str:
        terms = f" for {self.search_terms!r}" if self.search_terms else ""
        return f"{self.get_query_type_display()} of {self.index!r}{terms}"

    def __repr__(self) -> str:
        return (
            f"<SearchQuery id={self.pk} index={self.index!r} type={self.query_type} "
            f"total_hits={self.total_hits} duration={self.duration:.3f}s>"
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
        """The highest score of the page; None when no hit has a score."""
        scores = self.scores
        return max(scores) if scores else None

    @property
    def min_score(self) -> float | None:
        """The lowest score of the page; None when no hit has a score."""
        scores = self.scores
        return min(scores) if scores else None

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
    def page_slice(self) -> tuple[int, int]:
        """``(from, size)`` of the request (0-based offset and the page size asked for)."""
        query = self.query or {}
        return int(query.get("from", 0)), int(query.get("size", 10))

    @property
    def page_size(self) -> int:
        """Number of hits returned (at most the size asked for)."""
        return len(self.hits or ())

    @property
    def page_from(self) -> int:
        """1-based position of the first hit returned; 0 when none was."""
        return self.page_slice[0] + 1 if self.page_size else 0

    @property
    def page_to(self) -> int:
        """1-based position of the last hit returned; 0 when none was."""
        return self.page_slice[0] + self.page_size if self.page_size else 0

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
