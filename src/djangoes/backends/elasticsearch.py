"""Backends on the official Elasticsearch client (elasticsearch-py 8 and 9).

``SimpleHttpBackend`` (urllib3, the default ENGINE) and
``SimpleRequestsHttpBackend`` (requests) differ only by their ``node_class``.
Client classes are class attributes given as dotted paths, imported when the
client is first built, so importing this module never imports the client.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

from djangoes.backends.abstracts import BULK_ANSWER_FIELDS, Base, resolve_class
from djangoes.backends.features import BaseFeatures, engine_hint
from djangoes.conf import Problem
from djangoes.exceptions import (
    ConnectionError,
    ConnectionTimeout,
    DjangoesError,
    TransportError,
    describe_error_body,
    error_class_for_status,
)

__all__ = [
    "BaseElasticsearchBackend",
    "ElasticsearchFeatures",
    "SimpleHttpBackend",
    "SimpleMemcachedBackend",
    "SimpleRequestsHttpBackend",
    "SimpleThriftBackend",
]

#: djangoes 0.3 / elasticsearch-py 7 PARAMS that changed name in elasticsearch-py 8.
PARAM_RENAMES = {"timeout": "request_timeout", "http_auth": "basic_auth"}

#: PARAMS that no longer exist, with what to use instead.
REMOVED_PARAMS = {
    "dead_timeout": "use 'dead_node_backoff_factor' (seconds, grows with each failure) and "
    "'max_dead_node_backoff' (the cap, default 30 s)",
    "timeout_cutoff": "the backoff is capped by 'max_dead_node_backoff' instead",
    "use_ssl": "give an https:// URL in HOSTS instead",
    "connection_class": "set the backend's node_class (a subclass of SimpleHttpBackend) or "
    "PARAMS['node_class']",
    "sniff_on_connection_fail": "use 'sniff_on_node_failure'",
    "sniffer_timeout": "use 'min_delay_between_sniffing'",
}


class ElasticsearchFeatures(BaseFeatures):
    distributions = frozenset({"elasticsearch"})
    minimum_server_version = (8, 0)
    maximum_server_version = (10,)
    point_in_time_api = "elasticsearch"


class BaseElasticsearchBackend(Base):
    """Connection wrapper on the official Elasticsearch client.

    Two class attributes choose how requests are sent:

    * ``transport_class``: the ``elastic_transport.Transport`` subclass (by
      default one that records each request in :attr:`queries`);
    * ``node_class``: the ``elastic_transport`` node class, which picks the
      HTTP library. Subclasses set it.
    """

    display_name = "Elasticsearch"
    client_name = "Elasticsearch"
    features_class: ClassVar[type[BaseFeatures]] = ElasticsearchFeatures
    client_distribution = "elasticsearch"
    client_version_range = ((8, 0), (10,))
    install_hint = "'elasticsearch>=8,<10'"

    client_class: ClassVar[Any] = "elasticsearch.Elasticsearch"
    transport_class: ClassVar[Any] = "djangoes.backends._es_transport.LoggingTransport"
    node_class: ClassVar[Any] = None
    #: The classes of the async API (``asearch()``...): client, transport, node.
    async_client_class: ClassVar[Any] = "elasticsearch.AsyncElasticsearch"
    async_transport_class: ClassVar[Any] = "djangoes.backends._es_transport.LoggingAsyncTransport"
    async_node_class: ClassVar[Any] = "elastic_transport.AiohttpHttpNode"

    param_renames = PARAM_RENAMES
    rejected_params = REMOVED_PARAMS
    rejected_params_reason = "which elasticsearch-py 8+ no longer accepts"

    @classmethod
    def accepted_params(cls) -> set[str] | None:
        try:
            client_class = resolve_class(cls.client_class)
        except ImportError:
            return None  # reported by check_client_library()
        names = set(inspect.signature(client_class.__init__).parameters)
        return names - {"self", "hosts", "_transport"}

    def configure_client(self) -> None:
        """Instantiate the Elasticsearch client from HOSTS and PARAMS."""
        params = self.client_params()
        params.setdefault("transport_class", resolve_class(self.transport_class))
        if self.node_class is not None:
            params.setdefault("node_class", resolve_class(self.node_class))
        hosts = None if "cloud_id" in params else list(self.server["HOSTS"])
        self.client = self.build_client(hosts, **params)

    def async_client_params(self) -> dict[str, Any]:
        """PARAMS for ``AsyncElasticsearch``: its transport and node classes (aiohttp)."""
        params = self.client_params()
        params["transport_class"] = resolve_class(self.async_transport_class)
        params["node_class"] = resolve_class(self.async_node_class)
        return params

    async def async_hosts(self) -> list[str] | None:
        return None if "cloud_id" in self.server["PARAMS"] else list(self.server["HOSTS"])

    def unwrap_response(self, response: Any) -> Any:
        body = getattr(response, "body", response)
        return body

    def perform_bulk(self, body: bytes, *, timeout: float | None, refresh: bool | str) -> Any:
        """As :meth:`Base.perform_bulk`; elasticsearch-py takes a timeout through ``options()``."""
        client = self.client if timeout is None else self.client.options(request_timeout=timeout)
        params: dict[str, Any] = {"refresh": refresh} if refresh else {}
        params["filter_path"] = BULK_ANSWER_FIELDS
        with self.wrap_errors():
            return self.unwrap_response(client.bulk(body=body, **params))

    def translate_error(self, exc: Exception) -> DjangoesError | None:
        from elastic_transport import ConnectionError as TransportConnectionError
        from elastic_transport import ConnectionTimeout as TransportConnectionTimeout
        from elastic_transport import TransportError as ElasticTransportError
        from elasticsearch import ApiError

        if isinstance(exc, ApiError):
            status = exc.meta.status if exc.meta is not None else None
            message = describe_error_body(exc.body) or exc.message
            if status == 406 and "vnd.elasticsearch" in message:
                # OpenSearch (and the embedded engine) refuse the client's media types
                message = (
                    f"The server refused the Elasticsearch client's media type ({message}): "
                    f"it is not Elasticsearch but OpenSearch or the embedded engine. "
                    f"{engine_hint(self.alias)}"
                )
            return self._error(error_class_for_status(status), message, status, exc.body)
        if isinstance(exc, TransportConnectionTimeout):
            return self._error(ConnectionTimeout, _explain(exc), None, None)
        if isinstance(exc, TransportConnectionError):
            return self._error(ConnectionError, _explain(exc), None, None)
        if isinstance(exc, ElasticTransportError):
            return self._error(TransportError, _explain(exc), None, None)
        return None


def _explain(exc: BaseException) -> str:
    """The transport error's message and its root cause (elastic_transport nests them)."""
    message = str(getattr(exc, "message", "") or exc)
    inner: BaseException | None = exc
    while inner is not None:
        nested = getattr(inner, "errors", ()) or ()
        following = nested[-1] if nested else (inner.__cause__ or inner.__context__)
        if following is None:
            break
        inner = following
    if inner is not None and inner is not exc:
        detail = str(getattr(inner, "message", "") or inner)
        if detail and detail not in message:
            message = f"{message}: {detail}"
    return message


class SimpleHttpBackend(BaseElasticsearchBackend):
    """Elasticsearch over urllib3 (the default ENGINE)."""

    node_class = "elastic_transport.Urllib3HttpNode"


class SimpleRequestsHttpBackend(BaseElasticsearchBackend):
    """Elasticsearch over requests ("HTTP for humans")."""

    node_class = "elastic_transport.RequestsHttpNode"
    install_hint = "'elasticsearch>=8,<10' requests"

    @classmethod
    def check_client_library(cls) -> list[Problem]:
        problems = super().check_client_library()
        try:
            import requests  # noqa: F401
        except ImportError:
            problems.append(
                Problem(
                    "djangoes.E011",
                    f"{cls.__module__}.{cls.__qualname__} needs the requests library, which is "
                    "not installed.",
                    hint="Run: pip install 'djangoes[requests]'",
                )
            )
        return problems


class _RemovedBackend(BaseElasticsearchBackend):
    """A transport the engines dropped; configuring it is an error saying so."""

    removed_reason: ClassVar[str] = ""

    @classmethod
    def check_client_library(cls) -> list[Problem]:
        return [
            Problem(
                "djangoes.E005",
                f"{cls.__module__}.{cls.__qualname__} is no longer available: {cls.removed_reason}",
                hint="Use ENGINE 'djangoes.backends.elasticsearch.SimpleHttpBackend' (HTTP with "
                "urllib3), or 'djangoes.backends.opensearch.SimpleHttpBackend' for OpenSearch.",
            )
        ]


class SimpleThriftBackend(_RemovedBackend):
    """Removed: Elasticsearch dropped the Thrift transport plugin in 2.x (2015)."""

    removed_reason = (
        "the Thrift transport was removed from Elasticsearch (2.0) and never existed in "
        "OpenSearch, and elasticsearch-py dropped ThriftConnection."
    )


class SimpleMemcachedBackend(_RemovedBackend):
    """Removed: Elasticsearch dropped the memcached transport plugin in 2.x (2015)."""

    removed_reason = (
        "the memcached transport was removed from Elasticsearch (2.0) and never existed in "
        "OpenSearch, and elasticsearch-py dropped MemcachedConnection."
    )


def __getattr__(name: str) -> Any:
    # The 0.3 guide's settings example spells the default ENGINE "SimpleHttpClient".
    if name == "SimpleHttpClient":
        import warnings

        warnings.warn(
            "djangoes.backends.elasticsearch.SimpleHttpClient is a misspelling from the 0.3 "
            "guide: use SimpleHttpBackend.",
            DeprecationWarning,
            stacklevel=2,
        )
        return SimpleHttpBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
