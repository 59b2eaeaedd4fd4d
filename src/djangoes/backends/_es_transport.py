"""elastic_transport ``Transport`` that records requests in the connection's log.

Imported by dotted path when a client is built (never by ``import djangoes``).
"""

from __future__ import annotations

from typing import Any

from elastic_transport import AsyncTransport, Transport

from djangoes.backends.querylog import QueryLog


class LoggingTransport(Transport):
    """Sends like ``Transport`` and records each request in ``query_log``."""

    query_log: QueryLog | None = None

    def perform_request(self, method: str, target: str, **kwargs: Any) -> Any:
        log = self.query_log
        send = super().perform_request
        if log is None:
            return send(method, target, **kwargs)
        return log.run(
            method,
            target,
            kwargs.get("body"),
            lambda: send(method, target, **kwargs),
            lambda response: response.meta.status,
        )


class LoggingAsyncTransport(AsyncTransport):
    """Sends like ``AsyncTransport`` and records each request in ``query_log``."""

    query_log: QueryLog | None = None

    async def perform_request(self, method: str, target: str, **kwargs: Any) -> Any:  # type: ignore[override]
        log = self.query_log
        send = super().perform_request
        if log is None:
            return await send(method, target, **kwargs)
        return await log.arun(
            method,
            target,
            kwargs.get("body"),
            lambda: send(method, target, **kwargs),
            lambda response: response.meta.status,
        )
