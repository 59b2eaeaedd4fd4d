"""One osmem-server process per measurement, owned by the benchmark's main process.

A fresh engine per measurement keeps one library's index (and the engine's
memory) from slowing down the next. The engine's own CPU time and peak
memory are read from ``/proc`` so a report can tell the engine's share of a
run from the Python process's.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from osmem_server import resolve_binary


class EngineError(RuntimeError):
    """The engine could not be started."""


@dataclass
class Engine:
    """A running osmem-server (Japanese analyzer off, as djangoes' embedded backend runs it)."""

    process: subprocess.Popen[str]
    url: str
    version: str
    log: IO[str]

    @classmethod
    def start(cls, log_path: Path, timeout: float = 30.0) -> Engine:
        """Start an engine on a free loopback port; its stderr goes to ``log_path``."""
        log = log_path.open("a", encoding="utf-8")
        args = [resolve_binary(), "--no-ja", "--addr", "127.0.0.1:0"]
        args += ["--parent-pid", str(os.getpid())]
        process = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True
        )
        ready: dict[str, Any] = {}

        def read_ready_line() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if isinstance(message, dict) and "url" in message:
                    ready.update(message)
                    return

        reader = threading.Thread(target=read_ready_line, daemon=True)
        reader.start()
        reader.join(timeout)
        if not ready:
            process.kill()
            process.wait()
            log.close()
            raise EngineError(
                f"osmem-server did not start within {timeout} s (exit status "
                f"{process.returncode}); see {log_path}"
            )
        return cls(process, str(ready["url"]), str(ready.get("version", "")), log)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, grace: float = 5.0) -> None:
        """Stop the engine (closing its standard input), killing it after ``grace`` seconds."""
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            deadline = time.monotonic() + grace
            while self.process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        self.log.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # after the command name: state is field 3, utime 14 and stime 15 (1-based)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss(pid: int | str = "self") -> int:
    """Peak resident memory of process ``pid`` in bytes (``VmHWM``)."""
    return _status_kib(pid, "VmHWM") * 1024


def current_rss(pid: int | str = "self") -> int:
    """Resident memory of process ``pid`` now, in bytes (``VmRSS``)."""
    return _status_kib(pid, "VmRSS") * 1024


def _status_kib(pid: int | str, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(f"{key} is not in /proc/{pid}/status")


@dataclass
class OpenSearchNode:
    """A real OpenSearch node, one for the whole run; each measurement gets it emptied.

    ``pid`` (when the node runs on this machine and is known) lets a report
    give the engine's CPU time; a JVM's peak memory is its heap, not a figure
    of the library measured, so none is read.
    """

    url: str
    pid: int | None = None
    version: str = ""

    def connect(self, timeout: float = 120.0) -> OpenSearchNode:
        """Wait for the node to answer (yellow or green); fills in its version."""
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                info = self._get("/")
                self._get("/_cluster/health?wait_for_status=yellow&timeout=10s")
                self.version = (
                    f"{info['version'].get('distribution', '')} {info['version']['number']}"
                )
                return self
            except (OSError, ValueError, KeyError) as exc:
                last = exc
                time.sleep(1.0)
        raise EngineError(f"OpenSearch at {self.url} did not answer within {timeout} s: {last}")

    def reset(self) -> None:
        """Delete every index but the system ones, so a measurement starts on an empty node."""
        indices = self._get("/_cat/indices?format=json&expand_wildcards=open,closed")
        names = [entry["index"] for entry in indices if not entry["index"].startswith(".")]
        if names:
            self._request("DELETE", "/" + ",".join(names))

    def cpu(self) -> float:
        return cpu_seconds(self.pid) if self.pid else 0.0

    def _get(self, path: str) -> Any:
        return self._request("GET", path)

    def _request(self, method: str, path: str) -> Any:
        from urllib.request import Request, urlopen

        with urlopen(Request(self.url.rstrip("/") + path, method=method), timeout=60) as reply:
            return json.loads(reply.read() or b"null")
