"""The durable sync queue, writing side: the "queue" ON_ERROR policy.

The transactional outbox. Under the "queue" policy every operation of
automatic sync becomes a :class:`~djangoes.sync.models.SyncQueueEntry` row,
written by :func:`enqueue` when the change happens (``post_save`` /
``post_delete``), in the same transaction, on the same database: a
rolled-back transaction (or savepoint) leaves no row, a committed one leaves
its rows until the engine took their documents. After the commit,
:func:`send_committed` sends the operations as every other policy does (from
the committed state of their objects), then *settles* the rows:

* the engine took the document (or already had a newer version): the rows
  are deleted (by the background thread lazily, many together: a row sent
  twice is harmless, see :mod:`djangoes.sync.background`);
* the engine could not take it (unreachable, timeout, 408/429/5xx, a
  malformed answer, index missing), even after the retries of the bulk
  writer: the rows stay, with ``attempts`` and a ``next_attempt`` after an
  exponential backoff, for ``manage.py search_sync`` (:mod:`djangoes.sync.drain`);
* the engine (or djangoes) refused the document for good (a 4xx such as a
  mapping conflict, a document too big or that cannot be serialised, an id
  no engine accepts): the rows are marked ``failed`` with the reason and
  kept, to be shown, retried or purged by ``search_sync``; they are not
  retried by themselves. A document id over the engines' 512 bytes is
  recorded failed already when the row is written.

So a save never fails because the engine is down. The rows written by one
transaction are *claimed* by it (``claimed_by``) for :data:`CLAIM_SECONDS`,
so that a ``search_sync`` worker does not send them at the same time; if the
process dies before sending, the claim runs out and a worker takes them.

When a connection's engine does not answer in time, commits stop waiting for
it: for ``QUEUE_RETRY_DELAY`` seconds the operations for that connection are
left in the queue unsent (for ``search_sync``), so that a hung cluster slows
one request per process and period, not every request.

With ``QUEUE_DISPATCH`` the rows are handed to that function (a Celery task,
:mod:`djangoes.tasks`) after the commit instead of being sent inline; with
``QUEUE_SEND = "background"`` (production's default) to the process's
sending thread (:mod:`djangoes.sync.background`).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connections as db_connections
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from djangoes.bulk import MAX_ID_BYTES
from djangoes.exceptions import ConfigurationError, ConnectionTimeout
from djangoes.sync.models import SyncQueueEntry
from djangoes.sync.sending import Failure, SyncResult, send_operations

if TYPE_CHECKING:
    from djangoes.options import Options
    from djangoes.sync.operations import ObjectKey, Operation

logger = logging.getLogger("djangoes.sync")

#: Longest primary key (as text) a queue row holds: ``SyncQueueEntry.object_pk``.
OBJECT_PK_LENGTH = 255

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
    bulk, a malformed answer) is always transient: nothing is known against
    the document; so is a document the engine kept refusing for now (429...)
    until the retry budget ran out. A per-document 408, 429, 404 (index
    missing) or 5xx is transient too; any other 4xx, and a document djangoes
    refused before sending (no status), is not.
    """
    if failure.request_failed or failure.retryable:
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

    A value that cannot fit its column never reaches the database (on
    PostgreSQL it would abort the user's transaction): a document id over the
    engines' 512 bytes, which no engine accepts, or a primary key over 255
    characters is recorded as a failed row saying so, and never sent.

    This runs once per save of a synced model: the row is written with one
    prepared ``INSERT`` rather than through the ORM's model machinery.
    """
    now = timezone.now()
    connection = db_connections[using]
    sql, fields, returning = _insert_statement(connection)
    claimed_until = now + timedelta(seconds=CLAIM_SECONDS)
    with connection.cursor() as cursor:
        for op in operations:
            values: dict[str, Any] = {
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
            refused = _refusal(op)
            if refused is not None:
                values.update(  # the row only reports: nothing in it may ever be sent
                    doc_id="",
                    object_pk=str(op.pk)[:255],
                    state=SyncQueueEntry.State.FAILED,
                    last_error=refused,
                    last_attempt=now,
                    attempts=1,
                    claimed_by="",
                    claimed_until=None,
                )
            params = [
                f.get_db_prep_save(values[f.name] if f.name in values else f.get_default(),
                                   connection)
                for f in fields
            ]  # fmt: skip
            cursor.execute(sql, params)
            entry = cursor.fetchone()[0] if returning else cursor.lastrowid
            if refused is None:
                op.queue_entry = entry
            else:
                logger.error("Search sync failed for good, kept in the queue: %s: %s",
                             op.describe(), refused)  # fmt: skip


def _refusal(op: Operation) -> str | None:
    """Why ``op`` can never be sent and its row cannot hold it as it is (None: it can)."""
    size = len(op.doc_id.encode())
    if size > MAX_ID_BYTES:
        return (
            f"the document id is {size} bytes long, more than the {MAX_ID_BYTES} bytes "
            "Elasticsearch and OpenSearch accept"
        )
    if len(str(op.pk)) > OBJECT_PK_LENGTH:
        return (
            f"the primary key is too long for the queue's object_pk column "
            f"({OBJECT_PK_LENGTH} characters)"
        )
    return None


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
    """A commit's operations whose rows are queued, to send and settle."""

    using: str
    claim: str
    options: Options
    operations: list[Operation]


def send_committed(
    operations: Sequence[Operation], using: str, claim: str, options: Options | None = None
) -> None:
    """After the commit: hand the queued operations on, or send them and settle their rows.

    To ``QUEUE_DISPATCH`` when it is set, else to the process's sending thread
    with ``QUEUE_SEND = "background"``, else sent now. Never raises for what
    the engine did. Raises ``ConfigurationError`` when ``QUEUE_DISPATCH``
    cannot be imported.
    """
    from djangoes import connections
    from djangoes.sync import background

    options = options or connections.options
    ids = [op.queue_entry for op in operations if op.queue_entry is not None]
    dispatch = options.queue_dispatch() if ids else None
    if dispatch and _dispatch(dispatch, using, ids, claim):
        return
    batch = QueuedBatch(using, claim, options, list(operations))
    if options.queue_send() == "background" and threads_share(using):
        background.submit(batch)
    else:
        finish_queued(batch, budget=options.INLINE_RETRY_BUDGET)


def threads_share(using: str) -> bool:
    """Whether another thread of this process sees database ``using`` as this one does.

    Not an in-memory SQLite database: each thread's connection would open an
    empty one. Background sending falls back to sending at commit there.
    """
    connection: Any = db_connections[using]
    return not (connection.vendor == "sqlite" and connection.is_in_memory_db())


def finish_queued(batch: QueuedBatch, *, budget: float) -> SyncResult:
    """Send a committed batch from the database's state, then settle its rows.

    Documents are read now (the version taken first), so a batch sent late,
    by another thread, still sends the newest state. Failures that pass are
    retried for ``budget`` seconds. Never raises for what the engine did;
    raises the database's errors.
    """
    return finish_batches([batch], budget=budget)


def finish_batches(
    batches: Sequence[QueuedBatch], *, budget: float, settled: Settlement | None = None
) -> SyncResult:
    """Send committed batches together (one read per model and index, shared requests).

    As :func:`finish_queued`, for batches of any number of commits: each
    document is sent once, from the rows as they are now, and every row of
    it is settled by that outcome. With ``settled`` the rows of what the
    engine took are added to it, to be deleted later and together
    (:meth:`Settlement.settle`), instead of now.
    """
    results = SyncResult()
    groups: list[list[QueuedBatch]] = []
    for batch in batches:  # the same database and settings go together
        group = next((g for g in groups if (g[0].using, g[0].options) ==
                      (batch.using, batch.options)), None)  # fmt: skip
        if group is None:
            groups.append([batch])
        else:
            group.append(batch)
    for group in groups:
        results.merge(_finish_together(group, budget, settled))
    return results


def _finish_together(
    batches: list[QueuedBatch], budget: float, settled: Settlement | None
) -> SyncResult:
    from djangoes import connections

    options, using = batches[0].options, batches[0].using
    claims: dict[int, str] = {}
    paused: dict[int, str] = {}
    sending: list[Operation] = []
    for batch in batches:
        for op in batch.operations:
            if op.queue_entry is not None:
                claims[op.queue_entry] = batch.claim
            reason = _pauses.reason(connections.alias_for_index(op.index))
            if reason is not None and op.queue_entry is not None:
                paused[op.queue_entry] = reason
            else:
                sending.append(op)
    result = send_operations(sending, options=options, raise_errors=False, budget=budget)
    for timed_out in result.failures:  # a hung engine: later commits do not wait for it
        if isinstance(timed_out.request_error, ConnectionTimeout):
            alias = connections.alias_for_index(timed_out.operation.index)
            if _pauses.reason(alias) is None:
                _pauses.start(alias, options.QUEUE_RETRY_DELAY, timed_out.reason)
    entries_by_key: dict[ObjectKey, list[int]] = {}
    for op in sending:
        if op.queue_entry is not None:
            entries_by_key.setdefault(op.object_key, []).append(op.queue_entry)
    failures = {failure.operation.object_key: failure for failure in result.failures}
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
    if settled is not None:
        settled.add(using, done)
    else:
        delete_rows(using, done)
    if retry or failed or paused:  # each commit's rows, under its own claim
        for claim in dict.fromkeys(claims.values()):

            def mine(ids: Mapping[int, Any], claim: str = claim) -> dict[int, Any]:
                return {pk: value for pk, value in ids.items() if claims.get(pk) == claim}

            record_outcome(
                using, claim, options, retry=mine(retry), failed=mine(failed),
                skipped=mine(paused),
            )  # fmt: skip
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


class Settlement:
    """Rows of documents the engine took, per database, to delete later and together."""

    def __init__(self) -> None:
        self.rows: dict[str, list[int]] = {}
        #: When the oldest row was added (``time.monotonic()``).
        self.first = 0.0

    def __bool__(self) -> bool:
        return any(self.rows.values())

    def add(self, using: str, ids: Iterable[int]) -> None:
        ids = list(ids)
        if ids:
            if not self:
                self.first = time.monotonic()
            self.rows.setdefault(using, []).extend(ids)

    def ready(self, rows: int, seconds: float) -> bool:
        """Whether ``rows`` rows wait, or the oldest has waited ``seconds``."""
        count = sum(len(ids) for ids in self.rows.values())
        return count >= rows or (count > 0 and time.monotonic() >= self.first + seconds)

    def settle(self) -> None:
        """Delete the rows (raises the database's errors; they are forgotten anyway, and
        a drainer sends them again once their claims ran out: harmless)."""
        rows, self.rows = self.rows, {}
        for using, ids in rows.items():
            delete_rows(using, ids)


#: Most ids in one ``DELETE ... IN`` (below every database's limit of parameters).
DELETE_CHUNK = 500


def delete_rows(using: str, ids: Sequence[int]) -> None:
    """Delete the queue rows ``ids`` on ``using``, in one transaction.

    One plain ``DELETE`` per :data:`DELETE_CHUNK` ids: ``QuerySet.delete()``
    would read the rows first and send ``pre_delete``/``post_delete`` for
    each, which queue rows need not (nothing refers to them).
    """
    if not ids:
        return
    connection = db_connections[using]
    meta = SyncQueueEntry._meta
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(str(meta.pk.column))
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for start in range(0, len(ids), DELETE_CHUNK):
            chunk = list(ids[start : start + DELETE_CHUNK])
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"DELETE FROM {table} WHERE {pk} IN ({marks})", chunk)


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
    delete_rows(using, list(done))
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
