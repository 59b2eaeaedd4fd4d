"""Sending sync operations: the committed state of objects, written by the bulk writer.

Whatever sends an operation — the commit of a transaction, the background
thread, the queue's drain, a task, a model method, ``sync_queryset()`` — goes
through :func:`send_operations`:

1. one operation per document: the last one given wins;
2. per model and index, in chunks of ``CHUNK_SIZE``: a version is taken
   (:func:`djangoes.sync.clock.next_version`), *then* the chunk's rows are
   read, in one query, through the model's ``get_search_queryset``. An
   object that is there is indexed; one that is not (deleted, or left the
   queryset) is deleted from the index;
3. each document is built from the row just read (``prepare_search_documents``
   once per chunk), serialised once and checked: a document that cannot be
   serialised (NaN and infinity included), is bigger than
   ``MAX_DOCUMENT_SIZE``, or has no valid id fails alone;
4. :mod:`djangoes.bulk` writes them, to the index and to the new index of a
   running rebuild (:mod:`djangoes.sync.targets`), and reads each outcome;
5. the outcomes make a :class:`SyncResult`; failures go to ``ON_ERROR``.

**Why a later version always carries a state at least as new.** Every
sender takes its version after the commit it sends for, and reads the rows
after taking the version. Let C be the last commit of a row and v its
sender's version: v was taken after C. The write that ends up in the index
has the highest version V ≥ v, so its sender took V after C and read the row
after that: it read C's state, whatever the instance in memory held and
whichever process sent first. Versions come from the clock
(:mod:`djangoes.sync.clock`); the argument needs the clocks of the writing
machines to agree (NTP), as they do on one machine.

Loading many objects (``update_search_index``, a rebuild, redone writes) takes
the version before it reads each chunk and sends what it read:
:func:`index_objects` and :class:`BulkSender`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from djangoes import bulk
from djangoes.backends.abstracts import Base
from djangoes.documents import InvalidDocumentId, InvalidUpdateFields, search_queryset
from djangoes.exceptions import DjangoesError, TransportError
from djangoes.options import Options
from djangoes.sync import targets
from djangoes.sync.clock import next_version
from djangoes.sync.operations import Operation, latest_per_document

logger = logging.getLogger("djangoes.sync")

__all__ = [
    "BulkSender",
    "DocumentWrite",
    "Failure",
    "RetriesExhausted",
    "SyncError",
    "SyncResult",
    "encode_document",
    "handle_failures",
    "index_objects",
    "send_operations",
]


@dataclass
class Failure:
    """An operation the engine (or djangoes, before sending) did not write."""

    operation: Operation
    reason: str
    status: int | None = None
    #: The bulk request failed as a whole (engine unreachable, timeout, 5xx, a
    #: malformed answer...): nothing is wrong with the document itself.
    request_failed: bool = False
    #: The error of that request, when it failed as a whole.
    request_error: TransportError | None = field(default=None, repr=False, compare=False)
    #: The engine could not take it for a reason that passes (the retry budget ran out).
    retryable: bool = False

    def __str__(self) -> str:
        status = f" [{self.status}]" if self.status is not None else ""
        return f"{self.operation.action} {self.operation.describe()}{status}: {self.reason}"


class SyncError(DjangoesError):
    """Documents could not be synced; ``failures`` says which and why."""

    def __init__(self, failures: Sequence[Failure]) -> None:
        self.failures = list(failures)
        lines = "\n".join(f"  - {f}" for f in self.failures[:20])
        more = f"\n  ... and {len(self.failures) - 20} more" if len(self.failures) > 20 else ""
        super().__init__(f"{len(self.failures)} search document(s) not synced:\n{lines}{more}")


class RetriesExhausted(TransportError):
    """The engine kept refusing documents for now (429, 503...) for the whole retry budget."""


@dataclass
class SyncResult:
    """What one sending did."""

    indexed: int = 0
    updated: int = 0
    deleted: int = 0
    #: Nothing to send: a partial update of no mapped field, a delete of an id
    #: no document can have.
    skipped: int = 0
    #: Refused by the engine because it already has a newer version: not an error.
    superseded: int = 0
    failures: list[Failure] = field(default_factory=list)
    #: Failures writing to the extra targets of a rebuild (not the live index).
    extra_failures: list[Failure] = field(default_factory=list)

    def merge(self, other: SyncResult) -> None:
        self.indexed += other.indexed
        self.updated += other.updated
        self.deleted += other.deleted
        self.skipped += other.skipped
        self.superseded += other.superseded
        self.failures.extend(other.failures)
        self.extra_failures.extend(other.extra_failures)


#: One encoder for every document (its ``encode`` keeps no state between calls).
_ENCODER = DjangoJSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode_document(document: Any) -> bytes:
    """The JSON of a document, as sent (dates, decimals and UUIDs as Django encodes them).

    Raises ValueError for NaN and infinity (no JSON has them) and TypeError
    for values JSON cannot hold.
    """
    try:
        text = _ENCODER.encode(document)
    except ValueError as exc:
        if not str(exc).startswith("Out of range float"):
            raise
        raise ValueError(
            "it holds NaN or infinity, which JSON has no form for (use None, or leave the "
            "field out)"
        ) from exc
    return text.encode()


@dataclass(eq=False)
class DocumentWrite:
    """One write of a model document, and the operation it is for."""

    op: Operation
    action: bulk.Op
    doc_id: str
    version: int | None
    source: bytes | None = None
    #: A partial update's object, to send its whole document if the index lacks it.
    obj: Any = None


def handle_failures(failures: Sequence[Failure], options: Options) -> None:
    """Apply the ON_ERROR policy to ``failures``: log them, or raise ``SyncError``.

    "queue" raises here too: it keeps automatic sync durable (the failures of
    a commit's flush never come here, :mod:`djangoes.sync.queue` keeps them),
    while a call that sends at once has a caller waiting for the outcome.
    """
    if options.error_policy() == "log":
        for failure in failures:
            logger.error("Search sync failed: %s", failure)
        return
    raise SyncError(failures)


def send_operations(
    operations: Iterable[Operation],
    *,
    options: Options | None = None,
    raise_errors: bool = True,
    budget: float | None = None,
) -> SyncResult:
    """Send ``operations`` now, from the committed state of their objects; see the module doc.

    ``budget`` is how long failures that pass are retried (default
    ``INLINE_RETRY_BUDGET``: a caller is waiting). With ``raise_errors``
    False the failures are only returned, whatever the policy. Returns what
    was done; raises ``SyncError`` as the policy says (see
    :func:`handle_failures`), ``InvalidUpdateFields`` for a model that cannot
    make its partial document, and what the model's document code raises
    (other than ValueError/TypeError, which fail that document alone).
    """
    from djangoes import connections

    options = options or connections.options
    ops = latest_per_document(operations)
    by_alias: dict[str, list[Operation]] = defaultdict(list)
    for op in ops:
        by_alias[connections.alias_for_index(op.index)].append(op)
    result = SyncResult()
    for alias, group in by_alias.items():
        sender = BulkSender(
            alias, {op.index for op in group}, options,
            budget=options.INLINE_RETRY_BUDGET if budget is None else budget,
        )  # fmt: skip
        sender.send(committed_writes(group, options, sender.result))
        result.merge(sender.result)
    if result.failures and raise_errors:
        handle_failures(result.failures, options)
    return result


def committed_writes(
    ops: Sequence[Operation], options: Options, result: SyncResult
) -> Iterator[DocumentWrite]:
    """The writes that bring each operation's document to its object's committed state.

    Lazily, chunk by chunk: each chunk's version is taken right before its
    rows are read. Documents refused before sending are added to
    ``result.failures``.
    """
    groups: dict[tuple[type[Any], str, bool, bool, str | None], list[Operation]]
    groups = defaultdict(list)
    for op in ops:
        groups[(op.model, op.index, op.committed, op.explicit, op.using)].append(op)
    for (model, index, committed, explicit, using), group in groups.items():
        for start in range(0, len(group), options.CHUNK_SIZE):
            chunk = group[start : start + options.CHUNK_SIZE]
            version = next_version()  # before the read: see the module docstring
            if not committed:  # explicit deletes: nothing to read
                for op in chunk:
                    op.version = version
                    yield from _deletes(op, {op.doc_id, *op.stale_ids}, version, result)
                continue
            queryset = search_queryset(model, index, whole_table=explicit, using=using)
            found = {obj.pk: obj for obj in queryset.filter(pk__in=[op.pk for op in chunk])}
            prepare = getattr(model, "prepare_search_documents", None)
            if found and prepare is not None:
                prepare(list(found.values()), index=index)
            for op in chunk:
                op.version = version
                obj = found.get(op.pk)
                if obj is None:
                    yield from _deletes(op, {op.doc_id, *op.stale_ids}, version, result)
                else:
                    yield from _object_writes(op, obj, version, options, result)


def _deletes(
    op: Operation, doc_ids: set[str], version: int, result: SyncResult
) -> Iterator[DocumentWrite]:
    ids = {doc_id for doc_id in doc_ids if doc_id}
    if not ids:
        result.skipped += 1  # it never had a document
    for doc_id in sorted(ids):
        yield DocumentWrite(op, "delete", doc_id, version)


def _object_writes(
    op: Operation, obj: Any, version: int, options: Options, result: SyncResult
) -> Iterator[DocumentWrite]:
    """The write of ``obj``'s document (and the delete of its former id, if it changed)."""
    try:
        doc_id = obj.get_search_document_id()
    except InvalidDocumentId as exc:
        result.failures.append(Failure(op, str(exc)))
        return
    if op.stale_ids or (op.doc_id and op.doc_id != doc_id):  # its former ids: deleted
        yield from _deletes(op, {op.doc_id, *op.stale_ids} - {doc_id, ""}, version, SyncResult())
    if not op.doc_id:
        op.doc_id = doc_id  # for messages: the id it is written under
    partial = (
        options.UPDATE_STRATEGY == "partial"
        and op.action == "update"
        and op.update_fields is not None
    )
    try:
        if partial:
            document = obj.as_search_document_update(index=op.index, update_fields=op.update_fields)
            if not document:
                result.skipped += 1  # the model said there is nothing to send
                return
        else:
            document = obj.as_search_document(index=op.index)
        source = encode_document(document)
    except InvalidUpdateFields:
        raise  # a programming error in the model, not bad data: say so at once
    except (TypeError, ValueError) as exc:
        result.failures.append(Failure(op, f"the document cannot be serialised: {exc}"))
        return
    if options.MAX_DOCUMENT_SIZE and len(source) > options.MAX_DOCUMENT_SIZE:
        result.failures.append(
            Failure(
                op,
                f"the document is {len(source)} bytes, more than MAX_DOCUMENT_SIZE "
                f"({options.MAX_DOCUMENT_SIZE}); it was not sent",
            )
        )
        return
    if partial:
        yield DocumentWrite(op, "update", doc_id, None, source, obj)
    else:
        yield DocumentWrite(op, "index", doc_id, version, source)


def bulk_limits(options: Options, *, budget: float) -> bulk.Limits:
    """The bulk writer's limits the settings give, retrying for ``budget`` seconds."""
    return bulk.Limits(
        max_bytes=options.BULK_BYTES,
        max_actions=options.BULK_DOCUMENTS,
        timeout=options.BULK_TIMEOUT,
        retry=bulk.Retry(budget),
        refresh=options.REFRESH,
    )


class BulkSender:
    """Writes :class:`DocumentWrite` s on one connection and counts what became of them.

    Every write goes to the index's NAME (or to ``target``: a rebuild's new
    physical index) and, without ``target``, to the indexes a running rebuild
    copies writes to. ``result`` gathers the outcomes.
    """

    def __init__(
        self,
        alias: str,
        keys: Iterable[str],
        options: Options,
        *,
        budget: float,
        target: str | None = None,
        conn: Base | None = None,
    ) -> None:
        from djangoes import connections

        self.alias = alias
        self.options = options
        self.conn = conn or connections[alias]
        keys = sorted(set(keys))
        self.names = {key: target or self.conn.get_index_settings(key)["NAME"] for key in keys}
        self.extra = {} if target else targets.extra_targets(alias, keys)
        self.versioned = self.conn.features.supports_external_versions
        self.limits = bulk_limits(options, budget=budget)
        self.result = SyncResult()
        #: Partial updates of documents the index did not have: sent whole next.
        self.missing: list[DocumentWrite] = []

    def actions(self, writes: Iterable[DocumentWrite]) -> Iterator[bulk.Action]:
        """The bulk actions of ``writes``: one per destination."""
        retry = self.options.RETRY_ON_CONFLICT
        for write in writes:
            version = write.version if self.versioned else None
            for destination in (None, *self.extra.get(write.op.index, ())):
                yield bulk.Action(
                    write.action, destination or self.names[write.op.index], write.doc_id,
                    write.source, version, retry, ref=(write, destination),
                )  # fmt: skip

    def account(self, outcome: bulk.Outcome) -> None:
        """Count what became of one action."""
        write, destination = outcome.action.ref
        kind = outcome.kind
        if kind == "refused" and outcome.status is None and write.action == "delete":
            kind = "done"  # an id no engine accepts: no document can have it
        if destination is not None:  # a rebuild's index: its failures are the rebuild's
            if kind in ("refused", "unsent", "missing"):
                self.result.extra_failures.append(self._failure(write, outcome))
            return
        if kind == "done":
            if write.action == "index":
                self.result.indexed += 1
            elif write.action == "update":
                self.result.updated += 1
            else:
                self.result.deleted += 1
        elif kind == "superseded":
            self.result.superseded += 1
        elif kind == "missing" and write.obj is not None:
            self.missing.append(write)
        else:
            self.result.failures.append(self._failure(write, outcome))

    @staticmethod
    def _failure(write: DocumentWrite, outcome: bulk.Outcome) -> Failure:
        return Failure(
            write.op, outcome.reason, outcome.status, request_failed=outcome.request_failed,
            request_error=outcome.error, retryable=outcome.kind == "unsent",
        )  # fmt: skip

    def send(self, writes: Iterable[DocumentWrite]) -> SyncResult:
        """Write ``writes`` (read lazily); returns :attr:`result`. Never raises for the engine."""
        for outcome in bulk.write(self.conn, self.actions(writes), self.limits):
            self.account(outcome)
        if self.missing:
            # partial updates of documents that are not there yet: send them whole
            wholes, self.missing = self.missing, []
            for outcome in bulk.write(self.conn, self.actions(self._whole(wholes)), self.limits):
                self.account(outcome)
        self.finish()
        return self.result

    def _whole(self, writes: list[DocumentWrite]) -> Iterator[DocumentWrite]:
        for write in writes:
            try:
                source = encode_document(write.obj.as_search_document(index=write.op.index))
            except (TypeError, ValueError) as exc:
                self.result.failures.append(
                    Failure(write.op, f"the document cannot be serialised: {exc}")
                )
                continue
            yield DocumentWrite(write.op, "index", write.doc_id, write.op.version, source)

    def finish(self) -> None:
        """Hand the writes a rebuild's index refused to the rebuild (once)."""
        if self.result.extra_failures:
            failures, self.result.extra_failures = self.result.extra_failures, []
            targets.report_failures(self.alias, failures)


def object_writes(
    key: str, objects: Sequence[Any], version: int, options: Options, result: SyncResult
) -> list[DocumentWrite]:
    """The index writes of ``objects``, read from ``get_search_queryset(index=key)`` after
    ``version`` was taken; documents refused before sending go to ``result.failures``."""
    if not objects:
        return []
    prepare = getattr(type(objects[0]), "prepare_search_documents", None)
    if prepare is not None:
        prepare(list(objects), index=key)
    return document_writes(key, objects, version, options, result)


def document_writes(
    key: str, objects: Iterable[Any], version: int, options: Options, result: SyncResult
) -> list[DocumentWrite]:
    """As :func:`object_writes`, each document built as its object comes, without
    ``prepare_search_documents``: for objects whose model has none of its own."""
    writes: list[DocumentWrite] = []
    for obj in objects:
        op = Operation("index", key, type(obj), "", obj.pk, version=version)
        writes.extend(_object_writes(op, obj, version, options, result))
    return writes


def index_objects(
    index: str,
    objects: Sequence[Any],
    *,
    using: str | None = None,
    target: str | None = None,
    options: Options | None = None,
    version: int | None = None,
) -> SyncResult:
    """Index ``objects`` in ``index`` now: the path of bulk (re)indexing.

    The objects must come from their models' ``get_search_queryset(index=index)``,
    read after ``version`` was taken (:func:`djangoes.sync.clock.next_version`
    before the query), so that a change saved meanwhile is not overwritten by
    this older state; without it, the time of sending is used. ``using`` is
    the connection (default: the one holding ``index``); ``target`` an index
    to write to instead of the index's NAME (a rebuild's new physical index).
    Failures that pass are retried for ``RETRY_BUDGET`` seconds.

    Returns what was done; documents refused (by djangoes or the engine) are
    in ``failures``, never raised. Raises the djangoes ``TransportError``
    family when the engine could not take the documents within the budget.
    """
    from djangoes import connections

    options = options or connections.options
    if not objects:
        return SyncResult()
    alias = using or connections.alias_for_index(index)
    sender = BulkSender(alias, [index], options, budget=options.RETRY_BUDGET, target=target)
    writes = object_writes(index, objects, version or next_version(), options, sender.result)
    result = sender.send(writes)
    raise_unsent(result)
    return result


def raise_unsent(result: SyncResult) -> None:
    """Raise the error of the first document the engine could not take within the budget."""
    for failure in result.failures:
        if not failure.retryable:
            continue
        if failure.request_error is not None:
            raise failure.request_error
        raise RetriesExhausted(
            f"the engine refused document(s) for now for longer than RETRY_BUDGET: {failure}",
            status=failure.status,
            info=None,
        )
