"""Sending bulk requests from threads of their own while the next chunks are read.

Reading rows and building documents is database and Python work; sending a
bulk request is waiting for the engine. :class:`Sender` overlaps the two: the
loader hands each chunk's bulk actions to the sending threads, which cut
them into requests (:func:`djangoes.bulk.write`: up to ``BULK_BYTES`` and
``BULK_DOCUMENTS``, merged across chunks) and send them, while the loader
reads and builds the next chunk. Once more documents came than one request
holds, a second thread sends too (``senders``, 2 by default): each keeps one
request in flight, so the engine indexes two requests at once (it indexes
one bulk request's shard work on one thread: a second request gives it a
second core), like ``helpers.parallel_bulk`` with two threads. At most
``depth`` chunks wait, so memory stays bounded whatever the table size: a
request per sender and ``depth`` chunks. Requests may complete in any
order: each document is sent once, with the external version taken before
its chunk was read.
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

    def __init__(self, sending: BulkSender, *, depth: int = 2, senders: int = 2) -> None:
        from djangoes.sync.sending import raise_unsent

        self.sending = sending
        #: The loader's thread: the requests sent from here are listed in its
        #: request log (the connection is shared by the threads of the process).
        self._owner = threading.current_thread()
        self._raise_unsent = raise_unsent
        self._queue: queue.Queue[list[bulk.Action] | None] = queue.Queue(maxsize=depth)
        #: Outcomes are counted one at a time (the threads share ``sending.result``).
        self._accounting = threading.Lock()
        self._error: BaseException | None = None
        self._stopped = False
        self._senders = max(1, senders)
        #: Documents and bytes submitted until more than one request's worth came.
        self._submitted = [0, 0]
        self._threads: list[threading.Thread] = []
        self._start_thread()

    def _start_thread(self) -> None:
        name = f"djangoes-bulk-sender-{len(self._threads)}"
        thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _actions(self, ended: list[bool]) -> Iterator[bulk.Action]:
        while True:
            chunk = self._queue.get() if not self._stopped else _DONE
            if chunk is _DONE:
                ended.append(True)
                if self._stopped:
                    raise _Aborted  # what waits for a fuller request is not sent
                return
            yield from chunk

    def _run(self) -> None:
        with self.sending.conn.query_log.on_behalf_of(self._owner):
            self._send_all()

    def _send_all(self) -> None:
        sending = self.sending
        ended: list[bool] = []  # this thread took its end marker
        try:
            for outcome in bulk.write(sending.conn, self._actions(ended), sending.limits):
                with self._accounting:
                    sending.account(outcome)
                    if outcome.kind == "unsent":
                        self._raise_unsent(sending.result)
        except _Aborted:
            return
        except BaseException as exc:  # noqa: BLE001 - handed to the loader, which raises it
            self._error = self._error or exc
            while not ended and self._queue.get() is not _DONE:
                pass  # let the loader's submit() and close() through; send nothing more

    def submit(self, actions: list[bulk.Action]) -> None:
        """Queue a chunk's actions (waits while ``depth`` wait); raises a failure of a thread."""
        self._raise()
        if len(self._threads) < self._senders:  # more than one request's worth: a second sender
            limits = self.sending.limits
            self._submitted[0] += len(actions)
            self._submitted[1] += sum(len(action.source or b"") for action in actions)
            over_bytes = bool(limits.max_bytes) and self._submitted[1] > limits.max_bytes
            if self._submitted[0] > limits.max_actions or over_bytes:
                while len(self._threads) < self._senders:
                    self._start_thread()
        self._queue.put(actions)

    def close(self) -> SyncResult:
        """Wait for every queued action; returns the result or raises a thread's failure."""
        self._end_threads()
        self._raise()
        self.sending.finish()
        return self.sending.result

    def abort(self) -> None:
        """Stop after the requests being sent, drop the rest (the loader failed); never raises."""
        self._stopped = True
        self._end_threads()

    def _end_threads(self) -> None:
        for _ in self._threads:  # one end marker per thread
            self._queue.put(_DONE)
        for thread in self._threads:
            thread.join()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error
