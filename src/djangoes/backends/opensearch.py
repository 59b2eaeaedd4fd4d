"""Backends on opensearch-py, for OpenSearch 2.x and 3.x (``pip install 'djangoes[opensearch]'``).

The same pair as for Elasticsearch: ``SimpleHttpBackend`` (urllib3) and
``SimpleRequestsHttpBackend`` (requests), which differ by ``connection_class``.
PARAMS use the same names whatever the engine (``basic_auth``, ``api_key``,
``request_timeout``/``timeout``...); they are translated here.
"""

from __future__ import annotations

import base64
import inspect
from collections.abc import Mapping
from typing import Any, ClassVar

from djangoes.backends.abstracts import Base, resolve_class
from djangoes.backends.api import Call, with_fields_in_body
from djangoes.backends.features import BaseFeatures
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
    "BaseOpenSearchBackend",
    "OpenSearchFeatures",
    "SimpleHttpBackend",
    "SimpleRequestsHttpBackend",
]

#: Names shared with the Elasticsearch backends -> opensearch-py names.
PARAM_RENAMES = {"basic_auth": "http_auth", "request_timeout": "timeout"}

#: Keywords opensearch-py's transport and connection pool take (besides the connection's).
_TRANSPORT_PARAMS = frozenset(
    {
        "sniff_on_start", "sniffer_timeout", "sniff_timeout", "sniff_on_connection_fail",
        "serializer", "serializers", "default_mimetype", "max_retries", "pool_maxsize",
        "retry_on_status", "retry_on_timeout", "send_get_body_as", "metrics",
        "connection_pool_class", "host_info_callback", "dead_timeout", "timeout_cutoff",
        "selector_class", "randomize_hosts", "api_key",
    }
)  # fmt: skip

#: Connections kept open to each node when PARAMS do not say (``pool_maxsize``): as many
#: as elasticsearch-py keeps by default (``connections_per_node``). urllib3's own default
#: is one, so that every request made while another is under way (the sending threads
#: of a reindex, the threads of a web server) opens a connection, and closes it with a
#: "Connection pool is full" warning.
POOL_MAXSIZE = 10

_ELASTIC_ONLY = {
    "cloud_id": "Elastic Cloud ids only work with Elasticsearch; give the cluster URL in HOSTS",
    "bearer_auth": "give the token as PARAMS['headers'] = {'Authorization': 'Bearer ...'}",
    "node_class": "opensearch-py uses connection classes: subclass the backend and set "
    "connection_class",
}


class OpenSearchFeatures(BaseFeatures):
    distributions = frozenset({"opensearch"})
    minimum_server_version = (2, 0)
    maximum_server_version = (4,)
    point_in_time_api = "opensearch"


class BaseOpenSearchBackend(Base):
    """Connection wrapper on opensearch-py.

    * ``transport_class``: the ``opensearchpy.Transport`` subclass (by default
      one that records each request in :attr:`queries`);
    * ``connection_class``: the opensearch-py connection class, which picks the
      HTTP library. Subclasses set it.
    """

    display_name = "OpenSearch"
    client_name = "OpenSearch"
    features_class: ClassVar[type[BaseFeatures]] = OpenSearchFeatures
    client_distribution = "opensearch-py"
    client_version_range = ((2, 4), (4,))
    install_hint = "'djangoes[opensearch]'"

    client_class: ClassVar[Any] = "opensearchpy.OpenSearch"
    helpers_module: ClassVar[str] = "opensearchpy.helpers"
    transport_class: ClassVar[Any] = "djangoes.backends._os_transport.LoggingTransport"
    connection_class: ClassVar[Any] = None
    #: The classes of the async API (``asearch()``...): client, transport, connection.
    async_client_class: ClassVar[Any] = "opensearchpy.AsyncOpenSearch"
    async_transport_class: ClassVar[Any] = (
        "djangoes.backends._os_async_transport.LoggingAsyncTransport"
    )
    async_connection_class: ClassVar[Any] = "opensearchpy.AIOHttpConnection"

    param_renames = PARAM_RENAMES
    rejected_params = _ELASTIC_ONLY
    rejected_params_reason = "which OpenSearch does not support"

    @classmethod
    def accepted_params(cls) -> set[str] | None:
        try:
            connection_class = resolve_class(cls.connection_class or "opensearchpy.Connection")
        except ImportError:
            return None  # reported by check_client_library()
        accepted = set(_TRANSPORT_PARAMS)
        for klass in inspect.getmro(connection_class):
            init = klass.__dict__.get("__init__")
            if init is not None:
                accepted |= set(inspect.signature(init).parameters) - {"self", "kwargs"}
        return accepted - {"host", "port", "use_ssl", "url_prefix"}

    @classmethod
    def check_params(cls, alias: str, params: Mapping[str, Any]) -> list[Problem]:
        problems = super().check_params(alias, params)
        if "basic_auth" in params and "http_auth" in params:
            problems.append(
                Problem(
                    "djangoes.E012",
                    f"ES_SERVERS[{alias!r}]['PARAMS'] has both 'basic_auth' and 'http_auth'.",
                    hint="They are the same thing: keep 'basic_auth'.",
                )
            )
        return problems

    def client_params(self) -> dict[str, Any]:
        """PARAMS for ``OpenSearch()``; an ``api_key`` becomes its Authorization header."""
        params = super().client_params()
        api_key = params.pop("api_key", None)
        if api_key is not None:
            if isinstance(api_key, (tuple, list)):
                api_key = base64.b64encode(":".join(api_key).encode()).decode()
            headers = dict(params.get("headers") or {})
            headers["authorization"] = f"ApiKey {api_key}"
            params["headers"] = headers
        return params

    def configure_client(self) -> None:
        """Instantiate the OpenSearch client from HOSTS and PARAMS."""
        params = self.client_params()
        params.setdefault("transport_class", resolve_class(self.transport_class))
        params.setdefault("pool_maxsize", POOL_MAXSIZE)
        if self.connection_class is not None:
            params.setdefault("connection_class", resolve_class(self.connection_class))
        self.client = self.build_client(list(self.server["HOSTS"]), **params)

    def perform(self, call: Call) -> Any:
        """Send ``call`` in the ``body=`` style: opensearch-py has no keyword API for bodies."""
        return super().perform(with_fields_in_body(call))

    async def aperform(self, call: Call) -> Any:
        """The async client's :meth:`perform`, in the same ``body=`` style."""
        return await super().aperform(with_fields_in_body(call))

    def async_client_params(self) -> dict[str, Any]:
        """PARAMS for ``AsyncOpenSearch``: its transport and connection classes (aiohttp)."""
        params = self.client_params()
        params["transport_class"] = resolve_class(self.async_transport_class)
        params["connection_class"] = resolve_class(self.async_connection_class)
        return params

    def translate_error(self, exc: Exception) -> DjangoesError | None:
        from opensearchpy import exceptions as os_exc

        if isinstance(exc, os_exc.ConnectionTimeout):
            return self._error(ConnectionTimeout, str(exc.error or exc), None, None)
        if isinstance(exc, os_exc.ConnectionError):
            return self._error(ConnectionError, str(exc.error or exc), None, None)
        if isinstance(exc, os_exc.TransportError):
            status = exc.status_code if isinstance(exc.status_code, int) else None
            info = exc.info
            message = describe_error_body(info) or str(exc.error)
            return self._error(error_class_for_status(status), message, status, info)
        if isinstance(exc, os_exc.SerializationError):
            return self._error(TransportError, f"serialization failed: {exc}", None, None)
        return None


class SimpleHttpBackend(BaseOpenSearchBackend):
    """OpenSearch over urllib3."""

    connection_class = "opensearchpy.Urllib3HttpConnection"


class SimpleRequestsHttpBackend(BaseOpenSearchBackend):
    """OpenSearch over requests."""

    connection_class = "opensearchpy.RequestsHttpConnection"
