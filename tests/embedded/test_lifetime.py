"""The engine never outlives its owner, and survives the autoreloader's restarts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from djangoes.embedded import current_snapshot
from djangoes.embedded.snapshot import read_manifest
from tests.embedded.conftest import Spawn
from tests.embedded.test_sharing import WRITER
from tests.embedded.utils import (
    ROOT,
    Dirs,
    default_sigint,
    read_json_line,
    running_state,
    wait_until,
)

HAS_PROC = Path("/proc/self/stat").exists()


def wait_for_exit(process: subprocess.Popen[str], timeout: float) -> None:
    """Wait for ``process``; AssertionError with its group's processes and stderr if it stays."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        listing = subprocess.run(
            ["ps", "-o", "pid,ppid,pgid,stat,wchan:20,args", "-g", str(process.pid)],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        os.killpg(process.pid, signal.SIGKILL)
        _, err = process.communicate()
        raise AssertionError(
            f"process {process.pid} still running {timeout} s after Ctrl-C; its process "
            f"group:\n{listing}\nits stderr:\n{err}"
        ) from None


#: A script run the way runserver runs: under Django's autoreloader.
RELOADING = """\
import json, os, sys
import django
from django.utils import autoreload

django.setup()


def main():
    from djangoes import connection

    connection.create_indices(exist_ok=True)
    connection.index(id=str(os.getpid()), document={"title": "reloaded"})
    hits = connection.search(query={"match_all": {}})["hits"]["hits"]
    print(json.dumps({
        "url": connection.engine.url,
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "run_main": os.environ.get("RUN_MAIN"),
        "ids": sorted(h["_id"] for h in hits),
    }), flush=True)


autoreload.run_with_reloader(main)
"""


@pytest.mark.skipif(not HAS_PROC, reason="zombie detection reads /proc (Linux)")
def test_killing_the_owner_stops_the_engine_and_saves_its_data(dirs: Dirs, spawn: Spawn) -> None:
    owner = spawn(WRITER, "one")
    read_json_line(owner)
    state = running_state(dirs.runtime)

    owner.send_signal(signal.SIGKILL)  # no atexit, no clean-up of any kind
    # Not reaped yet: the owner is a zombie, which must count as dead.
    wait_until(lambda: not state.engine.is_alive(), what="the engine to exit")
    wait_until(lambda: not state.keeper.is_alive(), what="the keeper to exit")
    owner.wait()

    assert not (dirs.runtime / "engine.json").exists()
    assert dirs.data is not None
    snapshot = current_snapshot(dirs.data)
    assert snapshot is not None
    assert read_manifest(snapshot).documents == {"blog_v1": 1}


def test_under_the_autoreloader_the_engine_belongs_to_the_reloader(
    dirs: Dirs, tmp_path: Path
) -> None:
    script = tmp_path / "reloading.py"
    script.write_text(RELOADING)
    reloader = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=ROOT,
        env=dirs.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, to send it a terminal's Ctrl-C
        preexec_fn=default_sigint,  # which it must not inherit ignored
    )
    try:
        first = read_json_line(reloader)
        assert first["run_main"] == "true"
        assert first["ppid"] == reloader.pid
        state = running_state(dirs.runtime)
        assert [h.pid for h in state.holders] == [reloader.pid]

        time.sleep(1.5)  # the reloader has taken its first look at the files
        later = time.time() + 5
        os.utime(script, (later, later))  # a code change: the child is replaced
        second = read_json_line(reloader)

        assert second["pid"] != first["pid"]
        assert second["url"] == first["url"]
        assert second["ids"] == sorted([str(first["pid"]), str(second["pid"])])
        assert running_state(dirs.runtime).engine == state.engine

        os.killpg(reloader.pid, signal.SIGINT)  # Ctrl-C in the terminal
        wait_for_exit(reloader, timeout=30)
        wait_until(lambda: not state.engine.is_alive(), what="the engine to exit")
    finally:
        if reloader.poll() is None:
            os.killpg(reloader.pid, signal.SIGKILL)
        reloader.communicate()

    # The autoreloader's child is killed 0.25 s after Ctrl-C: the keeper saved anyway.
    assert dirs.data is not None
    snapshot = current_snapshot(dirs.data)
    assert snapshot is not None
    assert read_manifest(snapshot).documents == {"blog_v1": 2}


def test_a_process_under_run_main_holds_the_engine_for_its_parent(dirs: Dirs, spawn: Spawn) -> None:
    """RUN_MAIN=true without a reloader: the parent (this test process) is the holder."""
    child = spawn(WRITER, "one", env=dirs.env(RUN_MAIN="true"))
    read_json_line(child)
    child.communicate(input="", timeout=30)
    state = running_state(dirs.runtime)
    assert [h.pid for h in state.holders] == [os.getpid()]
    time.sleep(0.6)  # several keeper polls after the child exited
    assert state.engine.is_alive()
    assert json.loads((dirs.runtime / "engine.json").read_text())["url"] == state.url
