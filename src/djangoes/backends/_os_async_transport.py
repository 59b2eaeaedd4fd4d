"""opensearch-py ``AsyncTransport`` that records requests in the connection's log.

Imported by dotted path when an async client is built: opensearch-py has its
async classes only when aiohttp is installed (``pip install 'djangoes[async]'``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from opensearchpy import AsyncTransport

from djangoes.backends.querylog import QueryLog


class LoggingAsyncTransport(AsyncTransport):
    """Sends like ``AsyncTransport`` and records each request in ``query_log``.

    ``close()`` closes every node's HTTP session: ``AsyncTransport.close()``
    closes only the nodes in use, so the session of a node marked dead (one
    of HOSTS down) was left open, one more with each event loop that ended.
    """

    query_log: QueryLog | None = None

    async def perform_request(  # type: ignore[override]
        self, method: str, url: str, params: Any = None, body: Any = None, **kwargs: Any
    ) -> Any:
        log = self.query_log
        send = super().perform_request
        if log is None:
            return await send(method, url, params=params, body=body, **kwargs)
        target = f"{url}?{urlencode(params)}" if params else url
        return await log.arun(
            method,
            target,
            body,
            lambda: send(method, url, params=params, body=body, **kwargs),
            lambda response: 404 if (method == "HEAD" and response is False) else 200,
        )

    async def close(self) -> None:
        await super().close()
        pool = self.connection_pool  # a DummyConnectionPool for one host: nothing marked dead
        for connection in getattr(pool, "orig_connections", pool.connections):
            await connection.close()  # again for the live ones: a closed session stays closed
