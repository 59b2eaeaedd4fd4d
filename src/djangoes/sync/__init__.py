"""Keeping indexes in sync with models.

* Automatic: saves and deletes of configured models are synced after their
  transaction commits (see :mod:`djangoes.sync.batch`).
* :func:`disable_search_updates`: turn that off for a block, per thread.
* :func:`sync_queryset` / :func:`sync_objects`: sync what signals do not see
  (``QuerySet.update()``, ``bulk_create()``, raw SQL).
* :func:`sync_related`: re-sync documents when a related model changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db import DEFAULT_DB_ALIAS, models, router
from django.db.models.signals import post_delete, post_save

from djangoes.sync.background import wait_for_background
from djangoes.sync.batch import schedule
from djangoes.sync.operations import Operation, indexes_of, operations_for_change
from djangoes.sync.sending import Failure, SyncError, SyncResult, send_operations
from djangoes.sync.state import disable_search_updates, sync_enabled

__all__ = [
    "Failure",
    "SyncError",
    "SyncResult",
    "disable_search_updates",
    "iter_chunks",
    "sync_enabled",
    "sync_objects",
    "sync_queryset",
    "sync_related",
    "wait_for_background",
]


def iter_chunks(queryset: models.QuerySet[Any], size: int) -> Iterator[list[Any]]:
    """The objects of ``queryset`` in lists of ``size``, by primary key, never with OFFSET.

    Each chunk is one query (``pk > last`` ... ``LIMIT size``), so memory stays
    flat and rows added or removed meanwhile do not shift the pages.
    """
    ordered = queryset.order_by("pk")
    last: Any = None
    while True:
        page = ordered if last is None else ordered.filter(pk__gt=last)
        chunk = list(page[:size])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].pk
        if len(chunk) < size:
            return


def sync_objects(
    objects: Iterable[models.Model], *, index: str = "_all", action: str = "index"
) -> None:
    """Sync these objects with their indexes when the current transaction commits.

    Each document is built from its object's row as it is when sent; objects
    that are no longer in ``get_search_queryset`` are deleted from the index.
    With ``action="delete"`` the documents are deleted (for rows deleted
    without signals, e.g. by ``QuerySet.delete()``). Outside a transaction
    they are sent at once.
    """
    by_db: dict[str, list[Operation]] = {}
    for obj in objects:
        using = obj._state.db or router.db_for_write(type(obj))
        ops = operations_for_change(obj, action=action, index=index, send_signals=False)
        for op in ops:
            op.committed = action != "delete"  # asked to delete: deleted whatever the row says
        by_db.setdefault(using, []).extend(ops)
    for using, ops in by_db.items():
        schedule(ops, using=using)


def sync_queryset(
    queryset: models.QuerySet[Any], *, index: str = "_all", chunk_size: int | None = None
) -> SyncResult:
    """Sync every object of ``queryset`` now, in chunks (for ``update()``/``bulk_create()``).

    ``queryset`` says which objects; each document is built from the
    object's row as ``get_search_queryset`` gives it when sent, so objects
    that left it are deleted from the index. Deleted rows cannot be found by
    a queryset: delete their documents with :func:`sync_objects`
    (``action="delete"``) or ``delete_search_document``. Returns what was
    done; failures follow the ON_ERROR policy.
    """
    from djangoes import connections

    size = chunk_size or connections.options.CHUNK_SIZE
    keys = indexes_of(queryset.model, index)
    result = SyncResult()
    for chunk in iter_chunks(queryset, size):
        ops = [Operation.for_instance("index", key, obj) for obj in chunk for key in keys]
        result.merge(send_operations(ops))
    return result


def sync_related(
    model: type[models.Model],
    related: Callable[[Any], Iterable[models.Model]],
    *,
    dispatch_uid: str | None = None,
) -> None:
    """Re-sync documents when an object of ``model`` is saved or deleted.

    ``related(instance)`` returns the searchable objects whose documents show
    data of ``instance`` (e.g. ``lambda author: author.posts.all()``). They are
    synced when the transaction commits. Call this from ``AppConfig.ready()``.
    """
    uid = dispatch_uid or f"djangoes-related-{model._meta.label_lower}-{id(related)}"

    def changed(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
        from djangoes import connections

        if not (connections.options.AUTO_SYNC and sync_enabled()):
            return
        targets = list(related(instance))
        if targets:
            using = kwargs.get("using") or DEFAULT_DB_ALIAS
            schedule(
                [
                    op
                    for obj in targets
                    for op in operations_for_change(obj, action="index", send_signals=False)
                ],
                using=using,
            )

    post_save.connect(changed, sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(changed, sender=model, weak=False, dispatch_uid=uid)
