"""``post_save`` / ``post_delete`` receivers turning model changes into sync operations.

Connected once, for every model, in ``AppConfig.ready()``; each change looks
up the model in the registry of the settings in effect, so ``override_settings``
of ES_INDICES or DJANGOES takes effect at once.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.signals import post_delete, post_save

from djangoes.registry import get_registry, label_of
from djangoes.sync import state
from djangoes.sync.batch import schedule
from djangoes.sync.operations import operations_for_change

DISPATCH_UID = "djangoes-auto-sync"


def _sync_wanted(model: type[models.Model]) -> tuple[bool, bool]:
    """(configured, sync): whether the model is in an index, and whether to sync it now."""
    from djangoes import connections

    if not get_registry().indexes_for(model):
        return False, False
    options = connections.options
    sync = options.AUTO_SYNC and state.sync_enabled() and not options.never_syncs(label_of(model))
    return True, sync


def on_post_save(
    sender: type[models.Model],
    instance: models.Model,
    raw: bool = False,
    using: str = "default",
    update_fields: frozenset[str] | None = None,
    **kwargs: Any,
) -> None:
    if raw:  # loaddata: fixtures are synced by update_search_index, not one by one
        return
    configured, sync = _sync_wanted(sender)
    if not configured:
        return
    action = "update" if update_fields else "index"
    ops = operations_for_change(instance, action=action, update_fields=update_fields)
    if sync:
        schedule(ops, using=using)


def on_post_delete(
    sender: type[models.Model], instance: models.Model, using: str = "default", **kwargs: Any
) -> None:
    configured, sync = _sync_wanted(sender)
    if not configured:
        return
    ops = operations_for_change(instance, action="delete")
    if sync:
        schedule(ops, using=using)


def connect() -> None:
    """Connect the receivers (idempotent)."""
    post_save.connect(on_post_save, dispatch_uid=DISPATCH_UID)
    post_delete.connect(on_post_delete, dispatch_uid=DISPATCH_UID)
