"""The launcher of real nodes (``tests/engines.py``) leaves no JVM behind.

A launcher killed with SIGKILL runs no cleanup code of its own: the node's
JVM must still go (the kernel's parent-death signal, ``PR_SET_PDEATHSIG``).
The test starts a second, small node on ports of its own next to the lane's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import engines

pytestmark = pytest.mark.real_engine

ROOT = Path(__file__).resolve().parents[2]


def gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        except (ProcessLookupError, FileNotFoundError):
            return True
        if state == "Z":  # exited; init reaps it
            return True
        time.sleep(0.2)
    return False


def test_a_killed_launcher_takes_its_jvm_with_it(real_node: engines.Node, tmp_path: Path) -> None:
    release = real_node.release
    http_port, transport_port = real_node.http_port + 2, real_node.transport_port + 2
    home = tmp_path / "node"
    launcher = subprocess.Popen(
        [
            sys.executable, "-m", "tests.engines", "start", release.name,
            "--http-port", str(http_port), "--transport-port", str(transport_port),
            "--data", str(home), "--heap", "512m",
        ],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert launcher.stdout is not None
        first = launcher.stdout.readline()  # the URL, once the node is healthy
        assert f"http://127.0.0.1:{http_port}" in first, first
        jvm = int((home / "node.pid").read_text())
        assert engines.http_json(f"http://127.0.0.1:{http_port}")["version"]["number"] == (
            release.opensearch
        )
        launcher.send_signal(signal.SIGKILL)
        launcher.wait(10)
        assert gone(jvm, within=60), f"JVM {jvm} outlived its launcher"
        assert not engines.port_in_use(http_port)
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
