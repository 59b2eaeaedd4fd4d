"""A second ``make demo``: the address is looked at before anything is announced or done."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.e2e.conftest import PATIENCE, ROOT, free_port, start_demo

#: A corpus just big enough to serve.
MODULES = 2


def run_demo(var_dir: Path, addrport: str) -> subprocess.CompletedProcess[str]:
    """``manage.py demo ADDRPORT``, run to its end (for the cases where it serves nothing)."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env |= {"DEMO_VAR_DIR": str(var_dir), "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, str(ROOT / "example" / "manage.py"), "demo", addrport,
         "--modules", str(MODULES)],
        env=env, capture_output=True, text=True, timeout=PATIENCE,
    )  # fmt: skip


def test_a_port_held_by_another_program_is_skipped_before_the_site_is_announced(
    tmp_path: Path,
) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()  # answers nothing: not a demo
        busy = other.getsockname()[1]
        demo = start_demo(tmp_path / "var", MODULES, port=busy)
        try:
            assert demo.url != f"http://127.0.0.1:{busy}/"
            port = int(demo.url.rstrip("/").rsplit(":", 1)[1])
            assert f"Port {busy} is used by another program: serving on port {port}." in (
                demo.output
            )
            assert demo.output.count("The demo site:") == 1
            with urllib.request.urlopen(demo.url + "?q=abc", timeout=30) as response:
                assert response.status == 200
            assert demo.interrupt() == 0
        finally:
            demo.kill()


def test_a_second_demo_on_the_same_address_says_where_the_first_runs(tmp_path: Path) -> None:
    first = start_demo(tmp_path / "var", MODULES)
    try:
        addrport = first.url.removeprefix("http://").rstrip("/")
        second = run_demo(tmp_path / "other-var", addrport)
        assert second.returncode == 0, second.stderr
        assert second.stdout.strip() == (
            f"A demo is already running at {first.url}: open it there "
            "(CONTROL-C in its terminal stops it)."
        )
        assert not (tmp_path / "other-var").exists()  # nothing was set up
        # the first one goes on serving
        with urllib.request.urlopen(first.url, timeout=30) as response:
            assert response.status == 200
    finally:
        first.kill()


def test_a_bad_address_is_refused_with_an_example(tmp_path: Path) -> None:
    port = free_port()
    refused = run_demo(tmp_path / "var", f"127.0.0.1:{port}x")
    assert refused.returncode == 1
    assert f"'127.0.0.1:{port}x' is not a port or an address:port (127.0.0.1:8000)" in (
        refused.stderr
    )
