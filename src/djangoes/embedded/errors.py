"""Exceptions of the embedded engine, all under :class:`djangoes.exceptions.DjangoesError`.

::

    DjangoesError
     └── EngineError (also RuntimeError)
          ├── EngineStartError        the engine process could not be started
          ├── EngineAlreadyRunning    ``search_server`` found an engine already running
          └── SnapshotError           the data directory could not be saved or read
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from djangoes.exceptions import DjangoesError

if TYPE_CHECKING:
    from djangoes.embedded.state import EngineState

__all__ = ["EngineAlreadyRunning", "EngineError", "EngineStartError", "SnapshotError"]


class EngineError(DjangoesError, RuntimeError):
    """The embedded engine could not be started, found, stopped or saved."""


class EngineStartError(EngineError):
    """The engine process did not start; the message quotes what it said."""


class EngineAlreadyRunning(EngineError):
    """An engine already runs for this runtime directory (``state`` describes it)."""

    def __init__(self, message: str, state: EngineState) -> None:
        super().__init__(message)
        self.state = state


class SnapshotError(EngineError):
    """Saving to, or reading from, the data directory failed; the previous snapshot is intact."""
