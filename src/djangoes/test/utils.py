"""Test names and test indices: what the runner, the test cases and the pytest plugin share.

Under test, every connection uses the ``TEST`` names of its indices
(``test_<name>`` unless configured) instead of the live ones, and refuses any
request that targets a live index name with
:class:`~djangoes.exceptions.LiveIndexAccessError`:

>>> previous = setup_djangoes()
>>> connection.index_names
['test_blog']
>>> teardown_djangoes(previous)

Parallel runs get one set of names per worker process: a pytest-xdist worker
adds its id (``test_blog_gw0``), a worker of ``manage.py test --parallel``
its number among the run's workers (``test_blog_1``); see :func:`worker_suffix`.

The test indices themselves are created with :func:`create_test_indices` and
removed with :func:`delete_test_indices`, by the lifecycle code behind
``create_search_index`` and ``delete_search_index`` (so a test index is laid
out as in production: NAME an alias of ``<NAME>-<timestamp>``);
:func:`temporary_test_indices` does both around a block. Both refuse to run
outside test mode, so they can never touch a live index.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import sys
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Literal

from djangoes import connections
from djangoes.conf import index_name_error
from djangoes.exceptions import DjangoesError, NotFoundError
from djangoes.indexing import IndexExistsError, create_index, delete_index

if TYPE_CHECKING:
    from djangoes.backends.abstracts import Base
    from djangoes.handler import ConnectionHandler, TestNames

__all__ = [
    "AllConnections",
    "TestModeRequired",
    "create_test_indices",
    "delete_test_indices",
    "ensure_test_names",
    "setup_djangoes",
    "teardown_djangoes",
    "temporary_test_indices",
    "worker_suffix",
    "write_pending_query_log",
]

logger = logging.getLogger("djangoes.test")

#: Every configured connection (the default of the ``aliases`` arguments).
AllConnections = Literal["__all__"]
ALL: AllConnections = "__all__"

_UNSAFE_SUFFIX_CHARS = re.compile(r"[^a-z0-9_-]+")


class TestModeRequired(DjangoesError, RuntimeError):
    """A test-index helper was called while the connections use live names."""

    __test__ = False  # not a test class, whatever pytest's name patterns say


def _handler(handler: ConnectionHandler | None) -> ConnectionHandler:
    if handler is not None:
        return handler

    return connections


# -- test names ------------------------------------------------------------------


def worker_suffix() -> str:
    """The suffix that keeps this process's test indices apart from other workers'.

    Returns ``'_gw0'`` in pytest-xdist worker ``gw0`` (``PYTEST_XDIST_WORKER``),
    ``'_1'``, ``'_2'``... in the worker processes of ``manage.py test
    --parallel`` (their number among the processes the run started), both
    joined in the unlikely case of both, and ``''`` in a single test process.
    """
    suffix = ""
    xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if xdist_worker:
        # Index names are lower case with few allowed characters; xdist ids
        # ("gw0") already are, but the variable is free text.
        suffix += "_" + _UNSAFE_SUFFIX_CHARS.sub("_", xdist_worker.lower())
    number = _process_number()
    if number:
        suffix += f"_{number}"
    return suffix


#: The end of the name multiprocessing gives a process it numbers:
#: ``Process-N1:...:Nk``, Nk its rank among its parent's children.
_PROCESS_NUMBER = re.compile(r"-(\d+(?::\d+)*)$")


def _process_number() -> str:
    """This process's number among those its parent started with :mod:`multiprocessing`.

    Django's ``--parallel`` workers are such processes, forked or spawned:
    ``'1'``, ``'2'``... for the workers of one run (``'1_2'`` for the second
    child of the first, should one start its own). ``''`` in a process not
    started by multiprocessing (a plain test run, a pytest-xdist worker).
    A process its creator gave a name of its own is told apart by its
    process id.

    Only public :mod:`multiprocessing` API: :func:`~multiprocessing.parent_process`
    and the documented default name of a process.
    """
    if multiprocessing.parent_process() is None:
        return ""
    found = _PROCESS_NUMBER.search(multiprocessing.current_process().name)
    if found is None:
        return str(os.getpid())
    return found.group(1).replace(":", "_")


def _check_suffix(suffix: str) -> None:
    if not isinstance(suffix, str):
        raise TypeError(f"The test name suffix must be a string, not {type(suffix).__name__}.")
    if not suffix:
        return
    error = index_name_error("test" + suffix)
    if error:
        raise ValueError(
            f"The test name suffix {suffix!r} would make invalid index names: a name {error}. "
            "Use lower-case letters, digits, '_' and '-'."
        )


def setup_djangoes(
    suffix: str | None = None, *, handler: ConnectionHandler | None = None
) -> TestNames | None:
    """Switch every connection to its test names, in this whole process.

    ``suffix`` is added to every test index and alias name; ``None`` (the
    default) uses :func:`worker_suffix`. Connections already open are dropped
    and come back with the test names on next use; while test names are in
    use, a request to a live index name raises
    :class:`~djangoes.exceptions.LiveIndexAccessError`.

    Returns the previous state, to give to :func:`teardown_djangoes`. Raises
    ``ValueError`` if ``suffix`` would make invalid index names.
    """
    if suffix is None:
        suffix = worker_suffix()
    _check_suffix(suffix)
    return _handler(handler).use_test_names(suffix)


def teardown_djangoes(state: TestNames | None, *, handler: ConnectionHandler | None = None) -> None:
    """Undo :func:`setup_djangoes`: go back to ``state`` (live names when it is ``None``)."""
    _handler(handler).use_live_names(state)


@contextmanager
def ensure_test_names(
    suffix: str | None = None, *, handler: ConnectionHandler | None = None
) -> Iterator[TestNames]:
    """Test names for the block: switch to them unless they are already in use.

    When a runner or fixture has already switched (possibly with its own
    suffix), nothing changes and nothing is undone afterwards; otherwise this
    is :func:`setup_djangoes` (``suffix`` as there) and
    :func:`teardown_djangoes` around the block. Yields the test names in
    effect.
    """
    conns = _handler(handler)
    active = conns.test_names
    if active is not None:
        yield active
        return
    previous = setup_djangoes(suffix, handler=conns)
    try:
        current = conns.test_names
        assert current is not None  # set just above
        yield current
    finally:
        teardown_djangoes(previous, handler=conns)


# -- test indices ----------------------------------------------------------------

#: Where an index lives: the same HOSTS (or the same self-hosting ENGINE) is the same cluster.
ClusterKey = tuple[str, ...]


def _cluster_key(conn: Base) -> ClusterKey:
    if not conn.uses_hosts:
        # Backends that pick their own address (the embedded engine) ignore
        # HOSTS: the same ENGINE with the same PARAMS reaches the same engine.
        # (Keys are never shown, so PARAMS secrets stay here.)
        params = repr(sorted(conn.server["PARAMS"].items()))
        return ("engine", conn.server["ENGINE"], params)
    return ("hosts", *sorted(conn.server["HOSTS"]))


def _selected(conns: ConnectionHandler, aliases: Collection[str] | AllConnections) -> list[Base]:
    if conns.test_names is None:
        raise TestModeRequired(
            "The connections use live index names, so test indices cannot be created or "
            "deleted. Switch to test names first: use djangoes.test.runner.DiscoverRunner "
            "or the djangoes test cases, call djangoes.test.utils.setup_djangoes(), or "
            "wrap the code in djangoes.test.utils.ensure_test_names()."
        )
    if aliases == ALL:
        return conns.all()
    if isinstance(aliases, str):
        raise TypeError(
            f"aliases must be a collection of connection aliases or '__all__', not the "
            f"string {aliases!r} (did you mean [{aliases!r}]?)."
        )
    return [conns[alias] for alias in aliases]


def create_test_indices(
    aliases: Collection[str] | AllConnections = ALL,
    *,
    handler: ConnectionHandler | None = None,
) -> list[str]:
    """Create the test indices of the connections, laid out as production lays them out.

    Each index is created by :func:`djangoes.indexing.create_index`, the code
    behind ``create_search_index``: a physical index ``<test NAME>-<timestamp>``
    with its mapping file and SETTINGS (or ``TEST['SETTINGS']``), the test NAME
    and test ALIASES as its aliases. ``aliases`` selects connections
    (default: all). An index that several connections share on the same
    cluster is created once. An index left over by an interrupted run (same
    test name) is deleted and created afresh. If one creation fails, the
    indices created so far are deleted again before the error propagates.

    Returns the test NAMEs created, in order. Raises :class:`TestModeRequired`
    when the connections use live names, and the djangoes transport errors of
    the engine (e.g. ``BadRequestError`` for invalid SETTINGS).
    """
    conns = _handler(handler)
    _require_global(conns)
    seen: set[tuple[ClusterKey, str]] = set()
    created: list[tuple[Base, str, str]] = []
    try:
        for conn in _selected(conns, aliases):
            cluster = _cluster_key(conn)
            for key, index in conn.server_indices.items():
                if (cluster, index["NAME"]) in seen:
                    continue
                seen.add((cluster, index["NAME"]))
                _create_index(conn, key)
                created.append((conn, key, index["NAME"]))
    except BaseException:
        # Leave the engine as it was: a half-created set would leak into the
        # next test (or the next run).
        for conn, key, _ in reversed(created):
            delete_index(key, using=conn.alias, missing_ok=True, check_lock=False)
        raise
    return [name for _, _, name in created]


def _create_index(conn: Base, key: str) -> None:
    try:
        create_index(key, using=conn.alias)
    except IndexExistsError:
        # Only test names reach this point (live names are refused by the
        # connection's guard), so an existing one is debris of an earlier run;
        # its rebuild locks lived in that run's test database, gone since.
        index = conn.get_index_settings(key)
        logger.warning(
            "Connection %r: deleting test index %r left over from an earlier run.",
            conn.alias,
            index["NAME"],
        )
        delete_index(key, using=conn.alias, missing_ok=True, check_lock=False)
        # Its test aliases may also still point to indices of that run.
        for alias in index["ALIASES"]:
            for target in _indices_behind(conn, alias):
                _delete_index(conn, target)
        create_index(key, using=conn.alias)


def _require_global(conns: ConnectionHandler) -> None:

    if conns is not connections:
        raise ValueError(
            "Test indices are created and deleted by djangoes.indexing, which works on "
            "djangoes.connections; a handler of your own cannot be given."
        )


def _delete_index(conn: Base, name: str) -> bool:
    """Delete one index; False when it did not exist."""
    try:
        conn.meta.indices.delete(index=name)
    except NotFoundError:
        return False
    return True


def _indices_behind(conn: Base, alias: str) -> list[str]:
    """The indices an alias points to (none when there is no such alias)."""
    try:
        found = conn.meta.indices.get_alias(name=alias)
    except NotFoundError:
        return []
    return sorted(found) if isinstance(found, dict) else []


def delete_test_indices(
    aliases: Collection[str] | AllConnections = ALL,
    *,
    handler: ConnectionHandler | None = None,
) -> list[str]:
    """Delete the test indices of the connections, as ``delete_search_index`` deletes indexes.

    Each index goes through :func:`djangoes.indexing.delete_index`: every
    physical index behind the test NAME and every ``<NAME>-<timestamp>`` one
    (a rebuild made inside the test included). It respects the rebuild lock:
    while a rebuild of the index runs, it raises
    :class:`~djangoes.indexing.RebuildLocked` instead of deleting the index
    under it (the lock is only looked up when the engine shows a rebuild may
    be under way, so tests without database access can delete their
    indices). Indices still behind the test aliases are deleted too. A test
    alias pointing to a live index is refused by the connection's guard
    (:class:`~djangoes.exceptions.LiveIndexAccessError`) rather than followed.

    Returns the names of the physical indices deleted. Raises
    :class:`TestModeRequired` when the connections use live names.
    """
    conns = _handler(handler)
    _require_global(conns)
    seen: set[tuple[ClusterKey, str]] = set()
    deleted: list[str] = []
    for conn in _selected(conns, aliases):
        cluster = _cluster_key(conn)
        for key, index in conn.server_indices.items():
            if (cluster, index["NAME"]) in seen:
                continue
            seen.add((cluster, index["NAME"]))
            deleted += delete_index(key, using=conn.alias, missing_ok=True, check_lock=None)
            for alias in index["ALIASES"]:
                for name in _indices_behind(conn, alias):
                    if _delete_index(conn, name):
                        deleted.append(name)
    return deleted


@contextmanager
def temporary_test_indices(
    aliases: Collection[str] | AllConnections = ALL,
    *,
    handler: ConnectionHandler | None = None,
) -> Iterator[list[str]]:
    """Create the test indices for the block and delete them afterwards, even on error.

    Yields the names created (see :func:`create_test_indices`; same
    ``aliases`` and errors).
    """
    created = create_test_indices(aliases, handler=handler)
    try:
        yield created
    finally:
        delete_test_indices(aliases, handler=handler)


#: Seconds a test's teardown waits for the query log rows of its searches.
QUERY_LOG_WAIT_SECONDS = 30.0


def write_pending_query_log(timeout: float = QUERY_LOG_WAIT_SECONDS) -> None:
    """Write the query log rows this process's searches left to the log's thread.

    The test cases and the pytest plugin call it at the end of each test,
    before the database is rolled back or flushed: a row written after that
    would land in the next test's tables. Does nothing when no search was
    logged in this process. Raises ``RuntimeError`` if the rows are still
    not written after ``timeout`` seconds.
    """
    logwriter = sys.modules.get("djangoes.search.logwriter")
    if logwriter is None:  # never imported: no row can be waiting
        return
    if not logwriter.flush_query_log(timeout):
        raise RuntimeError(
            f"The query log rows of this test's searches were not written within {timeout:g} s "
            "(is the database locked by another connection?)."
        )
