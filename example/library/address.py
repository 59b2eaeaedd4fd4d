"""Where ``manage.py demo`` serves: the address asked for, or the next free port.

The port is looked at before anything is announced: when a demo already
serves there it is named and nothing else starts; when another program holds
it the demo takes the next free port and says so.
"""

from __future__ import annotations

import http.client
import socket
import urllib.request
from dataclasses import dataclass

#: What every page of the demo carries (``base.html``): how a running demo is recognized.
DEMO_MARKER = b'<meta name="generator" content="djangoes demo">'
#: Ports tried after a busy one before giving up.
TRIES = 100


@dataclass(frozen=True)
class Address:
    host: str
    port: int

    @classmethod
    def parse(cls, addrport: str) -> Address:
        """``"8080"``, ``"127.0.0.1:8080"`` or ``"[::1]:8080"`` (as ``runserver`` takes them)."""
        host, _, port = addrport.rpartition(":")
        if not port.isdigit():
            raise ValueError(f"{addrport!r} is not a port or an address:port (127.0.0.1:8000)")
        return cls(host.strip("[]") or "127.0.0.1", int(port))

    @property
    def addrport(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        return f"http://{Address(host, self.port).addrport}/"

    def is_free(self) -> bool:
        """Whether a server can listen here now (as ``runserver`` does, with SO_REUSEADDR)."""
        family, kind, proto, _, where = socket.getaddrinfo(
            self.host, self.port, type=socket.SOCK_STREAM
        )[0]
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(where)
            except OSError:
                return False
        return True

    def serves_a_demo(self) -> bool:
        """Whether what answers here is a djangoes demo (its page has :data:`DEMO_MARKER`)."""
        try:
            with urllib.request.urlopen(self.url, timeout=5) as response:
                return DEMO_MARKER in response.read(65536)
        except (OSError, ValueError, http.client.HTTPException):  # refused, timed out, not HTTP
            return False

    def next_free(self) -> Address | None:
        """The first free port after this one, or None if none of the next TRIES is."""
        for port in range(self.port + 1, min(self.port + 1 + TRIES, 65536)):
            candidate = Address(self.host, port)
            if candidate.is_free():
                return candidate
        return None
