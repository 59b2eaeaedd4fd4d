"""Sending queued operations from a thread of the process (``QUEUE_SEND = "background"``).

Under the "queue" policy the operations of a commit are already durable in
the queue table when the transaction ends, so nothing is lost if the request
does not wait for the engine: the committing thread hands the operations
over, and this thread sends them (:func:`djangoes.sync.queue.finish_batches`).
It takes every batch handed over meanwhile at once: one version, one read of
the rows per model and index, one bulk request (within the caps) for all the
commits that came in while it was busy, or within :data:`GATHER_SECONDS` of
the first. Because the rows are read after the
version is taken, a batch sent after a later one, or a document saved A, B,
then A again, ends with the database's state in the index. Failures that
pass are retried for ``RETRY_BUDGET`` seconds.

The rows of what the engine took are deleted lazily, in batches: when
:data:`SETTLE_ROWS` of them wait, :data:`SETTLE_SECONDS` after the first, or
when someone waits for the thread (:func:`wait_for_background`, and at
exit). Until then they stay claimed by their transactions, so no drainer
sends them; if the process dies first, a drainer sends them again once the
claim runs out, which the versions make harmless (it reads the row as it is
then). If the process dies before the thread sent, the rows are in the
queue too, and ``manage.py search_sync`` sends them.

One thread per process, started on first use (again in a forked child);
:func:`wait_for_background` waits until it has sent and settled everything
(tests, scripts). At exit the process waits for it a few seconds, then
releases the claims on the rows it still holds, so that a drainer takes them
at once.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from djangoes.sync.queue import QueuedBatch

logger = logging.getLogger("djangoes.sync")

#: Seconds a process waits at exit for the operations still to send.
EXIT_WAIT_SECONDS = 10.0
#: Rows of sent documents that are deleted together.
SETTLE_ROWS = 500
#: Longest time a sent document's row waits to be deleted, in seconds.
SETTLE_SECONDS = 2.0
#: Most operations one round of the thread takes from the batches waiting.
ROUND_OPERATIONS = 5000
#: Seconds the thread waits after a commit came in before its round, gathering the
#: commits that follow (many single-save requests: one read and one request for several).
GATHER_SECONDS = 0.05

#: Put in the thread's queue by :meth:`BackgroundSender.wait`: settle now.
_SETTLE = None


class BackgroundSender:
    """A daemon thread sending the batches handed over, together, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._pid = -1
        self._queue: queue.Queue[QueuedBatch | None] = queue.Queue()
        self._exit_hook = False
        #: Claims of the batches handed over whose rows may still be claimed: claim -> database.
        self._claims: dict[str, str] = {}

    def submit(self, batch: QueuedBatch | None) -> None:
        """Hand a batch to the thread (started here when needed); None: settle now."""
        with self._lock:
            if self._pid != os.getpid():  # first use, or a forked child: no thread yet
                if batch is None:
                    return
                self._pid = os.getpid()
                self._pending = 0
                self._claims = {}
                self._queue = queue.Queue()
                threading.Thread(
                    target=self._run, args=(self._queue,), name="djangoes-sync-sender",
                    daemon=True,
                ).start()  # fmt: skip
                if not self._exit_hook:
                    atexit.register(self.shutdown, EXIT_WAIT_SECONDS)
                    self._exit_hook = True
            self._pending += 1
            if batch is not None:
                self._claims[batch.claim] = batch.using
            self._queue.put(batch)

    def _run(self, batches: queue.Queue[QueuedBatch | None]) -> None:
        from django.db import close_old_connections
        from django.db import connections as db_connections

        from djangoes.sync.queue import Settlement, finish_batches

        sent = Settlement()
        finished: list[str] = []  # claims whose rows are all settled once ``sent`` is
        while True:
            wait = None if not sent else max(0.0, sent.first + SETTLE_SECONDS - time.monotonic())
            try:
                first = batches.get(timeout=wait)
            except queue.Empty:
                first = _SETTLE  # the oldest sent row waited long enough
                taken = 0
            else:
                taken = 1
                if first is not None and GATHER_SECONDS:
                    time.sleep(GATHER_SECONDS)  # the commits that follow come along
            round_ = [first]
            count = len(first.operations) if first is not None else 0
            while count < ROUND_OPERATIONS:  # what else came in meanwhile
                try:
                    more = batches.get_nowait()
                except queue.Empty:
                    break
                round_.append(more)
                taken += 1
                count += len(more.operations) if more is not None else 0
            try:
                close_old_connections()
                work = [batch for batch in round_ if batch is not None]
                if work:
                    finish_batches(work, budget=work[0].options.RETRY_BUDGET, settled=sent)
                    finished.extend(batch.claim for batch in work)
                if _SETTLE in round_ or sent.ready(SETTLE_ROWS, SETTLE_SECONDS):
                    sent.settle()
                if not sent:
                    self._forget(finished)
                if batches.empty() and not sent:  # idle: hold no database connection meanwhile
                    db_connections.close_all()
            except Exception:  # the rows stay in the queue for search_sync: say so, go on
                logger.exception(
                    "Sending %d queued sync operation(s) in the background failed; they stay "
                    "in the queue for search_sync.",
                    count,
                )
                sent.rows.clear()  # a drainer sends them once their claims ran out
            finally:
                with self._lock:
                    self._pending -= taken
                    self._idle.notify_all()

    def _forget(self, claims: list[str]) -> None:
        with self._lock:
            for claim in claims:
                self._claims.pop(claim, None)
        claims.clear()

    def shutdown(self, timeout: float) -> None:
        """At exit: wait ``timeout`` seconds for the thread; then release what it still holds.

        Rows the thread has not settled keep their transactions' claims, which
        would keep drainers off them for minutes: released, a drainer sends
        them at once (again, if the thread had sent them: harmless).
        """
        if self.wait(timeout):
            return
        from django.db import DatabaseError

        from djangoes.sync.models import SyncQueueEntry

        with self._lock:
            held, self._claims = self._claims, {}
        by_database: dict[str, list[str]] = {}
        for claim, using in held.items():
            by_database.setdefault(using, []).append(claim)
        for using, claims in by_database.items():
            try:
                SyncQueueEntry.objects.using(using).filter(claimed_by__in=claims).update(
                    claimed_by="", claimed_until=None
                )
            except DatabaseError:
                logger.exception("Releasing the queue rows of unsent sync operations failed.")
        logger.warning(
            "The search sync thread did not finish within %s s; its %d commit(s) are left "
            "in the queue for search_sync.",
            timeout,
            len(held),
        )

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every batch handed over is sent and settled; False if ``timeout`` ran out."""
        with self._lock:
            if self._pid != os.getpid():
                return True
        self.submit(_SETTLE)
        with self._lock:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)


_sender = BackgroundSender()


def submit(batch: QueuedBatch) -> None:
    """Send ``batch`` from this process's background thread."""
    _sender.submit(batch)


def wait_for_background(timeout: float | None = None) -> bool:
    """Wait until this process has sent its queued operations; False if ``timeout`` ran out.

    With ``QUEUE_SEND = "background"``, a commit returns before its documents
    are sent; call this where the next step needs them searchable (a test, the
    end of a script). The rows of what was sent are deleted before it returns.
    """
    return _sender.wait(timeout)
