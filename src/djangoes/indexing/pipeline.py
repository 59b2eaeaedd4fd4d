"""Sending bulk requests from threads of their own while the next chunks are read.

Reading rows and building documents is database and Python work; sending a
bulk request is waiting for the engine. :class:`Sender` overlaps the two: the
loader hands each chunk's bulk actions to the sending threads, which cut
them into requests (:func:`djangoes.bulk.write`: up to ``BULK_BYTES`` and
``BULK_DOCUMENTS``, merged across chunks) and send them, while the loader
reads and builds the next chunks. Once more documents came than one request
holds, a second thread sends too (``senders``, 2 by default): each keeps one
request in flight, so the engine indexes two requests at once (it indexes
one bulk request's shard work on one thread: a second request gives it a
second core), like ``helpers.parallel_bulk`` with two threads.

The loader stays up to one request's worth ahead (``BULK_BYTES`` and
``BULK_DOCUMENTS`` of waiting chunks, at least one chunk): when a request is
answered, its thread finds the next one ready instead of waiting for rows
to be read, so the engine always has two requests to work on. The first
chunk goes alone, as soon as it is built: the engine starts while the
loader reads on. Memory stays bounded whatever the table size: a request
per sender and one request's worth waiting. Requests may complete in any
order: each document is sent once, with the external version taken before
its chunk was read.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING

from djangoes import bulk

if TYPE_CHECKING:
    from djangoes.sync.sending import BulkSender, SyncResult


class _Aborted(Exception):
    """The loader stopped: the sending thread stops too, sending nothing more."""


class Sender:
    """Writes chunks of bulk actions from background threads; outcomes counted by ``sending``.

    The first document the engine could not take within the retry budget
    stops the threads; its error is raised to the loader (at its next
    :meth:`submit`, or by :meth:`close`).
    """

    def __init__(self, sending: BulkSender, *, senders: int = 2) -> None:
        from djangoes.sync.sending import raise_unsent

        self.sending = sending
        #: The loader's thread: the requests sent from here are listed in its
        #: request log (the connection is shared by the threads of the process).
        self._owner = threading.current_thread()
        self._raise_unsent = raise_unsent
        #: Chunks waiting, with their documents and bytes; guarded by ``_changed``.
        self._chunks: deque[tuple[list[bulk.Action], int]] = deque()
        self._waiting = [0, 0]  # documents, bytes
        self._changed = threading.Condition()
        self._closing = False
        self._stopped = False
        #: Outcomes are counted one at a time (the threads share ``sending.result``).
        self._accounting = threading.Lock()
        self._error: BaseException | None = None
        self._senders = max(1, senders)
        #: Documents and bytes submitted until more than one request's worth came.
        self._submitted = [0, 0]
        self._first = True  # the first chunk is sent alone, at once
        self._threads: list[threading.Thread] = []
        self._start_thread()

    def _start_thread(self) -> None:
        name = f"djangoes-bulk-sender-{len(self._threads)}"
        thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _next_chunk(self) -> list[bulk.Action] | None:
        """The next waiting chunk (None: the loader is done); raises _Aborted when stopped."""
        with self._changed:
            while not (self._chunks or self._closing or self._stopped):
                self._changed.wait()
            if self._stopped:
                raise _Aborted  # what waits for a fuller request is not sent
            if not self._chunks:
                return None
            chunk, size = self._chunks.popleft()
            self._waiting[0] -= len(chunk)
            self._waiting[1] -= size
            self._changed.notify_all()  # room for the loader
            return chunk

    def _actions(self) -> Iterator[bulk.Action]:
        while (chunk := self._next_chunk()) is not None:
            yield from chunk
            if self._first:
                self._first = False
                yield bulk.CUT

    def _run(self) -> None:
        with self.sending.conn.query_log.on_behalf_of(self._owner):
            self._send_all()

    def _send_all(self) -> None:
        sending = self.sending
        try:
            for outcome in bulk.write(sending.conn, self._actions(), sending.limits):
                with self._accounting:
                    sending.account(outcome)
                    if outcome.kind == "unsent":
                        self._raise_unsent(sending.result)
        except _Aborted:
            return
        except BaseException as exc:  # noqa: BLE001 - handed to the loader, which raises it
            with self._changed:
                self._error = self._error or exc
                self._changed.notify_all()  # a loader waiting for room raises it

    def _has_room(self, documents: int, size: int) -> bool:
        """Whether a chunk may wait: up to one request's worth, and always one chunk."""
        if not self._chunks:
            return True
        limits = self.sending.limits
        if self._waiting[0] + documents > limits.max_actions:
            return False
        return not limits.max_bytes or self._waiting[1] + size <= limits.max_bytes

    def submit(self, actions: list[bulk.Action]) -> None:
        """Queue a chunk's actions (waits while a request's worth waits); raises a failure."""
        self._raise()
        size = sum(len(action.source or b"") for action in actions)
        if len(self._threads) < self._senders:  # more than one request's worth: a second sender
            limits = self.sending.limits
            self._submitted[0] += len(actions)
            self._submitted[1] += size
            over_bytes = bool(limits.max_bytes) and self._submitted[1] > limits.max_bytes
            if self._submitted[0] > limits.max_actions or over_bytes:
                while len(self._threads) < self._senders:
                    self._start_thread()
        with self._changed:
            while self._error is None and not self._has_room(len(actions), size):
                self._changed.wait()
            self._raise()
            self._chunks.append((actions, size))
            self._waiting[0] += len(actions)
            self._waiting[1] += size
            self._changed.notify_all()

    def close(self) -> SyncResult:
        """Wait for every queued action; returns the result or raises a thread's failure."""
        self._end_threads(stop=False)
        self._raise()
        self.sending.finish()
        return self.sending.result

    def abort(self) -> None:
        """Stop after the requests being sent, drop the rest (the loader failed); never raises."""
        self._end_threads(stop=True)

    def _end_threads(self, *, stop: bool) -> None:
        with self._changed:
            self._closing = True
            self._stopped = self._stopped or stop
            self._changed.notify_all()
        for thread in self._threads:
            thread.join()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error
