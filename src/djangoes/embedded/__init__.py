"""The embedded engine: osmem-server run and shared by the processes of one project.

Used by :class:`djangoes.backends.embedded.EmbeddedBackend` and the
``search_server`` command, and usable on its own::

    from pathlib import Path
    from djangoes.embedded import EngineConfig, ensure_engine, stop_engine

    config = EngineConfig(runtime_dir=Path("/tmp/my-engine"), data_dir=Path(".search"))
    url = ensure_engine(config).url     # started, or found running
    ...
    stop_engine(config)                 # saved to data_dir, then stopped

How it fits together:

* :mod:`~djangoes.embedded.config` - :class:`EngineConfig`, the PARAMS, the
  default runtime directory;
* :mod:`~djangoes.embedded.state` - ``engine.json`` and the lock of a runtime directory;
* :mod:`~djangoes.embedded.control` - :func:`ensure_engine`, :func:`find_engine`,
  :func:`stop_engine`, :func:`run_engine`;
* :mod:`~djangoes.embedded.keeper` - the process that runs the engine, saves and stops it;
* :mod:`~djangoes.embedded.snapshot` - the data directory (osmem-server's seed format);
* :mod:`~djangoes.embedded.procs` - process identity, the owner under the autoreloader.

Nothing here runs at import time, and osmem-server is imported only when an
engine is started.
"""

from djangoes.embedded.config import ENGINE_PARAMS, EngineConfig, config_from_params
from djangoes.embedded.control import ensure_engine, find_engine, run_engine, stop_engine
from djangoes.embedded.errors import (
    EngineAlreadyRunning,
    EngineError,
    EngineStartError,
    SnapshotError,
)
from djangoes.embedded.procs import ProcessRef, owner_process
from djangoes.embedded.snapshot import SnapshotInfo, current_snapshot, save_snapshot
from djangoes.embedded.state import EngineState

__all__ = [
    "ENGINE_PARAMS",
    "EngineAlreadyRunning",
    "EngineConfig",
    "EngineError",
    "EngineStartError",
    "EngineState",
    "ProcessRef",
    "SnapshotError",
    "SnapshotInfo",
    "config_from_params",
    "current_snapshot",
    "ensure_engine",
    "find_engine",
    "owner_process",
    "run_engine",
    "save_snapshot",
    "stop_engine",
]
