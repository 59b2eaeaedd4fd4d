"""Holding sync operations until the transaction commits.

Inside a transaction each operation is registered with
``transaction.on_commit``, one callback per operation, so Django's own rules
decide what survives: a rolled-back transaction runs none of them, a
rolled-back savepoint drops those registered inside it. The callbacks only
collect their operation; one more callback, always kept last and registered
outside any savepoint, sends everything collected in one bulk request per
connection (the last operation per document wins).

Outside a transaction (autocommit) an operation is sent at once, through the
same path.

Under the "queue" ON_ERROR policy each operation is also written to the queue
table when it is scheduled, inside the transaction, and the flush settles
those rows after sending (:mod:`djangoes.sync.queue`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, transaction
from django.db import connections as db_connections

from djangoes.sync.clock import stamp
from djangoes.sync.operations import Operation


class PendingBatch:
    """The operations of one transaction on one database, and the callback sending them."""

    def __init__(self, using: str) -> None:
        self.using = using
        self.committed: list[Operation] = []
        self.entry: tuple[set[Any], Callable[[], None], bool] = (set(), self.flush, False)
        #: Claim of this transaction's queue rows (None: nothing queued).
        self.claim: str | None = None

    def collect(self, operations: list[Operation]) -> None:
        """Called right after the commit: the data of the operations is current now."""
        stamp(operations)
        self.committed.extend(operations)

    def flush(self) -> None:
        _state.forget(self)
        operations, self.committed = self.committed, []
        if operations:
            _send(operations, self.using, self.claim)


def _send(operations: list[Operation], using: str, claim: str | None) -> None:
    """Send committed operations: through the queue when they have rows, else directly.

    Queued operations are sent by the committing thread, or with ``QUEUE_SEND
    = "background"`` prepared here and sent by the process's sending thread.
    """
    if claim is not None and any(op.queue_entry is not None for op in operations):
        from djangoes import connections
        from djangoes.sync import background
        from djangoes.sync.queue import finish_queued, prepare_queued

        batch = prepare_queued(operations, using, claim)
        if batch is None:  # QUEUE_DISPATCH took them
            return
        if connections.options.QUEUE_SEND == "background":
            background.submit(batch)
        else:
            finish_queued(batch)
        return
    from djangoes.sync.engine import send_operations

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


def _move_flush_last(using: str, batch: PendingBatch) -> None:
    """Keep ``batch.flush`` the last commit callback, outside every savepoint.

    ``transaction.on_commit`` ties a callback to the savepoints open when it is
    registered; the flush must survive them all (it sends whatever was
    collected) and run after every collecting callback, so its entry is put at
    the end of Django's ``run_on_commit`` list each time an operation is added.
    """
    hooks = cast(list[Any], db_connections[using].run_on_commit)  # stubs lag Django 4.2
    if hooks and hooks[-1] is batch.entry:
        return
    for i in range(len(hooks) - 1, -1, -1):
        if hooks[i] is batch.entry:
            del hooks[i]
            break
    hooks.append(batch.entry)


def schedule(operations: Iterable[Operation], using: str = DEFAULT_DB_ALIAS) -> None:
    """Send ``operations`` when the current transaction on ``using`` commits (now if none).

    Under the "queue" policy the operations are first written to the queue
    table on ``using`` (raises the database's error if it cannot be written).
    """
    ops = list(operations)
    if not ops:
        return
    connection = db_connections[using]
    queued = _queue_policy()
    if not connection.in_atomic_block:
        claim = None
        if queued:
            from djangoes.sync.queue import enqueue, new_claim

            claim = new_claim()
            enqueue(ops, using, claim)  # committed at once: kept if this process dies now
        _send(stamp(ops), using, claim)
        return
    batch = _state.batches.get(using)
    hooks = cast(list[Any], connection.run_on_commit)
    if batch is None or not (
        (hooks and hooks[-1] is batch.entry) or any(entry is batch.entry for entry in hooks)
    ):
        # first operation of this transaction (or the last batch's transaction ended)
        batch = PendingBatch(using)
        _state.batches[using] = batch
    if queued:
        from djangoes.sync.queue import enqueue, new_claim

        batch.claim = batch.claim or new_claim()
        enqueue(ops, using, batch.claim)  # in the transaction: a rollback leaves no row
    transaction.on_commit(lambda: batch.collect(ops), using=using)
    _move_flush_last(using, batch)
