"""``djangoes.test.pytest_plugin``: its fixtures in this suite, and real pytest runs.

The in-process tests use the fixtures as any project would (the plugin is
loaded by its entry point). The subprocess tests run
``tests/projects/pytestproject`` with pytest, pytest-django and
pytest-xdist against this test's engine; its tests record the worker and
the index names they used, and a small plugin records the names in use once
each session is over.
"""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from djangoes import connections
from djangoes.backends.abstracts import Base

from .conftest import PROJECTS, RawEngine, read_report, subprocess_env, unversioned

pytestmark = pytest.mark.engine

PROJECT = PROJECTS / "pytestproject"


# -- the fixtures, in this suite ---------------------------------------------------


@pytest.mark.usefixtures("blog_settings", "single_process")
def test_es_indices_creates_the_test_indices(es_indices: list[str], raw_engine: RawEngine) -> None:
    assert es_indices == ["test_blog_v1", "shop_under_test"]
    assert raw_engine.index_names() == ["shop_under_test", "test_blog_v1"]
    assert raw_engine.aliases() == {
        "test_blog_v1": ["test_blog_v1"],
        "test_blog_public": ["test_blog_v1"],
        "shop_under_test": ["shop_under_test"],
        "shop_test_alias": ["shop_under_test"],
    }


@pytest.mark.usefixtures("blog_settings", "single_process")
def test_es_connection_is_the_default_connection_on_test_indices(es_connection: Base) -> None:
    assert es_connection is connections["default"]
    assert es_connection.index_names == ["test_blog_v1"]
    es_connection.index(id="1", document={"title": "hello from a fixture"})
    es_connection.refresh()
    hits = es_connection.search(query={"match": {"title": "hello"}})["hits"]["hits"]
    assert [(unversioned(hit["_index"]), hit["_id"]) for hit in hits] == [("test_blog_v1", "1")]


# -- real pytest runs --------------------------------------------------------------


def run_pytest(
    engine_url: str, report: Path, *args: str, autoload: bool = True, **environ: str
) -> subprocess.CompletedProcess[str]:
    """Run pytest in the sample project; fails with pytest's output unless it passes."""
    report.touch()
    env = subprocess_env(
        DJANGOES_ENGINE_URL=engine_url, PYTESTPROJECT_REPORT=str(report), **environ
    )
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_xdist_workers_use_index_names_of_their_own(
    engine_url: str, raw_engine: RawEngine, tmp_path: Path
) -> None:
    raw_engine.request("PUT", "/articles")
    raw_engine.request("PUT", "/articles/_doc/live", {"title": "live article"})
    report = tmp_path / "report.jsonl"
    proc = run_pytest(
        engine_url,
        report,
        "-n",
        "2",
        "-p",
        "xdist.plugin",
        "-p",
        "pytest_django.plugin",
        "-p",
        "djangoes.test.pytest_plugin",
        "-p",
        "report_plugin",
        "--ds=settings_with_djangoes",
        "check_search.py",
        "check_testcase.py",
        autoload=False,
    )
    assert "8 passed" in proc.stdout

    entries = read_report(report)
    names: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        if entry.get("after_session"):
            continue
        for name in entry.get("index_names", []) + entry.get("names", []):
            names[entry["worker"]].add(name)
        for name in entry.get("created", []):
            names[entry["worker"]].add(name)
    assert set(names) == {"gw0", "gw1"}, entries
    for worker, seen in names.items():
        assert all(name.endswith(f"_{worker}") for name in seen), (worker, seen)
    assert not names["gw0"] & names["gw1"]

    # Every session (both workers and the controller) ended on live names.
    finished = [entry for entry in entries if entry.get("after_session")]
    assert sorted(str(entry["worker"]) for entry in finished) == ["None", "gw0", "gw1"]
    assert all(entry["test_names"] is None for entry in finished)

    # The live index was refused, not touched; no test index is left behind.
    [refused] = [entry for entry in entries if "message" in entry]
    assert "targets the live index 'articles'" in refused["message"]
    assert raw_engine.index_names() == ["articles"]
    assert raw_engine.count("articles") == 1


def test_plugin_loaded_by_its_entry_point_without_xdist(
    engine_url: str, raw_engine: RawEngine, tmp_path: Path
) -> None:
    report = tmp_path / "report.jsonl"
    proc = run_pytest(
        engine_url, report, "-p", "report_plugin", "--ds=settings_with_djangoes", "check_search.py"
    )
    assert "7 passed" in proc.stdout
    entries = read_report(report)
    seen = {name for entry in entries for name in entry.get("index_names", [])}
    assert seen == {"test_articles"}
    assert [entry["test_names"] for entry in entries if entry.get("after_session")] == [None]
    assert raw_engine.index_names() == []


def test_a_tests_query_log_rows_are_written_before_its_database_is_flushed(
    engine_url: str, tmp_path: Path
) -> None:
    """With pytest-django's transactional tests and djangoes' TransactionTestCase.

    The rows a search hands to the log's thread would otherwise be written
    after the flush, into the next test's tables.
    """
    proc = run_pytest(
        engine_url,
        tmp_path / "report.jsonl",
        "--ds=settings_with_djangoes",
        "check_query_log.py",
        PYTESTPROJECT_DB=str(tmp_path / "test.sqlite3"),
    )
    assert "4 passed" in proc.stdout


@pytest.mark.parametrize(
    "args",
    [["--ds=settings_without_djangoes"], ["-p", "no:django"]],
    ids=["djangoes-not-installed", "no-pytest-django"],
)
def test_plugin_leaves_other_projects_alone(
    engine_url: str, tmp_path: Path, args: list[str]
) -> None:
    proc = run_pytest(engine_url, tmp_path / "report.jsonl", *args, "check_untouched.py")
    assert "1 passed" in proc.stdout
    assert "PASSED check_untouched.py::test_plugin_does_not_switch_names" in proc.stdout


def test_plugin_module_reads_no_settings_at_import(tmp_path: Path) -> None:
    """Importing the plugin in a bare interpreter must not configure Django."""
    code = (
        "import djangoes.test.pytest_plugin\n"
        "from django.conf import settings\n"
        "assert not settings.configured, 'settings were read at import'\n"
        "print('untouched')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=subprocess_env(DJANGO_SETTINGS_MODULE="no_such_settings_module"),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "untouched"
