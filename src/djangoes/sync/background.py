"""Sending queued operations from a thread of the process (``QUEUE_SEND = "background"``).

Under the "queue" policy the operations of a commit are already durable in
the queue table when the transaction ends, so nothing is lost if the request
does not wait for the engine: the committing thread hands the operations
over, and this thread takes a version, reads the rows, builds the documents,
sends them and settles the rows (:func:`djangoes.sync.queue.finish_queued`),
batch after batch. Because each batch is read after its version is taken, a
batch sent after a later one, or a document saved A, B, then A again, ends
with the database's state in the index. Failures that pass are retried for
``RETRY_BUDGET`` seconds. If the process dies first, the rows are still in
the queue and ``manage.py search_sync`` sends them.

One thread per process, started on first use (again in a forked child);
:func:`wait_for_background` waits until it has sent everything (tests,
scripts), and at exit the process waits for it a few seconds.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from djangoes.sync.queue import QueuedBatch

logger = logging.getLogger("djangoes.sync")

#: Seconds a process waits at exit for the operations still to send.
EXIT_WAIT_SECONDS = 10.0


class BackgroundSender:
    """A daemon thread sending prepared batches in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._pid = -1
        self._queue: queue.Queue[QueuedBatch] = queue.Queue()
        self._exit_hook = False

    def submit(self, batch: QueuedBatch) -> None:
        """Hand a batch to the thread (started here when needed)."""
        with self._lock:
            if self._pid != os.getpid():  # first use, or a forked child: no thread yet
                self._pid = os.getpid()
                self._pending = 0
                self._queue = queue.Queue()
                threading.Thread(
                    target=self._run, args=(self._queue,), name="djangoes-sync-sender",
                    daemon=True,
                ).start()  # fmt: skip
                if not self._exit_hook:
                    atexit.register(self.wait, EXIT_WAIT_SECONDS)
                    self._exit_hook = True
            self._pending += 1
            self._queue.put(batch)

    def _run(self, batches: queue.Queue[QueuedBatch]) -> None:
        from django.db import close_old_connections
        from django.db import connections as db_connections

        from djangoes.sync.queue import finish_queued

        while True:
            batch = batches.get()
            try:
                close_old_connections()
                finish_queued(batch, budget=batch.options.RETRY_BUDGET)
                if batches.empty():  # idle: hold no database connection meanwhile
                    db_connections.close_all()
            except Exception:  # the rows stay in the queue for search_sync: say so, go on
                logger.exception(
                    "Sending %d queued sync operation(s) in the background failed; they stay "
                    "in the queue for search_sync.",
                    len(batch.operations),
                )
            finally:
                with self._lock:
                    self._pending -= 1
                    self._idle.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every batch handed over is sent; False if ``timeout`` ran out."""
        with self._lock:
            if self._pid != os.getpid():
                return True
            return self._idle.wait_for(lambda: self._pending == 0, timeout)


_sender = BackgroundSender()


def submit(batch: QueuedBatch) -> None:
    """Send ``batch`` from this process's background thread."""
    _sender.submit(batch)


def wait_for_background(timeout: float | None = None) -> bool:
    """Wait until this process has sent its queued operations; False if ``timeout`` ran out.

    With ``QUEUE_SEND = "background"``, a commit returns before its documents
    are sent; call this where the next step needs them searchable (a test, the
    end of a script).
    """
    return _sender.wait(timeout)
