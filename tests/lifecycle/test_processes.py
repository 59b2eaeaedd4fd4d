"""The commands in real processes (``python -m django``): exit status, input, terminal.

Each test gets a SQLite file, a mapping directory and an engine of its own,
passed to ``tests/lifecycle/settings.py`` through the environment.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lifecycle.conftest import write_mapping
from tests.servers import closed_port_url

ROOT = Path(__file__).resolve().parents[2]
_NOT_INHERITED = ("PYTEST_", "DJANGO_SETTINGS_MODULE", "DJANGOES_")

MAKE_DATA = """
from django.core.management import call_command
from tests.testapp.models import Author, Page, Post
call_command("migrate", verbosity=0)
ada = Author.objects.create(name="Ada")
for i in range(5):
    Post.objects.create(title=f"post {i}", author=ada)
Post.objects.create(title="draft", author=ada, published=False)
Page.objects.create(title="about")
"""


class Project:
    """A small project in ``tmp_path`` whose processes use one engine."""

    def __init__(self, tmp_path: Path, engine_url: str) -> None:
        write_mapping(tmp_path / "mappings")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)}
        self.env.update(
            LIFECYCLE_TEST_DB=str(tmp_path / "db.sqlite3"),
            LIFECYCLE_TEST_MAPPINGS=str(tmp_path / "mappings"),
            LIFECYCLE_TEST_ENGINE_URL=engine_url,
        )

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "django", *args, "--settings=tests.lifecycle.settings"]

    def run(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            input=stdin,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=self.env,
            timeout=120,
        )

    def migrate(self) -> None:
        """Create the database with a few posts and a page."""
        made = self.run("shell", "-c", MAKE_DATA)
        assert made.returncode == 0, made.stderr


@pytest.fixture
def project(tmp_path: Path, engine_url: str) -> Project:
    made = Project(tmp_path, engine_url)
    made.migrate()
    return made


def test_exit_statuses(project: Project) -> None:
    created = project.run("create_search_index")
    assert created.returncode == 0, created.stderr
    assert "Created index 'blog'" in created.stdout
    updated = project.run("update_search_index", "blog")
    assert updated.returncode == 0, updated.stderr
    assert "Indexed 6 document(s) into index 'blog' (testapp.Post: 5, testapp.Page: 1)" in (
        updated.stdout
    )
    assert updated.stderr == ""  # no terminal: no progress bar
    again = project.run("create_search_index", "blog")
    assert again.returncode == 1
    assert "CommandError: Could not create index 'blog':" in again.stderr
    assert "already exists" in again.stderr
    unknown = project.run("update_search_index", "blgo")
    assert unknown.returncode == 1
    assert "Unknown index 'blgo'. Did you mean 'blog'?" in unknown.stderr


def test_confirmation_in_a_real_process(project: Project) -> None:
    assert project.run("create_search_index", "blog").returncode == 0
    refused = project.run("delete_search_index", "blog", stdin="no\n")
    assert refused.returncode == 0
    assert "Type 'yes' to continue" in refused.stdout
    assert "Cancelled: nothing was changed." in refused.stdout
    no_answer = project.run("rebuild_search_index", "blog", stdin="")
    assert no_answer.returncode == 1
    assert "Pass --noinput" in no_answer.stderr
    rebuilt = project.run("rebuild_search_index", "blog", stdin="yes\n")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Rebuilt index 'blog': 6 document(s)" in rebuilt.stdout
    deleted = project.run("delete_search_index", "blog", "--noinput")
    assert deleted.returncode == 0, deleted.stderr
    assert "Deleted index 'blog'" in deleted.stdout


def test_unreachable_engine_exits_non_zero(tmp_path: Path, engine_url: str) -> None:
    project = Project(tmp_path, closed_port_url())
    done = project.run("update_search_index")
    assert done.returncode == 1
    assert "CommandError: Could not update index 'blog':" in done.stderr
    assert "Is the search engine of connection 'default' running?" in done.stderr


def run_on_terminal(project: Project, *args: str) -> tuple[int, str]:
    """Run a command with its stderr on a pseudo-terminal; (exit status, what it drew)."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            project.command(*args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=follower,
            cwd=ROOT,
            env=project.env,
        )
        os.close(follower)
        drawn = b""
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:  # the terminal is gone: the process ended
                break
            if not data:
                break
            drawn += data
        return process.wait(timeout=120), drawn.decode()
    finally:
        os.close(leader)


def test_progress_on_a_real_terminal(project: Project) -> None:
    assert project.run("create_search_index", "blog").returncode == 0
    status, drawn = run_on_terminal(project, "update_search_index", "blog")
    assert status == 0
    assert "Indexing blog  [" in drawn
    assert "6/6 docs" in drawn
    assert "docs/s" in drawn
    status, drawn = run_on_terminal(project, "update_search_index", "blog", "-v", "0")
    assert status == 0
    assert drawn == ""
