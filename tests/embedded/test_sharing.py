"""One engine per project: processes find the running engine instead of starting their own."""

from __future__ import annotations

import signal
import time

from djangoes.embedded import EngineConfig, ensure_engine, find_engine, stop_engine
from djangoes.embedded.procs import ProcessRef
from tests.embedded.conftest import Spawn
from tests.embedded.utils import (
    DJANGO_PROLOGUE,
    Dirs,
    document_ids,
    finish,
    read_json_line,
    running_state,
    wait_until,
)

#: Index one document through the connection, report, then hold the engine until stdin closes.
WRITER = (
    DJANGO_PROLOGUE
    + """
connection.create_indices(exist_ok=True)
connection.index(id=sys.argv[1], document={"title": sys.argv[1], "tag": "t"})
ids = sorted(h["_id"] for h in connection.search(query={"match_all": {}})["hits"]["hits"])
print(json.dumps({"url": connection.engine.url, "ids": ids, "pid": os.getpid()}), flush=True)
sys.stdin.read()
"""
)

#: Start or find the engine with the library alone, at the same moment as the others.
RACER = """
import json, os, sys, time
from pathlib import Path
from djangoes.embedded import EngineConfig, ensure_engine

go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
state = ensure_engine(EngineConfig(runtime_dir=Path(sys.argv[1])))
print(json.dumps({"url": state.url, "engine": state.engine.pid}), flush=True)
sys.stdin.read()
"""


def test_two_processes_share_one_engine_and_see_each_others_documents(
    dirs: Dirs, spawn: Spawn
) -> None:
    first = spawn(WRITER, "one")
    one = read_json_line(first)
    second = spawn(WRITER, "two")
    two = read_json_line(second)

    assert two["url"] == one["url"]
    assert one["ids"] == ["one"]
    assert two["ids"] == ["one", "two"]  # the second process sees the first one's document
    state = running_state(dirs.runtime)
    assert state.url == one["url"]
    assert {h.pid for h in state.holders} == {one["pid"], two["pid"]}
    assert finish(first)[0] == 0
    assert finish(second)[0] == 0


def test_processes_starting_at_the_same_moment_start_one_engine(dirs: Dirs, spawn: Spawn) -> None:
    go = dirs.base / "go"
    racers = [spawn(RACER, str(dirs.runtime), str(go)) for _ in range(4)]
    time.sleep(1.0)  # let every interpreter reach its wait loop
    go.touch()
    answers = [read_json_line(p) for p in racers]

    assert len({a["url"] for a in answers}) == 1
    assert len({a["engine"] for a in answers}) == 1
    state = running_state(dirs.runtime)
    assert state.engine.pid == answers[0]["engine"]
    assert len(state.holders) == 4
    log = (dirs.runtime / "engine.log").read_text()
    assert log.count("Starting the embedded engine") == 1
    for racer in racers:
        finish(racer)


def test_the_engine_lives_while_any_process_uses_it(dirs: Dirs, spawn: Spawn) -> None:
    first = spawn(WRITER, "one")
    url = read_json_line(first)["url"]
    second = spawn(WRITER, "two")
    read_json_line(second)
    state = running_state(dirs.runtime)
    engine = state.engine

    finish(first)  # the process that started the engine exits...
    time.sleep(1.0)  # ...and its keeper has looked at the holders several times since
    assert engine.is_alive()
    assert document_ids(url, "blog") == ["one", "two"]

    finish(second)  # the last user exits: the engine goes
    wait_until(lambda: not engine.is_alive(), what="the engine to exit")
    # The keeper removes engine.json just after the engine's exit, then exits itself.
    wait_until(lambda: not state.keeper.is_alive(), what="the keeper to exit")
    assert not (dirs.runtime / "engine.json").exists()


def test_a_new_process_starts_a_new_engine_after_the_last_one_left(
    dirs: Dirs, spawn: Spawn
) -> None:
    dirs.data = None  # purely in memory: the new engine starts empty
    first = spawn(WRITER, "one")
    url = read_json_line(first)["url"]
    old = running_state(dirs.runtime)
    finish(first)
    wait_until(lambda: not old.engine.is_alive(), what="the old engine to exit")

    second = spawn(WRITER, "two")
    answer = read_json_line(second)
    new = running_state(dirs.runtime)
    assert new.engine != old.engine
    assert new.keeper != old.keeper
    assert answer["ids"] == ["two"]
    assert url == old.url
    finish(second)


def test_a_stale_state_file_is_replaced(dirs: Dirs, spawn: Spawn) -> None:
    """A keeper that died without cleaning up (SIGKILL) leaves engine.json behind."""
    first = spawn(WRITER, "one")
    read_json_line(first)
    old = running_state(dirs.runtime)
    assert old.keeper.send(9)  # SIGKILL: no clean-up at all
    # The engine notices at once that its keeper is gone (its stdin closes).
    wait_until(lambda: not old.engine.is_alive(), what="the orphaned engine to exit")
    assert (dirs.runtime / "engine.json").exists()

    second = spawn(WRITER, "two")
    answer = read_json_line(second)
    new = running_state(dirs.runtime)
    assert new.keeper != old.keeper
    assert answer["url"] == new.url
    assert new.engine.is_alive()
    finish(first)
    finish(second)


def test_find_and_stop_an_engine_by_its_configuration(dirs: Dirs) -> None:
    config = EngineConfig(runtime_dir=dirs.runtime)
    assert find_engine(config) is None
    assert stop_engine(config) is False

    state = ensure_engine(config)
    found = find_engine(config)
    assert found is not None
    assert found.url == state.url
    assert found.holders == [ProcessRef.current()]

    assert stop_engine(config) is True
    assert not state.keeper.is_alive()
    wait_until(lambda: not state.engine.is_alive(), what="the engine to exit")
    assert find_engine(config) is None
    assert stop_engine(config) is False


def test_an_engine_that_dies_is_replaced_by_the_next_use(dirs: Dirs) -> None:
    config = EngineConfig(runtime_dir=dirs.runtime)
    old = ensure_engine(config)
    assert old.engine.send(signal.SIGKILL)  # the engine crashes

    wait_until(lambda: not old.keeper.is_alive(), what="its keeper to notice and exit")
    assert not (dirs.runtime / "engine.json").exists()
    assert "osmem-server exited with status -9" in (dirs.runtime / "engine.log").read_text()

    new = ensure_engine(config)
    assert new.engine != old.engine
    assert document_ids(new.url, "_all") == []
