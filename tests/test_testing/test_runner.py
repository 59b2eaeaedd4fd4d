"""``djangoes.test.runner``: real runs of ``python -m django test`` on a sample project.

``tests/projects/runnerproject`` (settings, a model, djangoes test cases that
index rows, search them and try a live index) runs in a subprocess against
this test's engine. Each of its tests records its process and the index
names it used; the assertions below read that record.
"""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from djangoes.embedded import config_from_params, ensure_engine, stop_engine

from .conftest import PROJECTS, RawEngine, read_report, subprocess_env

pytestmark = pytest.mark.engine

PROJECT = PROJECTS / "runnerproject"
DJANGOES_RUNNER = "djangoes.test.runner.DiscoverRunner"
DJANGO_RUNNER = "django.test.runner.DiscoverRunner"


def run_project_tests(report: Path, *args: str, **env: str) -> list[dict[str, Any]]:
    """Run the project's tests; fails with the runner's output unless they all pass."""
    report.touch()
    proc = subprocess.run(
        [sys.executable, "-m", "django", "test", "searchapp", "-v", "2", *args],
        cwd=PROJECT,
        env=subprocess_env(
            DJANGO_SETTINGS_MODULE="runnerproject.settings",
            PYTHONPATH=str(PROJECT),
            RUNNERPROJECT_REPORT=str(report),
            **env,
        ),
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "Ran 4 tests" in output
    assert "\nOK" in output
    return read_report(report)


def by_process(entries: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        grouped[entry["pid"]].append(entry)
    return dict(grouped)


def assert_names_of_their_own(entries: list[dict[str, Any]]) -> None:
    """Two worker processes, each on its own suffixed names; the guard refused the live index."""
    workers = by_process(entries)
    assert len(workers) == 2, entries
    names_by_suffix = {}
    for seen in workers.values():
        suffixes = {entry["suffix"] for entry in seen}
        assert len(suffixes) == 1, seen
        suffix = suffixes.pop()
        for entry in seen:
            assert entry["index_names"] == [f"test_posts_v1{suffix}"]
            assert entry["indices"] == [f"test_posts_public{suffix}"]
        names_by_suffix[suffix] = seen[0]["index_names"][0]
    # The run's two worker processes, numbered as multiprocessing numbers them.
    assert names_by_suffix == {"_1": "test_posts_v1_1", "_2": "test_posts_v1_2"}

    [guarded] = [entry for entry in entries if "message" in entry]
    assert "targets the live index 'posts_v1'" in guarded["message"]
    assert f"Use the test index '{guarded['index_names'][0]}'" in guarded["message"]


@pytest.fixture
def live_index(raw_engine: RawEngine) -> RawEngine:
    """The project's live index, with one document that no test may touch."""
    raw_engine.request("PUT", "/posts_v1", {"aliases": {"posts_public": {}}})
    raw_engine.request("PUT", "/posts_v1/_doc/live", {"title": "live document"})
    return raw_engine


@pytest.mark.parametrize(
    ("runner", "start_method"),
    [(DJANGOES_RUNNER, "fork"), (DJANGOES_RUNNER, "spawn"), (DJANGO_RUNNER, "fork")],
    ids=["djangoes-runner-fork", "djangoes-runner-spawn", "django-runner-fork"],
)
def test_parallel_workers_use_index_names_of_their_own(
    engine_url: str, live_index: RawEngine, tmp_path: Path, runner: str, start_method: str
) -> None:
    """djangoes' runner (fork and spawn workers), and Django's own runner too.

    Under Django's runner no one switched the names: the test cases switch
    to the worker's names themselves.
    """
    entries = run_project_tests(
        tmp_path / "report.jsonl",
        "--parallel",
        "2",
        DJANGOES_ENGINE_URL=engine_url,
        RUNNERPROJECT_TEST_RUNNER=runner,
        RUNNERPROJECT_START_METHOD=start_method,
        RUNNERPROJECT_WORKERS="2",
    )
    assert_names_of_their_own(entries)

    # Test indices are gone; the live index kept its one document.
    assert live_index.index_names() == ["posts_v1"]
    assert live_index.count("posts_v1") == 1


def test_single_process_run_uses_plain_test_names(
    engine_url: str, live_index: RawEngine, tmp_path: Path
) -> None:
    entries = run_project_tests(tmp_path / "report.jsonl", DJANGOES_ENGINE_URL=engine_url)

    assert len(by_process(entries)) == 1
    assert {entry["suffix"] for entry in entries} == {""}
    assert {tuple(entry["index_names"]) for entry in entries} == {("test_posts_v1",)}
    assert live_index.index_names() == ["posts_v1"]
    assert live_index.count("posts_v1") == 1


def test_parallel_run_on_the_embedded_engine(tmp_path: Path) -> None:
    """The workers share one embedded engine (as a project's processes do): names keep them apart.

    This test holds the engine too, so that it can look at it after the run.
    """
    runtime_dir = tmp_path / "engine"
    config = config_from_params("default", {"runtime_dir": str(runtime_dir)})
    engine = RawEngine(ensure_engine(config).url)
    try:
        engine.request("PUT", "/posts_v1")
        engine.request("PUT", "/posts_v1/_doc/live", {"title": "live document"})
        entries = run_project_tests(
            tmp_path / "report.jsonl",
            "--parallel",
            "2",
            RUNNERPROJECT_EMBEDDED_RUNTIME_DIR=str(runtime_dir),
            RUNNERPROJECT_WORKERS="2",
        )
        assert_names_of_their_own(entries)
        assert engine.index_names() == ["posts_v1"]
        assert engine.count("posts_v1") == 1
    finally:
        stop_engine(config)
