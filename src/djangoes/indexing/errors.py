"""The errors of the index lifecycle.

::

    DjangoesError
     └── LifecycleError                .index: the ES_INDICES key
          ├── IndexExistsError          create: NAME is already an index or an alias
          ├── IndexMissingError         update / prune / delete: nothing behind NAME
          │    (also LookupError)
          ├── NoModelsError             update / prune / rebuild: the index has no MODELS
          │    (also ConfigurationError)
          ├── RebuildAborted            documents failed while a rebuild was loading
          ├── RebuildLocked             another rebuild of the index holds its lock
          ├── RebuildLockLost           this rebuild's lock was broken or taken over
          ├── RebuildInterrupted        the engine went away mid-rebuild; resumable
          ├── NothingToResume           --resume, but no interrupted rebuild exists
          └── PruneError                the engine refused to delete orphaned documents

Engine errors (unreachable, refused request) are the djangoes
``TransportError`` family, raised as they come.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from djangoes.exceptions import ConfigurationError, DjangoesError

if TYPE_CHECKING:
    from djangoes.indexing.models import IndexRebuild
    from djangoes.sync.sending import Failure


class LifecycleError(DjangoesError):
    """An index lifecycle step cannot be done; the message says why and what to do."""

    def __init__(self, index: str, message: str) -> None:
        super().__init__(message)
        self.index = index


class IndexExistsError(LifecycleError):
    """``create_index``: the index's NAME is already taken by an index or an alias."""


class IndexMissingError(LifecycleError, LookupError):
    """The index has not been created (nothing answers to its NAME)."""


class NoModelsError(LifecycleError, ConfigurationError):
    """The index has no MODELS, so it cannot be loaded, pruned or rebuilt from the database."""


class RebuildAborted(LifecycleError):
    """Documents failed while a rebuild was loading; the live index was left as it was.

    ``failures`` lists them; ``new_index`` is the physical index that was being
    built (deleted again).
    """

    def __init__(
        self, index: str, message: str, *, new_index: str, failures: Sequence[Failure]
    ) -> None:
        super().__init__(index, message)
        self.new_index = new_index
        self.failures = list(failures)


class RebuildLocked(LifecycleError):
    """Another rebuild of the index holds its lock; ``holder`` describes it.

    ``holder`` is the :class:`~djangoes.indexing.models.IndexRebuild` row as
    it was read (who, since when, last heartbeat, stage).
    """

    def __init__(self, index: str, message: str, *, holder: IndexRebuild) -> None:
        super().__init__(index, message)
        self.holder = holder


class RebuildLockLost(LifecycleError):
    """The running rebuild's lock was removed or taken over (``--break-lock``/``--resume``).

    The rebuild stopped without switching; whoever took the lock owns its new index.
    """


class RebuildInterrupted(LifecycleError):
    """The engine could not be reached while rebuilding; the rebuild can be resumed.

    The lock and the new index ``new_index`` were kept (other processes keep
    writing their changes to it); the cause is chained.
    """

    def __init__(self, index: str, message: str, *, new_index: str) -> None:
        super().__init__(index, message)
        self.new_index = new_index


class NothingToResume(LifecycleError, LookupError):
    """``resume=True`` was asked but the index has no interrupted rebuild."""


class PruneError(LifecycleError):
    """The engine refused to delete some orphaned documents; ``reasons`` maps id -> reason."""

    def __init__(self, index: str, message: str, *, reasons: dict[str, str]) -> None:
        super().__init__(index, message)
        self.reasons = reasons
