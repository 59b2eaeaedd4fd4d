"""Helpers of the rebuild tests: a searching thread, expected documents, a project of processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from djangoes import connections
from djangoes.backends.abstracts import Base
from djangoes.sync.sending import encode_document

ROOT = Path(__file__).resolve().parents[2]
_NOT_INHERITED = ("PYTEST_", "DJANGO_SETTINGS_MODULE", "DJANGOES_")
#: Longest wait for a process or a file, in seconds (a hang guard, not a measurement).
GUARD = 120


def database_documents(key: str = "blog") -> dict[str, Any]:
    """What the index should hold: id -> document (as JSON would give it back)."""
    from tests.testapp.models import Page, Post

    expected: dict[str, Any] = {}
    for model in (Post, Page):
        for obj in model._default_manager.get_search_queryset(index=key):  # type: ignore[attr-defined]
            expected[obj.get_search_document_id()] = json.loads(
                encode_document(obj.as_search_document(index=key))
            )
    return expected


def index_documents(conn: Base, name: str = "blog") -> dict[str, Any]:
    """What answers to ``name``: id -> source (refreshed first)."""
    conn.meta.indices.refresh(index=name)
    found = conn.search(index=name, query={"match_all": {}}, size=10_000)
    return {hit["_id"]: hit["_source"] for hit in found["hits"]["hits"]}


class SearchThread(threading.Thread):
    """Searches NAME on connection 'default' until stopped; keeps what each response showed."""

    def __init__(self) -> None:
        super().__init__(name="searcher")
        self.stop = threading.Event()
        #: (hits, physical indexes they came from) per response.
        self.seen: list[tuple[int, frozenset[str]]] = []
        self.errors: list[BaseException] = []

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                found = connections["default"].search(
                    index="blog", query={"match_all": {}}, size=10_000
                )
                hits = found["hits"]["hits"]
                self.seen.append((len(hits), frozenset(hit["_index"] for hit in hits)))
        except BaseException as exc:  # noqa: BLE001 - any failing search is what is looked for
            self.errors.append(exc)
        finally:
            connections.close_all()


MAKE_DATA = """
from django.core.management import call_command
from djangoes.sync import disable_search_updates
from tests.testapp.models import Author, Page, Post
call_command("migrate", verbosity=0)
with disable_search_updates():
    ada = Author.objects.create(name="Ada")
    for i in range(40):
        Post.objects.create(title=f"post {i}", author=ada)
    for i in range(3):
        Post.objects.create(title=f"draft {i}", author=ada, published=False)
    for i in range(4):
        Page.objects.create(title=f"page {i}")
"""

CREATE_INDEX = """
from django.core.management import call_command
call_command("create_search_index", "blog", verbosity=0)
call_command("update_search_index", "blog", verbosity=0)
"""

DUMP_DATABASE = """
import json
from tests.rebuild.helpers import database_documents
print(json.dumps(database_documents()))
"""

#: A rebuild that, after each chunk, waits until the writer process has done
#: REBUILD_TEST_STEPS more steps (REBUILD_TEST_COUNT is its step counter), or,
#: with REBUILD_TEST_HANG, writes that marker after the first chunk and hangs
#: (to be killed).
REBUILD = """
import os, pathlib, sys, time
from djangoes.indexing import rebuild_index

count = pathlib.Path(os.environ.get("REBUILD_TEST_COUNT", "/nonexistent"))
per = int(os.environ.get("REBUILD_TEST_STEPS", "0"))
hang = os.environ.get("REBUILD_TEST_HANG")

def steps():
    try:
        return int(count.read_text())
    except (FileNotFoundError, ValueError):
        return 0

state = {"chunks": 0, "base": steps()}

def progress(done, total):
    if hang and done > 0:
        pathlib.Path(hang).write_text(str(done))
        while True:
            time.sleep(60)  # until killed
    state["chunks"] += 1
    wanted = state["base"] + state["chunks"] * per
    deadline = time.monotonic() + 120
    while steps() < wanted:
        if time.monotonic() > deadline:
            sys.exit("the writer stopped writing")
        time.sleep(0.005)

result = rebuild_index("blog", progress=progress)
print("REBUILT", result.new_index, state["chunks"])
"""


class Project:
    """A small project in ``tmp_path``: a SQLite file, a mapping, processes on one engine."""

    def __init__(self, tmp_path: Path, engine_url: str) -> None:
        from tests.lifecycle.conftest import write_mapping

        write_mapping(tmp_path / "mappings")
        self.tmp = tmp_path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)}
        self.env.update(
            DJANGO_SETTINGS_MODULE="tests.rebuild.settings",
            REBUILD_TEST_DB=str(tmp_path / "db.sqlite3"),
            REBUILD_TEST_MAPPINGS=str(tmp_path / "mappings"),
            REBUILD_TEST_ENGINE_URL=engine_url,
        )

    def django(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "django", *args]

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Run ``python -m django ARGS`` to its end."""
        return subprocess.run(
            self.django(*args),
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**self.env, **env},
            timeout=GUARD,
        )

    def start(self, argv: list[str], **env: str) -> subprocess.Popen[str]:
        """Start a process of this project (stdout and stderr captured)."""
        return subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**self.env, **env},
        )

    def make_database(self) -> Path:
        """Migrate the SQLite file and put 40 posts, 3 drafts and 4 pages in it; returns it."""
        done = self.run("shell", "-c", MAKE_DATA)
        assert done.returncode == 0, done.stderr
        return Path(self.env["REBUILD_TEST_DB"])

    def setup(self, database: Path) -> None:
        """Start from a copy of ``database`` (see make_database); create and load the index."""
        shutil.copyfile(database, self.env["REBUILD_TEST_DB"])
        done = self.run("shell", "-c", CREATE_INDEX)
        assert done.returncode == 0, done.stderr

    def start_writer(
        self, seed: int, steps: int | None = None
    ) -> tuple[subprocess.Popen[str], Path, Path]:
        """Start ``tests.rebuild.writers``; returns the process, its stop file and count file."""
        stop, count = self.tmp / f"stop-{seed}", self.tmp / f"count-{seed}"
        argv = [sys.executable, "-m", "tests.rebuild.writers", str(stop), str(count), str(seed)]
        if steps is not None:
            argv.append(str(steps))
        return self.start(argv), stop, count

    def database_documents(self) -> dict[str, Any]:
        """The documents the database says the index should hold (read by a process)."""
        done = self.run("shell", "-c", DUMP_DATABASE)
        assert done.returncode == 0, done.stderr
        # the last line: Django 5.2's shell may say what it imported first
        documents: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return documents

    def kill_mid_load(self) -> None:
        """Start a rebuild and kill it (SIGKILL) once it has loaded a chunk."""
        marker = self.tmp / "loading"
        marker.unlink(missing_ok=True)
        process = self.start(self.django("shell", "-c", REBUILD), REBUILD_TEST_HANG=str(marker))
        try:
            wait_for_file(marker, process)
        finally:
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=GUARD)


def steps_done(count: Path) -> int:
    """What a writer's count file says (0 before its first step)."""
    try:
        return int(count.read_text())
    except (FileNotFoundError, ValueError):
        return 0


def wait_for_file(path: Path, process: subprocess.Popen[str]) -> None:
    """Block until ``path`` exists; fails if ``process`` ends first or after GUARD seconds."""
    deadline = time.monotonic() + GUARD
    while not path.exists():
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"the process ended first ({process.returncode}): {out}{err}")
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def wait_for_steps(count: Path, steps: int, process: subprocess.Popen[str]) -> None:
    """Block until the writer with ``count`` has done ``steps`` steps."""
    deadline = time.monotonic() + GUARD
    while steps_done(count) < steps:
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"the writer ended ({process.returncode}): {out}{err}")
        assert time.monotonic() < deadline, "the writer stopped writing"
        time.sleep(0.01)
