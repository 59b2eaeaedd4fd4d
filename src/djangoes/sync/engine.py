"""Sending sync operations: documents built, checked and sent in bulk, failures handled.

Everything that writes model documents goes through :func:`send_operations`:
the auto-sync of a transaction (one call after commit), the model methods
(``index_search_document``...), and queryset syncs. Per call, and per
connection, it makes one bulk request; it reads the database once per model
and index to drop objects that left ``get_search_queryset``; it serialises
each document once, rejecting the ones that cannot be serialised or are too
big without failing the others; and what the engine refuses is handled by
the ``ON_ERROR`` policy.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from djangoes.backends.abstracts import Base
from djangoes.backends.api import Call
from djangoes.documents import InvalidUpdateFields
from djangoes.exceptions import DjangoesError, TransportError
from djangoes.options import Options
from djangoes.sync import cache as document_cache
from djangoes.sync import targets
from djangoes.sync.clock import stamp
from djangoes.sync.operations import Operation

logger = logging.getLogger("djangoes.sync")


@dataclass
class Failure:
    """An operation the engine (or djangoes, before sending) refused."""

    operation: Operation
    reason: str
    status: int | None = None
    #: The bulk request failed as a whole (engine unreachable, timeout, 5xx...):
    #: nothing is wrong with the document itself.
    request_failed: bool = False
    #: The error of that request, when it failed as a whole.
    request_error: TransportError | None = field(default=None, repr=False, compare=False)

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


@dataclass
class SyncResult:
    """What one :func:`send_operations` call did."""

    indexed: int = 0
    updated: int = 0
    deleted: int = 0
    #: Not sent: unchanged since last sent, or nothing to send.
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


def latest_per_document(operations: Iterable[Operation]) -> list[Operation]:
    """One operation per (index, document): the last one given wins."""
    latest: dict[tuple[str, str], Operation] = {}
    for op in operations:
        latest.pop(op.key, None)  # keep the order of the last occurrence
        latest[op.key] = op
    return list(latest.values())


def encode_document(document: Any) -> bytes:
    """The JSON of a document, as sent (dates, decimals and UUIDs as Django encodes them)."""
    return json.dumps(
        document, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False
    ).encode()


def send_operations(
    operations: Iterable[Operation],
    *,
    options: Options | None = None,
    raise_errors: bool = True,
    in_queryset: bool = False,
) -> SyncResult:
    """Send ``operations`` now: one bulk request per connection, then apply ON_ERROR.

    With ``raise_errors`` False the failures are only returned (the caller
    handles them), whatever the policy. ``in_queryset`` says the instances
    were just read from their ``get_search_queryset``, so they are not
    checked again. Returns what was done; raises ``SyncError`` as the policy
    says (see :func:`handle_failures`).
    """
    from djangoes import connections

    options = options or connections.options
    ops = stamp(latest_per_document(operations))
    result = SyncResult()
    by_alias: dict[str, list[Operation]] = defaultdict(list)
    for op in ops:
        by_alias[connections.alias_for_index(op.index)].append(op)
    for alias, group in by_alias.items():
        result.merge(_send_to_connection(alias, group, options, in_queryset=in_queryset))
    if result.failures and raise_errors:
        handle_failures(result.failures, options)
    return result


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


def _drop_left_objects(ops: list[Operation]) -> list[Operation]:
    """Turn index/update operations of objects outside ``get_search_queryset`` into deletes."""
    wanted: dict[tuple[type[Any], str], list[Operation]] = defaultdict(list)
    for op in ops:
        if op.action != "delete":
            wanted[(op.model, op.index)].append(op)
    for (model, index), group in wanted.items():
        manager = model._default_manager
        if not _filters_search_queryset(manager):
            continue  # every object is in it: the objects just saved exist
        queryset = manager.get_search_queryset(index=index)
        kept = set(queryset.filter(pk__in=[op.pk for op in group]).values_list("pk", flat=True))
        for op in group:
            if op.pk not in kept:
                op.action = "delete"
                op.instance = None
    return ops


def _filters_search_queryset(manager: Any) -> bool:
    """Whether the manager overrides ``get_search_queryset`` (the default keeps every object)."""
    from djangoes.documents import SearchDocumentManagerMixin

    method = getattr(type(manager), "get_search_queryset", None)
    return method is not SearchDocumentManagerMixin.get_search_queryset


def _build_lines(
    ops: list[Operation],
    names: dict[str, str],
    options: Options,
    result: SyncResult,
    *,
    versioned: bool = True,
    extra: dict[str, list[str]] | None = None,
) -> tuple[list[bytes], list[tuple[Operation, str | None]], dict[int, str]]:
    """NDJSON lines for ``ops`` (skipping unchanged and rejecting bad documents).

    Returns the lines, what each action line is (the operation, and the extra
    target it writes to or None for the index itself) and the fingerprints of
    sent full documents by position. ``extra`` maps index keys to more indexes
    that get the same writes (a rebuild's new index).
    """
    by_model_index: dict[tuple[type[Any], str], list[Any]] = defaultdict(list)
    for op in ops:
        if op.instance is not None:
            by_model_index[(op.model, op.index)].append(op.instance)
    for (model, index), objects in by_model_index.items():
        prepare = getattr(model, "prepare_search_documents", None)
        if prepare is not None:
            prepare(objects, index=index)
    fingerprints: dict[int, str] = {}
    bodies: dict[int, bytes] = {}
    for i, op in enumerate(ops):
        if op.action == "delete" or op.instance is None:
            continue
        try:
            if op.action == "update" and op.update_fields is not None:
                document = op.instance.as_search_document_update(
                    index=op.index, update_fields=op.update_fields
                )
                if not document:
                    result.skipped += 1  # the model said there is nothing to send
                    continue
                if options.UPDATE_STRATEGY == "full" and not _overrides_update(op.model):
                    op.action = "index"  # the whole document: replace it
            else:
                op.action = "index"
                document = op.instance.as_search_document(index=op.index)
            body = encode_document(document)
        except InvalidUpdateFields:
            raise  # a programming error in the model, not bad data: say so at once
        except (TypeError, ValueError) as exc:
            result.failures.append(Failure(op, f"the document cannot be serialised: {exc}"))
            continue
        if options.MAX_DOCUMENT_SIZE and len(body) > options.MAX_DOCUMENT_SIZE:
            result.failures.append(
                Failure(
                    op,
                    f"the document is {len(body)} bytes, more than MAX_DOCUMENT_SIZE "
                    f"({options.MAX_DOCUMENT_SIZE}); it was not sent",
                )
            )
            continue
        bodies[i] = body
        if op.action == "index":
            fingerprints[i] = document_cache.fingerprint(body)
    unchanged = document_cache.unchanged(
        [(names[ops[i].index], ops[i], fp) for i, fp in fingerprints.items() if not ops[i].force],
        options,
    )
    lines: list[bytes] = []
    sent: list[tuple[Operation, str | None]] = []
    sent_fingerprints: dict[int, str] = {}
    extra = extra or {}
    for i, op in enumerate(ops):
        if op.action != "delete" and i not in bodies:
            continue  # rejected above
        if id(op) in unchanged:
            result.skipped += 1
            continue
        for destination in [None, *extra.get(op.index, ())]:
            meta: dict[str, Any] = {"_index": destination or names[op.index], "_id": op.doc_id}
            if op.action == "update" and options.RETRY_ON_CONFLICT:
                meta["retry_on_conflict"] = options.RETRY_ON_CONFLICT
            if versioned and op.version is not None and op.action != "update":
                meta["version"] = op.version
                meta["version_type"] = "external"
            lines.append(json.dumps({op.action: meta}, separators=(",", ":")).encode())
            if op.action == "index":
                lines.append(bodies[i])
                if destination is None:
                    sent_fingerprints[len(sent)] = fingerprints[i]
            elif op.action == "update":
                lines.append(b'{"doc":' + bodies[i] + b"}")
            sent.append((op, destination))
    return lines, sent, sent_fingerprints


def _overrides_update(model: type[Any]) -> bool:
    from djangoes.documents import SearchDocumentMixin

    method = getattr(model, "as_search_document_update", None)
    return method is not SearchDocumentMixin.as_search_document_update


@dataclass
class PreparedBulk:
    """A bulk request ready to send: built where the data is, sent wherever.

    Preparing (:func:`prepare_bulk`) reads the database and builds the
    documents, so it runs in the thread that owns the objects (the request,
    right after its commit; the loader of a reindex). Sending
    (:func:`execute_bulk`) only needs the connection: it can run in another
    thread, overlapped with preparing the next batch.
    """

    alias: str
    lines: list[bytes] = field(default_factory=list)
    #: What each action line is: the operation, and the extra target (None: the index).
    sent: list[tuple[Operation, str | None]] = field(default_factory=list)
    #: Fingerprints of the full documents sent, by position in ``sent``.
    fingerprints: dict[int, str] = field(default_factory=dict)
    #: Index key -> the index name written to.
    names: dict[str, str] = field(default_factory=dict)
    #: Failures and skips found while preparing.
    result: SyncResult = field(default_factory=SyncResult)
    target: str | None = None
    #: Record sent documents in the document cache (not worth it for reindexing).
    remember: bool = True
    size: int = 0

    def extend(self, other: PreparedBulk) -> None:
        """Append ``other`` (same connection) to this request."""
        offset = len(self.sent)
        self.lines.extend(other.lines)
        self.sent.extend(other.sent)
        self.fingerprints.update({offset + k: v for k, v in other.fingerprints.items()})
        self.names.update(other.names)
        self.result.merge(other.result)
        self.size += other.size

    def body(self) -> bytes:
        return b"\n".join(self.lines) + b"\n"


def prepare_bulk(
    alias: str,
    ops: list[Operation],
    options: Options,
    *,
    target: str | None = None,
    in_queryset: bool = False,
    remember: bool = True,
) -> PreparedBulk:
    """Build the bulk request for ``ops`` on connection ``alias`` (no request sent).

    ``target`` writes to that index instead of each index's NAME (a rebuild's
    new physical index); ``in_queryset`` says the objects were just read from
    their search querysets, so they are not checked again.
    """
    from djangoes import connections

    conn = connections[alias]
    prepared = PreparedBulk(alias, target=target, remember=remember)
    prepared.names = {op.index: target or conn.get_index_settings(op.index)["NAME"] for op in ops}
    if not in_queryset:
        ops = _drop_left_objects(ops)
    extra = {} if target else targets.extra_targets(alias, sorted({op.index for op in ops}))
    prepared.lines, prepared.sent, prepared.fingerprints = _build_lines(
        ops, prepared.names, options, prepared.result,
        versioned=conn.features.supports_external_versions, extra=extra,
    )  # fmt: skip
    for op, _ in prepared.sent:
        if op.action != "update":
            # built: only a partial update may need its object again (a 404 is
            # re-sent whole); a request waiting to be sent holds no objects
            op.instance = None
    prepared.size = sum(len(line) + 1 for line in prepared.lines)
    return prepared


def execute_bulk(
    prepared: PreparedBulk,
    options: Options,
    *,
    raise_transport_errors: bool = False,
    conn: Base | None = None,
) -> SyncResult:
    """Send a prepared request and read the engine's answer, document by document.

    ``raise_transport_errors`` raises a failed request instead of turning it
    into one failure per operation. ``conn`` is the connection to send with
    (default: this thread's for the prepared alias; the clients are
    thread-safe, so a sending thread may use the preparing thread's, whose
    request log then lists the request). Returns what was done, with the
    failures found while preparing.
    """
    from djangoes import connections

    result = SyncResult()
    result.merge(prepared.result)
    if not prepared.lines:
        return result
    conn = conn or connections[prepared.alias]
    names = prepared.names
    params: dict[str, Any] = {}
    if options.REFRESH:
        params["refresh"] = options.REFRESH
    try:
        with conn.wrap_errors():
            response = conn.unwrap_response(
                conn.perform(Call("bulk", index=None, body=prepared.body(), params=params))
            )
    except TransportError as exc:
        if raise_transport_errors:
            raise
        result.failures.extend(
            Failure(op, str(exc), exc.status, request_failed=True, request_error=exc)
            for op, dest in prepared.sent
            if not dest
        )
        return result
    retry_full: list[Operation] = []
    cached: list[tuple[str, Operation, str]] = []
    forgotten: list[tuple[str, Operation]] = []
    for position, ((op, destination), item) in enumerate(
        zip(prepared.sent, response["items"], strict=True)
    ):
        outcome = next(iter(item.values()))
        status = int(outcome.get("status", 0))
        if destination is not None:  # a rebuild's index: its failures are the rebuild's
            # a partial update of a document not loaded yet is one too: the rebuild redoes it
            missed = status == 404 and op.action == "update"
            if missed or not (200 <= status < 300 or status in (404, 409)):
                result.extra_failures.append(Failure(op, _item_reason(outcome), status))
            continue
        if status == 409 and op.action != "update" and _is_version_conflict(outcome):
            result.superseded += 1  # the engine has a newer version: nothing to do
        elif 200 <= status < 300 or (op.action == "delete" and status == 404):
            if op.action == "index":
                result.indexed += 1
                if prepared.remember:
                    cached.append((names[op.index], op, prepared.fingerprints[position]))
            elif op.action == "update":
                result.updated += 1
                forgotten.append((names[op.index], op))
            else:
                result.deleted += 1
                forgotten.append((names[op.index], op))
        elif op.action == "update" and status == 404 and op.instance is not None:
            # a partial update of a document that is not there yet: send it whole
            retry_full.append(
                Operation("index", op.index, op.model, op.doc_id, op.pk, op.instance, force=True,
                          version=op.version)
            )  # fmt: skip
        else:
            result.failures.append(Failure(op, _item_reason(outcome), status))
    document_cache.remember(cached, options)
    document_cache.forget(forgotten, options)
    if result.extra_failures:
        targets.report_failures(prepared.alias, result.extra_failures)
    if retry_full:
        retry = prepare_bulk(
            prepared.alias, retry_full, options, target=prepared.target, in_queryset=True
        )
        result.merge(
            execute_bulk(retry, options, raise_transport_errors=raise_transport_errors, conn=conn)
        )
    return result


def _send_to_connection(
    alias: str,
    ops: list[Operation],
    options: Options,
    *,
    target: str | None = None,
    in_queryset: bool = False,
    raise_transport_errors: bool = False,
) -> SyncResult:
    """One bulk request for ``ops`` on connection ``alias``: prepare, then execute."""
    prepared = prepare_bulk(alias, ops, options, target=target, in_queryset=in_queryset)
    return execute_bulk(prepared, options, raise_transport_errors=raise_transport_errors)


def _is_version_conflict(outcome: dict[str, Any]) -> bool:
    error = outcome.get("error")
    return isinstance(error, dict) and error.get("type") == "version_conflict_engine_exception"


def _item_reason(outcome: dict[str, Any]) -> str:
    error = outcome.get("error")
    if isinstance(error, dict):
        kind, reason = error.get("type"), error.get("reason")
        caused = (error.get("caused_by") or {}).get("reason")
        text = f"{kind}: {reason}" if kind else str(reason)
        return f"{text} ({caused})" if caused else text
    return str(error or outcome)


def index_objects(
    index: str,
    objects: Sequence[Any],
    *,
    using: str | None = None,
    target: str | None = None,
    options: Options | None = None,
    version: int | None = None,
) -> SyncResult:
    """Index ``objects`` in ``index`` now, in one bulk request: the path of bulk (re)indexing.

    The objects must come from their models' ``get_search_queryset(index=index)``
    (they are not checked again). Documents are built as by
    :func:`send_operations` (``prepare_search_documents`` first, serialised
    once, MAX_DOCUMENT_SIZE enforced) and always sent, whatever the document
    cache says. ``using`` is the connection (default: the one holding
    ``index``); ``target`` an index to write to instead of the index's NAME
    (a rebuild's new physical index). ``version`` is the time the objects were
    read (:func:`djangoes.sync.clock.next_version` taken before the query), so
    that a change saved meanwhile is not overwritten by this older state;
    without it, the time of sending is used.

    Returns what was done; documents refused (by djangoes or the engine) are
    in ``failures``, never raised. Raises the djangoes ``TransportError`` when
    the request as a whole fails (engine unreachable, index missing...).
    """
    from djangoes import connections

    options = options or connections.options
    ops = [Operation.for_instance("index", index, obj, force=True) for obj in objects]
    for op in ops:
        op.version = version
    if not ops:
        return SyncResult()
    alias = using or connections.alias_for_index(index)
    stamp(ops)
    return _send_to_connection(
        alias, ops, options, target=target, in_queryset=True, raise_transport_errors=True
    )
