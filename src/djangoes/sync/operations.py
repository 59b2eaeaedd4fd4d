"""Sync operations: what a change of a model object means for one index."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import models

from djangoes import signals

Action = Literal["index", "update", "delete"]
ACTIONS: tuple[Action, ...] = ("index", "update", "delete")


@dataclass
class Operation:
    """One document to index, partially update or delete in one index.

    The document itself is built when the operation is sent (after commit),
    from ``instance``; the id is taken at the time of the change because a
    deleted object loses its primary key.
    """

    action: Action
    index: str
    model: type[models.Model]
    doc_id: str
    pk: Any
    instance: Any = None
    update_fields: frozenset[str] | None = None
    #: Send even when the document cache says it is unchanged.
    force: bool = False
    #: External version of the write (see :mod:`djangoes.sync.clock`); set when
    #: the data is known to be current, at the latest when it is sent.
    version: int | None = None
    #: Set when sending: the engine's answer for a failed operation.
    error: str | None = field(default=None, compare=False)
    #: Primary key of the queue row that records this operation ("queue" policy).
    queue_entry: int | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        """Operations with the same key replace each other (the last one wins)."""
        return (self.index, self.doc_id)

    @classmethod
    def for_instance(
        cls,
        action: Action,
        index: str,
        instance: Any,
        *,
        update_fields: frozenset[str] | None = None,
        force: bool = False,
    ) -> Operation:
        doc_id = instance.get_search_document_id()
        return cls(
            action=action,
            index=index,
            model=type(instance),
            doc_id=doc_id,
            pk=instance.pk,
            instance=None if action == "delete" else instance,
            update_fields=update_fields,
            force=force,
        )

    def describe(self) -> str:
        """``'blog.Post pk=3 in index 'blog''`` for messages."""
        return (
            f"{self.model._meta.app_label}.{self.model._meta.object_name} pk={self.pk!r} "
            f"(document {self.doc_id!r}) in index {self.index!r}"
        )


def operations_for_change(
    instance: Any,
    *,
    action: str,
    index: str = "_all",
    update_fields: Iterable[str] | None = None,
    force: bool = False,
    send_signals: bool = True,
) -> list[Operation]:
    """The operations for one changed object, in every index it is configured in.

    ``'update'`` without ``update_fields`` becomes ``'index'``. The ``pre_*``
    signals are sent for each operation.
    """
    from djangoes.registry import get_registry

    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
    model = type(instance)
    configured = get_registry().indexes_for(model)
    if index == "_all":
        indexes: tuple[str, ...] = configured
    elif index in configured:
        indexes = (index,)
    else:
        label = f"{model._meta.app_label}.{model._meta.object_name}"
        raise ValueError(
            f"{label} is not configured in index {index!r} (it is in "
            f"{', '.join(map(repr, configured)) or 'no index'}); add it to "
            f"ES_INDICES[{index!r}]['MODELS']."
        )
    fields = frozenset(update_fields) if update_fields is not None else None
    kind: Action = "index" if action == "update" and fields is None else action
    ops: list[Operation] = []
    for key in indexes:
        op = Operation.for_instance(kind, key, instance, update_fields=fields, force=force)
        if send_signals:
            signal = {"index": signals.pre_index, "update": signals.pre_update,
                      "delete": signals.pre_delete}[kind]  # fmt: skip
            signal.send(sender=model, instance=instance, index=key, update_fields=fields)
        ops.append(op)
    return ops
