"""The durable sync queue, writing side: the "queue" ON_ERROR policy.

The transactional outbox. Under the "queue" policy every operation of
automatic sync becomes a :class:`~djangoes.sync.models.SyncQueueEntry` row,
written by :func:`enqueue` when the change happens (``post_save`` /
``post_delete``), in the same transaction, on the same database: a
rolled-back transaction (or savepoint) leaves no row, a committed one leaves
its rows until the engine took their documents. After the commit,
:func:`send_queued` sends the operations as every other policy does, then
*settles* the rows:

* the engine took the document (or already had a newer version, or it was
  unchanged): the rows are deleted;
* the engine could not take it (unreachable, timeout, 408/429/5xx, index
  missing): the rows stay, with ``attempts`` and a ``next_attempt`` after an
  exponential backoff, for ``manage.py search_sync`` (:mod:`djangoes.sync.drain`);
* the engine (or djangoes) refused the document for good (a 4xx such as a
  mapping conflict, a document too big or that cannot be serialised): the
  rows are marked ``failed`` with the reason and kept, to be shown, retried
  or purged by ``search_sync``; they are not retried by themselves.

So a save never fails because the engine is down. The rows written by one
transaction are *claimed* by it (``claimed_by``) for :data:`CLAIM_SECONDS`,
so that a ``search_sync`` worker does not send them at the same time; if the
process dies before sending, the claim runs out and a worker takes them.

When a connection's engine does not answer in time, commits stop waiting for
it: for ``QUEUE_RETRY_DELAY`` seconds the operations for that connection are
left in the queue unsent (for ``search_sync``), so that a hung cluster slows
one request per process and period, not every request.

With ``QUEUE_DISPATCH`` the rows are handed to that function (a Celery task,
:mod:`djangoes.tasks`) after the commit instead of being sent inline.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connections as db_connections
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from djangoes.exceptions import ConfigurationError, ConnectionTimeout
from djangoes.sync.clock import stamp
from djangoes.sync.engine import (
    Failure,
    PreparedBulk,
    SyncResult,
    execute_bulk,
    latest_per_document,
    prepare_bulk,
)
from djangoes.sync.models import SyncQueueEntry

if TYPE_CHECKING:
    from djangoes.options import Options
    from djangoes.sync.operations import Operation

logger = logging.getLogger("djangoes.sync")

#: Seconds a claim on queue rows lasts; after that another process may send them.
CLAIM_SECONDS = 300

#: Why an entry failed: the reason and the engine's HTTP status (None: no answer).
Reason = tuple[str, "int | None"]

#: HTTP statuses of a document the engine may take later: the request timed
#: out, the engine is overloaded, or the index is missing (being created or rebuilt).
RETRYABLE_STATUSES = frozenset({404, 408, 429})


class _Pauses:
    """Connections whose engine did not answer in time lately, per process.

    Keyed by the connection alias and its HOSTS, so that pointing a
    connection elsewhere (``override_settings``) starts afresh.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until: dict[tuple[str, tuple[str, ...]], tuple[float, str]] = {}

    @staticmethod
    def _key(alias: str) -> tuple[str, tuple[str, ...]]:
        from djangoes import connections

        return alias, tuple(connections.settings.servers[alias]["HOSTS"])

    def reason(self, alias: str) -> str | None:
        """Why commits do not send to ``alias`` now, or None when they do."""
        key = self._key(alias)
        with self._lock:
            until, reason = self._until.get(key, (0.0, ""))
            if time.monotonic() < until:
                return reason
            self._until.pop(key, None)
            return None

    def start(self, alias: str, seconds: int, error: str) -> None:
        """Stop sending to ``alias`` from commits for ``seconds`` (logged once)."""
        reason = (
            f"not sent: the search engine of connection {alias!r} did not answer in time "
            f"({error}); left for search_sync"
        )
        with self._lock:
            self._until[self._key(alias)] = (time.monotonic() + seconds, reason)
        logger.warning(
            "The search engine of connection %r did not answer in time (%s): for %d s, "
            "commits leave their sync operations in the queue without waiting for it.",
            alias,
            error,
            seconds,
        )

    def clear(self, alias: str | None = None) -> None:
        """End the pause of ``alias`` (of every connection with None)."""
        with self._lock:
            if alias is None:
                self._until.clear()
            else:
                self._until.pop(self._key(alias), None)


_pauses = _Pauses()


def resume_sending(alias: str | None = None) -> None:
    """Let commits send to connection ``alias`` (all with None) again at once.

    After a timeout, commits of this process stop waiting for that engine for
    ``QUEUE_RETRY_DELAY`` seconds; call this when you know it answers again.
    """
    _pauses.clear(alias)


def new_claim() -> str:
    """A fresh claim token (one per transaction, per drain run)."""
    return uuid.uuid4().hex


def is_transient(failure: Failure) -> bool:
    """Whether the engine may take this document later (True) or refused it for good.

    A request that failed as a whole (no answer, timeout, a 5xx for the whole
    bulk) is always transient: nothing is known against the document. A
    per-document 408, 429, 404 (index missing) or 5xx is transient too; any
    other 4xx, and a document djangoes refused before sending (no status),
    is not.
    """
    if failure.request_failed:
        return True
    status = failure.status
    return status is not None and (status in RETRYABLE_STATUSES or status >= 500)


def retry_delay(attempts: int, options: Options) -> timedelta:
    """The wait before the next attempt after ``attempts`` failed ones (exponential, capped)."""
    seconds = options.QUEUE_RETRY_DELAY * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, options.QUEUE_MAX_RETRY_DELAY))


def enqueue(operations: Sequence[Operation], using: str, claim: str) -> None:
    """Write one queue row per operation on database ``using``, claimed by ``claim``.

    Called when the change happens, so the rows belong to the change's
    transaction. Sets ``queue_entry`` on each operation. Raises the
    database's error when the table is missing (run ``migrate``).

    This runs once per save of a synced model: the row is written with one
    prepared ``INSERT`` rather than through the ORM's model machinery.
    """
    now = timezone.now()
    connection = db_connections[using]
    sql, fields, returning = _insert_statement(connection)
    claimed_until = now + timedelta(seconds=CLAIM_SECONDS)
    with connection.cursor() as cursor:
        for op in operations:
            values = {
                "index": op.index,
                "model": op.model._meta.label,
                "object_pk": str(op.pk),
                "doc_id": op.doc_id,
                "action": op.action,
                "update_fields": sorted(op.update_fields) if op.update_fields is not None else None,
                "created": now,
                "next_attempt": now,
                "claimed_by": claim,
                "claimed_until": claimed_until,
            }
            params = [
                f.get_db_prep_save(values[f.name] if f.name in values else f.get_default(),
                                   connection)
                for f in fields
            ]  # fmt: skip
            cursor.execute(sql, params)
            op.queue_entry = cursor.fetchone()[0] if returning else cursor.lastrowid


_statements: dict[str, tuple[str, list[Any], bool]] = {}


def _insert_statement(connection: Any) -> tuple[str, list[Any], bool]:
    """The INSERT of one queue row for this database, its fields, and whether it returns the id."""
    key = f"{connection.alias}:{connection.vendor}"
    cached = _statements.get(key)
    if cached is not None:
        return cached
    meta = SyncQueueEntry._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"
    returning = bool(connection.features.can_return_columns_from_insert)
    if returning:
        sql += f" RETURNING {quote(meta.pk.column)}"
    _statements[key] = (sql, fields, returning)
    return sql, fields, returning


@dataclass
class QueuedBatch:
    """A commit's queued operations, prepared (documents built) and ready to send."""

    using: str
    claim: str
    options: Options
    #: The operations to send and settle (those with rows, and the others).
    operations: list[Operation]
    #: The bulk requests, one per connection.
    prepared: list[PreparedBulk] = field(default_factory=list)
    #: Rows not sent (their connection is paused), with the note to record.
    paused: dict[int, str] = field(default_factory=dict)


def prepare_queued(
    operations: Sequence[Operation], using: str, claim: str, options: Options | None = None
) -> QueuedBatch | None:
    """Build the requests for committed operations whose rows are queued on ``using``.

    Runs where the objects are (the committing thread): it reads the database
    and builds the documents. Returns None when ``QUEUE_DISPATCH`` took the
    rows. Raises ``ConfigurationError`` when ``QUEUE_DISPATCH`` cannot be
    imported.
    """
    from djangoes import connections

    options = options or connections.options
    ids = [op.queue_entry for op in operations if op.queue_entry is not None]
    if options.QUEUE_DISPATCH and ids and _dispatch(options.QUEUE_DISPATCH, using, ids, claim):
        return None
    batch = QueuedBatch(using, claim, options, [])
    for op in operations:
        reason = _pauses.reason(connections.alias_for_index(op.index))
        if reason is not None and op.queue_entry is not None:
            batch.paused[op.queue_entry] = reason
        else:
            batch.operations.append(op)
    by_alias: dict[str, list[Operation]] = {}
    for op in stamp(latest_per_document(batch.operations)):
        by_alias.setdefault(connections.alias_for_index(op.index), []).append(op)
    batch.prepared = [prepare_bulk(alias, ops, options) for alias, ops in by_alias.items()]
    return batch


def finish_queued(batch: QueuedBatch) -> SyncResult:
    """Send a prepared batch and settle its rows; never raises for what the engine did.

    May run in another thread than :func:`prepare_queued` (``QUEUE_SEND =
    "background"``): it only sends, then writes the outcome of the rows.
    """
    from djangoes import connections

    options, using, claim = batch.options, batch.using, batch.claim
    result = SyncResult()
    for prepared in batch.prepared:
        result.merge(execute_bulk(prepared, options))
    for timed_out in result.failures:  # a hung engine: later commits do not wait for it
        if isinstance(timed_out.request_error, ConnectionTimeout):
            alias = connections.alias_for_index(timed_out.operation.index)
            if _pauses.reason(alias) is None:
                _pauses.start(alias, options.QUEUE_RETRY_DELAY, timed_out.reason)
    entries_by_key: dict[tuple[str, str], list[int]] = {}
    for op in batch.operations:
        if op.queue_entry is not None:
            entries_by_key.setdefault(op.key, []).append(op.queue_entry)
    failures = {failure.operation.key: failure for failure in result.failures}
    done: list[int] = []
    retry: dict[int, Reason] = {}
    failed: dict[int, Reason] = {}
    refused: list[Failure] = []
    for key, entry_ids in entries_by_key.items():
        failure = failures.pop(key, None)
        if failure is None:
            done.extend(entry_ids)
        elif is_transient(failure):
            retry.update(dict.fromkeys(entry_ids, (failure.reason, failure.status)))
        else:
            failed.update(dict.fromkeys(entry_ids, (failure.reason, failure.status)))
            refused.append(failure)
    record_outcome(
        using, claim, options, done=done, retry=retry, failed=failed, skipped=batch.paused
    )
    if retry:
        logger.warning(
            "The search engine did not take %d queued sync operation(s); they stay in the "
            "queue for search_sync (%s).",
            len(retry),
            next(iter(retry.values()))[0],
        )
    for failure in refused:
        logger.error("Search sync failed for good, kept in the queue: %s", failure)
    for failure in failures.values():  # operations without a row (scheduled under another policy)
        logger.error("Search sync failed: %s", failure)
    return result


def send_queued(
    operations: Sequence[Operation], using: str, claim: str, options: Options | None = None
) -> SyncResult:
    """Send committed operations whose rows are queued on ``using``, then settle the rows.

    Returns what was sent (empty when ``QUEUE_DISPATCH`` took the rows).
    Never raises for what the engine did: failures are kept in the queue
    and logged. Raises ``ConfigurationError`` when ``QUEUE_DISPATCH`` cannot
    be imported.
    """
    batch = prepare_queued(operations, using, claim, options)
    return SyncResult() if batch is None else finish_queued(batch)


def _dispatch(path: str, using: str, ids: list[int], claim: str) -> bool:
    """Hand the rows to ``QUEUE_DISPATCH``; False (after logging why) if it failed."""
    try:
        dispatch = import_string(path)
    except ImportError as exc:
        raise ConfigurationError(
            f"DJANGOES['QUEUE_DISPATCH'] = {path!r} cannot be imported: {exc}. "
            "For Celery use 'djangoes.tasks.dispatch' (pip install 'djangoes[celery]')."
        ) from exc
    try:
        dispatch(using, ids, claim)
    except Exception:  # any broker or task system failing: the rows are safe, send inline
        logger.warning(
            "QUEUE_DISPATCH %r failed for %d queue entries; sending them now instead.",
            path,
            len(ids),
            exc_info=True,
        )
        return False
    return True


def record_outcome(
    using: str,
    claim: str,
    options: Options,
    *,
    done: Iterable[int] = (),
    retry: Mapping[int, Reason] | None = None,
    failed: Mapping[int, Reason] | None = None,
    release: Iterable[int] = (),
    skipped: Mapping[int, str] | None = None,
    now: datetime | None = None,
) -> None:
    """Write what happened to queue rows: deleted, left for a retry, failed, or only released.

    ``retry`` and ``failed`` map row ids to the reason and status to record;
    ``skipped`` rows were not sent (the note is recorded, they stay due). Rows
    another process claimed meanwhile (``claimed_by`` no longer ``claim``)
    are left to it, except that rows whose document was sent are deleted
    whoever holds them: the document sent was read after their change.
    """
    now = now or timezone.now()
    manager = SyncQueueEntry.objects.using(using)
    done = list(done)
    if done:
        manager.filter(pk__in=done).delete()
    ours = manager.filter(claimed_by=claim)
    if retry:
        current = dict(ours.filter(pk__in=list(retry)).values_list("pk", "attempts"))
        groups: dict[tuple[int, str, int | None], list[int]] = {}
        for pk, attempts in current.items():
            groups.setdefault((attempts + 1, *retry[pk]), []).append(pk)
        for (attempts, reason, status), pks in groups.items():
            ours.filter(pk__in=pks).update(
                attempts=attempts,
                next_attempt=now + retry_delay(attempts, options),
                last_attempt=now,
                last_error=reason,
                last_status=status,
                claimed_by="",
                claimed_until=None,
            )
    if failed:
        by_reason: dict[Reason, list[int]] = {}
        for pk, why in failed.items():
            by_reason.setdefault(why, []).append(pk)
        for (reason, status), pks in by_reason.items():
            ours.filter(pk__in=pks).update(
                state=SyncQueueEntry.State.FAILED,
                attempts=F("attempts") + 1,
                last_attempt=now,
                last_error=reason,
                last_status=status,
                claimed_by="",
                claimed_until=None,
            )
    release = list(release)
    if release:
        ours.filter(pk__in=release).update(claimed_by="", claimed_until=None)
    notes: dict[str, list[int]] = {}
    for pk, note in (skipped or {}).items():
        notes.setdefault(note, []).append(pk)
    for note, pks in notes.items():
        ours.filter(pk__in=pks).update(
            last_error=note, last_status=None, claimed_by="", claimed_until=None
        )
