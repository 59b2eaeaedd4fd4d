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
* :func:`rebuild_index` — build a new physical index, load it, switch every
  alias in one atomic call, retire the old one;
* :func:`delete_index` — delete the physical index(es) behind NAME.

Where things are: :mod:`~djangoes.indexing.names` (targets, what is behind a
NAME, physical names), :mod:`~djangoes.indexing.load` (bulk indexing),
:mod:`~djangoes.indexing.prune`, :mod:`~djangoes.indexing.lifecycle`
(create, rebuild, delete), :mod:`~djangoes.indexing.errors`.
"""

from djangoes.indexing.errors import (
    IndexExistsError,
    IndexMissingError,
    LifecycleError,
    NoModelsError,
    PruneError,
    RebuildAborted,
)
from djangoes.indexing.lifecycle import RebuildResult, create_index, delete_index, rebuild_index
from djangoes.indexing.load import IndexingResult, Progress, update_index
from djangoes.indexing.names import IndexState, get_target, index_state, physical_indexes
from djangoes.indexing.prune import PruneResult, prune_index

__all__ = [
    "IndexExistsError",
    "IndexMissingError",
    "IndexState",
    "IndexingResult",
    "LifecycleError",
    "NoModelsError",
    "Progress",
    "PruneError",
    "PruneResult",
    "RebuildAborted",
    "RebuildResult",
    "create_index",
    "delete_index",
    "get_target",
    "index_state",
    "physical_indexes",
    "prune_index",
    "rebuild_index",
    "update_index",
]
