"""Finding and removing the physical indexes left behind by crashed or abandoned rebuilds.

A physical index ``<NAME>-<timestamp>`` of an index is a *leftover* when
nothing needs it:

* it is not behind NAME (not live);
* it is not kept on purpose: the KEEP_OLD_INDEXES most recent indexes older
  than the live one are what a rebuild keeps;
* no rebuild of the index may be using it: while the index's rebuild lock
  exists, its ``new_index`` and every index newer than the live one are
  protected (all of them while the rebuild is still starting, before it
  recorded the index it created).

An interrupted rebuild keeps its lock, so its new index is protected until
the lock is broken (``break_lock``), which is what "abandoning" it means.

Each index is checked again right before it is deleted — lock first, then
what is live — so that a rebuild starting or switching meanwhile never
loses its index.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from djangoes.exceptions import NotFoundError
from djangoes.indexing import locks
from djangoes.indexing.names import get_target, index_state, physical_indexes

if TYPE_CHECKING:
    from djangoes.indexing.models import IndexRebuild
    from djangoes.indexing.names import Target

logger = logging.getLogger("djangoes.indexing")


@dataclass
class CleanupResult:
    """What :func:`find_leftovers` found and :func:`cleanup_index` did."""

    #: The ES_INDICES key.
    index: str
    #: The connection alias.
    connection: str
    #: The index's NAME.
    name: str
    #: The indexes behind NAME.
    live: list[str] = field(default_factory=list)
    #: Old physical indexes kept (KEEP_OLD_INDEXES).
    kept: list[str] = field(default_factory=list)
    #: Physical indexes a rebuild holding the lock may be using.
    protected: list[str] = field(default_factory=list)
    #: Physical indexes nothing needs.
    leftovers: list[str] = field(default_factory=list)
    #: Leftovers deleted (none in a dry run).
    deleted: list[str] = field(default_factory=list)
    #: Who holds the index's rebuild lock (None: nobody).
    lock: str | None = None
    #: Whether that lock was broken (the rebuild abandoned).
    lock_broken: bool = False


def _is_protected(row: IndexRebuild | None, name: str, newest_live: str) -> bool:
    if row is None:
        return False
    if row.stage == row.Stage.STARTING or name == row.new_index:
        return True
    return name > newest_live


def _plan(target: Target, keep: int, row: IndexRebuild | None) -> CleanupResult:
    conn = target.conn
    result = CleanupResult(target.key, target.alias, target.name)
    result.live = sorted(index_state(conn, target.name).indices)
    newest_live = max((n for n in result.live if n != target.name), default="")
    older: list[str] = []
    for name in physical_indexes(conn, target.name):  # newest first
        if name in result.live:
            continue
        if _is_protected(row, name, newest_live):
            result.protected.append(name)
        elif newest_live and name < newest_live and len(older) < keep:
            older.append(name)
        else:
            result.leftovers.append(name)
    result.kept = older
    if row is not None:
        result.lock = locks.describe_holder(row)
    return result


def find_leftovers(
    key: str, *, using: str | None = None, break_lock: bool = False
) -> CleanupResult:
    """What :func:`cleanup_index` would delete for index ``key``; changes nothing.

    With ``break_lock`` the index's rebuild lock is treated as broken, so the
    interrupted rebuild's index counts as a leftover. Raises the djangoes
    ``TransportError`` family when the engine cannot be asked.
    """
    from djangoes import connections

    target = get_target(key, using)
    row = locks.current_rebuild(target)
    result = _plan(target, connections.options.KEEP_OLD_INDEXES, None if break_lock else row)
    if row is not None:
        result.lock = locks.describe_holder(row)
    return result


def cleanup_index(
    key: str, *, using: str | None = None, dry_run: bool = False, break_lock: bool = False
) -> CleanupResult:
    """Delete the physical indexes of index ``key`` that nothing needs; returns what was done.

    ``dry_run`` only finds them. ``break_lock`` first abandons the index's
    rebuild if one holds the lock (running or not: make sure it is not
    running), so its unfinished index is deleted too. Raises LifecycleError
    inside a database transaction, and the djangoes ``TransportError``
    family.
    """
    target = get_target(key, using)
    locks.require_outside_transaction(target, "clean up")
    result = find_leftovers(key, using=using, break_lock=break_lock)
    if dry_run:
        return result
    row = locks.current_rebuild(target)
    if break_lock and row is not None:
        gone = locks.abandon(target, row)
        result.lock_broken = True
        if gone is not None:
            result.deleted.append(gone)
    conn = target.conn
    for name in result.leftovers:
        if name in result.deleted:
            continue
        if not _still_leftover(target, name):
            logger.info("Kept %r: a rebuild of %s started using it.", name, target.describe())
            continue
        try:
            conn.meta.indices.delete(index=name)
        except NotFoundError:
            continue
        result.deleted.append(name)
    return result


def _still_leftover(target: Target, name: str) -> bool:
    """Checked right before deleting: the lock first, then what is live (see the docstring)."""
    row = locks.current_rebuild(target)
    live = index_state(target.conn, target.name).indices
    if name in live:
        return False
    newest_live = max((n for n in live if n != target.name), default="")
    return not _is_protected(row, name, newest_live)
