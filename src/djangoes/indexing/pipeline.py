"""Sending bulk requests from a thread of their own while the next chunks are read.

Reading rows and building documents is database and Python work; sending a
bulk request is waiting for the engine. :class:`Sender` overlaps the two: the
loader hands each chunk's bulk actions to this thread, which cuts them into
requests (:func:`djangoes.bulk.write`: up to ``BULK_BYTES`` and
``BULK_DOCUMENTS``, merged across chunks) and sends them, while the loader
reads and builds the next chunk. At most ``depth`` chunks wait, so memory
stays bounded whatever the table size. Requests are sent one at a time, in
order.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from djangoes import bulk

if TYPE_CHECKING:
    from djangoes.sync.sending import BulkSender, SyncResult

_DONE = None


class _Aborted(Exception):
    """The loader stopped: the sending thread stops too, sending nothing more."""


class Sender:
    """Writes chunks of bulk actions from a background thread; outcomes counted by ``sending``.

    The first document the engine could not take within the retry budget
    stops the thread; its error is raised to the loader (at its next
    :meth:`submit`, or by :meth:`close`).
    """

    def __init__(self, sending: BulkSender, *, depth: int = 2) -> None:
        from djangoes.sync.sending import raise_unsent

        self.sending = sending
        #: The loader's thread: the requests sent from here are listed in its
        #: request log (the connection is shared by the threads of the process).
        self._owner = threading.current_thread()
        self._raise_unsent = raise_unsent
        self._queue: queue.Queue[list[bulk.Action] | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._stopped = False
        self._ended = False
        self._thread = threading.Thread(target=self._run, name="djangoes-bulk-sender", daemon=True)
        self._thread.start()

    def _actions(self) -> Iterator[bulk.Action]:
        while True:
            chunk = self._queue.get() if not self._stopped else _DONE
            if chunk is _DONE:
                self._ended = True
                if self._stopped:
                    raise _Aborted  # what waits for a fuller request is not sent
                return
            yield from chunk

    def _run(self) -> None:
        with self.sending.conn.query_log.on_behalf_of(self._owner):
            self._send_all()

    def _send_all(self) -> None:
        sending = self.sending
        try:
            for outcome in bulk.write(sending.conn, self._actions(), sending.limits):
                sending.account(outcome)
                if outcome.kind == "unsent":
                    self._raise_unsent(sending.result)
            sending.finish()
        except _Aborted:
            return
        except BaseException as exc:  # noqa: BLE001 - handed to the loader, which raises it
            self._error = exc
            while not self._ended and self._queue.get() is not _DONE:
                pass  # let the loader's submit() and close() through; send nothing more

    def submit(self, actions: list[bulk.Action]) -> None:
        """Queue a chunk's actions (waits while ``depth`` wait); raises a failure of the thread."""
        self._raise()
        self._queue.put(actions)

    def close(self) -> SyncResult:
        """Wait for every queued action; returns the result or raises the thread's failure."""
        self._queue.put(_DONE)
        self._thread.join()
        self._raise()
        return self.sending.result

    def abort(self) -> None:
        """Stop after the request being sent, drop the rest (the loader failed); never raises."""
        self._stopped = True
        self._queue.put(_DONE)
        self._thread.join()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error
