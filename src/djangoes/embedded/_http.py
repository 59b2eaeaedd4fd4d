"""A few JSON requests to the engine with the standard library only.

The engine is managed (probed, dumped) without the client library so that
this works whatever client a connection uses, and in the keeper process,
which imports no client at all.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

__all__ = ["EngineHTTPError", "engine_answers", "request_json"]

# The engine listens on the loopback interface: never send its requests through
# an HTTP proxy configured in the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class EngineHTTPError(OSError):
    """The engine answered with an error status (``status``) or not at all (``status`` None)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def request_json(method: str, url: str, body: Any = None, *, timeout: float = 60.0) -> Any:
    """Send one request and return the decoded JSON answer.

    Raises :class:`EngineHTTPError` for an error status or when the engine
    cannot be reached.
    """
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            text = response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:500]
        raise EngineHTTPError(f"{method} {url}: {exc.code} {detail}", exc.code) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise EngineHTTPError(f"{method} {url}: {reason}") from None
    return json.loads(text) if text else None


def engine_answers(url: str, timeout: float = 2.0) -> bool:
    """Whether an osmem-server answers at ``url`` (its ``GET /_osmem`` info)."""
    try:
        info = request_json("GET", f"{url}/_osmem", timeout=timeout)
    except (EngineHTTPError, ValueError):
        return False
    return isinstance(info, dict) and "version" in info
