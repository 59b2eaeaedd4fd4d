"""Rebuilding an index without downtime and without losing the writes made meanwhile.

:func:`rebuild_index` does, in order:

1. take the index's lock (:mod:`djangoes.indexing.locks`): a second rebuild
   of the same index gets ``RebuildLocked`` instead of starting;
2. create the next physical index ``<NAME>-<timestamp>`` from the mapping
   (or, resuming, reuse the interrupted rebuild's when its mapping is
   current) and record it in the lock row — from then on every process
   copies its sync writes to it (:mod:`djangoes.indexing.dualwrite`);
3. wait ``REBUILD_POLL_SECONDS``, the longest a process may go on using its
   cached "no rebuild" answer;
4. load every object in chunks, each with a version taken before its read
   (a heartbeat between chunks), with the engines' settings for bulk loads
   on the new index: no refreshes (``refresh_interval: -1``) and no
   replicas (:data:`LOADING_SETTINGS`);
5. write again the documents whose copy the new index refused, give the
   new index its own ``refresh_interval`` and ``number_of_replicas`` back
   (those of the mapping, else the engine's defaults), wait until the
   replicas the cluster can place have copied it, and refresh it;
6. check the lock is still held, then move NAME and every alias in **one**
   ``update_aliases`` call: searches see the old index or the new one,
   complete, never none and never a partial one;
7. redo the refused copies reported meanwhile, release the lock, and retire
   the old physical index (deleted, or kept per KEEP_OLD_INDEXES).

When it fails before the switch the live index is untouched. An engine that
cannot be reached leaves the rebuild *interrupted* (lock and new index
kept, ``RebuildInterrupted``) so that it can be resumed; any other error
abandons it (lock released, new index deleted once no process writes to it).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from djangoes.exceptions import ConnectionError, NotFoundError, TransportError
from djangoes.indexing import locks
from djangoes.indexing.errors import (
    LifecycleError,
    RebuildAborted,
    RebuildInterrupted,
    RebuildLockLost,
)
from djangoes.indexing.lifecycle import creation_parts, swap_actions
from djangoes.indexing.load import IndexingResult, Progress, index_models, load_documents
from djangoes.indexing.names import (
    IndexState,
    Target,
    create_physical,
    get_target,
    index_state,
    physical_indexes,
)

if TYPE_CHECKING:
    from djangoes.indexing.locks import RebuildRun
    from djangoes.options import Options
    from djangoes.sync.sending import Failure

logger = logging.getLogger("djangoes.indexing")

#: Index settings while a rebuild loads its new index: what Elasticsearch's and
#: OpenSearch's guides advise for bulk loads (no refresh, no replica to copy to).
LOADING_SETTINGS: dict[str, Any] = {"refresh_interval": "-1", "number_of_replicas": 0}


def own_settings(body: Mapping[str, Any]) -> dict[str, Any]:
    """The creation body's values of the :data:`LOADING_SETTINGS` keys (None: the default).

    Settings may be written ``{"refresh_interval": ...}``, ``{"index.refresh_interval":
    ...}`` or ``{"index": {"refresh_interval": ...}}``.
    """
    settings = body.get("settings")
    if not isinstance(settings, Mapping):
        return dict.fromkeys(LOADING_SETTINGS)
    nested = settings.get("index")
    nested = nested if isinstance(nested, Mapping) else {}
    return {
        key: settings.get(key, settings.get(f"index.{key}", nested.get(key)))
        for key in LOADING_SETTINGS
    }


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
    #: Whether an interrupted rebuild was resumed (its new index reused).
    resumed: bool = False
    #: Documents written again because the new index refused their copy.
    redone: int = 0
    #: Documents refused again after the switch (logged; the index is live).
    late_failures: list[Failure] = field(default_factory=list)


def rebuild_index(
    key: str,
    *,
    using: str | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    allow_failures: bool = False,
    resume: bool = False,
    break_lock: bool = False,
    parallel: int = 1,
) -> RebuildResult:
    """Rebuild index ``key`` into a new physical index and switch to it atomically.

    Saves and deletes made by any process while it runs are in the new index
    when it goes live (see the module docstring). ``progress(done, total)``
    is called per chunk; ``parallel`` > 1 loads with that many worker
    processes. ``resume`` takes over an interrupted rebuild and
    reuses its new index (loading it again is harmless: versions keep the
    newest document); ``break_lock`` removes another rebuild's lock first
    (with ``resume``: takes it over even if its holder looks alive).

    If documents fail while loading, the rebuild is abandoned and
    RebuildAborted raised with the failures, unless ``allow_failures``: then
    it switches anyway and the failures are logged and returned.

    Raises RebuildLocked when another rebuild holds the lock, NothingToResume
    (``resume`` without an interrupted rebuild), RebuildInterrupted when the
    engine cannot be reached midway (resume later), RebuildLockLost when the
    lock is broken while running, NoModelsError when the index has no
    MODELS, LifecycleError inside a database transaction or when the new
    index lost its mapping midway, and the djangoes ``TransportError`` family.
    """
    from djangoes import connections

    target = get_target(key, using)
    options = connections.options
    index_models(target)
    body, aliases = creation_parts(target, options)
    run = locks.acquire(target, resume=resume, break_lock=break_lock)
    new: str | None = None
    try:
        new = _new_index(run, body)
        loaded, redone = _load(
            run, new, body, options, chunk_size, progress, allow_failures, parallel
        )
        run.heartbeat(run.row.Stage.SWITCHING)  # still ours, right before the switch
        before = index_state(target.conn, target.name)
        target.conn.meta.indices.update_aliases(
            body={"actions": swap_actions(before, new, aliases)}
        )
    except BaseException as exc:
        interrupted = _stop(run, new, exc)
        if interrupted is not None:
            raise interrupted from exc
        raise
    return _finish(run, new, before, loaded, redone, options)


def _new_index(run: RebuildRun, body: dict[str, Any]) -> str:
    """The physical index to load: the interrupted one when resuming and current, else new."""
    from djangoes.indexing.drift import physical_drift

    target = run.target
    previous = run.row.new_index
    if run.resumed and previous:
        live = index_state(target.conn, target.name).indices
        exists = index_state(target.conn, previous).kind == "index"
        if exists and previous not in live:
            differences = physical_drift(target, previous, body)
            if not differences:
                logger.info("Resuming the rebuild of %s into %r.", target.describe(), previous)
                return previous
            logger.warning(
                "The interrupted rebuild's index %r of %s does not have the current mapping "
                "(%s); building a new one. cleanup_search_indexes removes %r.",
                previous,
                target.describe(),
                "; ".join(differences[:3]),
                previous,
            )
    new = create_physical(target, body)
    try:
        run.set_new_index(new)
    except BaseException:
        target.conn.meta.indices.delete(index=new)  # never registered: nobody writes to it
        raise
    return new


def _load(
    run: RebuildRun,
    new: str,
    body: dict[str, Any],
    options: Options,
    chunk_size: int | None,
    progress: Progress | None,
    allow_failures: bool,
    parallel: int = 1,
) -> tuple[IndexingResult, int]:
    """Wait for the other processes, load ``new``, redo refused copies, refresh, check.

    Returns the load's result and the number of documents redone. Raises
    RebuildAborted for failed documents (unless ``allow_failures``), and
    LifecycleError when ``new`` no longer has the mapping of ``body`` (it
    was deleted meanwhile and the engine made it again from the writes).
    """
    from djangoes.indexing.drift import physical_drift
    from djangoes.indexing.dualwrite import redo_failed_writes

    target = run.target
    stage = run.row.Stage
    run.heartbeat(stage.WAITING)
    run.wait_for_processes(float(options.REBUILD_POLL_SECONDS))
    run.heartbeat(stage.LOADING)
    target.conn.meta.indices.put_settings(index=new, body={"index": LOADING_SETTINGS})
    loaded = load_documents(
        target,
        write_to=new,
        options=options,
        chunk_size=chunk_size,
        progress=progress,
        heartbeat=run.heartbeat,
        parallel=parallel,
    )
    run.heartbeat(stage.CATCHING_UP)
    redo = redo_failed_writes(run, new, dataclasses.replace(options, REFRESH=False))
    failures = [*loaded.failures, *redo.failures]
    if failures and not allow_failures:
        shown = "\n".join(f"  - {failure}" for failure in failures[:10])
        raise RebuildAborted(
            target.key,
            f"Rebuild of {target.describe()} abandoned: {len(failures)} of "
            f"{loaded.total} document(s) could not be indexed, so the live index was left "
            f"as it was:\n{shown}",
            new_index=new,
            failures=failures,
        )
    loaded.failures = failures
    target.conn.meta.indices.put_settings(index=new, body={"index": own_settings(body)})
    _wait_for_replicas(run, new, float(options.RETRY_BUDGET))
    target.conn.meta.indices.refresh(index=new)
    differences = physical_drift(target, new, body)
    if differences:
        raise LifecycleError(
            target.key,
            f"Rebuild of {target.describe()} abandoned: the new index {new!r} does not have "
            f"the mapping it was created with ({'; '.join(differences[:3])}). Was it deleted "
            "while loading (and made again by the engine from the writes)? The live index "
            "was left as it was.",
        )
    return loaded, redo.indexed + redo.deleted


#: Seconds between the cluster health requests of :func:`_wait_for_replicas`.
REPLICA_POLL = 0.5


def _wait_for_replicas(run: RebuildRun, new: str, patience: float) -> None:
    """Wait until the replicas given back to ``new`` have copied it.

    Every shard is waited for with as many copies as the cluster can place:
    one plus its replicas, at most one per data node. While the copies are
    made the lock's heartbeat goes on; when no more copy becomes active for
    ``patience`` seconds (allocation rules that keep some off), the switch goes
    ahead with a warning, with the copies the index has.
    """
    target = run.target
    meta = target.conn.meta
    index = meta.indices.get_settings(index=new)[new]["settings"]["index"]
    shards, replicas = int(index["number_of_shards"]), int(index.get("number_of_replicas", 1))
    deadline, active = time.monotonic() + patience, -1
    while True:
        health = meta.cluster.health(index=new)
        wanted = shards * min(1 + replicas, max(health["number_of_data_nodes"], 1))
        if health["active_shards"] >= wanted:
            return
        run.heartbeat(run.row.Stage.CATCHING_UP)
        time.sleep(REPLICA_POLL)
        if health["active_shards"] > active:
            deadline, active = time.monotonic() + patience, health["active_shards"]
        elif time.monotonic() > deadline:
            logger.warning(
                "Rebuild of %s: the new index %r has %d of its %d shard copies after %.0f s "
                "without progress; switching with the copies it has.",
                target.describe(),
                new,
                health["active_shards"],
                wanted,
                patience,
            )
            return


def _finish(
    run: RebuildRun,
    new: str,
    before: IndexState,
    loaded: IndexingResult,
    redone: int,
    options: Options,
) -> RebuildResult:
    """After the switch: redo late refused copies, release the lock, retire old indexes."""
    from djangoes.indexing.dualwrite import redo_failed_writes

    target = run.target
    for failure in loaded.failures:
        logger.warning("Rebuild of index %r: document not indexed: %s", target.key, failure)
    try:
        late = redo_failed_writes(run, new, options)
    finally:
        run.release()
    for failure in late.failures:
        logger.warning(
            "Rebuild of index %r: a change made during the rebuild was refused by the new "
            "index: %s",
            target.key,
            failure,
        )
    deleted, kept = _retire(target, before, new, options.KEEP_OLD_INDEXES)
    return RebuildResult(
        target.key,
        new,
        sorted(before.indices),
        loaded,
        deleted,
        kept,
        resumed=run.resumed,
        redone=redone + late.indexed + late.deleted,
        late_failures=late.failures,
    )


def _engine_went_away(exc: BaseException) -> bool:
    """Whether ``exc`` says the engine is unreachable or overloaded (worth resuming)."""
    if isinstance(exc, ConnectionError):
        return True
    status = exc.status if isinstance(exc, TransportError) else None
    return status is not None and (status == 429 or status >= 500)


def _stop(run: RebuildRun, new: str | None, exc: BaseException) -> RebuildInterrupted | None:
    """Clean up after ``exc`` stopped a rebuild before its switch.

    Returns the RebuildInterrupted to raise instead when the engine went away
    (lock and new index kept for ``resume``); otherwise the lock is released
    and the new index deleted, unless the lock was lost (its new owner has
    the index) or the switch went through after all.
    """
    target = run.target
    if isinstance(exc, RebuildLockLost):
        return None
    if new is not None and _engine_went_away(exc) and not _is_live(target, new):
        try:
            run.heartbeat(run.row.Stage.INTERRUPTED)
        except RebuildLockLost:
            return None
        key = target.key
        return RebuildInterrupted(
            key,
            f"The rebuild of {target.describe()} was interrupted: {exc}. The live index is as "
            f"it was; the new index {new!r} and the lock were kept, and changes keep being "
            f"written to it. When the engine is back, resume it (rebuild_search_index {key} "
            f"--resume) or remove it (cleanup_search_indexes {key} --break-locks).",
            new_index=new,
        )
    released = run.release()
    if new is not None and released:
        _discard(target, new)
    return None


def _is_live(target: Target, new: str) -> bool:
    """Whether ``new`` serves NAME (a switch whose answer was lost); False if unknowable."""
    try:
        return new in index_state(target.conn, target.name).indices
    except TransportError:
        return False  # the engine is still away: the switch cannot have been seen either


def _discard(target: Target, new: str) -> None:
    """Delete a rebuild's new index after a failure, unless it went live after all.

    First waits REBUILD_POLL_SECONDS: a process that still believes the
    rebuild runs would write to the deleted index and the engine would
    create it again.
    """
    conn = target.conn
    try:
        if new in index_state(conn, target.name).indices:
            return  # the alias switch went through before the error
        time.sleep(locks.poll_seconds())
        conn.meta.indices.delete(index=new)
    except NotFoundError:
        return
    except TransportError as exc:
        logger.warning(
            "The rebuild of %s failed and its new index %r could not be deleted (%s). "
            "It serves no search; cleanup_search_indexes removes it.",
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
            f"physical indexes could not be removed: {exc}. Remove them with "
            f"cleanup_search_indexes {target.key}.",
        ) from exc
    return deleted, kept
