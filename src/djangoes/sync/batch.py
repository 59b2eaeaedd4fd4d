"""Holding sync operations until the transaction commits (``transaction.on_commit``).

Inside a transaction each change registers one commit hook with
``transaction.on_commit``, so Django's own rules decide what survives: a
rolled-back transaction runs none of them, a rolled-back savepoint drops
those registered inside it. A hook only collects its operations, except the
last hook of the transaction that runs: it sends everything collected, in as
few bulk requests as the limits allow (:mod:`djangoes.sync.sending`; the
last operation per document wins). So the transaction is sent once, after
the application's own hooks registered before its last change.

Which hook is the last is known without looking into Django's list of hooks:
each hook of a batch is held by Django only (the batch keeps weak references
to them). A hook Django dropped (its savepoint rolled back) is gone; a hook
still referenced is still to run. The hook that finds no later hook alive
sends. A batch none of whose hooks is alive belongs to a transaction that
ended (rolled back): the next change starts a new one.

Outside a transaction (autocommit) an operation is sent at once, through the
same path.

Under the "queue" ON_ERROR policy each operation is also written to the queue
table when it is scheduled, inside the transaction, and the flush settles
those rows after sending (:mod:`djangoes.sync.queue`).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, transaction
from django.db import connections as db_connections

from djangoes.sync.operations import Operation


class _Hook:
    """One commit hook of a batch: the operations of one change."""

    __slots__ = ("__weakref__", "batch", "operations", "position")

    def __init__(self, batch: PendingBatch, operations: list[Operation], position: int) -> None:
        self.batch = batch
        self.operations = operations
        self.position = position

    def __call__(self) -> None:
        self.batch.ran(self)


class PendingBatch:
    """The operations of one transaction on one database, and the hooks that send them."""

    def __init__(self, using: str) -> None:
        self.using = using
        self.collected: list[Operation] = []
        self.hooks: list[weakref.ref[_Hook]] = []
        #: Claim of this transaction's queue rows (None: nothing queued).
        self.claim: str | None = None

    def alive(self) -> bool:
        """Whether a hook of this batch is still to run (its transaction is open)."""
        while self.hooks and self.hooks[-1]() is None:
            self.hooks.pop()  # dropped by a savepoint rollback (or the whole transaction's)
        return bool(self.hooks)

    def add(self, operations: list[Operation]) -> None:
        """Register the hook of one change's operations (sent after the commit)."""
        hook = _Hook(self, operations, len(self.hooks))
        self.hooks.append(weakref.ref(hook))
        on_commit(hook, self.using)

    def ran(self, hook: _Hook) -> None:
        """A hook ran (after the commit): collect; send if no later hook is still to run."""
        self.collected.extend(hook.operations)
        for ref in reversed(self.hooks[hook.position + 1 :]):
            if ref() is not None:
                return  # a later hook runs after this one: it sends
        _state.forget(self)
        operations, self.collected = self.collected, []
        if operations:
            send(operations, self.using, self.claim)


def on_commit(hook: Any, using: str) -> None:
    """``transaction.on_commit(hook)``, robust unless the ON_ERROR policy is "raise".

    A robust hook's exception is logged by Django and the application's later
    hooks still run; under "raise" the caller sees the ``SyncError``.
    """
    from djangoes import connections

    robust = connections.options.error_policy() != "raise"
    transaction.on_commit(hook, using=using, robust=robust)


def send(operations: list[Operation], using: str, claim: str | None) -> None:
    """Send committed operations: through the queue when they have rows, else directly.

    Queued operations are sent by the committing thread, or with ``QUEUE_SEND
    = "background"`` by the process's sending thread, or by ``QUEUE_DISPATCH``.
    """
    if claim is not None and any(op.queue_entry is not None for op in operations):
        from djangoes.sync.queue import send_committed

        send_committed(operations, using, claim)
        return
    from djangoes.sync.sending import send_operations

    send_operations(operations)


def _queue_policy() -> bool:
    """Whether the ON_ERROR policy in effect is "queue"."""
    from djangoes import connections

    return connections.options.error_policy() == "queue"


class _State(threading.local):
    def __init__(self) -> None:
        self.batches: dict[str, PendingBatch] = {}

    def forget(self, batch: PendingBatch) -> None:
        if self.batches.get(batch.using) is batch:
            del self.batches[batch.using]


_state = _State()


def schedule(operations: Iterable[Operation], using: str = DEFAULT_DB_ALIAS) -> None:
    """Send ``operations`` when the current transaction on ``using`` commits (now if none).

    Under the "queue" policy the operations are first written to the queue
    table on ``using`` (raises the database's error if it cannot be written).
    """
    ops = list(operations)
    if not ops:
        return
    for op in ops:
        op.using = op.using or using  # its row is read there when sent
    queued = _queue_policy()
    if not db_connections[using].in_atomic_block:
        claim = None
        if queued:
            from djangoes.sync.queue import enqueue, new_claim

            claim = new_claim()
            enqueue(ops, using, claim)  # committed at once: kept if this process dies now
        send(ops, using, claim)
        return
    batch = _state.batches.get(using)
    if batch is None or not batch.alive():
        batch = PendingBatch(using)  # the first change of this transaction
        _state.batches[using] = batch
    if queued:
        from djangoes.sync.queue import enqueue, new_claim

        batch.claim = batch.claim or new_claim()
        enqueue(ops, using, batch.claim)  # in the transaction: a rollback leaves no row
    batch.add(ops)
