"""Draining the sync queue: the work of ``manage.py search_sync`` and of the Celery task.

A drain *claims* due entries (a short transaction that marks them with a
claim token; on PostgreSQL the rows are picked with ``SELECT ... FOR UPDATE
SKIP LOCKED``, so several workers never pick the same row and never wait for
each other), sends them, and settles them as :mod:`djangoes.sync.queue`
describes: deleted when the engine took them, left with a backoff when it
could not, marked failed when it refused them for good.

What is sent is always the **current state of the database**, as for every
sender (:mod:`djangoes.sync.sending`): the objects are read again by primary
key (through ``get_search_queryset``) and their whole document is indexed;
an object that is gone, or left the queryset, becomes a delete. The version
of those writes is taken *before* the read, so whatever a later change sends
carries a higher one, and a late or repeated entry can never overwrite a
newer document. The entries of one document are claimed together and
settled together: the last state wins, and older failures of a document that
is now sent are cleared. Failures that pass are retried for ``RETRY_BUDGET``
seconds before an entry is left for a later run.

On SQLite (no row locks) run one worker at a time; the claims still keep a
second one from sending an entry twice, but it may stop with "database is
locked".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, close_old_connections, transaction
from django.db import connections as db_connections
from django.db.models import Q, QuerySet
from django.utils import timezone

from djangoes.options import Options
from djangoes.registry import get_registry
from djangoes.sync.models import SyncQueueEntry
from djangoes.sync.operations import ObjectKey, Operation
from djangoes.sync.queue import CLAIM_SECONDS, Reason, is_transient, new_claim, record_outcome
from djangoes.sync.sending import Failure, SyncResult, send_operations

logger = logging.getLogger("djangoes.sync")

DocumentKey = ObjectKey  # (index, model label, object pk as text)


@dataclass
class DrainResult:
    """What a drain did with the queue entries it claimed."""

    #: Entries claimed and handled.
    entries: int = 0
    #: Entries whose document the engine took (deleted from the queue).
    sent: int = 0
    indexed: int = 0
    deleted: int = 0
    #: Documents the engine already had in a newer version (not an error).
    superseded: int = 0
    #: Entries the engine could not take now, left for a later attempt.
    retrying: int = 0
    #: Entries refused for good in this run (kept as failed).
    failed: int = 0
    #: One line per document refused for good: the entry and the reason.
    errors: list[str] = field(default_factory=list)
    #: Ids of the entries handled (sent, retrying or failed).
    entry_ids: list[int] = field(default_factory=list)
    #: Why the run stopped before the queue was empty (the engine could not be reached).
    stopped: str | None = None

    def merge(self, other: DrainResult) -> None:
        """Add ``other``'s counts to these."""
        self.entries += other.entries
        self.sent += other.sent
        self.indexed += other.indexed
        self.deleted += other.deleted
        self.superseded += other.superseded
        self.retrying += other.retrying
        self.failed += other.failed
        self.errors.extend(other.errors)
        self.entry_ids.extend(other.entry_ids)
        self.stopped = other.stopped or self.stopped


@dataclass(frozen=True)
class QueueCounts:
    """How many entries a queue holds."""

    pending: int
    #: Pending entries waiting for their next attempt (after a failure).
    waiting: int
    failed: int


def _options(options: Options | None) -> Options:
    if options is not None:
        return options
    from djangoes import connections

    return connections.options


# -- claiming --------------------------------------------------------------------


def _free(now: datetime, takeover: str | None = None) -> Q:
    """Rows no live claim holds (or held by ``takeover``, which hands them over)."""
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    if takeover:
        free |= Q(claimed_by=takeover)
    return free


def _locked(queryset: QuerySet[SyncQueueEntry], using: str) -> QuerySet[SyncQueueEntry]:
    """``queryset`` with row locks that skip rows other workers hold, where the database can."""
    features = db_connections[using].features
    if features.has_select_for_update_skip_locked:
        locked: QuerySet[SyncQueueEntry] = queryset.select_for_update(skip_locked=True)
        return locked
    return queryset


def claim_entries(
    using: str,
    claim: str,
    *,
    limit: int,
    ids: Sequence[int] | None = None,
    takeover: str | None = None,
    ignore_backoff: bool = False,
    not_tried_since: datetime | None = None,
) -> list[SyncQueueEntry]:
    """Claim up to ``limit`` due pending entries (by id), plus the other entries of their documents.

    ``ids`` restricts the choice; ``takeover`` also takes rows claimed with
    that token (the transaction that wrote them handing them to a task);
    ``ignore_backoff`` takes entries whose next attempt is later;
    ``not_tried_since`` skips entries tried at or after that time (so one
    run tries each entry once). The other entries of the claimed documents
    (pending in backoff, or failed) are claimed too, so that they are
    settled with the document. Returns the claimed rows, oldest first.
    """
    now = timezone.now()
    free = _free(now, takeover)
    manager = SyncQueueEntry.objects.using(using)
    with transaction.atomic(using=using):
        due = manager.filter(free, state=SyncQueueEntry.State.PENDING)
        if ids is not None:
            due = due.filter(pk__in=list(ids))
        if not ignore_backoff:
            due = due.filter(next_attempt__lte=now)
        if not_tried_since is not None:
            due = due.filter(Q(last_attempt__isnull=True) | Q(last_attempt__lt=not_tried_since))
        picked = list(_locked(due.order_by("pk"), using)[:limit])
        if not picked:
            return []
        keys = {(e.index, e.model, e.object_pk) for e in picked}
        related = manager.filter(
            free,
            index__in={k[0] for k in keys},
            model__in={k[1] for k in keys},
            object_pk__in={k[2] for k in keys},
        ).exclude(pk__in=[e.pk for e in picked])
        siblings = [
            e
            for e in _locked(related.order_by("pk"), using)[:limit]
            if (e.index, e.model, e.object_pk) in keys
        ]
        chosen = [e.pk for e in picked] + [e.pk for e in siblings]
        manager.filter(free, pk__in=chosen).update(
            claimed_by=claim, claimed_until=now + timedelta(seconds=CLAIM_SECONDS)
        )
    return list(manager.filter(pk__in=chosen, claimed_by=claim).order_by("pk"))


# -- sending ---------------------------------------------------------------------


def _resolve(index: str, label: str) -> tuple[type[Any] | None, str | None]:
    """(model, None), or (None, why an entry of this model and index can never be sent)."""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return None, f"the model {label!r} is not installed any more"
    if index not in get_registry().indexes_for(model):
        return None, (
            f"{label} is not in index {index!r} any more (ES_INDICES[{index!r}]['MODELS'])"
        )
    return model, None


def _build_operations(
    groups: dict[DocumentKey, list[SyncQueueEntry]], using: str
) -> tuple[list[Operation], dict[DocumentKey, str]]:
    """One operation per document, sent from the object's state when sent.

    Returns the operations and the documents that cannot be sent, with the
    reason. The ids the entries recorded are deleted when the object is gone
    (or has another id now).
    """
    ops: list[Operation] = []
    refused: dict[DocumentKey, str] = {}
    by_model: dict[tuple[str, str], list[DocumentKey]] = {}
    for key in groups:
        by_model.setdefault((key[0], key[1]), []).append(key)
    for (index, label), keys in by_model.items():
        model, reason = _resolve(index, label)
        if model is None:
            refused.update(dict.fromkeys(keys, reason or ""))
            continue
        for key in keys:
            try:
                pk = model._meta.pk.to_python(key[2])
            except ValidationError as exc:
                refused[key] = f"the primary key {key[2]!r} is not valid: {exc.messages[0]}"
                continue
            doc_ids = list(dict.fromkeys(e.doc_id for e in groups[key]))
            op = Operation("index", index, model, doc_ids[-1], pk, stale_ids=frozenset(doc_ids),
                           using=using)  # fmt: skip
            op.stale_ids -= {op.doc_id, ""}
            ops.append(op)
    return ops, refused


def _send(ops: list[Operation], options: Options) -> SyncResult:
    """Send ``ops``; a document whose building raises fails alone (halves are retried)."""
    if not ops:
        return SyncResult()
    try:
        return send_operations(
            ops, options=options, raise_errors=False, budget=options.RETRY_BUDGET
        )
    except (DatabaseError, ImproperlyConfigured):
        raise  # the database or the settings: nothing to do with one document
    except Exception as exc:  # a model's document code raised: find which one, log it
        if len(ops) == 1:
            logger.exception("Building the search document of %s raised", ops[0].describe())
            return SyncResult(failures=[Failure(ops[0], f"building the document raised {exc!r}")])
    middle = len(ops) // 2
    result = _send(ops[:middle], options)
    result.merge(_send(ops[middle:], options))
    return result


def process_entries(
    entries: Sequence[SyncQueueEntry], *, using: str, claim: str, options: Options | None = None
) -> DrainResult:
    """Send the documents of claimed ``entries`` from the database's current state; settle them.

    Returns what was done. Raises only for the database or the settings;
    what the engine refuses is recorded on the entries.
    """
    options = _options(options)
    result = DrainResult(entries=len(entries), entry_ids=[e.pk for e in entries])
    groups: dict[DocumentKey, list[SyncQueueEntry]] = {}
    for entry in entries:
        groups.setdefault((entry.index, entry.model, entry.object_pk), []).append(entry)
    ops, refused = _build_operations(groups, using)
    sent = _send(ops, options)
    result.indexed, result.deleted = sent.indexed, sent.deleted
    result.superseded = sent.superseded
    failures = {f.operation.object_key: f for f in sent.failures}
    done: list[int] = []
    retry: dict[int, Reason] = {}
    failed: dict[int, Reason] = {}
    release: list[int] = []
    for key, group in groups.items():
        if key in refused:
            failed.update(dict.fromkeys((e.pk for e in group), (refused[key], None)))
            result.errors.append(f"{group[-1]}: {refused[key]}")
            continue
        failure = failures.get(key)
        if failure is None:
            done.extend(e.pk for e in group)
        elif is_transient(failure):
            for entry in group:  # failed entries of the document stay failed
                if entry.state == SyncQueueEntry.State.PENDING:
                    retry[entry.pk] = (failure.reason, failure.status)
                else:
                    release.append(entry.pk)
            if failure.request_failed:
                result.stopped = failure.reason
        else:
            failed.update(dict.fromkeys((e.pk for e in group), (failure.reason, failure.status)))
            result.errors.append(f"{group[-1]}: {_status(failure)}{failure.reason}")
    record_outcome(using, claim, options, done=done, retry=retry, failed=failed, release=release)
    result.sent, result.retrying, result.failed = len(done), len(retry), len(failed)
    return result


def _status(failure: Failure) -> str:
    return f"[{failure.status}] " if failure.status is not None else ""


# -- draining --------------------------------------------------------------------


def drain(
    using: str = DEFAULT_DB_ALIAS,
    *,
    batch_size: int | None = None,
    ignore_backoff: bool = False,
    options: Options | None = None,
    stop: threading.Event | None = None,
    progress: Callable[[DrainResult], None] | None = None,
) -> DrainResult:
    """Send every due entry of the queue on database ``using`` once; returns what was done.

    Entries are claimed and sent ``batch_size`` (default CHUNK_SIZE) at a
    time; each entry is tried at most once per call. The run stops early
    when the engine cannot be reached (``result.stopped`` says why; the
    remaining entries wait for the next run) or when ``stop`` is set.
    ``progress`` is called with each batch's result. Raises the database's
    errors and ``ImproperlyConfigured`` for bad settings.
    """
    options = _options(options)
    size = batch_size or options.CHUNK_SIZE
    started = timezone.now()
    claim = new_claim()
    total = DrainResult()
    while stop is None or not stop.is_set():
        entries = claim_entries(
            using, claim, limit=size, ignore_backoff=ignore_backoff, not_tried_since=started
        )
        if not entries:
            break
        batch = process_entries(entries, using=using, claim=claim, options=options)
        total.merge(batch)
        if progress is not None:
            progress(batch)
        if batch.stopped:
            break
    return total


def sync_entries(
    ids: Sequence[int], *, using: str = DEFAULT_DB_ALIAS, claim: str | None = None
) -> DrainResult:
    """Send the queue entries ``ids`` (those still pending and due); returns what was done.

    ``claim`` is the token the entries were written with: it hands them over
    (the Celery task gets it from the transaction that wrote them). Entries
    claimed by another live process, or already sent, are skipped.
    """
    options = _options(None)
    token = claim or new_claim()
    total = DrainResult()
    remaining = list(ids)
    while remaining:
        chunk, remaining = remaining[: options.CHUNK_SIZE], remaining[options.CHUNK_SIZE :]
        entries = claim_entries(using, token, limit=len(chunk), ids=chunk, takeover=claim)
        if entries:
            total.merge(process_entries(entries, using=using, claim=token, options=options))
    return total


def task_summary(result: DrainResult) -> dict[str, int]:
    """The counts a task returns for ``result``; what is left or failed is logged."""
    if result.retrying or result.failed:
        logger.warning(
            "Search sync task: %d queue entries left for a retry (%s), %d failed for good.",
            result.retrying,
            result.stopped or "the engine refused them for now",
            result.failed,
        )
    return {
        "entries": result.entries,
        "sent": result.sent,
        "retrying": result.retrying,
        "failed": result.failed,
    }


def watch(
    using: str = DEFAULT_DB_ALIAS,
    *,
    interval: float,
    stop: threading.Event,
    batch_size: int | None = None,
    progress: Callable[[DrainResult], None] | None = None,
) -> DrainResult:
    """Drain the queue again and again until ``stop`` is set; returns the total.

    After a run that found nothing to send, or could not reach the engine,
    waits ``interval`` seconds (woken at once by ``stop``). The database
    connections are checked between runs like between two requests.
    """
    total = DrainResult()
    while not stop.is_set():
        close_old_connections()
        result = drain(using, batch_size=batch_size, stop=stop, progress=progress)
        total.merge(result)
        if not result.entries or result.stopped or result.retrying:
            stop.wait(interval)
    return total


# -- failed entries ----------------------------------------------------------------


def failed_entries(using: str = DEFAULT_DB_ALIAS) -> QuerySet[SyncQueueEntry]:
    """The entries refused for good, oldest first."""
    failed: QuerySet[SyncQueueEntry] = SyncQueueEntry.objects.using(using).filter(
        state=SyncQueueEntry.State.FAILED
    )
    return failed


def retry_failed(using: str = DEFAULT_DB_ALIAS, ids: Iterable[int] | None = None) -> int:
    """Put failed entries (all, or ``ids``) back as pending, due now; returns how many."""
    entries = failed_entries(using)
    if ids is not None:
        entries = entries.filter(pk__in=list(ids))
    return entries.update(
        state=SyncQueueEntry.State.PENDING,
        next_attempt=timezone.now(),
        claimed_by="",
        claimed_until=None,
    )


def purge_failed(using: str = DEFAULT_DB_ALIAS, ids: Iterable[int] | None = None) -> int:
    """Delete failed entries (all, or ``ids``); returns how many."""
    entries = failed_entries(using)
    if ids is not None:
        entries = entries.filter(pk__in=list(ids))
    count, _ = entries.delete()
    return count


def queue_counts(using: str = DEFAULT_DB_ALIAS) -> QueueCounts:
    """How many entries are pending (and of those, waiting for a retry) and failed."""
    entries = SyncQueueEntry.objects.using(using)
    pending = entries.filter(state=SyncQueueEntry.State.PENDING)
    return QueueCounts(
        pending=pending.count(),
        waiting=pending.filter(next_attempt__gt=timezone.now()).count(),
        failed=entries.filter(state=SyncQueueEntry.State.FAILED).count(),
    )


def describe_entries(entries: Iterable[SyncQueueEntry]) -> list[str]:
    """One line per entry: ``'#12 index testapp.Post pk=3 ... (attempts: 1, ...): [400] ...'``."""
    lines = []
    for entry in entries:
        error = entry.describe_error()
        tried = f", last tried {entry.last_attempt:%Y-%m-%d %H:%M:%S}" if entry.last_attempt else ""
        line = f"#{entry.pk} {entry} (attempts: {entry.attempts}{tried})"
        lines.append(f"{line}: {error}" if error else line)
    return lines
