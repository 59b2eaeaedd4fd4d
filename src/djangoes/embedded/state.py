"""The runtime directory: how processes of one project find, and agree on, their engine.

::

    <runtime_dir>/
        engine.json   the running engine (url, pids, holders); absent when none runs
        engine.lock   flock(2) lock: held while an engine is looked up, started or stopped
        engine.log    what the keeper and the engine said (read it when a start fails)

``engine.json`` is written atomically (temporary file, then rename) and only
while ``engine.lock`` is held, so a reader holding the lock never sees a
half-written or outdated state.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from djangoes.embedded.errors import EngineError
from djangoes.embedded.procs import ProcessRef

__all__ = [
    "LOCK_FILE",
    "LOG_FILE",
    "STATE_FILE",
    "EngineState",
    "FileLock",
    "prepare_runtime_dir",
    "read_state",
    "remove_state",
    "write_json_atomic",
    "write_state",
]

STATE_FILE = "engine.json"
LOCK_FILE = "engine.lock"
LOG_FILE = "engine.log"
STATE_FORMAT = 1

logger = logging.getLogger("djangoes.embedded")


@dataclass
class EngineState:
    """A running engine as recorded in ``engine.json``.

    ``keeper`` is the process that started the engine and stops it; ``holders``
    are the processes using it (their owners: see
    :func:`~djangoes.embedded.procs.owner_process`). A background engine stops
    when no holder is left; a ``foreground`` one (``search_server``) when
    its keeper is told to.
    """

    url: str
    engine: ProcessRef
    keeper: ProcessRef
    runtime_dir: str
    holders: list[ProcessRef] = field(default_factory=list)
    foreground: bool = False
    data_dir: str | None = None
    version: str = ""
    osmem_version: str = ""
    started_at: float = 0.0

    @property
    def port(self) -> int:
        """The TCP port of :attr:`url`."""
        return int(self.url.rsplit(":", 1)[1].split("/", 1)[0])

    @property
    def log_file(self) -> Path:
        return Path(self.runtime_dir) / LOG_FILE

    def live_holders(self) -> list[ProcessRef]:
        """The holders that are still running."""
        return [h for h in self.holders if h.is_alive()]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "url": self.url,
            "engine": self.engine.to_json(),
            "keeper": self.keeper.to_json(),
            "runtime_dir": self.runtime_dir,
            "holders": [h.to_json() for h in self.holders],
            "foreground": self.foreground,
            "data_dir": self.data_dir,
            "version": self.version,
            "osmem_version": self.osmem_version,
            "started_at": self.started_at,
        }

    @classmethod
    def from_json(cls, data: Any) -> EngineState:
        """Parse :meth:`to_json` output; ValueError if it is not one."""
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            raise ValueError("not an engine state of a known format")
        try:
            return cls(
                url=str(data["url"]),
                engine=ProcessRef.from_json(data["engine"]),
                keeper=ProcessRef.from_json(data["keeper"]),
                runtime_dir=str(data["runtime_dir"]),
                holders=[ProcessRef.from_json(h) for h in data.get("holders") or []],
                foreground=bool(data.get("foreground")),
                data_dir=data.get("data_dir"),
                version=str(data.get("version") or ""),
                osmem_version=str(data.get("osmem_version") or ""),
                started_at=float(data.get("started_at") or 0.0),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"incomplete engine state ({exc!r})") from None


def prepare_runtime_dir(path: Path) -> Path:
    """Create ``path`` (mode 0700) and check that it is safe to use; returns it.

    Raises :class:`EngineError` if it is not a directory or, being under a
    shared temporary directory, belongs to another user or is writable by others.
    """
    try:
        # Both levels private: parents=True alone would create the parent with
        # the umask's permissions.
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.mkdir(mode=0o700, exist_ok=True)
        info = path.stat()
        parent = path.parent.stat()
    except OSError as exc:
        raise EngineError(f"Cannot use the runtime directory {str(path)!r}: {exc}") from exc
    if not stat.S_ISDIR(info.st_mode):
        raise EngineError(f"The runtime directory {str(path)!r} is not a directory.")
    if hasattr(os, "getuid"):
        # The default location is under /tmp, where another user could have made
        # the folder first to feed us a state file: only trust our own folders.
        for where, st in ((path, info), (path.parent, parent)):
            if where.name.startswith("djangoes-") and (
                st.st_uid != os.getuid() or st.st_mode & 0o022
            ):
                raise EngineError(
                    f"The runtime directory {str(where)!r} belongs to another user or is "
                    "writable by others; remove it or set PARAMS['runtime_dir']."
                )
    return path


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` so that readers see the old or the new file, whole."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_state(runtime_dir: Path) -> EngineState | None:
    """The state in ``runtime_dir``, or None if there is none.

    A corrupt state file (a crash while it was written cannot leave one, but a
    hand edit can) is logged and treated as no state: the next start replaces it.
    """
    path = runtime_dir / STATE_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return EngineState.from_json(json.loads(text))
    except ValueError as exc:
        logger.warning("Ignoring the unreadable engine state %s: %s", path, exc)
        return None


def write_state(runtime_dir: Path, state: EngineState) -> None:
    """Record ``state`` (call with the lock held)."""
    write_json_atomic(runtime_dir / STATE_FILE, state.to_json())


def remove_state(runtime_dir: Path, keeper: ProcessRef | None = None) -> None:
    """Remove the state file (only if it is ``keeper``'s, when given; call with the lock held)."""
    if keeper is not None:
        current = read_state(runtime_dir)
        if current is not None and current.keeper != keeper:
            return
    with contextlib.suppress(FileNotFoundError):
        (runtime_dir / STATE_FILE).unlink()


class FileLock:
    """An exclusive ``flock(2)`` lock on a file, waited for up to ``timeout`` seconds.

    ``flock`` locks belong to the open file, so two threads of one process
    exclude each other too, and the lock goes away with the process that held it.
    """

    def __init__(self, path: Path, timeout: float, what: str = "the engine") -> None:
        self.path = path
        self.timeout = timeout
        self.what = what
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock; :class:`EngineError` after ``timeout`` seconds of waiting."""
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise EngineError(
                        f"Waited {self.timeout:g} s for the lock {str(self.path)!r}: another "
                        f"process is still starting, saving or stopping {self.what}. Try again, "
                        "or stop that process."
                    ) from None
                time.sleep(0.02)
            else:
                self._fd = fd
                return

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the file releases the flock

    def try_acquire(self) -> bool:
        """Take the lock if it is free; returns whether it was taken."""
        saved, self.timeout = self.timeout, 0.0
        try:
            self.acquire()
        except EngineError:
            return False
        finally:
            self.timeout = saved
        return True

    @property
    def fd(self) -> int:
        """The locked file's descriptor (to write who holds it)."""
        if self._fd is None:
            raise RuntimeError("the lock is not held")
        return self._fd

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    @contextlib.contextmanager
    def released(self) -> Iterator[None]:
        """Release the lock for the duration of the block, then take it again."""
        self.release()
        try:
            yield
        finally:
            self.acquire()
