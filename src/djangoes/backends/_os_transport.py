"""opensearch-py ``Transport`` that records requests in the connection's log.

Imported by dotted path when a client is built (never by ``import djangoes``).
opensearch-py returns decoded data, not the status: a success is recorded as
200 (404 for a HEAD that found nothing).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from opensearchpy import Transport

from djangoes.backends.querylog import QueryLog


class LoggingTransport(Transport):
    """Sends like ``Transport`` and records each request in ``query_log``.

    ``close()`` closes every node's connection pool: ``Transport.close()``
    closes only the nodes in use, so the sockets of a node marked dead (one
    of HOSTS down) stayed open until garbage collection.
    """

    query_log: QueryLog | None = None

    def perform_request(  # type: ignore[override]
        self, method: str, url: str, params: Any = None, body: Any = None, **kwargs: Any
    ) -> Any:
        log = self.query_log
        send = super().perform_request
        if log is None:
            return send(method, url, params=params, body=body, **kwargs)
        target = f"{url}?{urlencode(params)}" if params else url
        return log.run(
            method,
            target,
            body,
            lambda: send(method, url, params=params, body=body, **kwargs),
            lambda response: 404 if (method == "HEAD" and response is False) else 200,
        )

    def close(self) -> None:
        super().close()
        pool = self.connection_pool  # a DummyConnectionPool for one host: nothing marked dead
        for connection in getattr(pool, "orig_connections", pool.connections):
            connection.close()  # again for the live ones: closing twice is harmless
