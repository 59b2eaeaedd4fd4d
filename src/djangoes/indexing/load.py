"""Bulk (re)indexing: every object of every model of an index, streamed in chunks.

Each model's ``get_search_queryset(index=key)`` is read in chunks of
CHUNK_SIZE by primary key (keyset pagination, never OFFSET), so memory stays
flat whatever the table size; each chunk's version is taken before it is
read. Each chunk's documents are built as every sync does
(:mod:`djangoes.sync.sending`: each document serialised once) and handed to
the bulk writer
(:mod:`djangoes.bulk`) in a thread of its own
(:mod:`djangoes.indexing.pipeline`), which merges chunks into requests of up
to BULK_BYTES and BULK_DOCUMENTS while the next chunk is read and built.
A model with a ``prepare_search_documents`` of its own gets each chunk's
objects in a list, before their documents are built; the others' objects
are made one at a time as their rows are read (``QuerySet.iterator()``), and
each is dropped once its document is built: a chunk's objects alive together
would make Python's garbage collector scan them again and again, a third of
the time spent reading rows. Failures that pass (timeouts, 429...) are
retried for RETRY_BUDGET seconds;
per-document failures are reported without stopping. The index is refreshed
once at the end.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import models

from djangoes.documents import search_queryset
from djangoes.indexing.errors import IndexMissingError, NoModelsError
from djangoes.indexing.names import Target, get_target, index_state
from djangoes.registry import label_of

if TYPE_CHECKING:
    from djangoes.options import Options
    from djangoes.sync.sending import Failure

__all__ = [
    "IndexingResult",
    "Loaded",
    "Progress",
    "index_models",
    "load_documents",
    "require_existing",
    "search_queryset",
    "stream_queryset",
    "update_index",
]

#: A progress callback: called with (items done so far, total or None), first with 0.
Progress = Callable[[int, "int | None"], None]


@dataclass
class IndexingResult:
    """What a bulk (re)indexing did."""

    #: The ES_INDICES key.
    index: str
    #: The index written to (NAME, or a rebuild's new physical index).
    written_to: str
    #: Objects read from the search querysets, per ``"app_label.Model"``.
    objects: dict[str, int] = field(default_factory=dict)
    #: Documents the engine accepted.
    indexed: int = 0
    #: Documents refused (by djangoes before sending, or by the engine).
    failures: list[Failure] = field(default_factory=list)
    #: Wall-clock seconds.
    seconds: float = 0.0

    @property
    def total(self) -> int:
        """Objects read, all models together."""
        return sum(self.objects.values())


def index_models(target: Target) -> tuple[type[models.Model], ...]:
    """The models of the index; raises NoModelsError when it has none."""
    from djangoes.registry import get_registry

    found = get_registry().models_for(target.key)
    if not found:
        raise NoModelsError(
            target.key,
            f"ES_INDICES[{target.key!r}] has no MODELS, so its documents cannot come from the "
            "database. Add 'app_label.ModelName' labels to its MODELS.",
        )
    return found


def require_existing(target: Target, doing: str) -> None:
    """IndexMissingError (saying how to create it) unless something answers to NAME."""
    if index_state(target.conn, target.name).kind == "missing":
        raise IndexMissingError(
            target.key,
            f"Cannot {doing} {target.describe()}: it does not exist. Create it first "
            f"(manage.py create_search_index {target.key}, or "
            "djangoes.indexing.create_index()).",
        )


def load_documents(
    target: Target,
    *,
    write_to: str,
    options: Options,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    heartbeat: Callable[[], None] | None = None,
    parallel: int = 1,
) -> IndexingResult:
    """Index every object of the index's models into ``write_to``; returns the counts.

    ``write_to`` is the index's NAME (an in-place update: writes are copied
    to a rebuild's new index, as sync writes are) or a rebuild's new physical
    index. ``heartbeat()`` is called before each chunk is read (a rebuild
    proves it is alive, and stops if it lost its lock). ``parallel`` > 1 splits
    each model's primary keys into ranges loaded by that many worker processes
    (:mod:`djangoes.indexing.parallel`). Failures of single documents are
    collected in the result, not raised. Raises the djangoes
    ``TransportError`` family when a request fails as a whole, NoModelsError
    when the index has no MODELS, and what ``heartbeat`` raises.
    """
    started = time.monotonic()
    size = chunk_size or options.CHUNK_SIZE
    # One refresh at the end, not one per chunk.
    send_options = dataclasses.replace(options, REFRESH=False)
    querysets = [(model, search_queryset(model, target.key)) for model in index_models(target)]
    result = IndexingResult(target.key, write_to)
    total = sum(qs.count() for _, qs in querysets) if progress is not None else None
    done = 0

    def advanced(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, total)

    if progress is not None:
        progress(0, total)
    for model, queryset in querysets:
        label = label_of(model)
        if parallel > 1:
            from djangoes.indexing.parallel import load_in_parallel

            loaded = load_in_parallel(
                target, model, queryset, write_to=write_to, options=send_options,
                chunk_size=size, workers=parallel, progress=advanced, heartbeat=heartbeat,
            )  # fmt: skip
        else:
            loaded = stream_queryset(
                target, queryset, write_to=write_to, options=send_options, chunk_size=size,
                progress=advanced, heartbeat=heartbeat,
            )  # fmt: skip
        result.objects[label] = loaded.read
        result.indexed += loaded.indexed
        result.failures.extend(loaded.failures)
    target.conn.meta.indices.refresh(index=write_to)
    result.seconds = time.monotonic() - started
    return result


@dataclass
class Loaded:
    """What loading one queryset did."""

    read: int = 0
    indexed: int = 0
    failures: list[Failure] = field(default_factory=list)


def stream_queryset(
    target: Target,
    queryset: models.QuerySet[Any],
    *,
    write_to: str,
    options: Options,
    chunk_size: int,
    progress: Callable[[int], None] | None = None,
    heartbeat: Callable[[], None] | None = None,
) -> Loaded:
    """Load ``queryset`` into ``write_to``: read in chunks, sent in merged requests meanwhile.

    ``progress(n)`` is called with the objects of each chunk read. Raises the
    djangoes ``TransportError`` family when a request fails as a whole.
    """
    from djangoes.documents import prepares_in_batches
    from djangoes.indexing.pipeline import Sender
    from djangoes.sync.clock import next_version
    from djangoes.sync.sending import BulkSender, document_writes, object_writes

    # Writing to NAME copies to a running rebuild's index too, as sync does;
    # a rebuild writes to its new physical index only.
    destination = None if write_to == target.name else write_to
    sending = BulkSender(
        target.alias, [target.key], options, budget=options.RETRY_BUDGET, target=destination,
        conn=target.conn,
    )  # fmt: skip
    loaded = Loaded()
    batched = prepares_in_batches(queryset.model)
    sender = Sender(sending)
    try:
        for page in pages(queryset, chunk_size):
            if heartbeat is not None:
                heartbeat()
            # the version is taken before the read: a save committed after it
            # carries a higher version and wins over this chunk's older state
            version = next_version()
            if batched:
                writes = object_writes(target.key, list(page), version, options, sending.result)
            else:
                writes = document_writes(target.key, page, version, options, sending.result)
            if not page.read:
                break
            sender.submit(list(sending.actions(writes)))
            loaded.read += page.read
            if progress is not None:
                progress(page.read)
    except BaseException:
        sender.abort()
        raise
    sent = sender.close()
    loaded.indexed = sent.indexed
    loaded.failures = sent.failures
    return loaded


class Page:
    """One chunk of :func:`pages`: its objects, each made as its row is read."""

    def __init__(self, queryset: models.QuerySet[Any], size: int) -> None:
        self.queryset = queryset
        self.size = size
        #: Objects read so far, and the primary key of the last one.
        self.read = 0
        self.last: Any = None

    def __iter__(self) -> Iterator[Any]:
        for obj in self.queryset.iterator(chunk_size=self.size):
            self.read += 1
            self.last = obj.pk
            yield obj


def pages(queryset: models.QuerySet[Any], size: int) -> Iterator[Page]:
    """The objects of ``queryset`` by primary key in chunks of ``size``, never with OFFSET.

    Each chunk is one query (``pk > last`` ... ``LIMIT size``), run when the
    chunk is iterated; it must be read to its end before the next one is
    asked for, which starts after its last object. The last may be empty.
    """
    ordered = queryset.order_by("pk")
    page = Page(ordered[:size], size)
    while True:
        yield page
        if page.read < size:
            return
        page = Page(ordered.filter(pk__gt=page.last)[:size], size)


def update_index(
    key: str,
    *,
    using: str | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    raise_errors: bool = True,
    parallel: int = 1,
) -> IndexingResult:
    """(Re)index every object of every model of index ``key`` in place; returns the counts.

    Documents are written to the index's NAME (its live physical index), in
    bulk requests of ``chunk_size`` (default CHUNK_SIZE), and the index is
    refreshed at the end. ``progress(done, total)`` is called after each
    chunk. ``parallel`` > 1 loads with that many worker processes (integer
    primary keys, a database they can open). Documents that fail do not stop the run: they are in
    ``result.failures`` and, with ``raise_errors``, handled at the end by the
    ON_ERROR policy (``SyncError`` raised, or logged).

    Raises IndexMissingError when the index was not created, NoModelsError
    when it has no MODELS, and the djangoes ``TransportError`` family when the
    engine fails a request as a whole.
    """
    from djangoes import connections
    from djangoes.sync.sending import handle_failures

    target = get_target(key, using)
    options = connections.options
    index_models(target)
    require_existing(target, "update")
    result = load_documents(
        target,
        write_to=target.name,
        options=options,
        chunk_size=chunk_size,
        progress=progress,
        parallel=parallel,
    )
    if raise_errors and result.failures:
        handle_failures(result.failures, options)
    return result
