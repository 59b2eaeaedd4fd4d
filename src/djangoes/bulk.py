"""The bulk writer: every document djangoes writes to an index goes through here.

Commit-time sync, the queue drain, background sending, ``update_search_index``
and rebuild loads, the copies of a rebuild's dual writes, and prune's deletes
all hand :class:`Action` objects to :func:`write`, which

1. refuses, before sending, what no engine accepts (an empty id, an id over
   512 bytes): that action fails alone;
2. groups the others into requests of at most ``max_bytes`` (``BULK_BYTES``)
   and ``max_actions`` (``BULK_DOCUMENTS``); an action bigger than the cap
   goes alone;
3. sends each request with its own timeout (``BULK_TIMEOUT``) and reads the
   engine's answer item by item (:class:`Outcome`);
4. retries, with exponential backoff and full jitter, what failed for a
   reason that passes: a request that timed out, could not connect, or was
   answered 408/429/502/503/504 or with a malformed body, and the items
   answered 429/502/503/504 (only those are sent again). A :class:`Retry`
   budget bounds the time spent; what is still failing then is reported
   ``unsent``, never blamed on the documents;
5. splits a request refused as a whole (400, 413) in halves until the
   action it cannot take is alone, so that one bad document fails alone.

Safe to repeat: every write of a model document carries an external version
(:mod:`djangoes.sync.clock`), so a request sent twice (a retry after a lost
answer) cannot overwrite a newer document.

Why not the clients' ``streaming_bulk``: it pairs the answer's items with the
request's actions without checking their number (an answer missing an item
silently loses that document's outcome, or gives it the next one's); it
retries only 429s, without jitter or a time budget, and never a timeout, a
dropped connection or a 502-504 of the request; elasticsearch-py raises a
connection error out of the stream where opensearch-py reports it per
document; and it cannot find the one action a request was refused for. What
it does that we need — cutting requests by count and bytes, an oversized
action alone — is :func:`requests` below.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from djangoes.exceptions import ConnectionError, TransportError

if TYPE_CHECKING:
    from djangoes.backends.abstracts import Base

__all__ = [
    "CUT",
    "MAX_ID_BYTES",
    "Action",
    "Limits",
    "MalformedAnswer",
    "Outcome",
    "Retry",
    "requests",
    "send",
    "write",
]

Op = Literal["index", "update", "delete"]
Kind = Literal["done", "superseded", "missing", "refused", "unsent"]

#: The longest document id Elasticsearch and OpenSearch accept, in UTF-8 bytes.
MAX_ID_BYTES = 512
#: Statuses of a request or an item that say "not now": sent again after a pause.
TRANSIENT_STATUSES = frozenset({408, 429, 502, 503, 504})
#: Statuses of a whole request that one of its actions can cause: the request is split.
SPLIT_STATUSES = frozenset({400, 413})
#: Item errors that mean "overloaded" whatever the status says.
TRANSIENT_ERRORS = frozenset({"es_rejected_execution_exception", "rejected_execution_exception"})


#: JSON text of a string, as ``json.dumps(text, ensure_ascii=False)`` writes it.
_STRING = json.JSONEncoder(ensure_ascii=False)


@dataclass(eq=False)
class Action:
    """One line (two with a document) of a bulk request.

    ``source`` is the document (``index``) or the partial document
    (``update``), serialised; ``version`` an external version (``index``,
    ``delete``); ``ref`` is the caller's, given back with the outcome.
    """

    op: Op
    index: str
    id: str
    source: bytes | None = None
    version: int | None = None
    retry_on_conflict: int = 0
    ref: Any = None
    _lines: bytes | None = field(default=None, repr=False)

    @property
    def lines(self) -> bytes:
        """The action's NDJSON lines, each ending with a newline (built once)."""
        if self._lines is None:
            # The header line is written out, not json.dumps()ed: it is built for every
            # document of a reindex, and only the two strings need JSON's quoting.
            meta = f'"_index":{_STRING.encode(self.index)},"_id":{_STRING.encode(self.id)}'
            if self.version is not None and self.op != "update":
                meta += f',"version":{int(self.version)},"version_type":"external"'
            if self.retry_on_conflict and self.op == "update":
                meta += f',"retry_on_conflict":{int(self.retry_on_conflict)}'
            header = f'{{"{self.op}":{{{meta}}}}}'
            if self.op == "delete":
                self._lines = header.encode() + b"\n"
            elif self.op == "update":
                self._lines = header.encode() + b'\n{"doc":' + (self.source or b"{}") + b"}\n"
            else:
                self._lines = header.encode() + b"\n" + (self.source or b"{}") + b"\n"
        return self._lines

    def refusal(self) -> str | None:
        """Why no engine would accept this action (None: it may be sent)."""
        if not self.id:
            return "the document id is empty"
        size = len(self.id.encode())
        if size > MAX_ID_BYTES:
            return (
                f"the document id is {size} bytes long, more than the {MAX_ID_BYTES} bytes "
                "Elasticsearch and OpenSearch accept"
            )
        return None


#: Not an action: a mark in the actions given to :func:`requests` or :func:`write`
#: that ends the request being filled (it is sent without waiting for more).
CUT = Action("index", "", "")


@dataclass
class Outcome:
    """What became of one action.

    ``kind`` is ``done`` (written; a delete of a missing document counts),
    ``superseded`` (the engine has a newer version: nothing to do),
    ``missing`` (a partial update of a document the index does not have),
    ``refused`` (this document can never be written as it is: ``status`` and
    ``reason`` say why) or ``unsent`` (failed for a reason that passes, for
    longer than the retry budget; ``request_failed`` when the whole request
    failed, with ``error``).
    """

    action: Action
    kind: Kind
    status: int | None = None
    reason: str = ""
    request_failed: bool = False
    error: TransportError | None = field(default=None, repr=False)


class MalformedAnswer(TransportError):
    """The engine's answer to a bulk request cannot be matched with the request's actions."""


@dataclass(frozen=True)
class Retry:
    """How long failures that pass are tried again: ``budget`` seconds after the first.

    The waits grow exponentially from ``initial`` to ``longest`` seconds, each
    drawn at random below that bound (full jitter), so that many senders
    refused together do not come back together. A budget of 0 sends once.
    """

    budget: float
    initial: float = 0.5
    longest: float = 30.0

    def pause(self, attempt: int, deadline: float) -> bool:
        """Sleep before attempt ``attempt`` (1 for the first retry); False: the budget is spent."""
        bound = min(self.longest, self.initial * 2 ** (attempt - 1))
        wait = random.uniform(0, bound)  # jitter: any spread will do
        if time.monotonic() + wait > deadline:
            return False
        time.sleep(wait)
        return True


@dataclass(frozen=True)
class Limits:
    """What one bulk request may hold and how it is sent."""

    #: Largest request in bytes (0: no limit); an action bigger than it goes alone.
    max_bytes: int
    #: Most actions in one request.
    max_actions: int
    #: Seconds the engine has to answer one request (None: the client's timeout).
    timeout: float | None
    retry: Retry
    #: ``refresh`` of the requests: False, True or "wait_for".
    refresh: bool | str = False


def requests(actions: Iterable[Action], limits: Limits) -> Iterator[list[Action]]:
    """``actions`` in groups that fit in one request, in order.

    A group is cut before an action that would take it over ``max_bytes`` or
    ``max_actions``, and at a :data:`CUT`; an action over ``max_bytes`` by
    itself is a group of one. Reads ``actions`` lazily: a group is yielded as
    soon as it is full.
    """
    group: list[Action] = []
    size = 0
    for action in actions:
        if action is CUT:
            if group:
                yield group
                group, size = [], 0
            continue
        length = len(action.lines)
        if group and (
            len(group) >= limits.max_actions
            or (limits.max_bytes and size + length > limits.max_bytes)
        ):
            yield group
            group, size = [], 0
        group.append(action)
        size += length
    if group:
        yield group


def write(conn: Base, actions: Iterable[Action], limits: Limits) -> Iterator[Outcome]:
    """Send ``actions`` on ``conn`` in as few requests as the limits allow; one outcome each.

    Outcomes come in the order of the requests, as each request is answered
    (an action refused before sending comes with the request that follows
    it). Never raises for what the engine answers; raises only what the
    ``actions`` iterable raises.
    """
    refused: list[Action] = []

    def sendable() -> Iterator[Action]:
        for action in actions:
            if action is CUT or action.refusal() is None:
                yield action
            else:
                refused.append(action)

    for group in requests(sendable(), limits):
        yield from _refused(refused)
        yield from send(conn, group, limits)
    yield from _refused(refused)


def _refused(actions: list[Action]) -> Iterator[Outcome]:
    """Outcomes of the actions refused before sending (the list is emptied)."""
    found, actions[:] = list(actions), []
    for action in found:
        yield Outcome(action, "refused", None, action.refusal() or "")


def send(conn: Base, actions: list[Action], limits: Limits) -> list[Outcome]:
    """Send one request's ``actions`` (retried and split as needed); one outcome per action."""
    deadline: float | None = None  # set at the first failure: the budget counts from there
    outcomes: dict[int, Outcome] = {}
    pending = actions
    attempt = 0
    while pending:
        try:
            items = _post(conn, pending, limits)
        except TransportError as exc:
            if exc.status in SPLIT_STATUSES and not isinstance(exc, MalformedAnswer):
                for split in _split(conn, pending, limits, exc):
                    outcomes[id(split.action)] = split
                break
            if not _passes(exc):
                for action in pending:  # not the documents' fault: nothing is known of them
                    outcomes[id(action)] = _unsent(action, exc)
                break
            attempt += 1
            deadline = deadline or time.monotonic() + limits.retry.budget
            if not limits.retry.pause(attempt, deadline):
                for action in pending:
                    outcomes[id(action)] = _unsent(action, exc)
                break
            continue
        again: list[Action] = []
        for action, item in zip(pending, items, strict=True):
            answered = _outcome(action, item)
            if answered is None:
                again.append(action)
            outcomes[id(action)] = answered or _item_unsent(action, item)
        pending = again
        if pending:
            attempt += 1
            deadline = deadline or time.monotonic() + limits.retry.budget
            if not limits.retry.pause(attempt, deadline):
                break  # their last outcome (unsent, with the engine's reason) stands
    return [outcomes[id(action)] for action in actions]


def _passes(exc: TransportError) -> bool:
    """Whether a failed request may succeed if sent again."""
    return isinstance(exc, (ConnectionError, MalformedAnswer)) or exc.status in TRANSIENT_STATUSES


def _split(conn: Base, actions: list[Action], limits: Limits, exc: TransportError) -> list[Outcome]:
    """Outcomes of a request refused as a whole: each half sent alone, down to one action."""
    if len(actions) == 1:
        return [Outcome(actions[0], "refused", exc.status, _request_reason(exc))]
    middle = len(actions) // 2
    return send(conn, actions[:middle], limits) + send(conn, actions[middle:], limits)


def _post(conn: Base, actions: list[Action], limits: Limits) -> list[Any]:
    """Send one request; the answer's items, one per action. Raises the TransportError family."""
    body = b"".join(action.lines for action in actions)
    answer = conn.perform_bulk(body, timeout=limits.timeout, refresh=limits.refresh)
    items = answer.get("items") if isinstance(answer, dict) else None
    if not isinstance(items, list) or len(items) != len(actions):
        found = len(items) if isinstance(items, list) else "no"
        raise MalformedAnswer(
            f"[{conn.alias}] the engine answered a bulk request of {len(actions)} action(s) "
            f"with {found} item(s); the request is sent again",
            status=None,
            info=None,
        )
    for item in items:
        if not (isinstance(item, dict) and len(item) == 1):
            raise MalformedAnswer(
                f"[{conn.alias}] the engine's answer to a bulk request has an item that is "
                f"not one action's result ({str(item)[:200]}); the request is sent again",
                status=None,
                info=None,
            )
    return items


def _outcome(action: Action, item: dict[str, Any]) -> Outcome | None:
    """The outcome of one item, or None when it is to be sent again."""
    result = next(iter(item.values()))
    status = result.get("status") if isinstance(result, dict) else None
    if not isinstance(status, int):
        return Outcome(action, "unsent", None, f"the engine's answer has no status: {item}")
    error = result.get("error")
    kind = error.get("type") if isinstance(error, dict) else None
    if 200 <= status < 300 or (status == 404 and action.op == "delete"):
        return Outcome(action, "done", status)
    if status == 409 and action.op != "update" and kind == "version_conflict_engine_exception":
        return Outcome(action, "superseded", status)
    if status == 404 and action.op == "update" and kind == "document_missing_exception":
        return Outcome(action, "missing", status, item_reason(result))
    if status in TRANSIENT_STATUSES or kind in TRANSIENT_ERRORS:
        return None
    return Outcome(action, "refused", status, item_reason(result))


def _item_unsent(action: Action, item: dict[str, Any]) -> Outcome:
    result = next(iter(item.values()))
    return Outcome(action, "unsent", result.get("status"), item_reason(result))


def _unsent(action: Action, exc: TransportError) -> Outcome:
    return Outcome(action, "unsent", exc.status, str(exc), request_failed=True, error=exc)


def _request_reason(exc: TransportError) -> str:
    return f"the engine refused the request holding only this document: {exc}"


def item_reason(result: dict[str, Any]) -> str:
    """The engine's reason for one item: ``'type: reason (caused by)'``."""
    error = result.get("error")
    if isinstance(error, dict):
        kind, reason = error.get("type"), error.get("reason")
        caused = (error.get("caused_by") or {}).get("reason")
        text = f"{kind}: {reason}" if kind else str(reason)
        return f"{text} ({caused})" if caused else text
    return str(error or result)
