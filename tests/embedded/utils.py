"""Helpers of the embedded-engine tests: real processes, started and watched.

Every process here is a real Python interpreter running djangoes; the engine
they share is a real osmem-server. The test process itself only looks
(``engine.json``, ``/proc``, HTTP) so that it never becomes one of the
engine's holders unless a test says so.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from djangoes.embedded._http import request_json
from djangoes.embedded.state import EngineState, read_state

ROOT = Path(__file__).resolve().parents[2]

#: Prologue of the Django scripts: settings from tests/embedded/settings.py.
DJANGO_PROLOGUE = """\
import json, os, sys
import django
django.setup()
from djangoes import connection, connections
"""


@dataclass
class Dirs:
    """The directories one test gives its processes."""

    base: Path
    runtime: Path
    data: Path | None

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in {"RUN_MAIN", "PYTHONPATH"}}
        env.update(
            DJANGO_SETTINGS_MODULE="tests.embedded.settings",
            PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "src")]),
            DJANGOES_TEST_BASE_DIR=str(self.base),
            DJANGOES_TEST_RUNTIME_DIR=str(self.runtime),
            DJANGOES_TEST_DATA_DIR=str(self.data) if self.data else "",
        )
        env.update(extra)
        return env


def start_python(
    code: str, dirs: Dirs, *args: str, env: dict[str, str] | None = None, **popen: Any
) -> subprocess.Popen[str]:
    """Run ``code`` in a new interpreter with the test's settings; stdout/stdin are pipes."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT,
        env=env or dirs.env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def read_json_line(process: subprocess.Popen[str], timeout: float = 60.0) -> Any:
    """The next JSON line the process prints; AssertionError with its stderr if none comes."""
    import selectors

    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(deadline - time.monotonic()):
                line = process.stdout.readline()
                if not line:
                    break
                try:
                    return json.loads(line)
                except ValueError:
                    continue
    process.kill()
    _, err = process.communicate()
    raise AssertionError(f"no JSON line from the process; stderr:\n{err}")


def finish(process: subprocess.Popen[str], timeout: float = 60.0) -> tuple[int, str, str]:
    """Close the process's stdin (its cue to exit) and wait; returns (status, stdout, stderr)."""
    out, err = process.communicate(input="", timeout=timeout)
    return process.returncode, out, err


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    """Poll ``predicate`` until it is true; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(0.05)


def running_state(runtime_dir: Path) -> EngineState:
    """The state of the engine running for ``runtime_dir`` (AssertionError if none)."""
    state = read_state(runtime_dir)
    assert state is not None, f"no engine.json in {runtime_dir}"
    return state


def document_ids(url: str, index: str) -> list[str]:
    """Ids of the documents of ``index`` at ``url``, sorted."""
    result = request_json("POST", f"{url}/{index}/_search", {"size": 100})
    return sorted(hit["_id"] for hit in result["hits"]["hits"])


def read_line_matching(process: subprocess.Popen[str], pattern: str, timeout: float = 60.0) -> str:
    """The first line of the process's stdout containing ``pattern`` (AssertionError if none)."""
    import selectors

    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(deadline - time.monotonic()):
                line = process.stdout.readline()
                if not line:
                    break
                if pattern in line:
                    return line
                seen.append(line)
    process.kill()
    _, err = process.communicate()
    raise AssertionError(f"no line with {pattern!r}; stdout: {seen!r}; stderr:\n{err}")


def default_sigint() -> None:
    """``preexec_fn`` giving a child the default SIGINT, so that Ctrl-C stops it.

    A command started in the background by a non-interactive shell (``make test
    &``, some CI runners) runs with SIGINT ignored, and its children inherit that.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
