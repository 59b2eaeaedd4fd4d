"""The rebuild table: which rebuilds run (or were interrupted), and the writes they must redo.

An :class:`IndexRebuild` row is at once

* the **lock** of a rebuild: one row per index NAME and connection (a unique
  constraint), with who holds it (host, process id, a random owner token),
  since when, and a heartbeat the rebuild updates while it runs; a crashed
  rebuild leaves its row behind, so the lock survives the crash;
* the **dual-write registration**: while the row names a ``new_index``,
  every process of the project that syncs a document of that index writes
  it to the new index as well (:mod:`djangoes.indexing.dualwrite`).

A :class:`RebuildFailedWrite` row is a sync write that the new index refused
while the rebuild was loading; the rebuild writes those documents again from
the database before and after it switches.

Rows are made and removed by :mod:`djangoes.indexing.locks`; read them in the
admin or the shell to see what runs.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["IndexRebuild", "RebuildFailedWrite"]


class IndexRebuild(models.Model):
    """A rebuild of one index that is running, or that was interrupted."""

    class Stage(models.TextChoices):
        """What the rebuild was doing at its last heartbeat (``stage``)."""

        STARTING = "starting", "starting"
        WAITING = "waiting", "waiting for other processes"
        LOADING = "loading", "loading"
        CATCHING_UP = "catching up", "writing failed writes again"
        SWITCHING = "switching", "switching"
        RETIRING = "retiring", "retiring old indexes"
        INTERRUPTED = "interrupted", "interrupted (engine unreachable)"

    connection = models.CharField(
        _("connection"), max_length=100, help_text=_("The ES_SERVERS alias the rebuild uses.")
    )
    name = models.CharField(
        _("name"), max_length=255, help_text=_("The index's NAME (the alias searches use).")
    )
    index = models.CharField(_("index"), max_length=100, help_text=_("The ES_INDICES key."))
    new_index = models.CharField(
        _("new index"),
        max_length=255,
        blank=True,
        default="",
        help_text=_("The physical index being built (empty until it is created)."),
    )
    stage = models.CharField(
        _("stage"), max_length=20, choices=Stage.choices, default=Stage.STARTING
    )
    owner = models.CharField(
        _("owner"), max_length=32, help_text=_("Random token of the run holding the lock.")
    )
    host = models.CharField(_("host"), max_length=255)
    pid = models.PositiveIntegerField(_("process id"))
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), default=timezone.now)

    class Meta:
        verbose_name = _("index rebuild")
        verbose_name_plural = _("index rebuilds")
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "name"], name="djangoes_one_rebuild_per_index"
            )
        ]

    def __str__(self) -> str:
        return f"rebuild of {self.index!r} (NAME {self.name!r}) on {self.connection!r}"


class RebuildFailedWrite(models.Model):
    """A sync write that a rebuild's new index refused; redone from the database."""

    rebuild = models.ForeignKey(
        IndexRebuild,
        on_delete=models.CASCADE,
        related_name="failed_writes",
        verbose_name=_("rebuild"),
    )
    index = models.CharField(_("index"), max_length=100, help_text=_("The ES_INDICES key."))
    model = models.CharField(_("model"), max_length=200, help_text=_("'app_label.ModelName'."))
    object_pk = models.CharField(_("object primary key"), max_length=255)
    doc_id = models.CharField(_("document id"), max_length=512)
    reason = models.TextField(_("reason"), blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("failed rebuild write")
        verbose_name_plural = _("failed rebuild writes")

    def __str__(self) -> str:
        return f"{self.model} pk={self.object_pk} in {self.index!r}: {self.reason}"
