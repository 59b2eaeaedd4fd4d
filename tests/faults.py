"""An HTTP proxy in front of the engine that injects the faults real clusters show.

The engine behind it is real and keeps running; the proxy forwards every
request as it is, except the ones a test asked it to spoil:

* :class:`Status` — answer with an error status (429, 503...) without forwarding;
* :class:`Delay` — wait before forwarding (a slow, overloaded node: the client times out);
* :class:`Drop` — close the connection without answering (a node going away mid-request);
* :class:`MissingItem` — forward, then remove one item from a ``_bulk`` answer (malformed);
* :class:`RejectItems` — forward a ``_bulk`` request without some of its actions and
  answer those with 429 ``es_rejected_execution_exception``, as an overloaded node does
  (the engine never sees them, so they are really not written).

Faults apply to the next requests matching a path (``/_bulk`` by default), a
given number of times, in the order they were added. The proxy records every
request it sees. Processes of a test reach it through :attr:`FaultProxy.url`.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Status:
    """Answer ``code`` with an engine-like error body, without forwarding."""

    code: int
    kind: str = "es_rejected_execution_exception"


@dataclass
class Delay:
    """Wait ``seconds`` before forwarding."""

    seconds: float


@dataclass
class Drop:
    """Close the connection without an answer (the request is not forwarded)."""


@dataclass
class MissingItem:
    """Forward, then drop the answer's item at ``position``."""

    position: int = 0


@dataclass
class RejectItems:
    """Withhold the actions at ``positions`` from the engine; answer them with 429."""

    positions: tuple[int, ...] = (0,)


Fault = Status | Delay | Drop | MissingItem | RejectItems


@dataclass
class Seen:
    """A request the proxy received, and the fault it met (None: forwarded as it was)."""

    method: str
    path: str
    body: bytes
    fault: Fault | None


class FaultProxy:
    """Forwards ``127.0.0.1:<port>`` to ``upstream``, spoiling the requests it is told to."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.seen: list[Seen] = []
        self._faults: list[tuple[str, Fault]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, fault: Fault, *, times: int = 1, path: str = "/_bulk") -> None:
        """Spoil the next ``times`` requests whose path (without the query) is ``path``."""
        with self._lock:
            self._faults.extend([(path, fault)] * times)

    def clear(self) -> None:
        """Forget the faults not met yet."""
        with self._lock:
            self._faults.clear()

    def pending(self) -> int:
        """How many faults have not been met yet."""
        with self._lock:
            return len(self._faults)

    def requests(self, path: str = "/_bulk") -> list[Seen]:
        """The requests seen for ``path``."""
        with self._lock:
            return [s for s in self.seen if s.path == path]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _take(self, method: str, path: str, body: bytes) -> Fault | None:
        with self._lock:
            fault = None
            for i, (wanted, candidate) in enumerate(self._faults):
                if wanted == path:
                    fault = candidate
                    del self._faults[i]
                    break
            self.seen.append(Seen(method, path, body, fault))
            return fault

    def _forward(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Any:
        upstream = http.client.HTTPConnection(*self.upstream, timeout=300)
        try:
            upstream.request(method, target, body=body or None, headers=headers)
            response = upstream.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            upstream.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet

            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                path = urlsplit(self.path).path
                fault = proxy._take(self.command, path, body)
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in {"host", "content-length", "connection"}
                }
                if isinstance(fault, Drop):
                    self.close_connection = True
                    self.connection.close()
                    return
                if isinstance(fault, Status):
                    error = {"type": fault.kind, "reason": f"injected {fault.code}"}
                    self._answer(fault.code, {}, json.dumps({"error": error, "status": fault.code}))
                    return
                if isinstance(fault, Delay):
                    time.sleep(fault.seconds)
                withheld: list[int] = []
                if isinstance(fault, RejectItems):
                    body, withheld = _withhold(body, fault.positions)
                if body or not withheld:
                    status, answer_headers, answer = proxy._forward(
                        self.command, self.path, headers, body
                    )
                else:  # every action withheld: nothing for the engine to do
                    status, answer_headers, answer = 200, {}, b'{"errors":false,"items":[]}'

                if isinstance(fault, (MissingItem, RejectItems)) and status == 200:
                    decoded = json.loads(answer)
                    if isinstance(fault, MissingItem):
                        del decoded["items"][fault.position]
                    else:
                        for position in withheld:
                            decoded["items"].insert(position, _rejected_item())
                        decoded["errors"] = True
                    answer = json.dumps(decoded).encode()
                self._answer(status, answer_headers, answer)

            def _answer(self, status: int, headers: dict[str, str], body: bytes | str) -> None:
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in {"content-length", "transfer-encoding", "connection"}:
                        self.send_header(key, value)
                if "content-type" not in {k.lower() for k in headers}:
                    self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

        return Handler


def _withhold(body: bytes, positions: tuple[int, ...]) -> tuple[bytes, list[int]]:
    """``body`` without the actions at ``positions`` (those that exist); and those positions."""
    lines = [line for line in body.split(b"\n") if line]
    actions: list[list[bytes]] = []
    for line in lines:
        parsed = json.loads(line)
        is_action = len(parsed) == 1 and next(iter(parsed)) in {"index", "update", "delete"}
        if is_action and (not actions or _complete(actions[-1])):
            actions.append([line])
        else:
            actions[-1].append(line)
    withheld = [p for p in positions if p < len(actions)]
    kept = [a for i, a in enumerate(actions) if i not in withheld]
    return b"".join(line + b"\n" for action in kept for line in action), withheld


def _complete(action: list[bytes]) -> bool:
    kind = next(iter(json.loads(action[0])))
    return kind == "delete" or len(action) == 2


def _rejected_item() -> dict[str, Any]:
    return {
        "index": {
            "status": 429,
            "error": {
                "type": "es_rejected_execution_exception",
                "reason": "rejected execution (injected): the write queue is full",
            },
        }
    }


@contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    """A running :class:`FaultProxy` to ``upstream``, closed at the end."""
    proxy = FaultProxy(upstream)
    try:
        yield proxy
    finally:
        proxy.close()
