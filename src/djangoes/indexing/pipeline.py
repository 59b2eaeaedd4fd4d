"""Sending bulk requests from a thread of their own while the next ones are built.

Reading rows and building documents is database and Python work; sending a
bulk request is waiting for the engine. :class:`Sender` overlaps the two: the
loader prepares the next request while this thread sends the previous one.
At most ``depth`` prepared requests wait, so memory stays bounded whatever
the table size. Requests are sent one at a time, in order.
"""

from __future__ import annotations

import queue
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from djangoes.backends.abstracts import Base
    from djangoes.options import Options
    from djangoes.sync.engine import PreparedBulk, SyncResult

_DONE = None


class Sender:
    """Executes prepared bulk requests in a background thread; results merged in order."""

    def __init__(self, options: Options, conn: Base, *, depth: int = 1) -> None:
        from djangoes.sync.engine import SyncResult

        self.options = options
        #: The loader's connection: its client is thread-safe, and its request
        #: log then lists the requests sent from here.
        self.conn = conn
        self._owner = threading.current_thread()
        self.result = SyncResult()
        #: Documents whose request was answered (read by the loader for progress).
        self.documents_sent = 0
        self._queue: queue.Queue[PreparedBulk | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="djangoes-bulk-sender", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with self.conn.query_log.on_behalf_of(self._owner):
            self._send_all()

    def _send_all(self) -> None:
        from djangoes.sync.engine import execute_bulk

        while True:
            prepared = self._queue.get()
            if prepared is _DONE:
                return
            if self._error is not None or self._stopped:
                continue  # drain what is queued after a failure, send nothing more
            try:
                result = execute_bulk(
                    prepared, self.options, raise_transport_errors=True, conn=self.conn
                )
            except BaseException as exc:  # noqa: BLE001 - handed to the loader, which raises it
                self._error = exc
                continue
            self.result.merge(result)
            self.documents_sent += sum(1 for _, dest in prepared.sent if dest is None)

    def submit(self, prepared: PreparedBulk) -> None:
        """Queue a request (waits while ``depth`` are queued); raises a failure of the thread."""
        self._raise()
        self._queue.put(prepared)

    def close(self) -> SyncResult:
        """Wait for every queued request; returns the merged result or raises its failure."""
        self._queue.put(_DONE)
        self._thread.join()
        self._raise()
        return self.result

    def abort(self) -> None:
        """Stop after the request being sent (the loader failed); never raises."""
        self._stopped = True
        self._queue.put(_DONE)
        self._thread.join()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error
