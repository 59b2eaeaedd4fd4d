"""Creating and deleting the physical indexes behind an index's NAME.

``create_index`` makes ``NAME`` and the index's ALIASES aliases of a new
physical index ``<NAME>-<timestamp>``; ``delete_index`` removes everything
the index has on the engine. :func:`swap_actions` is the one atomic
``update_aliases`` call a rebuild switches with (see
:mod:`djangoes.indexing.rebuild`): a plain index named ``NAME`` is replaced
by the alias in that same call (``remove_index``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from djangoes.exceptions import NotFoundError
from djangoes.indexing.errors import IndexExistsError, IndexMissingError, RebuildLocked
from djangoes.indexing.names import (
    IndexState,
    Target,
    create_physical,
    get_target,
    index_state,
    physical_indexes,
)
from djangoes.mappings import index_creation_body

if TYPE_CHECKING:
    from djangoes.options import Options


def creation_parts(target: Target, options: Options) -> tuple[dict[str, Any], dict[str, Any]]:
    """The creation body of ``target`` without aliases, and its aliases (name -> definition).

    The aliases are those of the mapping file / SETTINGS, plus NAME and ALIASES.
    Raises ConfigurationError for an unreadable mapping file.
    """
    body = index_creation_body(target.settings, options)
    aliases: dict[str, Any] = dict(body.pop("aliases", None) or {})
    for name in (target.name, *target.aliases):
        aliases.setdefault(name, {})
    return body, aliases


def create_index(key: str, *, using: str | None = None, exist_ok: bool = False) -> str | None:
    """Create index ``key``: a new physical index with NAME and ALIASES as its aliases.

    The body is the index's mapping file merged with its SETTINGS. Returns
    the physical index's name, or None when it exists already and
    ``exist_ok`` is set. Raises IndexExistsError when NAME is already an index
    or an alias (without ``exist_ok``), ConfigurationError for a bad mapping
    file or a NAME too long to version, and the djangoes ``TransportError``
    family for what the engine refuses.
    """
    from djangoes import connections

    target = get_target(key, using)
    options = connections.options
    body, aliases = creation_parts(target, options)
    state = index_state(target.conn, target.name)
    if state.kind != "missing":
        if exist_ok:
            return None
        raise IndexExistsError(
            key,
            f"Cannot create {target.describe()}: {target.name!r} already exists "
            f"({state.describe()}). Load it with update_search_index, replace it with "
            "rebuild_search_index, or remove it with delete_search_index first.",
        )
    return create_physical(target, {**body, "aliases": aliases})


def delete_index(
    key: str,
    *,
    using: str | None = None,
    missing_ok: bool = False,
    check_lock: bool | None = True,
) -> list[str]:
    """Delete index ``key``: every physical index behind NAME, and older ones of NAME.

    That is the index (or indexes) NAME answers for, plus any
    ``<NAME>-<timestamp>`` index kept by a rebuild or left by an interrupted
    one; their aliases go with them. Returns the names deleted. Raises
    RebuildLocked while a rebuild of the index holds its lock (it would write
    on into indexes that are gone), IndexMissingError when there is nothing
    to delete (unless ``missing_ok``), and the djangoes ``TransportError``
    family.

    ``check_lock=None`` asks the rebuild table only when the engine shows a
    rebuild may be under way (a physical index of NAME besides the one NAME
    points to): a rebuild always creates one first. The test utilities use
    it, so that a test without database access can delete its indices.
    """
    from djangoes.indexing import locks

    target = get_target(key, using)
    conn = target.conn
    if check_lock is None:
        behind = set(index_state(conn, target.name).indices)
        check_lock = any(name not in behind for name in physical_indexes(conn, target.name))
    holder = locks.current_rebuild(target) if check_lock else None
    if holder is not None:
        raise RebuildLocked(
            key,
            f"Cannot delete {target.describe()}: a rebuild of it holds its lock — "
            f"{locks.describe_holder(holder)}. Wait for it to finish, or abandon it first "
            f"(cleanup_search_indexes {key} --break-locks).",
            holder=holder,
        )
    state = index_state(conn, target.name)
    names = sorted(state.indices)
    names += [name for name in physical_indexes(conn, target.name) if name not in names]
    if not names:
        if missing_ok:
            return []
        raise IndexMissingError(
            key,
            f"Cannot delete {target.describe()}: it does not exist (nothing answers to "
            f"{target.name!r} and there is no {target.name}-<timestamp> index).",
        )
    deleted: list[str] = []
    for name in names:
        try:
            conn.meta.indices.delete(index=name)
        except NotFoundError:
            continue  # deleted meanwhile
        deleted.append(name)
    return deleted


def swap_actions(before: IndexState, new: str, aliases: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``update_aliases`` actions moving ``aliases`` from what ``before`` shows to ``new``."""
    actions: list[dict[str, Any]] = []
    if before.kind == "index":
        # A plain index cannot share its name with an alias: it goes in the same call.
        actions.append({"remove_index": {"index": before.name}})
    elif before.kind == "alias":
        for index, has in sorted(before.indices.items()):
            for alias in sorted(has & aliases.keys()):
                actions.append({"remove": {"index": index, "alias": alias}})
    for alias, definition in aliases.items():
        actions.append({"add": {**definition, "index": new, "alias": alias}})
    return actions
