"""Which index a key means, what stands behind its NAME, and physical index names.

An index configured as ``ES_INDICES[key]`` is served under its ``NAME``.
djangoes creates ``NAME`` as an alias over a *physical* index named
``<NAME>-<UTC timestamp>`` with microseconds, e.g.
``blog-20250102t030405123456``: lower case, sortable by creation time, and
recognisable (:func:`is_physical_of`) so that a rebuild can find and retire
older ones. ``NAME`` may also be a plain index (made by the test utilities,
by hand, or by an older version); :func:`index_state` tells the cases apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal

from djangoes.conf import MAX_NAME_BYTES
from djangoes.exceptions import BadRequestError, ConfigurationError, NotFoundError
from djangoes.indexing.errors import LifecycleError

if TYPE_CHECKING:
    from djangoes.backends.abstracts import Base
    from djangoes.conf import IndexSettings

#: strftime format of the suffix of a physical index (UTC, microseconds).
STAMP_FORMAT = "%Y%m%dt%H%M%S%f"
_STAMP = re.compile(r"\d{8}t\d{12}")
#: Bytes a physical name adds to NAME: '-' and the stamp.
SUFFIX_BYTES = 1 + len("20250102t030405123456")


@dataclass(frozen=True)
class Target:
    """One configured index on one connection, with the names in effect."""

    key: str
    alias: str
    conn: Base
    settings: IndexSettings

    @property
    def name(self) -> str:
        """The index's NAME (test name under test settings)."""
        return self.settings["NAME"]

    @property
    def aliases(self) -> list[str]:
        """The index's ALIASES (test names under test settings)."""
        return list(self.settings["ALIASES"])

    def describe(self) -> str:
        """``"index 'blog' (NAME 'blog') on connection 'default'"`` for messages."""
        return f"index {self.key!r} (NAME {self.name!r}) on connection {self.alias!r}"


def get_target(key: str, using: str | None = None) -> Target:
    """The index ``key`` of ES_INDICES on connection ``using`` (default: the one holding it).

    Raises ``IndexDoesNotExist`` when ``key`` is not in ES_INDICES or not in
    the connection's INDICES, ``ConnectionDoesNotExist`` for an unknown
    ``using``, ``ConfigurationError`` for invalid settings.
    """
    from djangoes import connections

    connections.index_settings(key)  # the clearest error for a key ES_INDICES lacks
    alias = connections.alias_for_index(key) if using is None else using
    conn = connections[alias]
    return Target(key, alias, conn, conn.get_index_settings(key))


@dataclass(frozen=True)
class IndexState:
    """What answers to a name on the engine.

    ``kind`` is ``"missing"``, ``"index"`` (a plain index of that name) or
    ``"alias"``; ``indices`` maps each concrete index behind the name to the
    aliases it has.
    """

    name: str
    kind: Literal["missing", "index", "alias"]
    indices: dict[str, frozenset[str]]

    def describe(self) -> str:
        """``"an alias of 'blog-2025...'"`` / ``"a plain index"`` / ``"missing"``."""
        if self.kind == "alias":
            return f"an alias of {', '.join(map(repr, sorted(self.indices)))}"
        return "a plain index" if self.kind == "index" else "missing"


def index_state(conn: Base, name: str) -> IndexState:
    """What stands behind ``name`` on ``conn``'s cluster (one request).

    Raises the djangoes ``TransportError`` family when the engine cannot be asked.
    """
    try:
        found = conn.meta.indices.get_alias(index=name)
    except NotFoundError:
        return IndexState(name, "missing", {})
    indices = {
        str(index): frozenset((info or {}).get("aliases") or {}) for index, info in found.items()
    }
    if not indices:
        return IndexState(name, "missing", {})
    return IndexState(name, "index" if name in indices else "alias", indices)


def physical_name(name: str, when: datetime | None = None) -> str:
    """The physical index name for ``name`` created at ``when`` (default: now, UTC).

    Raises ConfigurationError when the result would exceed the engines'
    limit of 255 bytes.
    """
    if len(name.encode()) + SUFFIX_BYTES > MAX_NAME_BYTES:
        raise ConfigurationError(
            f"The index NAME {name!r} is too long for a versioned physical index: "
            f"'<NAME>-<timestamp>' must fit in {MAX_NAME_BYTES} bytes, so NAME may have at "
            f"most {MAX_NAME_BYTES - SUFFIX_BYTES} bytes. Choose a shorter NAME in ES_INDICES."
        )
    when = (when or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"{name}-{when.strftime(STAMP_FORMAT)}"


def is_physical_of(name: str, candidate: str) -> bool:
    """Whether ``candidate`` is a physical index of ``name`` (``<name>-<stamp>``)."""
    prefix = f"{name}-"
    return candidate.startswith(prefix) and bool(_STAMP.fullmatch(candidate[len(prefix) :]))


def physical_indexes(conn: Base, name: str) -> list[str]:
    """Every physical index of ``name`` on the cluster, newest first.

    Raises the djangoes ``TransportError`` family when the engine cannot be asked.
    """
    try:
        found = conn.meta.indices.get_alias(index=f"{name}-*")
    except NotFoundError:
        return []
    return sorted((str(i) for i in found if is_physical_of(name, str(i))), reverse=True)


def create_physical(target: Target, body: dict[str, Any]) -> str:
    """Create a new physical index of ``target`` with ``body``; returns its name.

    Two creations in the same microsecond (or a clock that went back) would
    pick a taken name: the next microsecond is tried, a few times. Raises the
    djangoes ``TransportError`` family for what the engine refuses.
    """
    when = datetime.now(timezone.utc)
    tried: list[str] = []
    for _attempt in range(5):
        physical = physical_name(target.name, when)
        tried.append(physical)
        try:
            target.conn.meta.indices.create(index=physical, body=body or None)
        except BadRequestError as exc:
            if exc.error_type != "resource_already_exists_exception":
                raise
            when += timedelta(microseconds=1)
            continue
        return physical
    raise LifecycleError(
        target.key,
        f"Could not create a physical index for {target.describe()}: "
        f"{', '.join(map(repr, tried))} already exist. Is the clock of this machine behind "
        "the one that created them?",
    )
