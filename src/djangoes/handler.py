"""The connection handler behind ``djangoes.connections`` and ``djangoes.connection``.

Like ``django.db.connections``: settings are read on first use (never at
import), validated once, copied; one connection per alias and per thread;
after a fork the child drops the connections it inherited so that no socket
is shared between processes; a change of ``ES_SERVERS`` / ``ES_INDICES``
(``override_settings``) resets everything.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings as django_settings

from djangoes.backends.abstracts import import_backend_class
from djangoes.backends.querylog import make_live_guard
from djangoes.compat import translate_search_settings
from djangoes.conf import (
    DEFAULT_ES_ALIAS,
    IndexSettings,
    Problem,
    ServerSettings,
    Settings,
    parse,
    scrub_problems,
)
from djangoes.exceptions import ConnectionDoesNotExist, IndexDoesNotExist
from djangoes.options import Options, parse_options
from djangoes.redact import secret_values

if TYPE_CHECKING:
    from djangoes.backends.abstracts import Base

__all__ = ["DEFAULT_ES_ALIAS", "ConnectionHandler", "ConnectionProxy"]

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
        self._generation = 0
        self._local = threading.local()
        self._pid = os.getpid()
        self._test_names: TestNames | None = None
        self._receiver_connected = False

    # -- settings --------------------------------------------------------------

    def _connect_receiver(self) -> None:
        if self._receiver_connected or self._explicit:
            return
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
            translated.options, parsed.problems, setting="SEARCH_SETTINGS['settings']"
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
        """Normalised ES_SERVERS (a copy; changing it changes nothing)."""
        return copy.deepcopy(self.settings.servers)

    @property
    def indices(self) -> dict[str, IndexSettings]:
        """Normalised ES_INDICES with live names (a copy)."""
        return copy.deepcopy(self.settings.indices)

    def reset(self) -> None:
        """Forget the parsed settings and every connection (all threads)."""
        with self._lock:
            self._parsed = None
            self._generation += 1
        self.close_all()
        self._local = threading.local()

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

    # -- test names ------------------------------------------------------------

    @property
    def test_names(self) -> TestNames | None:
        """The active test mode, or None when live names are in use."""
        return self._test_names

    def use_test_names(self, suffix: str = "") -> TestNames | None:
        """Switch every connection to the TEST names (plus ``suffix``); returns the old mode."""
        previous = self._test_names
        self._test_names = TestNames(suffix)
        self._drop_connections()
        return previous

    def use_live_names(self, previous: TestNames | None = None) -> None:
        """Leave test mode (or go back to ``previous``, as returned by use_test_names)."""
        self._test_names = previous
        self._drop_connections()

    def _drop_connections(self) -> None:
        with self._lock:
            self._generation += 1
        self.close_all()

    def _index_for_mode(self, index: IndexSettings) -> IndexSettings:
        index = copy.deepcopy(index)
        mode = self._test_names
        if mode is not None:
            index["NAME"] = index["TEST"]["NAME"] + mode.suffix
            index["ALIASES"] = [a + mode.suffix for a in index["TEST"]["ALIASES"]]
        return index

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
        """Drop inherited connections if the PID changed (we are in a forked child)."""
        pid = os.getpid()
        if pid != self._pid:
            self._pid = pid
            self._local = threading.local()

    def load_backend(self, alias: str) -> Base:
        """Create (not cache) the connection for ``alias``."""
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
        keys = server["INDICES"]
        if self._test_names is not None and server["TEST"]["INDICES"] is not None:
            keys = server["TEST"]["INDICES"]
        indices = [self._index_for_mode(parsed.indices[key]) for key in keys]
        backend = backend_class(alias, server, indices)
        backend.ensure_client_library()
        if self._test_names is not None:
            live, replacement = self._live_guard_names()
            live -= {n for i in indices for n in (i["NAME"], *i["ALIASES"])}
            backend.query_log.guard = make_live_guard(alias, live, replacement)
        return backend

    def _cache(self) -> dict[str, Base]:
        self.check_for_multiprocess()
        local = self._local
        if getattr(local, "generation", None) != self._generation:
            for conn in getattr(local, "connections", {}).values():
                conn.close()
            local.connections = {}
            local.generation = self._generation
        connections: dict[str, Base] = local.connections
        return connections

    def __getitem__(self, alias: str) -> Base:
        cache = self._cache()
        try:
            return cache[alias]
        except KeyError:
            pass
        conn = self.load_backend(alias)
        cache[alias] = conn
        return conn

    def __setitem__(self, alias: str, conn: Base) -> None:
        self._cache()[alias] = conn

    def __delitem__(self, alias: str) -> None:
        del self._cache()[alias]

    def __contains__(self, alias: object) -> bool:
        return alias in self.settings.servers

    def __iter__(self) -> Iterator[str]:
        self.settings.raise_first_error()
        return iter(list(self.settings.servers))

    def all(self, initialized_only: bool = False) -> list[Base]:
        """Every configured connection (or only those already created in this thread)."""
        if initialized_only:
            return list(self._cache().values())
        return [self[alias] for alias in self]

    def close_all(self) -> None:
        """Close the connections of this thread (they reopen on next use)."""
        local = self._local
        if getattr(local, "generation", None) is None:
            return
        for conn in list(getattr(local, "connections", {}).values()):
            conn.close()
        local.connections = {}

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
    """A stand-in for ``connections[alias]`` that always uses the current thread's connection."""

    def __init__(self, connections: ConnectionHandler, alias: str) -> None:
        self.__dict__["_connections"] = connections
        self.__dict__["_alias"] = alias

    def _conn(self) -> Base:
        return self._connections[self._alias]  # type: ignore[no-any-return]

    def __getattr__(self, item: str) -> Any:
        return getattr(self._conn(), item)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._conn(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self._conn(), name)

    def __contains__(self, key: str) -> bool:
        return key in self._conn()  # type: ignore[operator]

    def __eq__(self, other: object) -> bool:
        return self._conn() == other

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<ConnectionProxy {self._alias!r}: {self._conn()!r}>"

    def __dir__(self) -> list[str]:
        return dir(self._conn())
