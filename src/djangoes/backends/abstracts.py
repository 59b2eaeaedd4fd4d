"""The classes every djangoes backend builds on.

A backend is created by the connection handler as ``Backend(alias, server,
indices)`` where ``server`` is the normalised ``ES_SERVERS`` entry and
``indices`` the normalised ``ES_INDICES`` entries it uses (copies: a backend
may not change the user's settings). A concrete backend implements a small
surface:

* :meth:`Base.configure_client` builds the client (``self.client = ...``);
* :meth:`Base.translate_error` turns a client exception into a djangoes one;
* :meth:`Base.unwrap_response` turns a client response into plain data;
* :meth:`Base.check_client_library` says whether the client library fits.

Everything else — the index-aware methods, the request log, the meta client,
index creation for tests — is shared and lives here.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import metadata
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils.functional import cached_property
from django.utils.module_loading import import_string

from djangoes.backends.aio import AsyncOperations
from djangoes.backends.api import (
    SPECS,
    Call,
    CallError,
    body_fields_given,
    with_fields_in_body,
)
from djangoes.backends.features import BaseFeatures, parse_version
from djangoes.backends.querylog import QueryEntry, QueryLog
from djangoes.conf import (
    Problem,
    complete_index,
    complete_server,
    did_you_mean,
    scrub_problems,
)
from djangoes.deprecation import warn_deprecated
from djangoes.exceptions import (
    ConfigurationError,
    ConnectionError,
    DjangoesError,
    IndexDoesNotExist,
    RemovedAPIError,
    SingleIndexOperationError,
    TransportError,
)
from djangoes.mappings import index_creation_body
from djangoes.redact import mask_secrets, scrub, secret_values

if TYPE_CHECKING:
    from djangoes.conf import IndexSettings, ServerSettings

__all__ = ["BULK_ANSWER_FIELDS", "Base", "MetaClientBase", "resolve_class"]

#: What the bulk writer reads of a bulk answer (``filter_path``): each item's
#: status and error. The engine leaves out the rest (ids, versions, shards...),
#: which is most of the answer's bytes and of the time spent decoding it.
BULK_ANSWER_FIELDS = "items.*.status,items.*.error"


def resolve_class(value: Any) -> Any:
    """A class given as itself or as a dotted path (imported when first needed)."""
    if isinstance(value, str):
        return import_string(value)
    return value


class _ErrorTranslatingNamespace:
    """A client namespace (``client.indices``...) whose calls raise djangoes errors."""

    def __init__(self, conn: Base, target: Any) -> None:
        self._conn = conn
        self._target = target

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr
        conn = self._conn

        def call(*args: Any, **kwargs: Any) -> Any:
            with conn.wrap_errors():
                return conn.unwrap_response(attr(*args, **kwargs))

        call.__name__ = name
        call.__doc__ = getattr(attr, "__doc__", None)
        return call

    def __dir__(self) -> list[str]:
        return dir(self._target)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._target!r}>"


class MetaClientBase:
    """Access to the engine's "meta" APIs: indices, cluster, nodes, snapshot.

    Each attribute is the client's namespace of the same name; calls through it
    raise djangoes exceptions and return plain data, whatever the client.
    """

    def __init__(self, conn: Base) -> None:
        self.conn = conn

    def _namespace(self, name: str) -> Any:
        return _ErrorTranslatingNamespace(self.conn, getattr(self.conn.client, name))

    @property
    def indices(self) -> Any:
        """Index management: create, delete, exists, put_alias, refresh..."""
        return self._namespace("indices")

    @property
    def cluster(self) -> Any:
        """Cluster APIs: health, state, settings..."""
        return self._namespace("cluster")

    @property
    def nodes(self) -> Any:
        """Node APIs: info, stats..."""
        return self._namespace("nodes")

    @property
    def snapshot(self) -> Any:
        """Snapshot and restore APIs."""
        return self._namespace("snapshot")


class Base(AsyncOperations):
    """Backend wrapper base: one connection to one cluster, with its indices.

    ``indices`` are the names searches go to (an index's aliases when it has
    any, else its name); ``index_names`` and ``alias_names`` the plain lists.
    """

    #: Class of :attr:`meta`.
    meta_client_class: ClassVar[type[MetaClientBase]] = MetaClientBase
    #: What the engine behind this backend can do.
    features_class: ClassVar[type[BaseFeatures]] = BaseFeatures
    #: Distribution name for messages ("Elasticsearch", "OpenSearch").
    display_name: ClassVar[str] = "search engine"
    #: The client library's name for messages ("Elasticsearch", "OpenSearch").
    client_name: ClassVar[str] = "search"
    #: PyPI distribution of the client library, with the supported range.
    client_distribution: ClassVar[str | None] = None
    client_version_range: ClassVar[tuple[tuple[int, ...], tuple[int, ...]]] = ((0,), (999,))
    #: What to ``pip install`` when the client library is missing or too old.
    install_hint: ClassVar[str] = ""
    #: Whether HOSTS are used (the embedded backend picks its own address).
    uses_hosts: ClassVar[bool] = True
    #: Dotted path of the client library's helpers module (``scan``...).
    helpers_module: ClassVar[str] = "elasticsearch.helpers"

    def __init__(
        self,
        alias: str,
        server: Mapping[str, Any],
        indices: Mapping[str, Mapping[str, Any]] | Sequence[Mapping[str, Any]],
    ) -> None:
        """``server``: the ES_SERVERS entry; ``indices``: ``{ES_INDICES key: entry}``.

        As in djangoes 0.3, both may be partial dicts (missing keys get their
        defaults) and ``indices`` may also be a list of entries. The backend
        keeps copies: the caller's dicts are never changed.
        """
        self.alias = alias
        self.server: ServerSettings = complete_server(server)
        self._client: Any = None
        self._client_lock = threading.Lock()
        self.query_log = QueryLog(alias)
        self.features = self.features_class(self)
        self.server_indices: dict[str, IndexSettings] = {}
        self.set_server_indices(indices)

    def set_server_indices(
        self, indices: Mapping[str, Mapping[str, Any]] | Sequence[Mapping[str, Any]]
    ) -> None:
        """Use ``indices`` from now on (the names switch at once; the client stays).

        The connection handler calls it when it switches between live and test
        names, so a connection taken earlier follows the switch.
        """
        items = (
            list(indices.items())
            if isinstance(indices, Mapping)
            else [(i.get("KEY") or i.get("NAME") or "", i) for i in indices]
        )
        self.server_indices = {key: complete_index(key, value) for key, value in items}
        for name in ("indices", "index_names", "alias_names", "_target_names"):
            self.__dict__.pop(name, None)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} alias={self.alias!r} hosts={self.server['HOSTS']!r} "
            f"indices={self.indices!r}>"
        )

    # -- the client ---------------------------------------------------------

    @classmethod
    def check_client_library(cls) -> list[Problem]:
        """Problems with the installed client library (missing, too old, too new)."""
        dist = cls.client_distribution
        if dist is None:
            return []
        low, high = cls.client_version_range
        wanted = f">={'.'.join(map(str, low))},<{'.'.join(map(str, high))}"
        try:
            found = metadata.version(dist)
        except metadata.PackageNotFoundError:
            return [
                Problem(
                    "djangoes.E011",
                    f"{cls.__module__}.{cls.__qualname__} needs {dist}{wanted}, which is not "
                    "installed.",
                    hint=f"Run: pip install {cls.install_hint or repr(dist + wanted)}",
                )
            ]
        version = parse_version(found)
        if not low <= version < high:
            return [
                Problem(
                    "djangoes.E011",
                    f"{cls.__module__}.{cls.__qualname__} needs {dist}{wanted}, found {found}.",
                    hint=f"Run: pip install {cls.install_hint or repr(dist + wanted)}",
                )
            ]
        return []

    #: PARAMS names shared by every backend -> the client's own names.
    param_renames: ClassVar[Mapping[str, str]] = {}
    #: PARAMS the client refuses, with what to do instead.
    rejected_params: ClassVar[Mapping[str, str]] = {}
    #: How the message about a rejected PARAM ends ("which ... does not accept").
    rejected_params_reason: ClassVar[str] = "which this backend does not accept"

    @classmethod
    def accepted_params(cls) -> set[str] | None:
        """Keyword arguments the client accepts (None: unknown, no check)."""
        return None

    @classmethod
    def check_params(cls, alias: str, params: Mapping[str, Any]) -> list[Problem]:
        """Problems with PARAMS for this backend (no network, no client created)."""
        where = f"ES_SERVERS[{alias!r}]['PARAMS']"
        problems = [
            Problem(
                "djangoes.E012",
                f"{where} has {key!r}, {cls.rejected_params_reason}.",
                hint=f"To fix it, {advice}.",
            )
            for key, advice in cls.rejected_params.items()
            if key in params
        ]
        accepted = cls.accepted_params()
        if accepted is None:
            return problems
        for key in params:
            if key in cls.rejected_params or cls.param_renames.get(key, key) in accepted:
                continue
            problems.append(
                Problem(
                    "djangoes.E012",
                    f"{where} has {key!r}, which the {cls.client_name} client does not accept."
                    f"{did_you_mean(key, accepted)}",
                    hint="PARAMS are the client's keyword arguments; see the backends "
                    "documentation for the supported ones.",
                )
            )
        return problems

    def client_params(self) -> dict[str, Any]:
        """PARAMS under the client's names (credentials given as lists become tuples)."""
        params: dict[str, Any] = {}
        for key, value in self.server["PARAMS"].items():
            name = self.param_renames.get(key, key)
            if name in {"basic_auth", "http_auth"} and isinstance(value, list):
                value = tuple(value)
            params[name] = value
        return params

    def build_client(
        self, hosts: list[str] | None, *, client_class: Any = None, **kwargs: Any
    ) -> Any:
        """The client of ``client_class`` for ``hosts``, recording into :attr:`queries`.

        ``client_class`` defaults to the backend's (the async API passes its
        async class). Raises ConfigurationError when the library is missing or
        the client refuses HOSTS/PARAMS (secrets masked in the message).
        """
        self.ensure_client_library()
        client_class = resolve_class(client_class or getattr(self, "client_class"))  # noqa: B009
        try:
            client = client_class(hosts, **kwargs)
        except (TypeError, ValueError) as exc:
            # The client's own words may quote a value: scrub its secrets too,
            # and chain nothing that would show them again.
            raise ConfigurationError(
                self.scrub(
                    f"ES_SERVERS[{self.alias!r}]: the {self.client_name} client rejected "
                    f"HOSTS/PARAMS {self.describe_params()!r}: {exc}"
                )
            ) from None
        client.transport.query_log = self.query_log
        return client

    def ensure_client_library(self) -> None:
        problems = self.check_client_library()
        problems += self.check_params(self.alias, self.server["PARAMS"])
        for problem in scrub_problems(problems, secret_values(self.server)):
            if problem.level == "error":
                raise ConfigurationError(
                    f"ES_SERVERS[{self.alias!r}]: {problem.msg} {problem.hint or ''}".strip()
                )

    def configure_client(self) -> None:
        """Create the client from HOSTS and PARAMS and set ``self.client``."""
        raise NotImplementedError(f"{type(self).__name__} must implement configure_client()")

    @property
    def client(self) -> Any:
        """The raw client of the library underneath, created on first use."""
        if self._client is None:
            with self._client_lock:  # threads share the connection: build one client
                if self._client is None:
                    self.configure_client()
            if self._client is None:
                raise NotImplementedError(
                    f"{type(self).__name__}.configure_client() did not set self.client"
                )
        return self._client

    @client.setter
    def client(self, value: Any) -> None:
        self._client = value

    @cached_property
    def meta(self) -> MetaClientBase:
        """The meta client: ``indices``, ``cluster``, ``nodes`` and ``snapshot`` APIs."""
        return self.meta_client_class(self)

    def close(self) -> None:
        """Close the client's connection pool and the async clients (new ones on next use)."""
        client, self._client = self._client, None
        if client is not None:
            client.close()
        self.close_async_clients()

    # -- errors and responses -------------------------------------------------

    def translate_error(self, exc: Exception) -> DjangoesError | None:
        """The djangoes exception for a client exception, or None to let it through."""
        return None

    def unwrap_response(self, response: Any) -> Any:
        """Plain Python data (dicts, lists, bool) for a client response."""
        return response

    @contextmanager
    def wrap_errors(self) -> Iterator[None]:
        """Raise client errors as djangoes errors, chaining the original."""
        try:
            yield
        except DjangoesError:
            raise
        except Exception as exc:
            translated = self.translate_error(exc)
            if translated is None:
                raise
            raise translated from exc

    def _error(
        self, cls: type[TransportError], message: str, status: int | None, info: Any
    ) -> TransportError:
        return cls(f"[{self.alias}] {message}", status=status, info=info)

    # -- indices ----------------------------------------------------------------

    def get_indices(self) -> list[str]:
        """Names to search: each index's aliases if it has any, else its name."""
        names: list[str] = []
        for index in self.server_indices.values():
            for name in index["ALIASES"] or [index["NAME"]]:
                if name not in names:
                    names.append(name)
        return names

    def get_index_names(self) -> list[str]:
        """Names of the configured indices, without their aliases."""
        names: list[str] = []
        for index in self.server_indices.values():
            if index["NAME"] not in names:
                names.append(index["NAME"])
        return names

    def get_alias_names(self) -> list[str]:
        """Names of the configured aliases, without the indices."""
        names: list[str] = []
        for index in self.server_indices.values():
            for alias in index["ALIASES"]:
                if alias not in names:
                    names.append(alias)
        return names

    def get_indices_with_settings(self) -> dict[str, dict[str, Any] | None]:
        """``{index name: creation body}``: mapping file, SETTINGS and the index's ALIASES.

        The body is what today's engines accept: plain index settings given
        as SETTINGS come wrapped in ``{'settings': ...}``. ``None`` when there
        is nothing to send (as in djangoes 0.3 for an index without SETTINGS).
        """

        result: dict[str, dict[str, Any] | None] = {}
        for index in self.server_indices.values():
            body = index_creation_body(index)
            if index["ALIASES"]:
                aliases = dict(body.get("aliases") or {})
                for alias in index["ALIASES"]:
                    aliases.setdefault(alias, {})
                body["aliases"] = aliases
            result[index["NAME"]] = body or None
        return result

    def get_server_indices(self) -> dict[str, dict[str, Any] | None]:
        """Deprecated spelling of :meth:`get_indices_with_settings` (0.3 guide)."""
        warn_deprecated("get_server_indices() is deprecated: use get_indices_with_settings().")
        return self.get_indices_with_settings()

    @cached_property
    def indices(self) -> list[str]:
        """Cached :meth:`get_indices`."""
        return self.get_indices()

    @cached_property
    def index_names(self) -> list[str]:
        """Cached :meth:`get_index_names`."""
        return self.get_index_names()

    @cached_property
    def alias_names(self) -> list[str]:
        """Cached :meth:`get_alias_names`."""
        return self.get_alias_names()

    def get_index_settings(self, key: str) -> IndexSettings:
        """The settings of the index configured as ``key`` (its ES_INDICES key)."""
        for index in self.server_indices.values():
            if index["KEY"] == key:
                return index
        raise IndexDoesNotExist(
            key,
            f"Connection {self.alias!r} has no index {key!r}; its indices are "
            f"{list(self.server_indices)!r}.",
        )

    def create_indices(self, *, exist_ok: bool = False) -> list[str]:
        """Create every configured index with its SETTINGS and ALIASES; returns the names."""
        created: list[str] = []
        for name, body in self.get_indices_with_settings().items():
            if exist_ok and self.meta.indices.exists(index=name):
                continue
            self.meta.indices.create(index=name, body=body or None)
            created.append(name)
        return created

    def delete_indices(self, *, missing_ok: bool = True) -> list[str]:
        """Delete every configured index (and with it its aliases); returns the names."""
        deleted: list[str] = []
        for name in self.index_names:
            if missing_ok and not self.meta.indices.exists(index=name):
                continue
            self.meta.indices.delete(index=name)
            deleted.append(name)
        return deleted

    def refresh(self) -> None:
        """Make recent writes to this connection's indices searchable."""
        self.meta.indices.refresh(index=self.index_names)

    # -- the index-aware client API ------------------------------------------

    @cached_property
    def _target_names(self) -> dict[str, str]:
        """Every name a call may target -> the name to send (keys resolve to NAME)."""
        names: dict[str, str] = {}
        for index in self.server_indices.values():
            names[index["NAME"]] = index["NAME"]
            for alias in index["ALIASES"]:
                names[alias] = alias
        for index in self.server_indices.values():
            names.setdefault(index["KEY"], index["NAME"])
        return names

    def _resolve_index(self, api: str, index: Any) -> Any:
        allowed = self._target_names
        spec = SPECS[api]
        if spec.scope == "none":
            if index is not None:
                raise CallError(f"{api}() takes no index.")
            return None
        if index is None:
            if spec.scope == "multi":
                if not self.indices:
                    raise SingleIndexOperationError(
                        f"Connection {self.alias!r} has no INDICES configured, so {api}() has "
                        "no index to use. Add INDICES to its ES_SERVERS entry or pass index=."
                    )
                return list(self.indices)
            if len(self.server_indices) != 1:
                keys = list(self.server_indices)
                raise SingleIndexOperationError(
                    f"{api}() works on one index but connection {self.alias!r} has "
                    f"{len(keys)} indices ({', '.join(map(repr, keys)) or 'none'}). Pass "
                    "index= with one of them, or use a connection with a single index."
                )
            return next(iter(self.server_indices.values()))["NAME"]
        requested = [index] if isinstance(index, str) else index
        if not isinstance(requested, (list, tuple)) or not all(
            isinstance(n, str) for n in requested
        ):
            raise CallError(f"{api}() index= must be a name or a list of names, not {index!r}.")
        if spec.scope == "single" and len(requested) != 1:
            raise SingleIndexOperationError(f"{api}() works on one index; got {index!r}.")
        resolved = []
        for name in requested:
            if name not in allowed:
                raise IndexDoesNotExist(
                    name,
                    f"Connection {self.alias!r} has no index {name!r}: "
                    + (
                        f"it may only use {', '.join(map(repr, sorted(allowed)))}."
                        if allowed
                        else "its INDICES are empty."
                    )
                    + " Add the index to its INDICES.",
                )
            resolved.append(allowed[name])
        return resolved[0] if isinstance(index, str) else resolved

    def _check_body_targets(self, call: Call) -> None:
        """Every index a request body names must be one of this connection's.

        Bulk/mget/msearch lines, and in queries the lookups that read another
        index (``terms`` lookups, ``more_like_this`` documents, indexed shapes,
        ``percolate``): a body built from user input cannot read elsewhere.
        """
        allowed = self._target_names
        body = call.body
        lines: list[Any]
        if call.api in {"search", "count", "delete_by_query", "update_by_query"}:
            lines = list(_lookups_naming_indices(body))
        elif call.api == "msearch" and isinstance(body, (list, tuple)):
            lines = list(body[0::2])
            for query in body[1::2]:
                lines.extend(_lookups_naming_indices(query))
        elif call.api == "bulk" and isinstance(body, (list, tuple)):
            lines = [
                meta
                for line in body
                if isinstance(line, Mapping) and len(line) == 1
                for action, meta in line.items()
                if action in {"index", "create", "update", "delete"}
            ]
        elif call.api == "mget" and isinstance(body, Mapping):
            lines = list(body.get("docs") or [])
        else:
            return
        for meta in lines:
            if not isinstance(meta, Mapping):
                continue
            name = meta.get("_index", meta.get("index"))
            if name is None:
                continue
            for one in [name] if isinstance(name, str) else list(name):
                if one not in allowed:
                    raise IndexDoesNotExist(
                        str(one),
                        f"{call.api}() on connection {self.alias!r} names index {one!r}, which "
                        f"is not one of its indices ({', '.join(map(repr, sorted(allowed)))}).",
                    )

    def perform(self, call: Call) -> Any:
        """Send a normalised call through the client's keyword API.

        Keywords reach the client as given, so the client decides what goes
        into the body. A call that gives ``body=`` together with body fields
        is sent in the ``body=`` style (elasticsearch-py deprecates the mix).
        Backends on clients without a keyword API override this.
        """
        if call.body is not None and body_fields_given(call):
            call = with_fields_in_body(call)
        method: Callable[..., Any] = getattr(self.client, call.api)
        kwargs = dict(call.params)
        if call.body is not None:
            kwargs["body"] = call.body
        if SPECS[call.api].scope != "none":
            kwargs["index"] = call.index
        return method(**kwargs)

    def perform_bulk(self, body: bytes, *, timeout: float | None, refresh: bool | str) -> Any:
        """POST ``body`` (NDJSON lines naming their indexes) to ``_bulk``; the decoded answer.

        ``timeout`` is this request's own (None: the client's). The answer
        holds each item's status and error only (:data:`BULK_ANSWER_FIELDS`).
        The request is logged like any other; raises the djangoes
        ``TransportError`` family.
        """
        params: dict[str, Any] = {"refresh": refresh} if refresh else {}
        params["filter_path"] = BULK_ANSWER_FIELDS
        if timeout is not None:
            params["request_timeout"] = timeout
        with self.wrap_errors():
            return self.unwrap_response(self.client.bulk(body=body, **params))

    def scan(
        self, index: str, query: dict[str, Any], *, size: int, scroll: str = "5m"
    ) -> Iterator[dict[str, Any]]:
        """Every hit of ``query`` on ``index``, read with the client's ``helpers.scan``.

        A scroll, in pages of ``size``, in no particular order, cleared at the
        end (also when the iteration stops early). Raises the djangoes
        ``TransportError`` family, also when a page comes back without some of
        the index's shards (a node holding scroll contexts went away): the
        hits would not be every hit.
        """
        scan = import_string(f"{self.helpers_module}.scan")
        scan_error = import_string(f"{self.helpers_module}.ScanError")
        with self.wrap_errors():
            try:
                yield from scan(self.client, query=query, index=index, size=size, scroll=scroll)
            except scan_error as exc:
                raise self._error(
                    TransportError, f"scan of {index!r} stopped: {exc}", None, None
                ) from exc

    def _request(self, api: str, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        call = self._call_for(api, args, kwargs)
        with self.wrap_errors():
            response = self.perform(call)
        result = self.unwrap_response(response)
        if api == "exists":
            return bool(result)
        return result

    def search(self, *args: Any, **kwargs: Any) -> Any:
        """Search this connection's indices (``query=``, ``aggs=``... or ``body=``)."""
        return self._request("search", args, kwargs)

    def count(self, *args: Any, **kwargs: Any) -> Any:
        """Count the documents matching ``query`` in this connection's indices."""
        return self._request("count", args, kwargs)

    def msearch(self, *args: Any, **kwargs: Any) -> Any:
        """Several searches in one request (``searches=`` or ``body=``: header/body lines)."""
        return self._request("msearch", args, kwargs)

    def delete_by_query(self, *args: Any, **kwargs: Any) -> Any:
        """Delete the documents matching ``query`` in this connection's indices."""
        return self._request("delete_by_query", args, kwargs)

    def update_by_query(self, *args: Any, **kwargs: Any) -> Any:
        """Update the documents matching ``query`` in this connection's indices."""
        return self._request("update_by_query", args, kwargs)

    def index(self, *args: Any, **kwargs: Any) -> Any:
        """Index ``document`` (create or replace) under ``id`` in this connection's index."""
        return self._request("index", args, kwargs)

    def create(self, *args: Any, **kwargs: Any) -> Any:
        """Create ``document`` under ``id``; a ConflictError if it already exists."""
        return self._request("create", args, kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        """The document ``id``; NotFoundError if it does not exist."""
        return self._request("get", args, kwargs)

    def mget(self, *args: Any, **kwargs: Any) -> Any:
        """Several documents at once (``ids=`` or ``docs=``)."""
        return self._request("mget", args, kwargs)

    def exists(self, *args: Any, **kwargs: Any) -> bool:
        """Whether the document ``id`` exists."""
        return bool(self._request("exists", args, kwargs))

    def update(self, *args: Any, **kwargs: Any) -> Any:
        """Partially update the document ``id`` (``doc=``, ``upsert=``...)."""
        return self._request("update", args, kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        """Delete the document ``id``; NotFoundError if it does not exist."""
        return self._request("delete", args, kwargs)

    def bulk(self, *args: Any, **kwargs: Any) -> Any:
        """Send action/document lines (``operations=`` or ``body=``) to this connection's index."""
        return self._request("bulk", args, kwargs)

    def get_source(self, *args: Any, **kwargs: Any) -> Any:
        """The ``_source`` of the document ``id``; NotFoundError if it does not exist."""
        return self._request("get_source", args, kwargs)

    def explain(self, *args: Any, **kwargs: Any) -> Any:
        """How the document ``id`` scores for ``query``."""
        return self._request("explain", args, kwargs)

    def termvectors(self, *args: Any, **kwargs: Any) -> Any:
        """The term vectors of the document ``id`` (or of ``doc=``)."""
        return self._request("termvectors", args, kwargs)

    def termvector(self, *args: Any, **kwargs: Any) -> Any:
        """djangoes 0.3's name of :meth:`termvectors` (deprecated)."""
        warn_deprecated("termvector() is deprecated: the API is termvectors() now.")
        return self._request("termvectors", args, kwargs)

    def mtermvectors(self, *args: Any, **kwargs: Any) -> Any:
        """The term vectors of several documents (``ids=`` or ``docs=``)."""
        return self._request("mtermvectors", args, kwargs)

    def search_template(self, *args: Any, **kwargs: Any) -> Any:
        """Search this connection's indices with a template (``id=``/``source=``, ``params=``)."""
        return self._request("search_template", args, kwargs)

    def search_shards(self, *args: Any, **kwargs: Any) -> Any:
        """The shards a search of this connection's indices would run on."""
        return self._request("search_shards", args, kwargs)

    def scroll(self, *args: Any, **kwargs: Any) -> Any:
        """The next page of a scroll (``scroll_id=``, ``scroll=``)."""
        return self._request("scroll", args, kwargs)

    def clear_scroll(self, *args: Any, **kwargs: Any) -> Any:
        """Free a scroll's resources (``scroll_id=``)."""
        return self._request("clear_scroll", args, kwargs)

    def __getattr__(self, name: str) -> Any:
        # Methods of djangoes 0.3's backends whose API left the engines: calling
        # one says what replaced it (an AttributeError would say nothing).
        reason = REMOVED_METHODS.get(name)
        if reason is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

        def removed(*args: Any, **kwargs: Any) -> Any:
            raise RemovedAPIError(f"connection.{name}() no longer exists: {reason}")

        removed.__name__ = name
        return removed

    def ping(self) -> bool:
        """Whether the cluster answers."""
        try:
            with self.wrap_errors():
                return bool(self.client.ping())
        except TransportError:
            return False

    def info(self) -> Any:
        """The cluster's root document (name, version, distribution)."""
        with self.wrap_errors():
            return self.unwrap_response(self.client.info())

    # -- server checks (network; only when asked) -----------------------------

    def check_server(self) -> list[Problem]:
        """Problems found by asking the cluster: unreachable, refused, unsupported version.

        A cluster that does not answer is a warning (``djangoes.W101``): where
        ``check --deploy`` runs (a build container, CI) it is often out of
        reach, and that says nothing about the project. A cluster that answers
        with an error (credentials refused...) is an error (``djangoes.E101``),
        and so is an unsupported version (``djangoes.E102``).
        """
        try:
            info = self.info()
        except ConnectionError as exc:
            return [
                Problem(
                    "djangoes.W101",
                    self.scrub(
                        f"Connection {self.alias!r} cannot reach {self.server['HOSTS']!r} "
                        f"from here: {exc}"
                    ),
                    hint="The checks that ask the cluster (version, mappings) were skipped. "
                    "If the cluster should be reachable here, check HOSTS and PARAMS in "
                    "ES_SERVERS; run 'check --deploy --fail-level WARNING' to make this fail.",
                    level="warning",
                )
            ]
        except TransportError as exc:
            return [
                Problem(
                    "djangoes.E101",
                    self.scrub(
                        f"Connection {self.alias!r} reached {self.server['HOSTS']!r} but the "
                        f"cluster refused the request: {exc}"
                    ),
                    hint="Check the credentials and options in ES_SERVERS[...]['PARAMS'].",
                )
            ]
        return self.features.check_server_info(info)

    # -- the request log ------------------------------------------------------

    @property
    def queries(self) -> list[QueryEntry]:
        """Requests made by this connection (kept while ``settings.DEBUG`` is on)."""
        return list(self.query_log.entries)

    def reset_queries(self) -> None:
        self.query_log.reset()

    @property
    def force_debug(self) -> bool:
        """Keep :attr:`queries` even when ``settings.DEBUG`` is off."""
        return self.query_log.force_debug

    @force_debug.setter
    def force_debug(self, value: bool) -> None:
        self.query_log.force_debug = value

    def describe_params(self) -> dict[str, Any]:
        """PARAMS with secrets masked, for messages."""
        masked: dict[str, Any] = mask_secrets(self.server["PARAMS"])
        return masked

    def scrub(self, text: str) -> str:
        """``text`` without any secret of this connection's settings (for messages)."""
        return scrub(text, secret_values(self.server))


#: Methods of djangoes 0.3's connections whose API the engines removed -> what to use.
REMOVED_METHODS: dict[str, str] = {
    "percolate": "the percolate API was replaced by the 'percolate' query: search an index "
    "with a percolator field with query={'percolate': {...}}.",
    "count_percolate": "use count(query={'percolate': {...}}) on an index with a percolator field.",
    "mpercolate": "use msearch() with 'percolate' queries.",
    "mlt": "the more-like-this API was replaced by the 'more_like_this' query: "
    "search(query={'more_like_this': {...}}).",
    "suggest": "suggestions are part of the search request: search(suggest={...}).",
    "benchmark": "the benchmark API was never released by the engines; measure searches "
    "with search(profile=True).",
    "abort_benchmark": "the benchmark API was never released by the engines.",
    "list_benchmarks": "the benchmark API was never released by the engines.",
    "put_template": "search templates are stored scripts now: "
    "connection.client.put_script(id=..., script={'lang': 'mustache', 'source': ...}).",
    "get_template": "search templates are stored scripts now: "
    "connection.client.get_script(id=...).",
    "delete_template": "search templates are stored scripts now: "
    "connection.client.delete_script(id=...).",
    "put_script": "stored scripts belong to the cluster, not to the connection's indices: "
    "connection.client.put_script(id=..., script={...}).",
    "get_script": "use connection.client.get_script(id=...).",
    "delete_script": "use connection.client.delete_script(id=...).",
}


def _lookups_naming_indices(body: Any) -> Iterator[Mapping[str, Any]]:
    """The parts of a query body that make the engine read an index by name."""
    stack = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, (list, tuple)):
            stack.extend(node)
            continue
        if not isinstance(node, Mapping):
            continue
        for key, value in node.items():
            if key == "terms" and isinstance(value, Mapping):
                yield from (v for v in value.values() if isinstance(v, Mapping) and "index" in v)
            elif key in {"like", "unlike", "docs"} and isinstance(value, (list, tuple)):
                yield from (v for v in value if isinstance(v, Mapping) and "_index" in v)
            elif (
                key in {"indexed_shape", "percolate"}
                and isinstance(value, Mapping)
                and "index" in value
            ):
                yield value
            stack.append(value)


def import_backend_class(path: str) -> type[Base]:
    """The backend class named by ENGINE; ``ValueError`` saying why if it cannot be used."""
    try:
        importlib.import_module(path)
    except ImportError:
        pass  # not a module: the usual case, a dotted path to a class
    else:
        raise ValueError(
            f"{path!r} is a module; ENGINE is the dotted path of a backend class, e.g. "
            "'djangoes.backends.elasticsearch.SimpleHttpBackend'"
        )
    try:
        backend = import_string(path)
    except ImportError as exc:
        raise ValueError(f"{path!r} cannot be imported ({exc}){_known_backends(path)}") from None
    if not (isinstance(backend, type) and issubclass(backend, Base)):
        raise ValueError(f"{path!r} is not a subclass of djangoes.backends.abstracts.Base")
    return backend


def _known_backends(path: str) -> str:
    """' (it has A, B)': the backend classes of the module a bad ENGINE points into."""
    module_path = path.rpartition(".")[0]
    try:
        module = importlib.import_module(module_path)
    except ImportError:
        return ""
    names = sorted(
        name
        for name, obj in vars(module).items()
        if isinstance(obj, type)
        and issubclass(obj, Base)
        and obj.__module__ == module_path
        and not name.startswith("_")
    )
    return f" (it has {', '.join(names)})" if names else ""
