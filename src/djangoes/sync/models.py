"""The sync queue: one :class:`SyncQueueEntry` row per sync operation not yet sent.

With the "queue" ON_ERROR policy, every operation of automatic sync is
written here in the same transaction as the change that caused it (the
transactional outbox): a rolled-back transaction leaves no row, a committed
one leaves rows until the engine took their documents. What happens to them
is in :mod:`djangoes.sync.queue` (written and settled at commit) and
:mod:`djangoes.sync.drain` (``manage.py search_sync``).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["SyncQueueEntry"]


class SyncQueueEntry(models.Model):
    """A sync operation of one document that the engine has not taken yet.

    ``model`` and ``object_pk`` say which object changed; the document is
    built from that object's state in the database when the entry is sent,
    so the entry holds no document. ``doc_id`` is the document id at the time
    of the change (a deleted object has no other). A *claim*
    (``claimed_by`` / ``claimed_until``) says which process is sending the
    entry; another one may take it once the claim has run out.
    """

    class State(models.TextChoices):
        """Whether an entry waits to be sent (``pending``) or was refused for good."""

        PENDING = "pending", _("Pending")
        FAILED = "failed", _("Failed")

    class Action(models.TextChoices):
        """What the change asked for (the document is always rebuilt when sent)."""

        INDEX = "index", _("Index")
        UPDATE = "update", _("Update")
        DELETE = "delete", _("Delete")

    index = models.CharField(
        _("index"), max_length=100, help_text=_("The ES_INDICES key of the index.")
    )
    model = models.CharField(
        _("model"), max_length=200, help_text=_("The model's label, 'app_label.ModelName'.")
    )
    object_pk = models.CharField(
        _("object primary key"), max_length=255, help_text=_("The object's primary key, as text.")
    )
    doc_id = models.CharField(
        _("document id"), max_length=512, help_text=_("The document's id when it changed.")
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    update_fields = models.JSONField(
        _("update fields"),
        null=True,
        blank=True,
        help_text=_("The fields of save(update_fields=...), for a partial update."),
    )
    created = models.DateTimeField(_("created"), default=timezone.now)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveIntegerField(
        _("attempts"), default=0, help_text=_("How many times sending it failed.")
    )
    next_attempt = models.DateTimeField(
        _("next attempt"),
        default=timezone.now,
        help_text=_("Not sent again before this time (backoff after a failure)."),
    )
    last_attempt = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_error = models.TextField(
        _("last error"), blank=True, help_text=_("Why the last attempt failed.")
    )
    last_status = models.PositiveSmallIntegerField(
        _("last status"),
        null=True,
        blank=True,
        help_text=_("The engine's HTTP status for the last failure (empty: no answer)."),
    )
    claimed_by = models.CharField(_("claimed by"), max_length=64, blank=True)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)

    class Meta:
        app_label = "djangoes"
        verbose_name = _("sync queue entry")
        verbose_name_plural = _("sync queue entries")
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["state", "next_attempt"], name="djangoes_queue_due"),
            models.Index(fields=["model", "object_pk"], name="djangoes_queue_object"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.action} {self.model} pk={self.object_pk} (document {self.doc_id!r}) "
            f"in index {self.index!r}"
        )

    def describe_error(self) -> str:
        """``'[400] mapper_parsing_exception: ...'`` (no status without an answer); '' if none."""
        if self.last_status is None:
            return self.last_error
        return f"[{self.last_status}] {self.last_error}"
