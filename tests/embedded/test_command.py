"""``manage.py search_server``: the engine in the foreground, in a real subprocess."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from djangoes.embedded import current_snapshot
from djangoes.embedded.snapshot import read_manifest
from tests.embedded.conftest import Spawn
from tests.embedded.test_sharing import WRITER
from tests.embedded.utils import (
    DJANGO_PROLOGUE,
    ROOT,
    Dirs,
    finish,
    read_json_line,
    read_line_matching,
    running_state,
    wait_until,
)


def search_server(dirs: Dirs, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "django", "search_server", *args],
        cwd=ROOT,
        env=dirs.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def url_of(line: str) -> str:
    match = re.search(r"running at (http://127\.0\.0\.1:\d+)", line)
    assert match, line
    return match.group(1)


@pytest.fixture
def server(dirs: Dirs) -> Iterator[subprocess.Popen[str]]:
    """A running ``search_server``, killed after the test if it still runs."""
    process = search_server(dirs)
    yield process
    if process.poll() is None:
        process.kill()
    process.communicate()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_search_server_serves_until_stopped_then_saves(
    dirs: Dirs, spawn: Spawn, server: subprocess.Popen[str], stop_signal: signal.Signals
) -> None:
    url = url_of(read_line_matching(server, "running at"))
    state = running_state(dirs.runtime)
    assert state.foreground
    assert state.keeper.pid == server.pid

    writer = spawn(WRITER, "one")  # another process of the project uses it
    assert read_json_line(writer)["url"] == url
    assert finish(writer)[0] == 0
    assert state.engine.is_alive()  # the writer's exit does not stop a foreground engine

    server.send_signal(stop_signal)
    out, err = server.communicate(timeout=60)
    assert server.returncode == 0, err
    assert "Saved 1 documents in 1 indices" in out
    assert "Search engine stopped." in out
    wait_until(lambda: not state.engine.is_alive(), what="the engine to exit")
    assert not (dirs.runtime / "engine.json").exists()
    assert dirs.data is not None
    snapshot = current_snapshot(dirs.data)
    assert snapshot is not None
    assert read_manifest(snapshot).documents == {"blog_v1": 1}


def test_a_second_search_server_says_where_the_engine_runs(
    dirs: Dirs, server: subprocess.Popen[str]
) -> None:
    url = url_of(read_line_matching(server, "running at"))
    state = running_state(dirs.runtime)

    second = search_server(dirs)
    _, err = second.communicate(timeout=60)
    assert second.returncode == 1
    assert "CommandError" in err
    assert f"is already running at {url} (engine pid {state.engine.pid}" in err
    assert f"started by pid {server.pid}" in err
    assert server.poll() is None  # the first one is not disturbed


def test_search_server_refuses_while_a_background_engine_runs(dirs: Dirs, spawn: Spawn) -> None:
    writer = spawn(WRITER, "one")
    url = read_json_line(writer)["url"]
    process = search_server(dirs)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert f"is already running at {url}" in err
    finish(writer)


@pytest.mark.parametrize(
    ("using", "message"),
    [
        (
            "remote",
            "ES_SERVERS['remote'] uses ENGINE 'djangoes.backends.opensearch."
            "SimpleHttpBackend', which is not the embedded engine",
        ),
        ("nope", "ES_SERVERS has no connection 'nope'; configured: 'default', 'remote'."),
    ],
)
def test_search_server_needs_an_embedded_connection(dirs: Dirs, using: str, message: str) -> None:
    process = search_server(dirs, "--using", using)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert message in err
    assert not (dirs.runtime / "engine.json").exists()


def test_after_create_search_index_the_next_processes_find_the_empty_index(dirs: Dirs) -> None:
    """create_search_index, then a search in the next process, then in a third one."""

    def python(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args],
            cwd=ROOT, env=dirs.env(), capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    created = python("-m", "django", "create_search_index", "blog")
    assert created.returncode == 0, created.stderr
    for _ in range(2):  # each process starts an engine from what the last one saved
        searched = python("-c", DJANGO_PROLOGUE + "print(connection.count()['count'])")
        assert searched.returncode == 0, searched.stderr
        assert searched.stdout.strip() == "0"
    assert dirs.data is not None
    snapshot = current_snapshot(dirs.data)
    assert snapshot is not None
    [(name, count)] = read_manifest(snapshot).documents.items()
    assert (name.startswith("blog_v1-"), count) == (True, 0)
