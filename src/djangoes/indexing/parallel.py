"""Loading a large table with several worker processes (``--parallel N``).

The model's primary keys are split into ranges (integer keys: evenly between
the smallest and the largest); worker processes, forked from this one so they
share its configuration, each load some ranges with their own database and
engine connections, reading in chunks by primary key and sending in merged
bulk requests as the single-process path does. The parent reports progress
and keeps a rebuild's heartbeat while they work.
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.db import connections as db_connections
from django.db import models

from djangoes.exceptions import ConfigurationError
from djangoes.registry import label_of

if TYPE_CHECKING:
    from djangoes.indexing.load import Loaded
    from djangoes.indexing.names import Target
    from djangoes.options import Options

#: Ranges per worker: smaller pieces balance uneven ranges and show progress.
PIECES_PER_WORKER = 4
#: Seconds between two heartbeats of the parent while workers run.
HEARTBEAT_SECONDS = 5.0
#: Seconds between two progress reports of the parent while workers run.
PROGRESS_SECONDS = 0.2


@dataclass(frozen=True)
class _Piece:
    label: str
    low: int
    high: int


def pk_ranges(queryset: models.QuerySet[Any], pieces: int) -> list[tuple[int, int]]:
    """``pieces`` inclusive ranges covering the integer primary keys of ``queryset``."""
    bounds = queryset.aggregate(low=models.Min("pk"), high=models.Max("pk"))
    low, high = bounds["low"], bounds["high"]
    if low is None:
        return []
    step = max((high - low + 1) // pieces, 1)
    ranges: list[tuple[int, int]] = []
    start = low
    while start <= high:
        stop = min(start + step - 1, high) if len(ranges) < pieces - 1 else high
        ranges.append((start, stop))
        start = stop + 1
    return ranges


def _check_can_fork(queryset: models.QuerySet[Any]) -> None:
    if "fork" not in multiprocessing.get_all_start_methods():
        raise ConfigurationError("--parallel needs os.fork(), which this platform lacks.")
    settings_dict = db_connections[queryset.db].settings_dict
    if settings_dict["ENGINE"].endswith("sqlite3") and (
        str(settings_dict["NAME"]) == ":memory:" or "mode=memory" in str(settings_dict["NAME"])
    ):
        raise ConfigurationError(
            f"--parallel needs a database worker processes can open, and {queryset.db!r} is an "
            "in-memory SQLite database. Run without --parallel."
        )
    pk = queryset.model._meta.pk
    if not isinstance(pk, (models.AutoField, models.BigAutoField, models.IntegerField)):
        raise ConfigurationError(
            f"--parallel splits tables by integer primary key; {label_of(queryset.model)} has "
            f"a {type(pk).__name__}. Run without --parallel."
        )


def load_in_parallel(
    target: Target,
    model: type[models.Model],
    queryset: models.QuerySet[Any],
    *,
    write_to: str,
    options: Options,
    chunk_size: int,
    workers: int,
    progress: Callable[[int], None] | None = None,
    heartbeat: Callable[[], None] | None = None,
) -> Loaded:
    """Load ``queryset`` into ``write_to`` with ``workers`` processes; returns the counts.

    Raises ConfigurationError when the table cannot be split or shared with
    worker processes, and the first error a worker raised (a failed request,
    a lost rebuild lock...).
    """
    from djangoes.indexing.load import Loaded

    _check_can_fork(queryset)
    label = label_of(model)
    pieces = [
        _Piece(label, low, high) for low, high in pk_ranges(queryset, workers * PIECES_PER_WORKER)
    ]
    loaded = Loaded()
    if not pieces:
        return loaded
    context = multiprocessing.get_context("fork")
    counts: multiprocessing.Queue[int] = context.Queue()
    # children must not share the parent's database sockets
    db_connections.close_all()
    with context.Pool(workers, initializer=_init_worker, initargs=(counts,)) as pool:
        pending = pool.map_async(
            _load_piece,
            [(target.key, target.alias, piece, write_to, options, chunk_size) for piece in pieces],
        )
        beat = time.monotonic()
        while not pending.ready():
            pending.wait(PROGRESS_SECONDS)  # returns as soon as the last piece is done
            _report(counts, progress)
            if heartbeat is not None and time.monotonic() - beat >= HEARTBEAT_SECONDS:
                heartbeat()
                beat = time.monotonic()
        outcomes = pending.get()  # raises what a worker raised
    _report(counts, progress)
    from djangoes.sync.operations import Action, Operation
    from djangoes.sync.sending import Failure

    for read, indexed, failures in outcomes:
        loaded.read += read
        loaded.indexed += indexed
        for action, pk, doc_id, reason, status in failures:
            op = Operation(cast(Action, action), target.key, model, doc_id, pk)
            loaded.failures.append(Failure(op, reason, status))
    return loaded


def _report(counts: Any, progress: Callable[[int], None] | None) -> None:
    """Pass on the counts the workers reported so far (never waits)."""
    try:
        while True:
            count = counts.get_nowait()
            if progress is not None:
                progress(count)
    except queue_module.Empty:
        return


_counts: Any = None


def _init_worker(counts: Any) -> None:
    global _counts
    _counts = counts


def _load_piece(
    args: tuple[str, str, _Piece, str, Options, int],
) -> tuple[int, int, list[tuple[str, Any, str, str, int | None]]]:
    """In a worker: load one primary-key range; returns counts and failures as plain data."""
    from django.apps import apps

    from djangoes.indexing.load import search_queryset, stream_queryset
    from djangoes.indexing.names import get_target

    key, alias, piece, write_to, options, chunk_size = args
    target = get_target(key, alias)
    model = apps.get_model(piece.label)
    queryset = search_queryset(model, key).filter(pk__gte=piece.low, pk__lte=piece.high)

    def counted(n: int) -> None:
        _counts.put(n)

    try:
        loaded = stream_queryset(
            target, queryset, write_to=write_to, options=options, chunk_size=chunk_size,
            progress=counted,
        )  # fmt: skip
    finally:
        db_connections.close_all()
    return (
        loaded.read,
        loaded.indexed,
        [(f.operation.action, f.operation.pk, f.operation.doc_id, f.reason, f.status)
         for f in loaded.failures],
    )  # fmt: skip
