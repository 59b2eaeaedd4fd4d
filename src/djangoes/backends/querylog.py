"""The request log of a connection, like ``django.db``'s ``connection.queries``.

Every request a connection's client sends goes through its transport, which
calls :meth:`QueryLog.start` and :meth:`QueryLog.finish`. Each request is
logged on the ``djangoes.queries`` logger at DEBUG level; with
``settings.DEBUG`` (or ``force_debug``) it is also kept in ``entries``, a
bounded list reset at the start of every HTTP request.

No credentials reach this module: hosts are stored without them and only the
method, path, status, timing and body are recorded.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypedDict
from urllib.parse import unquote
from weakref import WeakKeyDictionary

from django.conf import settings

from djangoes.exceptions import LiveIndexAccessError

logger = logging.getLogger("djangoes.queries")

#: How many requests a connection keeps in ``queries`` (Django keeps 9000 SQL queries).
QUERIES_LIMIT = 9000
#: Bodies longer than this are kept truncated in ``queries``.
BODY_PREVIEW_LIMIT = 10_000


class QueryEntry(TypedDict):
    """One request in ``connection.queries``."""

    alias: str
    method: str
    path: str
    status: int | None
    duration: float
    body_size: int
    body: str | None
    error: str | None


def encode_body(body: Any) -> bytes:
    """The bytes a client sends for ``body`` (JSON, or NDJSON for lists)."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, (list, tuple)):
        return b"".join(
            (item if isinstance(item, bytes) else _dumps(item).encode()) + b"\n" for item in body
        )
    return _dumps(body).encode()


def _dumps(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, separators=(",", ":"), ensure_ascii=False)


class QueryLog:
    """Request recording for one connection.

    A connection is shared by the threads of a process, but its ``entries``
    are each thread's own, like ``django.db``'s ``connection.queries``: a
    request handler sees its own requests, and resets only those. A helper
    thread working for another one records into that thread's entries
    (:meth:`on_behalf_of`).
    """

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self._lock = threading.Lock()
        self._entries: WeakKeyDictionary[threading.Thread, deque[QueryEntry]] = WeakKeyDictionary()
        self._local = threading.local()
        self.force_debug = False
        #: Called with the request path before it is sent; may raise to refuse it.
        self.guard: Callable[[str, str], None] | None = None

    @property
    def entries(self) -> deque[QueryEntry]:
        """The requests recorded for this thread (bounded to QUERIES_LIMIT)."""
        owner = getattr(self._local, "owner", None) or threading.current_thread()
        with self._lock:
            entries = self._entries.get(owner)
            if entries is None:
                entries = self._entries[owner] = deque(maxlen=QUERIES_LIMIT)
        return entries

    @contextmanager
    def on_behalf_of(self, owner: threading.Thread) -> Iterator[None]:
        """Record the requests this thread sends in the block into ``owner``'s entries."""
        previous = getattr(self._local, "owner", None)
        self._local.owner = owner
        try:
            yield
        finally:
            self._local.owner = previous

    @property
    def enabled(self) -> bool:
        """Whether requests are kept in ``entries`` (``settings.DEBUG`` or forced)."""
        return self.force_debug or bool(settings.DEBUG)

    def reset(self) -> None:
        self.entries.clear()

    def start(self, method: str, path: str) -> float:
        """Check the request against the guard; returns the start time."""
        if self.guard is not None:
            self.guard(method, path)
        return time.perf_counter()

    def run(
        self,
        method: str,
        path: str,
        body: Any,
        send: Callable[[], Any],
        status_of: Callable[[Any], int | None],
    ) -> Any:
        """Send one request with ``send()`` and record it, whatever the outcome."""
        started = self.start(method, path)
        status: int | None = None
        error: BaseException | None = None
        try:
            response = send()
            status = status_of(response)
            return response
        except BaseException as exc:
            status = status_of_exception(exc)
            # an HTTP error answer is described by its status; ``error`` is for
            # requests that got no answer (refused, timed out...)
            error = exc if status is None else None
            raise
        finally:
            self.finish(started, method, path, body, status, error)

    async def arun(
        self,
        method: str,
        path: str,
        body: Any,
        send: Callable[[], Awaitable[Any]],
        status_of: Callable[[Any], int | None],
    ) -> Any:
        """:meth:`run` for an async client: ``await send()``, then record the request.

        Recording is in memory (and a DEBUG log line): it never waits for I/O
        of its own, so the event loop is not blocked.
        """
        started = self.start(method, path)
        status: int | None = None
        error: BaseException | None = None
        try:
            response = await send()
            status = status_of(response)
            return response
        except BaseException as exc:
            status = status_of_exception(exc)
            error = exc if status is None else None
            raise
        finally:
            self.finish(started, method, path, body, status, error)

    def finish(
        self,
        started: float,
        method: str,
        path: str,
        body: Any,
        status: int | None,
        error: BaseException | None = None,
    ) -> None:
        """Record one finished request (log line, and ``entries`` when enabled)."""
        keep = self.enabled
        debug = logger.isEnabledFor(logging.DEBUG)
        if not keep and not debug:
            return
        duration = time.perf_counter() - started
        encoded = encode_body(body)
        if debug:
            logger.debug(
                "(%.3f) %s %s %s status=%s size=%d",
                duration,
                self.alias,
                method,
                path,
                status,
                len(encoded),
                extra={
                    "alias": self.alias,
                    "method": method,
                    "path": path,
                    "duration": duration,
                    "status": status,
                    "body_size": len(encoded),
                },
            )
        if keep:
            preview: str | None = None
            if encoded:
                preview = encoded[:BODY_PREVIEW_LIMIT].decode(errors="replace")
                if len(encoded) > BODY_PREVIEW_LIMIT:
                    preview += f"... ({len(encoded)} bytes)"
            self.entries.append(
                QueryEntry(
                    alias=self.alias,
                    method=method,
                    path=path,
                    status=status,
                    duration=duration,
                    body_size=len(encoded),
                    body=preview,
                    error=type(error).__name__ if error is not None else None,
                )
            )


def status_of_exception(exc: BaseException) -> int | None:
    """The HTTP status a client exception carries (either client), or None."""
    for attr in ("status", "status_code"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    status = getattr(getattr(exc, "meta", None), "status", None)
    return status if isinstance(status, int) else None


def target_indices(path: str) -> list[str]:
    """The index names a request path addresses (first segment, comma-separated)."""
    segment = path.lstrip("/").split("?", 1)[0].split("/", 1)[0]
    if not segment or segment.startswith("_"):
        return []
    return [name for name in unquote(segment).split(",") if name]


def make_live_guard(
    alias: str, live_names: Iterable[str], test_names: Mapping[str, str]
) -> Callable[[str, str], None]:
    """A guard refusing requests to live index names while test names are active.

    ``test_names`` maps each live name to the test name that replaces it, so
    the error can tell the user what to use instead.
    """
    live = frozenset(live_names)

    def guard(method: str, path: str) -> None:

        for name in target_indices(path):
            base = name.rstrip("*")
            if name in live or (name.endswith("*") and any(n.startswith(base) for n in live)):
                instead = test_names.get(name)
                hint = f" Use the test index {instead!r} instead" if instead else ""
                raise LiveIndexAccessError(
                    f"Connection {alias!r} is using test settings but this {method} request "
                    f"targets the live index {name!r}.{hint} (go through the connection's "
                    "methods, which use the test names, or connection.index_names)."
                )

    return guard
