"""Dual writes: while a rebuild loads, every process writes its sync changes to the new index too.

Every process of the project (web workers, shells, task workers) has this
module's :func:`provider` registered with :mod:`djangoes.sync.targets` (in
``AppConfig.ready()``). When sync sends documents of an index, it
asks the provider for extra indexes, and the provider answers with the
``new_index`` of the index's :class:`~djangoes.indexing.models.IndexRebuild`
row, if any. Reading the table for every write would cost a query per
save; so a process keeps what it read for ``REBUILD_POLL_SECONDS``.

**Why no change is lost.** Call R the moment the rebuild's row naming the new
index is committed. A process that did not copy a write to the new index
asked the provider at a time T and got an answer read from the table at or
after ``T - REBUILD_POLL_SECONDS`` (the age of an answer is measured from
*before* its query), and that read did not see the row, so
``T < R + REBUILD_POLL_SECONDS``. The provider is asked when the write is
sent, after the transaction committed, so the change committed before
``R + REBUILD_POLL_SECONDS``. The rebuild waits that long after R before it
reads its first chunk: every chunk read then sees that change. Each change
is therefore either read by the loader or copied by its writer — or both.

**Why the order of the two writers does not matter.** Both carry external
versions (:mod:`djangoes.sync.clock`): the loader's is taken *before* it
reads a chunk, a sync write's at commit. Whichever arrives last, the engine
keeps the higher version, which is the newer state of the row; a delete
leaves a versioned tombstone, so a chunk read before the delete cannot bring
the document back (as long as it arrives within the engine's
``index.gc_deletes``, 60 s by default — a chunk is sent right after it is
read).

**What the new index refuses** (a document the new mapping rejects, a
partial update of a document not loaded yet, an overloaded node) the sync
engine reports to :func:`record_failures`, which stores it as a
:class:`~djangoes.indexing.models.RebuildFailedWrite`; the rebuild writes
those documents again from the database (:func:`redo_failed_writes`) before
it switches and once more after.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import DatabaseError, IntegrityError, transaction
from django.db import connections as db_connections

from djangoes.registry import label_of

if TYPE_CHECKING:
    from djangoes.indexing.locks import RebuildRun
    from djangoes.options import Options
    from djangoes.sync.sending import Failure

logger = logging.getLogger("djangoes.indexing")

#: Longest reason kept for a failed write (the engine's messages can be long).
REASON_LENGTH = 2000


@dataclass(frozen=True)
class _Snapshot:
    #: ``time.monotonic()`` taken before the query.
    taken: float
    #: (connection alias, NAME) -> new indexes being built.
    rebuilds: dict[tuple[str, str], list[str]]


_snapshot: _Snapshot | None = None
_warned_missing_table = False


def forget() -> None:
    """Drop this process's cached view of the rebuild table (read again at the next write)."""
    global _snapshot
    _snapshot = None


def running_rebuilds(max_age: float) -> dict[tuple[str, str], list[str]]:
    """(connection alias, NAME) -> new indexes of the rebuilds in the table.

    Answers from this process's copy when it was read less than ``max_age``
    seconds ago, else reads the table. A missing table (migrations not run)
    means no rebuild can be running: logged once, answered with {}. Raises
    Django's ``DatabaseError`` for other database failures.
    """
    global _snapshot
    snapshot = _snapshot
    now = time.monotonic()
    if snapshot is not None and max_age > 0 and now - snapshot.taken < max_age:
        return snapshot.rebuilds
    rebuilds = _read_table()
    _snapshot = _Snapshot(now, rebuilds)
    return rebuilds


def _read_table() -> dict[tuple[str, str], list[str]]:
    global _warned_missing_table
    from djangoes.indexing.locks import database
    from djangoes.indexing.models import IndexRebuild

    db = database()
    rows = IndexRebuild.objects.using(db).exclude(new_index="")
    try:
        if db_connections[db].in_atomic_block:
            # a savepoint: a failing query must not break the caller's transaction
            with transaction.atomic(using=db):
                found = list(rows.values_list("connection", "name", "new_index"))
        else:
            found = list(rows.values_list("connection", "name", "new_index"))
    except DatabaseError:
        table = IndexRebuild._meta.db_table
        if table in db_connections[db].introspection.table_names():
            raise
        if not _warned_missing_table:
            _warned_missing_table = True
            logger.warning(
                "The table %r does not exist, so no index can be rebuilding; run "
                "'manage.py migrate djangoes' (a rebuild needs it too).",
                table,
            )
        return {}
    result: dict[tuple[str, str], list[str]] = defaultdict(list)
    for connection, name, new_index in found:
        result[(connection, name)].append(new_index)
    return dict(result)


def provider(alias: str, keys: Sequence[str]) -> dict[str, list[str]]:
    """The extra indexes sync writes for ``keys`` on connection ``alias``.

    ``{key: [new index]}`` for each index being rebuilt, {} otherwise (see
    the module docstring for the caching and why it is safe).
    """
    from djangoes import connections

    rebuilds = running_rebuilds(connections.options.REBUILD_POLL_SECONDS)
    if not rebuilds:
        return {}
    conn = connections[alias]
    result: dict[str, list[str]] = {}
    for key in keys:
        found = rebuilds.get((alias, conn.get_index_settings(key)["NAME"]))
        if found:
            result[key] = list(found)
    return result


def record_failures(alias: str, failures: Sequence[Failure]) -> None:
    """Store writes a rebuild's new index refused, for the rebuild to redo.

    Called by sync with the failures of its extra writes. When no
    rebuild of the index is registered any more, there is nothing to redo
    (it switched, and later writes go to the live index). A database error
    while storing is logged (naming the documents) rather than raised: the
    change itself is saved and live; only the rebuild's copy is missing.
    """
    from djangoes import connections
    from djangoes.indexing.locks import database
    from djangoes.indexing.models import IndexRebuild, RebuildFailedWrite

    db = database()
    conn = connections[alias]
    by_key: dict[str, list[Failure]] = defaultdict(list)
    for failure in failures:
        by_key[failure.operation.index].append(failure)
    for key, group in by_key.items():
        name = conn.get_index_settings(key)["NAME"]
        try:
            rebuild_id = (
                IndexRebuild.objects.using(db)
                .filter(connection=alias, name=name)
                .values_list("pk", flat=True)
                .first()
            )
            if rebuild_id is None:
                continue
            rows = [
                RebuildFailedWrite(
                    rebuild_id=rebuild_id,
                    index=key,
                    model=label_of(f.operation.model),
                    object_pk=_encode_pk(f.operation.pk),
                    doc_id=f.operation.doc_id,
                    reason=f.reason[:REASON_LENGTH],
                )
                for f in group
            ]
            with transaction.atomic(using=db):
                RebuildFailedWrite.objects.using(db).bulk_create(rows)
        except IntegrityError:
            continue  # the rebuild row went away meanwhile: it is over
        except DatabaseError as exc:
            shown = ", ".join(f.operation.describe() for f in group[:10])
            logger.error(
                "The rebuild of index %r refused %d write(s) (%s) and they could not be "
                "recorded for the rebuild to redo: %s. Run update_search_index %s after the "
                "rebuild.",
                key,
                len(group),
                shown,
                exc,
                key,
            )


def _encode_pk(pk: Any) -> str:
    return pk if isinstance(pk, str) else json.dumps(pk, default=str)


def _decode_pk(model: Any, text: str) -> Any:
    field_ = model._meta.pk
    try:
        value = json.loads(text)
    except ValueError:
        value = text
    return field_.to_python(value)


def install() -> None:
    """Register the provider and the failure recorder with sync (idempotent)."""
    from djangoes.sync import targets

    targets.register(provider)
    targets.register_failure_handler(record_failures)


@dataclass
class RedoResult:
    """What :func:`redo_failed_writes` did."""

    #: Documents written again from the database.
    indexed: int = 0
    #: Documents deleted because their object is gone.
    deleted: int = 0
    #: Documents the new index still refuses.
    failures: list[Failure] = field(default_factory=list)


def redo_failed_writes(run: RebuildRun, new: str, options: Options) -> RedoResult:
    """Write again, from the database, the documents whose copy the new index refused.

    Each recorded object is sent to ``new`` as every sync sends (a version
    taken, then the row read from its search queryset): indexed if it is
    there, deleted otherwise. The records handled are removed. Returns the
    counts; documents refused again are in ``failures``. Raises the djangoes
    ``TransportError`` family when the engine could not take them within the
    retry budget.
    """
    from djangoes.indexing.models import RebuildFailedWrite
    from djangoes.sync.operations import Operation, latest_per_document
    from djangoes.sync.sending import BulkSender, committed_writes, raise_unsent

    target = run.target
    records = list(
        RebuildFailedWrite.objects.using(run.db).filter(rebuild_id=run.row.pk).order_by("pk")
    )
    result = RedoResult()
    if not records:
        return result
    ops = []
    for record in records:
        model = apps.get_model(record.model)
        pk = _decode_pk(model, record.object_pk)
        ops.append(Operation("index", target.key, model, record.doc_id, pk))
    budget = options.RETRY_BUDGET
    sender = BulkSender(target.alias, [target.key], options, budget=budget, target=new)
    sent = sender.send(committed_writes(latest_per_document(ops), options, sender.result))
    raise_unsent(sent)
    result.indexed, result.deleted, result.failures = sent.indexed, sent.deleted, sent.failures
    RebuildFailedWrite.objects.using(run.db).filter(
        rebuild_id=run.row.pk, pk__lte=records[-1].pk
    ).delete()
    return result
