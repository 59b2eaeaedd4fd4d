"""Fixtures of the embedded-engine tests: private directories and process clean-up."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from djangoes.embedded import EngineConfig, stop_engine
from tests.embedded.utils import Dirs, start_python

Spawn = Callable[..., "subprocess.Popen[str]"]


@pytest.fixture
def dirs(tmp_path: Path) -> Iterator[Dirs]:
    """Project, runtime and data directories of this test only.

    Afterwards every engine started under ``tmp_path`` is stopped, so that a
    failing test leaves no process behind.
    """
    yield Dirs(base=tmp_path, runtime=tmp_path / "run", data=tmp_path / "data")
    for state_file in tmp_path.rglob("engine.json"):
        stop_engine(EngineConfig(runtime_dir=state_file.parent), timeout=30)


@pytest.fixture
def spawn(dirs: Dirs) -> Iterator[Spawn]:
    """``spawn(code, *args, **popen)``: start a Python process, killed after the test."""
    started: list[subprocess.Popen[str]] = []

    def run(code: str, *args: str, **popen: Any) -> subprocess.Popen[str]:
        process = start_python(code, dirs, *args, **popen)
        started.append(process)
        return process

    yield run
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()
