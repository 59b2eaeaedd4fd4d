"""Django admin for the sync queue: what waits to be sent, and what was refused, with the reasons.

Rows are written and settled by djangoes only: the admin shows them, puts
failed ones back in the queue (the "Retry" action, as ``search_sync
--retry-failed``) and deletes them. Registered by :mod:`djangoes.admin`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from djangoes.sync.models import SyncQueueEntry

__all__ = ["SyncQueueEntryAdmin"]

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[SyncQueueEntry]
else:  # ModelAdmin is generic for type checkers only
    _ModelAdmin = admin.ModelAdmin


@admin.register(SyncQueueEntry)
class SyncQueueEntryAdmin(_ModelAdmin):
    """The queue: list, filters, search; read-only, with a retry action for failed entries."""

    list_display = (
        "pk",
        "created",
        "state",
        "action",
        "model",
        "object_pk",
        "index",
        "attempts",
        "next_attempt",
        "error",
    )
    list_filter = ("state", "index", "model", "action")
    search_fields = ("object_pk", "doc_id", "last_error")
    ordering = ("pk",)
    actions = ("retry",)
    show_full_result_count = False

    @admin.display(description=_("last error"))
    def error(self, entry: SyncQueueEntry) -> str:
        """The engine's status and reason of the last failure ('' if none)."""
        return entry.describe_error()

    @admin.action(description=_("Retry the selected failed entries"))
    def retry(self, request: HttpRequest, queryset: QuerySet[SyncQueueEntry]) -> None:
        """Put the selected failed entries back in the queue, due now."""
        from djangoes.sync.drain import retry_failed

        ids = list(queryset.values_list("pk", flat=True))
        count = retry_failed(queryset.db, ids)
        self.message_user(
            request,
            _("%(count)d failed entries put back in the queue; search_sync will send them.")
            % {"count": count},
            messages.SUCCESS,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows come from saves, never from a form

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
