"""``elastic_transport`` node classes that send plain ``application/json``.

elasticsearch-py 8/9 sends ``application/vnd.elasticsearch+json;
compatible-with=N``, which OpenSearch and the embedded engine answer with
406. These nodes rewrite the media types to plain JSON / NDJSON so that the
Elasticsearch client can be tested against them. They are a test harness, not
a production code path: a real Elasticsearch cluster needs no such thing.
"""

from __future__ import annotations

from typing import Any

from elastic_transport import AiohttpHttpNode, HttpHeaders, RequestsHttpNode, Urllib3HttpNode

_PLAIN = {"json": "application/json", "x-ndjson": "application/x-ndjson"}


def plain_headers(headers: Any) -> Any:
    """A copy of ``headers`` with Elasticsearch's compatibility media types made plain."""
    if not headers:
        return headers
    result = HttpHeaders(headers)
    for name in ("accept", "content-type"):
        value = result.get(name)
        if value and "vnd.elasticsearch+" in value:
            kind = value.split("vnd.elasticsearch+", 1)[1].split(";", 1)[0].strip()
            result[name] = _PLAIN.get(kind, f"application/{kind}")
    return result


class PlainJsonUrllib3Node(Urllib3HttpNode):
    """urllib3 node sending plain JSON media types."""

    def perform_request(  # type: ignore[override]
        self, method: str, target: str, body: Any = None, headers: Any = None, **kwargs: Any
    ) -> Any:
        return super().perform_request(
            method, target, body=body, headers=plain_headers(headers), **kwargs
        )


class PlainJsonRequestsNode(RequestsHttpNode):
    """requests node sending plain JSON media types."""

    def perform_request(  # type: ignore[override]
        self, method: str, target: str, body: Any = None, headers: Any = None, **kwargs: Any
    ) -> Any:
        return super().perform_request(
            method, target, body=body, headers=plain_headers(headers), **kwargs
        )


class PlainJsonAiohttpNode(AiohttpHttpNode):
    """aiohttp node sending plain JSON media types (the async API's)."""

    async def perform_request(  # type: ignore[override]
        self, method: str, target: str, body: Any = None, headers: Any = None, **kwargs: Any
    ) -> Any:
        return await super().perform_request(
            method, target, body=body, headers=plain_headers(headers), **kwargs
        )
