"""Django admin for the query log: a read-only view of :class:`SearchQuery` rows.

Registered on the default admin site when ``django.contrib.admin`` is
installed (Django imports this module from ``admin.autodiscover()``), with
the sync queue's admin (:mod:`djangoes.sync.admin`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from djangoes.search.models import SearchQuery
from djangoes.sync.admin import SyncQueueEntryAdmin

__all__ = ["SearchQueryAdmin", "SyncQueueEntryAdmin", "format_duration", "pretty_json"]

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[SearchQuery]
else:  # ModelAdmin is generic for type checkers only
    _ModelAdmin = admin.ModelAdmin


def pretty_json(value: Any) -> SafeString:
    """``value`` as indented, key-sorted JSON in a ``<pre>`` block (HTML-escaped)."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder)
    return format_html('<pre class="djangoes-json">{}</pre>', text)


def format_duration(seconds: float | None) -> str:
    """``'12.3 ms'`` under a second, ``'2.25 s'`` from a second on, ``'-'`` for None."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


@admin.register(SearchQuery)
class SearchQueryAdmin(_ModelAdmin):
    """The query log: list, filters, search, and a read-only detail with pretty JSON."""

    list_display = (
        "executed_at",
        "index",
        "query_type",
        "terms_display",
        "user",
        "total",
        "duration_display",
    )
    list_display_links = ("executed_at",)
    #: Longer search terms are cut in the list (the whole terms are in the detail).
    LIST_TERMS_LENGTH = 60
    list_filter = ("index", "query_type", "total_hits_relation", "executed_at")
    list_select_related = ("user",)
    ordering = ("-executed_at", "-pk")
    show_full_result_count = False
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "executed_at",
                    "index",
                    "query_type",
                    "search_terms",
                    "user",
                    "reference",
                    "duration_display",
                )
            },
        ),
        (
            _("Results"),
            {"fields": ("total", "page_display", "max_score_display", "min_score_display")},
        ),
        (_("Query"), {"fields": ("query_json",)}),
        (_("Hits"), {"fields": ("hits_json",)}),
        (_("Aggregations"), {"fields": ("aggregations_json",)}),
    )
    readonly_fields = (
        "executed_at",
        "index",
        "query_type",
        "search_terms",
        "user",
        "reference",
        "duration_display",
        "total",
        "page_display",
        "max_score_display",
        "min_score_display",
        "query_json",
        "hits_json",
        "aggregations_json",
    )

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        """Search terms, reference, index, and the user's USERNAME_FIELD (any user model)."""
        username = get_user_model().USERNAME_FIELD
        return ["search_terms", "reference", "index", f"user__{username}"]

    # A log is written by searches, never by hand; rows may be deleted.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("search terms"), ordering="search_terms")
    def terms_display(self, obj: SearchQuery) -> str:
        """The terms, cut to :attr:`LIST_TERMS_LENGTH` characters (all of them on hover)."""
        terms = obj.search_terms
        if len(terms) <= self.LIST_TERMS_LENGTH:
            return terms
        return format_html(
            '<span title="{}">{}…</span>', terms, terms[: self.LIST_TERMS_LENGTH - 1]
        )

    @admin.display(description=_("total hits"), ordering="total_hits")
    def total(self, obj: SearchQuery) -> str:
        prefix = "" if obj.is_exact_total else "≥ "
        return f"{prefix}{obj.total_hits}"

    @admin.display(description=_("duration"), ordering="duration")
    def duration_display(self, obj: SearchQuery) -> str:
        return format_duration(obj.duration)

    @admin.display(description=_("hits returned"))
    def page_display(self, obj: SearchQuery) -> str:
        if obj.is_count or not obj.page_size:
            return "-"
        return f"{obj.page_from} - {obj.page_to}"

    @admin.display(description=_("highest score"))
    def max_score_display(self, obj: SearchQuery) -> str:
        return _score(obj.max_score)

    @admin.display(description=_("lowest score"))
    def min_score_display(self, obj: SearchQuery) -> str:
        return _score(obj.min_score)

    @admin.display(description=_("query"))
    def query_json(self, obj: SearchQuery) -> SafeString:
        return pretty_json(obj.query)

    @admin.display(description=_("hits"))
    def hits_json(self, obj: SearchQuery) -> SafeString:
        return pretty_json(obj.hits)

    @admin.display(description=_("aggregations"))
    def aggregations_json(self, obj: SearchQuery) -> SafeString:
        return pretty_json(obj.aggregations)
