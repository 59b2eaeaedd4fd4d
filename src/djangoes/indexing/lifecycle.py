"""Creating, rebuilding and deleting the physical indexes behind an index's NAME.

``create_index`` makes ``NAME`` and the index's ALIASES aliases of a new
physical index ``<NAME>-<timestamp>``. ``rebuild_index`` follows the
zero-downtime recipe: build the next physical index, load it, refresh it,
then move every alias of the index in *one* ``update_aliases`` call (so a
search sees the old index or the new one, never none and never both), and
retire the old physical index (deleted, or kept when KEEP_OLD_INDEXES says
so). A plain index named ``NAME`` is replaced by the alias in that same
atomic call (``remove_index``). ``delete_index`` removes everything the
index has on the engine.

Not yet here: a lock against two rebuilds of one index at once, and the
writes made by auto-sync while a rebuild loads (they reach the old index and
are not in the new one unless they happened before their chunk was read).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from djangoes.exceptions import NotFoundError, TransportError
from djangoes.indexing.errors import IndexExistsError, IndexMissingError, RebuildAborted
from djangoes.indexing.load import IndexingResult, Progress, index_models, load_documents
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

logger = logging.getLogger("djangoes.indexing")


@dataclass
class RebuildResult:
    """What a rebuild did."""

    #: The ES_INDICES key.
    index: str
    #: The physical index now behind NAME.
    new_index: str
    #: What was behind NAME before (empty if the index did not exist).
    previous: list[str]
    #: The loading of the new index.
    loaded: IndexingResult
    #: Old physical indexes deleted.
    deleted: list[str]
    #: Old physical indexes kept (KEEP_OLD_INDEXES).
    kept: list[str]


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
    from djangoes.sync.cache import new_generation

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
    physical = create_physical(target, {**body, "aliases": aliases})
    new_generation([target.name, physical], options)
    return physical


def delete_index(key: str, *, using: str | None = None, missing_ok: bool = False) -> list[str]:
    """Delete index ``key``: every physical index behind NAME, and older ones of NAME.

    That is the index (or indexes) NAME answers for, plus any
    ``<NAME>-<timestamp>`` index kept by a rebuild or left by an interrupted
    one; their aliases go with them. Returns the names deleted. Raises
    IndexMissingError when there is nothing to delete (unless
    ``missing_ok``), and the djangoes ``TransportError`` family.
    """
    from djangoes import connections
    from djangoes.sync.cache import new_generation

    target = get_target(key, using)
    conn = target.conn
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
    try:
        for name in names:
            try:
                conn.meta.indices.delete(index=name)
            except NotFoundError:
                continue  # deleted meanwhile
            deleted.append(name)
    finally:
        new_generation([target.name, *deleted], connections.options)
    return deleted


def rebuild_index(
    key: str,
    *,
    using: str | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    allow_failures: bool = False,
) -> RebuildResult:
    """Rebuild index ``key`` into a new physical index and switch to it atomically.

    Creates ``<NAME>-<timestamp>`` from the mapping, loads every object of the
    index's models into it (``progress(done, total)`` per chunk), refreshes
    it, then moves NAME and ALIASES to it in one ``update_aliases`` call and
    retires the old physical index (kept if KEEP_OLD_INDEXES > 0). Works
    whether NAME was an alias, a plain index, or missing.

    If documents fail while loading, the rebuild is abandoned (the new index
    deleted, the live one untouched) and RebuildAborted raised with the
    failures, unless ``allow_failures``: then it switches anyway and the
    failures are logged and returned. Any other error also deletes the new
    index and leaves the live one as it was. Raises NoModelsError when the
    index has no MODELS, and the djangoes ``TransportError`` family.
    """
    from djangoes import connections
    from djangoes.sync.cache import new_generation

    target = get_target(key, using)
    options = connections.options
    index_models(target)
    body, aliases = creation_parts(target, options)
    conn = target.conn
    new = create_physical(target, body)
    try:
        loaded = load_documents(
            target, write_to=new, options=options, chunk_size=chunk_size, progress=progress
        )
        if loaded.failures and not allow_failures:
            shown = "\n".join(f"  - {failure}" for failure in loaded.failures[:10])
            raise RebuildAborted(
                key,
                f"Rebuild of {target.describe()} abandoned: {len(loaded.failures)} of "
                f"{loaded.total} document(s) could not be indexed, so the live index was left "
                f"as it was:\n{shown}",
                new_index=new,
                failures=loaded.failures,
            )
        before = index_state(conn, target.name)
        conn.meta.indices.update_aliases(body={"actions": swap_actions(before, new, aliases)})
    except BaseException:
        _discard(target, new)
        raise
    new_generation([target.name, new], options)
    for failure in loaded.failures:
        logger.warning("Rebuild of index %r: document not indexed: %s", key, failure)
    deleted, kept = _retire(target, before, new, options.KEEP_OLD_INDEXES)
    return RebuildResult(key, new, sorted(before.indices), loaded, deleted, kept)


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


def _discard(target: Target, new: str) -> None:
    """Delete a rebuild's new index after a failure, unless it went live after all."""
    conn = target.conn
    try:
        if new in index_state(conn, target.name).indices:
            return  # the alias switch went through before the error
        conn.meta.indices.delete(index=new)
    except TransportError as exc:
        logger.warning(
            "The rebuild of %s failed and its new index %r could not be deleted (%s). "
            "It serves no search; delete it by hand or with delete_search_index.",
            target.describe(),
            new,
            exc,
        )


def _retire(target: Target, before: IndexState, new: str, keep: int) -> tuple[list[str], list[str]]:
    """Delete old physical indexes beyond the ``keep`` most recent; returns (deleted, kept).

    The indexes that were live come first, then older ``<NAME>-<timestamp>``
    ones, newest first. Ones newer than ``new`` (another rebuild's) are left
    alone. A plain index named NAME was removed by the switch itself.
    """
    from djangoes.indexing.errors import LifecycleError

    conn = target.conn
    previous = sorted(before.indices, reverse=True) if before.kind == "alias" else []
    try:
        older = [
            name
            for name in physical_indexes(conn, target.name)
            if name < new and name not in previous
        ]
        candidates = previous + older
        kept, retired = candidates[:keep], candidates[keep:]
        deleted: list[str] = []
        for name in retired:
            try:
                conn.meta.indices.delete(index=name)
            except NotFoundError:
                continue
            deleted.append(name)
    except TransportError as exc:
        raise LifecycleError(
            target.key,
            f"{target.describe()} was rebuilt into {new!r}, which is live, but its old "
            f"physical indexes could not be removed: {exc}. Delete what is left of "
            f"{target.name}-<timestamp> (other than {new!r}) by hand.",
        ) from exc
    return deleted, kept
