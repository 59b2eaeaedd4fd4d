"""The index lifecycle: create, load, prune, rebuild and delete the indexes of ES_INDICES.

Every function takes an ES_INDICES key and, optionally, ``using``: the
connection alias (default: the connection holding the index, 'default'
first). The management commands of the same names are thin shells over
these functions.

* :func:`create_index` — a new physical index ``<NAME>-<UTC timestamp>``
  from the mapping file, with NAME and ALIASES as its aliases;
* :func:`update_index` — (re)index every object of the index's models, in
  chunks, memory-flat;
* :func:`prune_index` — delete documents whose objects are gone;
* :func:`rebuild_index` — under a lock, build a new physical index, load it
  while every process copies its writes to it, switch every alias in one
  atomic call, retire the old one; resumable when interrupted;
* :func:`delete_index` — delete the physical index(es) behind NAME;
* :func:`cleanup_index` — delete physical indexes left behind by crashes;
* :func:`index_drift` — how the live index differs from its mapping file.

Where things are: :mod:`~djangoes.indexing.names` (targets, what is behind a
NAME, physical names), :mod:`~djangoes.indexing.load` (bulk indexing),
:mod:`~djangoes.indexing.prune`, :mod:`~djangoes.indexing.lifecycle`
(create, delete, the alias switch), :mod:`~djangoes.indexing.rebuild`,
:mod:`~djangoes.indexing.locks` (one rebuild at a time),
:mod:`~djangoes.indexing.dualwrite` (writes copied to a rebuild's index),
:mod:`~djangoes.indexing.models` (the rebuild table),
:mod:`~djangoes.indexing.cleanup`, :mod:`~djangoes.indexing.drift`,
:mod:`~djangoes.indexing.errors`.
"""

from djangoes.indexing.cleanup import CleanupResult, cleanup_index, find_leftovers
from djangoes.indexing.drift import Drift, index_drift
from djangoes.indexing.errors import (
    IndexExistsError,
    IndexMissingError,
    LifecycleError,
    NoModelsError,
    NothingToResume,
    PruneError,
    RebuildAborted,
    RebuildInterrupted,
    RebuildLocked,
    RebuildLockLost,
)
from djangoes.indexing.lifecycle import create_index, delete_index
from djangoes.indexing.load import IndexingResult, Progress, update_index
from djangoes.indexing.names import IndexState, get_target, index_state, physical_indexes
from djangoes.indexing.prune import PruneResult, prune_index
from djangoes.indexing.rebuild import RebuildResult, rebuild_index

__all__ = [
    "CleanupResult",
    "Drift",
    "IndexExistsError",
    "IndexMissingError",
    "IndexState",
    "IndexingResult",
    "LifecycleError",
    "NoModelsError",
    "NothingToResume",
    "Progress",
    "PruneError",
    "PruneResult",
    "RebuildAborted",
    "RebuildInterrupted",
    "RebuildLockLost",
    "RebuildLocked",
    "RebuildResult",
    "cleanup_index",
    "create_index",
    "delete_index",
    "find_leftovers",
    "get_target",
    "index_drift",
    "index_state",
    "physical_indexes",
    "prune_index",
    "rebuild_index",
    "update_index",
]
