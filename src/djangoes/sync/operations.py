"""Sync operations: that an object changed, for one index.

An operation records *which* document changed, never *what* it holds: the
document is built when the operation is sent, from the object's row as the
database has it then (:mod:`djangoes.sync.sending`). The id is taken at the
time of the change because a deleted object's row is gone by then.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import models

from djangoes import signals
from djangoes.documents import InvalidDocumentId

Action = Literal["index", "update", "delete"]
ACTIONS: tuple[Action, ...] = ("index", "update", "delete")

#: (index key, model label, primary key as text): one document of one object.
ObjectKey = tuple[str, str, str]


@dataclass(eq=False)
class Operation:
    """One object of ``model`` changed, for index ``index``.

    ``action`` is what the change asked for: ``index``, ``update`` (a partial
    save, ``update_fields``) or ``delete``. What is sent is decided by the
    committed state when it is sent (the row read then, through the model's
    ``get_search_queryset``): an object that is there is indexed, one that is
    not is deleted. Only an explicit delete (``committed=False``) deletes
    whatever the row says.
    """

    action: Action
    index: str
    model: type[models.Model]
    #: The document id when the change happened ('' when the object had none).
    doc_id: str
    pk: Any
    update_fields: frozenset[str] | None = None
    #: Whether the committed state decides what is written (False: an explicit delete).
    committed: bool = True
    #: An explicit call (``index_search_document``...): the object's row is sent
    #: even when the index's ``get_search_queryset`` leaves it out.
    explicit: bool = False
    #: Ids the document had before, by earlier operations of the object: deleted
    #: when the object's id is another one now, or the object is gone.
    stale_ids: frozenset[str] = frozenset()
    #: External version of the write (see :mod:`djangoes.sync.clock`), taken when sent.
    version: int | None = None
    #: The database the change was committed on, where its row is read when sent
    #: (None: the model's write database; see :func:`djangoes.documents.search_queryset`).
    using: str | None = field(default=None, compare=False)
    #: Primary key of the queue row that records this operation ("queue" policy).
    queue_entry: int | None = field(default=None, compare=False)

    @property
    def object_key(self) -> ObjectKey:
        """Operations with the same key are about the same document (the last one wins)."""
        return (self.index, self.model._meta.label, str(self.pk))

    @classmethod
    def for_instance(
        cls,
        action: Action,
        index: str,
        instance: Any,
        *,
        update_fields: frozenset[str] | None = None,
        committed: bool = True,
        explicit: bool = False,
    ) -> Operation:
        """The operation for ``instance``; its document id is '' when it has none yet."""
        try:
            doc_id = instance.get_search_document_id()
        except InvalidDocumentId:
            doc_id = ""  # refused when sent, if the row still has no id then
        return cls(
            action=action,
            index=index,
            model=type(instance),
            doc_id=doc_id,
            pk=instance.pk,
            update_fields=update_fields,
            committed=committed,
            explicit=explicit,
            using=instance._state.db,
        )

    def describe(self) -> str:
        """``"testapp.Post pk=3 (document '3') in index 'blog'"`` for messages."""
        return (
            f"{self.model._meta.app_label}.{self.model._meta.object_name} pk={self.pk!r} "
            f"(document {self.doc_id!r}) in index {self.index!r}"
        )


def latest_per_document(operations: Iterable[Operation]) -> list[Operation]:
    """One operation per document: the last one given wins (and keeps its place)."""
    latest: dict[ObjectKey, Operation] = {}
    for op in operations:
        earlier = latest.pop(op.object_key, None)
        if earlier is not None and (earlier.doc_id != op.doc_id or earlier.stale_ids):
            ids = {earlier.doc_id, *earlier.stale_ids, *op.stale_ids} - {op.doc_id, ""}
            op.stale_ids = frozenset(ids)
        latest[op.object_key] = op
    return list(latest.values())


def indexes_of(model: type[models.Model], index: str = "_all") -> tuple[str, ...]:
    """The index keys ``index`` means for ``model`` ('_all': every one it is in).

    Raises ValueError, saying where it is configured, for an index it is not in.
    """
    from djangoes.registry import get_registry

    configured = get_registry().indexes_for(model)
    if index == "_all":
        return configured
    if index in configured:
        return (index,)
    label = f"{model._meta.app_label}.{model._meta.object_name}"
    raise ValueError(
        f"{label} is not configured in index {index!r} (it is in "
        f"{', '.join(map(repr, configured)) or 'no index'}); add it to "
        f"ES_INDICES[{index!r}]['MODELS']."
    )


def operations_for_change(
    instance: Any,
    *,
    action: str,
    index: str = "_all",
    update_fields: Iterable[str] | None = None,
    send_signals: bool = True,
) -> list[Operation]:
    """The operations for one changed object, in every index it is configured in.

    ``'update'`` without ``update_fields`` becomes ``'index'``. The ``pre_*``
    signals are sent for each operation. Raises ValueError for an unknown
    action or an index the model is not in.
    """
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
    model = type(instance)
    indexes = indexes_of(model, index)
    fields = frozenset(update_fields) if update_fields is not None else None
    kind: Action = "index" if action == "update" and fields is None else action
    ops: list[Operation] = []
    for key in indexes:
        op = Operation.for_instance(kind, key, instance, update_fields=fields)
        if send_signals:
            signal = {"index": signals.pre_index, "update": signals.pre_update,
                      "delete": signals.pre_delete}[kind]  # fmt: skip
            signal.send(sender=model, instance=instance, index=key, update_fields=fields)
        ops.append(op)
    return ops
