"""Small real servers for what the engine cannot show: silence, headers, TLS.

They are real TCP/HTTP peers on loopback, not mocks of the client: the
client under test connects, sends and waits exactly as it would against a
cluster.
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT_DOCUMENT = {
    "name": "node-1",
    "cluster_name": "test",
    "version": {"number": "8.15.0", "build_flavor": "default"},
    "tagline": "You Know, for Search",
}


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class RecordingServer:
    """An HTTP server answering like a cluster's root endpoint and recording requests."""

    url: str
    requests: list[Recorded] = field(default_factory=list)


@contextmanager
def recording_server(
    root: dict[str, Any] | None = None,
    tls: tuple[Path, Path] | None = None,
    status: int = 200,
) -> Iterator[RecordingServer]:
    document = json.dumps(root or ROOT_DOCUMENT).encode()
    record: list[Recorded] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            record.append(
                Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
            )
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("x-elastic-product", "Elasticsearch")
            self.send_header("content-length", str(len(document)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(document)

        do_GET = do_POST = do_PUT = do_HEAD = _answer

        def log_message(self, format: str, *args: Any) -> None:
            return  # keep the test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    scheme = "http"
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(tls[0]), str(tls[1]))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield RecordingServer(f"{scheme}://127.0.0.1:{server.server_port}", record)
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class SilentServer:
    """Accepts connections and never answers: a cluster that times out."""

    url: str
    accepted: list[socket.socket] = field(default_factory=list)


@contextmanager
def silent_server() -> Iterator[SilentServer]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    state = SilentServer(f"http://127.0.0.1:{listener.getsockname()[1]}")
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            state.accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stop.set()
        thread.join()
        for conn in state.accepted:
            conn.close()
        listener.close()


def closed_port_url() -> str:
    """The URL of a loopback port nothing listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


def self_signed_certificate(directory: Path) -> tuple[Path, Path] | None:
    """A certificate for 127.0.0.1 and its key, made with the openssl CLI (None if absent)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key
