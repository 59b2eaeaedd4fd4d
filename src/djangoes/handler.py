"""The connection handler behind ``djangoes.connections`` and ``djangoes.connection``.

Like ``django.db.connections``: settings are read on first use (never at
import), validated once, copied; a change of ``ES_SERVERS`` / ``ES_INDICES``
(``override_settings``) resets everything. Unlike database connections,
search clients are thread-safe pools: there is one connection (one client)
per alias and per process, shared by its threads, the way django-redis keeps
one pool per process. After a fork the child drops the connections it
inherited and builds its own, so no socket is shared between processes.

The handler also keeps djangoes 0.3's methods (``ensure_server_defaults``,
``prepare_index_test_settings``, ``get_server_indices``...): they work on the
handler's own normalised copies of the settings, never on the user's dicts.
"""

from __future__ import annotations

import copy
import os
import threading
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings as django_settings

from djangoes.backends.abstracts import import_backend_class
from djangoes.backends.querylog import make_live_guard
from djangoes.compat import SETTING_KEYS, translate_search_settings
from djangoes.conf import (
    DEFAULT_ES_ALIAS,
    IndexSettings,
    Problem,
    ServerSettings,
    ServerTestSettings,
    Settings,
    index_defaults,
    parse,
    scrub_problems,
    server_defaults,
)
from djangoes.exceptions import ConfigurationError, ConnectionDoesNotExist, IndexDoesNotExist
from djangoes.options import Options, parse_options
from djangoes.redact import secret_values

if TYPE_CHECKING:
    from djangoes.backends.abstracts import Base

__all__ = ["DEFAULT_ES_ALIAS", "ConnectionHandler", "ConnectionProxy", "load_backend"]

SETTING_NAMES = frozenset({"ES_SERVERS", "ES_INDICES", "DJANGOES", "SEARCH_SETTINGS", "BASE_DIR"})


@dataclass(frozen=True)
class TestNames:
    """Test mode: which suffix is added to every test index and alias name."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    suffix: str = ""


class ConnectionHandler:
    """Connections to the search engine, configured by ES_SERVERS and ES_INDICES.

    ``servers`` / ``indices`` default to the two settings; passing them builds
    a handler independent of the settings (useful in scripts and tests).
    """

    def __init__(
        self,
        servers: Mapping[str, Any] | None = None,
        indices: Mapping[str, Any] | None = None,
    ) -> None:
        self._explicit = servers is not None or indices is not None
        self._servers_arg = servers
        self._indices_arg = indices
        self._lock = threading.RLock()
        self._parsed: Settings | None = None
        #: This process's connections, shared by its threads.
        self._connections: dict[str, Base] = {}
        #: Every connection made by load_backend in this process, for name switches.
        self._made: weakref.WeakSet[Base] = weakref.WeakSet()
        self._pid = os.getpid()
        self._test_names: TestNames | None = None
        self._receiver_connected = False

    # -- settings --------------------------------------------------------------

    def _connect_receiver(self) -> None:
        if self._receiver_connected or self._explicit:
            return
        # django.test is heavy to import: only when settings are first read
        from django.test.signals import setting_changed

        setting_changed.connect(
            self._setting_changed, weak=False, dispatch_uid=f"djangoes-handler-{id(self)}"
        )
        self._receiver_connected = True

    def _setting_changed(self, *, setting: str, **kwargs: Any) -> None:
        if setting in SETTING_NAMES:
            self.reset()

    @property
    def settings(self) -> Settings:
        """The parsed settings (normalised copies and the problems found)."""
        parsed = self._parsed
        if parsed is None:
            with self._lock:
                if self._parsed is None:
                    self._connect_receiver()
                    self._parsed = self._read_settings()
                parsed = self._parsed
        return parsed

    def _read_settings(self) -> Settings:
        """Parse the settings: djangoes' own, or elasticsearch-django's SEARCH_SETTINGS."""
        if self._explicit:
            parsed = parse(self._servers_arg, self._indices_arg)
            parsed.options = parse_options(None, parsed.problems)
            return parsed
        own = {
            name: getattr(django_settings, name)
            for name in ("ES_SERVERS", "ES_INDICES", "DJANGOES")
            if getattr(django_settings, name, None) is not None
        }
        legacy = getattr(django_settings, "SEARCH_SETTINGS", None)
        if legacy is None:
            parsed = parse(own.get("ES_SERVERS"), own.get("ES_INDICES"))
            parsed.options = parse_options(own.get("DJANGOES"), parsed.problems)
            return parsed
        problems: list[Problem] = []
        if own:
            problems.append(
                Problem(
                    "djangoes.E203",
                    f"Both SEARCH_SETTINGS (elasticsearch-django) and {', '.join(own)} are set.",
                    hint="Keep one style: translate SEARCH_SETTINGS as the migration guide shows, "
                    "or remove the djangoes settings.",
                )
            )
        translated = translate_search_settings(legacy, problems)
        parsed = parse(translated.servers, translated.indices)
        parsed.problems = scrub_problems([*problems, *parsed.problems], secret_values(legacy))
        parsed.options = parse_options(
            translated.options,
            parsed.problems,
            setting="SEARCH_SETTINGS['settings']",
            names={option: key for key, option in SETTING_KEYS.items()},
        )
        return parsed

    @property
    def options(self) -> Options:
        """The DJANGOES setting, parsed (defaults for what is not set)."""
        options = self.settings.options
        assert options is not None
        return options

    @property
    def servers(self) -> dict[str, ServerSettings]:
        """ES_SERVERS, normalised: the handler's own copy (the setting is never changed).

        Connections are made from it: changing an entry here changes the
        connections made afterwards (``del connections[alias]`` makes one
        anew), as in djangoes 0.3. Raises ConfigurationError (an
        ``ImproperlyConfigured``) when the settings are wrong, e.g. without a
        ``'default'`` server.
        """
        parsed = self.settings
        parsed.raise_first_error()
        return parsed.servers

    @property
    def indices(self) -> dict[str, IndexSettings]:
        """ES_INDICES, normalised, with live names: the handler's own copy (see :attr:`servers`)."""
        parsed = self.settings
        parsed.raise_first_error()
        return parsed.indices

    def reset(self) -> None:
        """Forget the parsed settings and close every connection of this process."""
        with self._lock:
            self._parsed = None
            connections, self._connections = self._connections, {}
        for conn in connections.values():
            conn.close()

    def check_problems(self) -> list[Problem]:
        """Every configuration problem, for the system checks (no network)."""
        parsed = self.settings
        problems = list(parsed.problems)
        for alias, server in parsed.servers.items():
            try:
                backend = import_backend_class(server["ENGINE"])
            except ValueError as exc:
                problems.append(_engine_problem(alias, server["ENGINE"], exc))
                continue
            problems.extend(backend.check_client_library())
            problems.extend(
                scrub_problems(backend.check_params(alias, server["PARAMS"]), secret_values(server))
            )
            if not backend.uses_hosts and server["HOSTS"] != ["http://localhost:9200"]:
                problems.append(
                    Problem(
                        "djangoes.W002",
                        f"ES_SERVERS[{alias!r}]['HOSTS'] is ignored by {server['ENGINE']}.",
                        hint="The embedded engine picks its own loopback address; remove HOSTS.",
                        level="warning",
                    )
                )
        return problems

    # -- djangoes 0.3 -----------------------------------------------------------

    def ensure_server_defaults(self, alias: str) -> None:
        """Put the defaults into the handler's settings for server ``alias``.

        Settings are normalised when read, so this only restores keys removed
        from :attr:`servers` since. Raises ConnectionDoesNotExist for an alias
        ES_SERVERS does not have.
        """
        server = self._server(alias)
        for key, value in server_defaults().items():
            server.setdefault(key, value)  # type: ignore[misc]

    def ensure_index_defaults(self, alias: str) -> None:
        """Put the defaults into the handler's settings for index ``alias`` (an ES_INDICES key).

        Raises IndexDoesNotExist for a key ES_INDICES does not have.
        """
        index = self._index(alias)
        for key, value in index_defaults(alias, index.get("NAME") or alias).items():
            index.setdefault(key, value)  # type: ignore[misc]

    def prepare_server_test_settings(self, alias: str) -> None:
        """Make sure server ``alias`` has its ``TEST`` settings (``INDICES``)."""
        server = self._server(alias)
        test = server.setdefault("TEST", ServerTestSettings(INDICES=None))
        test.setdefault("INDICES", None)

    def prepare_index_test_settings(self, alias: str) -> None:
        """Make sure index ``alias`` has its ``TEST`` settings, and that they are not live names.

        Raises IndexDoesNotExist for an unknown key, and ConfigurationError
        (an ``ImproperlyConfigured``) when the test NAME or an alias of TEST
        ALIASES is a live name.
        """
        self.ensure_index_defaults(alias)
        index = self._index(alias)
        defaults = index_defaults(alias, index["NAME"], index["ALIASES"])["TEST"]
        test = index.setdefault("TEST", defaults)
        for key, value in defaults.items():
            test.setdefault(key, value)  # type: ignore[misc]
        live = {index["NAME"], *index["ALIASES"]}
        for name in (test["NAME"], *test["ALIASES"]):
            if name in live:
                raise ConfigurationError(
                    f"ES_INDICES[{alias!r}]['TEST'] uses the live name {name!r}: tests would "
                    "write to the live index. Give TEST a NAME and ALIASES different from "
                    "NAME and ALIASES."
                )

    def get_server_indices(self, server: Mapping[str, Any]) -> dict[str, IndexSettings]:
        """``{key: index settings}`` of the indices a server entry lists in ``INDICES``.

        ``server`` need not be one of :attr:`servers` (only its ``INDICES`` is
        read). Each index gets its defaults and test settings prepared; the
        result holds copies. Raises IndexDoesNotExist for a key ES_INDICES
        does not have.
        """
        result: dict[str, IndexSettings] = {}
        for key in server.get("INDICES") or []:
            self.prepare_index_test_settings(key)
            result[key] = copy.deepcopy(self._index(key))
        return result

    def _server(self, alias: str) -> ServerSettings:
        servers = self.servers
        try:
            return servers[alias]
        except KeyError:
            raise ConnectionDoesNotExist(alias, list(servers)) from None

    def _index(self, key: str) -> IndexSettings:
        indices = self.indices
        try:
            return indices[key]
        except KeyError:
            raise IndexDoesNotExist(
                key,
                f"ES_INDICES has no index {key!r}; configured: "
                f"{', '.join(map(repr, indices)) or 'none'}.",
            ) from None

    # -- test names ------------------------------------------------------------

    @property
    def test_names(self) -> TestNames | None:
        """The active test mode, or None when live names are in use."""
        return self._test_names

    def use_test_names(self, suffix: str = "") -> TestNames | None:
        """Switch every connection to the TEST names (plus ``suffix``); returns the old mode.

        Connection objects taken before the switch switch too: none of them
        can reach a live index afterwards.
        """
        with self._lock:
            previous = self._test_names
            self._test_names = TestNames(suffix)
            self._switch_names()
        return previous

    def use_live_names(self, previous: TestNames | None = None) -> None:
        """Leave test mode (or go back to ``previous``, as returned by use_test_names)."""
        with self._lock:
            self._test_names = previous
            self._switch_names()

    def _switch_names(self) -> None:
        """Give every connection of this process the names of the current mode."""
        for conn in list(self._made):
            # When its settings are gone (override_settings ended) a connection
            # keeps the names it had: the guard then refuses them too.
            try:
                conn.set_server_indices(self._indices_for(conn.server))
            except (IndexDoesNotExist, ConfigurationError):
                self._guard(conn, own_names_live=True)
            else:
                self._guard(conn)

    def _index_for_mode(self, index: IndexSettings) -> IndexSettings:
        index = copy.deepcopy(index)
        mode = self._test_names
        if mode is not None:
            index["NAME"] = index["TEST"]["NAME"] + mode.suffix
            index["ALIASES"] = [a + mode.suffix for a in index["TEST"]["ALIASES"]]
            if index["TEST"]["SETTINGS"] is not None:
                index["SETTINGS"] = copy.deepcopy(index["TEST"]["SETTINGS"])
        return index

    def _indices_for(self, server: ServerSettings) -> dict[str, IndexSettings]:
        """The indices of ``server`` in the current mode (TEST INDICES under test)."""
        parsed = self.settings
        parsed.raise_first_error()
        keys = server["INDICES"]
        if self._test_names is not None and server["TEST"]["INDICES"]:
            keys = server["TEST"]["INDICES"]
        indices: dict[str, IndexSettings] = {}
        for key in keys:
            if key not in parsed.indices:
                raise IndexDoesNotExist(
                    key,
                    f"ES_INDICES has no index {key!r}; configured: "
                    f"{', '.join(map(repr, parsed.indices)) or 'none'}.",
                )
            indices[key] = self._index_for_mode(parsed.indices[key])
        return indices

    def _guard(self, conn: Base, *, own_names_live: bool = False) -> None:
        """Under test names, make ``conn`` refuse requests to any live index name."""
        if self._test_names is None:
            conn.query_log.guard = None
            return
        live, replacement = self._live_guard_names()
        own = {n for i in conn.server_indices.values() for n in (i["NAME"], *i["ALIASES"])}
        live = live | own if own_names_live else live - own
        conn.query_log.guard = make_live_guard(conn.alias, live, replacement)

    def index_settings(self, key: str) -> IndexSettings:
        """ES_INDICES[key] normalised, with the names in effect (test names in tests)."""
        parsed = self.settings
        parsed.raise_first_error()
        try:
            return self._index_for_mode(parsed.indices[key])
        except KeyError:
            raise IndexDoesNotExist(
                key,
                f"ES_INDICES has no index {key!r}; configured: "
                f"{', '.join(map(repr, parsed.indices)) or 'none'}.",
            ) from None

    def _live_guard_names(self) -> tuple[set[str], dict[str, str]]:
        live: set[str] = set()
        replacement: dict[str, str] = {}
        mode = self._test_names or TestNames()
        for index in self.settings.indices.values():
            live.add(index["NAME"])
            replacement[index["NAME"]] = index["TEST"]["NAME"] + mode.suffix
            for alias, test_alias in zip(index["ALIASES"], index["TEST"]["ALIASES"], strict=False):
                live.add(alias)
                replacement[alias] = test_alias + mode.suffix
        return live, replacement

    # -- connections -------------------------------------------------------------

    def check_for_multiprocess(self) -> None:
        """Drop inherited connections if the PID changed (we are in a forked child).

        They are forgotten, not closed: their sockets belong to the parent.
        """
        pid = os.getpid()
        if pid != self._pid:
            with self._lock:
                if pid != self._pid:
                    self._pid = pid
                    self._connections = {}
                    self._made = weakref.WeakSet()

    def load_backend(self, alias: str) -> Base:
        """Create (not cache) the connection for ``alias``, with the names in effect.

        Raises ConnectionDoesNotExist for an unknown alias and
        ConfigurationError (an ``ImproperlyConfigured``) for wrong settings or
        an unusable ENGINE.
        """
        parsed = self.settings
        parsed.raise_first_error()
        try:
            server = copy.deepcopy(parsed.servers[alias])
        except KeyError:
            raise ConnectionDoesNotExist(alias, list(parsed.servers)) from None
        try:
            backend_class = import_backend_class(server["ENGINE"])
        except ValueError as exc:
            raise _engine_problem(alias, server["ENGINE"], exc).as_exception() from None
        backend = backend_class(alias, server, self._indices_for(server))
        backend.ensure_client_library()
        with self._lock:
            self._guard(backend)
            self._made.add(backend)
        return backend

    def __getitem__(self, alias: str) -> Base:
        self.check_for_multiprocess()
        try:
            return self._connections[alias]
        except KeyError:
            pass
        with self._lock:
            conn = self._connections.get(alias)
            if conn is None:
                conn = self.load_backend(alias)
                self._connections[alias] = conn
        return conn

    def __setitem__(self, alias: str, conn: Base) -> None:
        from djangoes.backends.abstracts import Base

        if not isinstance(conn, Base):
            raise TypeError(
                f"connections[{alias!r}] = ... takes a djangoes connection (a "
                "djangoes.backends.Base, such as connections.load_backend(alias) returns), "
                f"not {type(conn).__name__}: the handler keeps connections only."
            )
        self.check_for_multiprocess()
        with self._lock:
            self._connections[alias] = conn
            self._made.add(conn)
            self._guard(conn)

    def __delitem__(self, alias: str) -> None:
        self.check_for_multiprocess()
        with self._lock:
            del self._connections[alias]

    def __contains__(self, alias: object) -> bool:
        return alias in self.settings.servers

    def __iter__(self) -> Iterator[str]:
        self.settings.raise_first_error()
        return iter(list(self.settings.servers))

    def all(self, initialized_only: bool = False) -> list[Base]:
        """Every configured connection (or only those already made in this process)."""
        if initialized_only:
            self.check_for_multiprocess()
            return list(self._connections.values())
        return [self[alias] for alias in self]

    def close_all(self) -> None:
        """Close the clients of every connection of this process (they reopen on next use)."""
        self.check_for_multiprocess()
        for conn in list(self._connections.values()):
            conn.close()

    async def aclose_all(self) -> None:
        """Close the async clients of every connection for the running event loop."""
        for conn in self.all(initialized_only=True):
            await conn.aclose()

    def reset_queries(self) -> None:
        """Empty ``queries`` of this thread's connections (done at each HTTP request)."""
        for conn in self.all(initialized_only=True):
            conn.reset_queries()

    def alias_for_index(self, key: str) -> str:
        """The connection that holds index ``key``: 'default' if it does, else the first."""
        parsed = self.settings
        parsed.raise_first_error()
        holders = [a for a, s in parsed.servers.items() if key in s["INDICES"]]
        if not holders:
            used = sorted({k for s in parsed.servers.values() for k in s["INDICES"]})
            raise IndexDoesNotExist(
                key,
                f"No connection in ES_SERVERS has the index {key!r} in its INDICES "
                f"(indices in use: {used}).",
            )
        return DEFAULT_ES_ALIAS if DEFAULT_ES_ALIAS in holders else holders[0]


def load_backend(backend_class_path: str) -> type[Base]:
    """The backend class named by a dotted path (an ENGINE value), as in djangoes 0.3.

    Raises ConfigurationError (an ``ImproperlyConfigured``) saying why the
    path cannot be used.
    """
    try:
        return import_backend_class(backend_class_path)
    except ValueError as exc:
        raise ConfigurationError(
            f"{backend_class_path!r} isn't an available djangoes backend: {exc}."
        ) from None


def _engine_problem(alias: str, engine: str, exc: Exception) -> Problem:
    return Problem(
        "djangoes.E005",
        f"ES_SERVERS[{alias!r}]['ENGINE'] = {engine!r} cannot be used: {exc}.",
        hint="Use one of djangoes.backends.elasticsearch.SimpleHttpBackend, "
        "djangoes.backends.opensearch.SimpleHttpBackend, "
        "djangoes.backends.embedded.EmbeddedBackend, or your own subclass of "
        "djangoes.backends.abstracts.Base.",
    )


class ConnectionProxy:
    """A stand-in for ``connections[alias]`` that always uses the handler's current connection.

    ``ConnectionProxy(connections, alias)`` as in Django; djangoes 0.3's
    ``ConnectionProxy(alias)`` proxies ``djangoes.connections``.
    """

    def __init__(
        self, connections: ConnectionHandler | str | None, alias: str | None = None
    ) -> None:
        if alias is None and not isinstance(connections, ConnectionHandler):
            connections, alias = None, connections or DEFAULT_ES_ALIAS
        self.__dict__["_connections"] = connections
        self.__dict__["_alias"] = alias or DEFAULT_ES_ALIAS

    def _conn(self) -> Base:
        handler = self._connections
        if handler is None:
            from djangoes import connections as handler  # the package's handler, made after us
        return handler[self._alias]  # type: ignore[no-any-return]

    def __getattr__(self, item: str) -> Any:
        return getattr(self._conn(), item)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._conn(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self._conn(), name)

    def __contains__(self, key: str) -> bool:
        return key in self._conn()  # type: ignore[attr-defined]

    def __eq__(self, other: object) -> bool:
        return self._conn() == other

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<ConnectionProxy {self._alias!r}: {self._conn()!r}>"

    def __dir__(self) -> list[str]:
        return dir(self._conn())
