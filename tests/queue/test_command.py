"""``search_sync`` in real processes: ``--watch`` stopped by signals, exit statuses.

Each test gets a SQLite file, a mapping directory and an engine of its own,
passed to ``tests/queue/settings.py`` through the environment.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from tests.servers import closed_port_url
from tests.sync.conftest import BLOG_MAPPING

ROOT = Path(__file__).resolve().parents[2]
_NOT_INHERITED = ("PYTEST_", "DJANGO_SETTINGS_MODULE", "DJANGOES_", "QUEUE_TEST_")

#: Two posts saved with sync off, and a queue entry for each, due now.
MAKE_ENTRIES = """
from djangoes.sync import disable_search_updates
from djangoes.sync.operations import Operation
from djangoes.sync.queue import enqueue, new_claim
from djangoes.sync.models import SyncQueueEntry
from tests.testapp.models import Author, Post
ada = Author.objects.create(name="Ada")
with disable_search_updates():
    posts = [Post.objects.create(title=f"post {i}", author=ada) for i in range(2)]
enqueue([Operation.for_instance("index", "blog", p) for p in posts], "default", new_claim())
SyncQueueEntry.objects.update(claimed_by="", claimed_until=None)
"""


class Project:
    """A small project in ``tmp_path`` whose processes share a SQLite file and an engine."""

    def __init__(self, tmp_path: Path, engine_url: str, **env: str) -> None:
        mappings = tmp_path / "mappings"
        mappings.mkdir()
        (mappings / "blog.json").write_text(json.dumps(BLOG_MAPPING), encoding="utf-8")
        self.engine_url = engine_url
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)}
        self.env.update(
            QUEUE_TEST_DB=str(tmp_path / "db.sqlite3"),
            QUEUE_TEST_MAPPINGS=str(mappings),
            QUEUE_TEST_ENGINE_URL=engine_url,
            **env,
        )

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "django", *args, "--settings=tests.queue.settings"]

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**self.env, **env},
            timeout=120,
            stdin=subprocess.DEVNULL,
        )

    def setup(self) -> None:
        """The database and the index; the engine is reachable."""
        for args in (("migrate", "-v", "0"), ("create_search_index", "blog")):
            done = self.run(*args)
            assert done.returncode == 0, done.stderr

    def count(self) -> int:
        """Documents in the blog index (refreshed first: a real engine shows writes later)."""
        refresh = urllib.request.Request(f"{self.engine_url}/blog/_refresh", method="POST")
        urllib.request.urlopen(refresh, timeout=30).close()
        with urllib.request.urlopen(f"{self.engine_url}/blog/_count", timeout=30) as answer:
            return int(json.load(answer)["count"])


@pytest.fixture
def project(tmp_path: Path, engine_url: str) -> Project:
    made = Project(tmp_path, engine_url)
    made.setup()
    return made


def read_lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)
    into.put("")  # the end


def wait_for(lines: queue.Queue[str], text: str) -> list[str]:
    """The lines read until one containing ``text`` (fails if the output ends first)."""
    seen = []
    while True:
        line = lines.get(timeout=120)  # a safety net against a hung process, not a measure
        seen.append(line)
        assert line, f"the output ended without {text!r}: {''.join(seen)}"
        if text in line:
            return seen


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_watch_drains_and_stops_cleanly_on_a_signal(project: Project, stop: int) -> None:
    assert project.run("shell", "-c", MAKE_ENTRIES).returncode == 0
    process = subprocess.Popen(
        project.command("search_sync", "--watch", "--interval", "0.1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=project.env,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=read_lines, args=(process.stdout, lines), daemon=True)
    reader.start()
    try:
        wait_for(lines, "Watching the sync queue of 'default'")
        wait_for(lines, "Sent 2 of 2 queue entries: 2 document(s) indexed")
        process.send_signal(stop)
        status = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    rest = wait_for(lines, "Stopped.")
    assert status == 0, process.stderr.read() if process.stderr else ""
    assert rest[-1].strip() == "Stopped. Sent 2 queue entries, 0 failed."
    assert project.count() == 2


def test_a_drain_that_could_not_send_exits_non_zero(project: Project) -> None:
    assert project.run("shell", "-c", MAKE_ENTRIES).returncode == 0
    down = project.run(
        "search_sync", QUEUE_TEST_ENGINE_URL=closed_port_url(), QUEUE_TEST_RETRY_BUDGET="0"
    )
    assert down.returncode == 1
    assert "Sent 0 of 2 queue entries" in down.stdout
    assert "CommandError: The sync queue was not drained: 2 entries could not be sent and wait " \
           "for a retry (" in down.stderr  # fmt: skip
    waiting = project.run("search_sync")
    assert waiting.returncode == 0, waiting.stderr
    assert "Nothing to send." in waiting.stdout
    assert "Queue: 2 pending (2 waiting to be retried), 0 failed." in waiting.stdout
    assert "2 entries wait out their backoff: `search_sync --ignore-backoff` sends them now." in (
        waiting.stdout
    )
    drained = project.run("search_sync", "--ignore-backoff")
    assert drained.returncode == 0, drained.stderr
    assert "Sent 2 of 2 queue entries" in drained.stdout
    assert project.count() == 2


def test_bad_arguments_are_refused(project: Project) -> None:
    for args, message in [
        (("--watch", "--ignore-backoff"), "--watch cannot be combined with --ignore-backoff"),
        (("--batch-size", "0"), "--batch-size must be at least 1, not 0."),
        (("--interval", "0"), "--interval must be more than 0, not 0.0."),
        (("--database", "other"), "DATABASES has no database 'other'; configured: 'default'."),
    ]:
        done = project.run("search_sync", *args)
        assert done.returncode == 1
        assert message in done.stderr
    both = project.run("search_sync", "--failed", "--purge-failed")
    assert both.returncode == 2
    assert "not allowed with argument" in both.stderr
