"""Rebuilds across real processes sharing a SQLite file and an engine.

* a rebuild in one process while another process keeps saving and deleting,
  and this process keeps searching: nothing lost, no search fails;
* two rebuilds started together: one runs, the other gets the clear error;
* a rebuild killed mid-load: its lock stays, ``--resume`` finishes it,
  ``--break-lock`` starts over, ``cleanup_search_indexes --break-locks``
  abandons it — with saves made in between kept in every case.

The processes use ``tests/rebuild/settings.py`` with the default
REBUILD_POLL_SECONDS, so the writer really trusts a cached view of the
rebuild table and the rebuild really has to wait it out.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from djangoes.backends.abstracts import Base
from djangoes.indexing import index_state, physical_indexes
from tests.rebuild.helpers import (
    GUARD,
    REBUILD,
    Project,
    SearchThread,
    index_documents,
    steps_done,
    wait_for_file,
    wait_for_steps,
)
from tests.rebuild.writers import KEEP_PUBLISHED

STEPS_PER_CHUNK = 2


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the blog's rows, copied by each test."""
    where = tmp_path_factory.mktemp("template")
    return Project(where, "http://127.0.0.1:9").make_database()


@pytest.fixture
def project(tmp_path: Path, engine_url: str, database: Path) -> Project:
    made = Project(tmp_path, engine_url)
    made.setup(database)
    return made


@pytest.fixture
def engine(rebuild_settings: Any, conn: Base) -> Base:
    """This process's connection to the project's engine (for searching and looking)."""
    return conn


def live_indexes(conn: Base) -> list[str]:
    return sorted(index_state(conn, "blog").indices)


def test_a_rebuild_while_another_process_saves_and_deletes(project: Project, engine: Base) -> None:
    before = live_indexes(engine)
    writer, stop, count = project.start_writer(seed=7)
    searcher = SearchThread()
    searcher.start()
    try:
        wait_for_steps(count, STEPS_PER_CHUNK, writer)
        rebuilt = project.run(
            "shell", "-c", REBUILD, REBUILD_TEST_COUNT=str(count),
            REBUILD_TEST_STEPS=str(STEPS_PER_CHUNK),
        )  # fmt: skip
        assert rebuilt.returncode == 0, rebuilt.stderr
        wait_for_steps(count, steps_done(count) + STEPS_PER_CHUNK, writer)
    finally:
        stop.touch()
        searcher.stop.set()
        searcher.join(GUARD)
        _out, err = writer.communicate(timeout=GUARD)
    assert writer.returncode == 0, err
    line = next(line for line in rebuilt.stdout.splitlines() if line.startswith("REBUILT "))
    _, new, chunks = line.split()
    assert int(chunks) > 5
    assert searcher.errors == []
    assert len(searcher.seen) > 0
    assert all(hits >= KEEP_PUBLISHED for hits, _ in searcher.seen)
    assert all(len(physical) == 1 for _, physical in searcher.seen)
    assert live_indexes(engine) == [new] != before
    assert index_documents(engine) == project.database_documents()


def test_two_rebuilds_started_together_one_runs_the_other_is_told_why(
    project: Project, engine: Base
) -> None:
    """The first rebuild is held after its first chunk until the second one has failed."""
    marker = project.tmp / "loading"
    first = project.start(project.django("shell", "-c", REBUILD), REBUILD_TEST_HANG=str(marker))
    try:
        wait_for_file(marker, first)
        second = project.run("rebuild_search_index", "blog", "--noinput")
    finally:
        first.kill()
        first.communicate(timeout=GUARD)
    assert second.returncode == 1
    message = second.stderr
    assert "CommandError: Could not rebuild index 'blog': " in message
    assert "another rebuild holds its lock" in message
    assert f"process {first.pid} on host " in message
    assert re.search(r"since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", message)
    assert "stage 'loading'" in message
    assert "--resume" in message
    assert "--break-lock" in message


def test_two_rebuild_commands_at_the_same_moment(project: Project, engine: Base) -> None:
    """Started together without any help: each either rebuilt or was refused, never both failed."""
    first = project.start(project.django("rebuild_search_index", "blog", "--noinput"))
    second = project.start(project.django("rebuild_search_index", "blog", "--noinput"))
    outcomes = [p.communicate(timeout=GUARD) for p in (first, second)]
    codes = [first.returncode, second.returncode]
    assert 0 in codes, outcomes
    for code, (out, err) in zip(codes, outcomes, strict=True):
        if code:
            assert "another rebuild holds its lock" in err, err
        else:
            assert "Rebuilt index 'blog'" in out
    assert len(live_indexes(engine)) == 1
    assert physical_indexes(engine, "blog") == live_indexes(engine)


def test_a_killed_rebuild_is_resumed_with_the_saves_made_meanwhile(
    project: Project, engine: Base
) -> None:
    live = live_indexes(engine)
    project.kill_mid_load()
    unfinished = [name for name in physical_indexes(engine, "blog") if name not in live]
    assert len(unfinished) == 1
    # Searches still go to the old index; saves go to both while the lock stays.
    writer, _, _ = project.start_writer(seed=11, steps=15)
    assert writer.wait(GUARD) == 0, writer.communicate()
    refused = project.run("rebuild_search_index", "blog", "--noinput")
    assert refused.returncode == 1
    assert "that process is no longer running, so the rebuild was interrupted" in refused.stderr
    dry = project.run("cleanup_search_indexes", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"in use by a rebuild holding the lock: {unfinished[0]!r}" in dry.stdout
    assert "left behind: none" in dry.stdout
    resumed = project.run("rebuild_search_index", "blog", "--noinput", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "Resumed and rebuilt index 'blog': " in resumed.stdout
    assert live_indexes(engine) == unfinished
    assert physical_indexes(engine, "blog") == unfinished
    assert index_documents(engine) == project.database_documents()


def test_a_killed_rebuild_broken_and_started_over(project: Project, engine: Base) -> None:
    live = live_indexes(engine)
    project.kill_mid_load()
    unfinished = [name for name in physical_indexes(engine, "blog") if name not in live]
    writer, _, _ = project.start_writer(seed=12, steps=10)
    assert writer.wait(GUARD) == 0, writer.communicate()
    again = project.run("rebuild_search_index", "blog", "--noinput", "--break-lock")
    assert again.returncode == 0, again.stderr
    new = live_indexes(engine)
    assert new != unfinished
    assert new != live
    assert physical_indexes(engine, "blog") == new  # the unfinished one was deleted
    assert index_documents(engine) == project.database_documents()


def test_a_killed_rebuild_abandoned_by_the_cleanup_command(project: Project, engine: Base) -> None:
    live = live_indexes(engine)
    project.kill_mid_load()
    unfinished = [name for name in physical_indexes(engine, "blog") if name not in live]
    cleaned = project.run("cleanup_search_indexes", "blog", "--break-locks", "--noinput")
    assert cleaned.returncode == 0, cleaned.stderr
    assert "Abandoned the interrupted rebuild of index 'blog'." in cleaned.stdout
    assert f"deleted {unfinished[0]!r}" in cleaned.stdout
    assert physical_indexes(engine, "blog") == live == live_indexes(engine)
    # Saves after that reach the live index only, and a new rebuild may run.
    writer, _, _ = project.start_writer(seed=13, steps=10)
    assert writer.wait(GUARD) == 0, writer.communicate()
    assert index_documents(engine) == project.database_documents()
    rebuilt = project.run("rebuild_search_index", "blog", "--noinput")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert index_documents(engine) == project.database_documents()
