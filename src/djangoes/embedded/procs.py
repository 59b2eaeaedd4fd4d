"""Processes the embedded engine depends on: who owns it, and whether they still live.

A process is identified by its pid and, where the system tells us (Linux
``/proc``), its start time, so that a pid reused by an unrelated process
after the original died is not mistaken for it. A zombie (dead, not yet
reaped by its parent) counts as dead.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["AUTORELOAD_ENV", "ProcessRef", "owner_process"]

#: Set to "true" by Django's autoreloader in the child process it restarts on code changes.
AUTORELOAD_ENV = "RUN_MAIN"


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """``(state letter, start time in clock ticks)`` from ``/proc/<pid>/stat``, or None.

    None when there is no ``/proc`` (macOS) or the process is gone.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself contain
    # spaces and parentheses, so the fields after it are found from the last ')'.
    fields = raw[raw.rfind(")") + 2 :].split()
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


@dataclass(frozen=True)
class ProcessRef:
    """A process: its pid and, where known, its start time (to detect pid reuse)."""

    pid: int
    start: int | None = None

    @classmethod
    def of(cls, pid: int) -> ProcessRef:
        """The reference for the running process ``pid`` (start time read if available)."""
        stat = _proc_stat(pid)
        return cls(pid, stat[1] if stat else None)

    @classmethod
    def current(cls) -> ProcessRef:
        """This process."""
        return cls.of(os.getpid())

    def is_alive(self) -> bool:
        """Whether this very process still runs (not a zombie, not a reused pid)."""
        if self.pid <= 0:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # it exists but belongs to another user; /proc still tells more
        stat = _proc_stat(self.pid)
        if stat is None:
            return not os.path.isdir("/proc/self")  # /proc exists but the pid vanished
        state, start = stat
        if state in {"Z", "X"}:
            return False
        return self.start is None or start == self.start

    def send(self, sig: int) -> bool:
        """Send ``sig`` if this process is still alive; returns whether it was sent."""
        if not self.is_alive():
            return False
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            return False
        return True

    def wait_gone(self, timeout: float, interval: float = 0.02) -> bool:
        """Wait until the process is gone; returns False if it still runs after ``timeout``."""
        deadline = time.monotonic() + timeout
        while self.is_alive():
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)
        return True

    def terminate(self, grace: float = 5.0) -> None:
        """SIGTERM, then SIGKILL if the process is still there after ``grace`` seconds."""
        if self.send(signal.SIGTERM) and not self.wait_gone(grace):
            self.send(signal.SIGKILL)
            self.wait_gone(grace)

    def to_json(self) -> dict[str, Any]:
        return {"pid": self.pid, "start": self.start}

    @classmethod
    def from_json(cls, data: Any) -> ProcessRef:
        """Parse :meth:`to_json` output; ValueError if it is not one."""
        if not isinstance(data, dict) or not isinstance(data.get("pid"), int):
            raise ValueError(f"not a process reference: {data!r}")
        start = data.get("start")
        if start is not None and not isinstance(start, int):
            raise ValueError(f"not a process start time: {start!r}")
        return cls(data["pid"], start)


def owner_process() -> ProcessRef:
    """The process whose lifetime bounds an engine this process starts or uses.

    Normally this process. Under Django's autoreloader (``RUN_MAIN=true``) this
    process is a child that is replaced on every code change, so the owner is
    its parent, the reloader, which lives until the developer stops the server.
    """
    if os.environ.get(AUTORELOAD_ENV) == "true":
        return ProcessRef.of(os.getppid())
    return ProcessRef.current()
