"""Sync work sent through Django's tasks framework (django.tasks, or the django-tasks backport).

The worker tests run real processes: a process that saves, and the
``db_worker`` of django-tasks-db (the database task backend), on SQLite or,
in the PostgreSQL lane, on a PostgreSQL database of their own.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from djangoes import connections
from djangoes.backends.abstracts import Base
from djangoes.exceptions import ConfigurationError
from djangoes.tasks_api import DISPATCH_PATH, tasks_api
from tests.databases import own_postgres_database
from tests.queue.conftest import rows
from tests.queue.test_command import ROOT, Project
from tests.servers import silent_server
from tests.sync.conftest import indexed
from tests.testapp.models import Author, Post

API = tasks_api()
if API is None:  # pragma: no cover - the lanes install it
    pytest.skip("Django's tasks framework is not installed", allow_module_level=True)

from djangoes.django_tasks import dispatch, sync_queue_entries  # noqa: E402

BACKENDS = f"{API.__name__}.backends"
IMMEDIATE = f"{BACKENDS}.immediate.ImmediateBackend"
DUMMY = f"{BACKENDS}.dummy.DummyBackend"
#: A backend that runs its tasks in workers (any but immediate and dummy).
WORKERS = "tests.queue.test_django_tasks.WorkerBackend"


class WorkerBackend(importlib.import_module(f"{BACKENDS}.base").BaseTaskBackend):  # type: ignore[misc]
    """Stands for a task backend with workers; enqueueing fails (its broker is down).

    The default's choice only looks at the backend's type, and the real
    worker tests below use django-tasks-db, whose models this suite's
    in-process database does not have.
    """

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        raise ConnectionRefusedError("the task broker is down")


# -- the default ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tasks", "djangoes", "expected"),
    [
        (None, {}, None),  # Django's default TASKS: the immediate backend
        ({"default": {"BACKEND": IMMEDIATE}}, {}, None),
        ({"default": {"BACKEND": DUMMY}}, {}, None),
        ({"default": {"BACKEND": WORKERS}}, {}, DISPATCH_PATH),
        ({"default": {"BACKEND": WORKERS}}, {"QUEUE_DISPATCH": None}, None),
        (
            {"default": {"BACKEND": WORKERS}},
            {"QUEUE_DISPATCH": "djangoes.tasks.dispatch"},
            "djangoes.tasks.dispatch",
        ),
        ({"default": {"BACKEND": "nowhere.Backend"}}, {}, None),  # Django's checks say why
    ],
)
def test_the_default_dispatch_follows_the_task_backend(
    settings: Any, tasks: Any, djangoes: dict[str, Any], expected: str | None
) -> None:
    if tasks is None:
        del settings.TASKS
    else:
        settings.TASKS = tasks
    settings.DJANGOES = djangoes
    assert connections.options.queue_dispatch() == expected


# -- dispatching (in this process) -------------------------------------------------------


@pytest.fixture
def dummy_tasks(queued: Base, settings: Any) -> Any:
    """The dummy task backend (it keeps what is enqueued), dispatching to it."""
    settings.TASKS = {"default": {"BACKEND": DUMMY}}
    settings.DJANGOES = {**settings.DJANGOES, "QUEUE_DISPATCH": DISPATCH_PATH}
    backend = API.task_backends["default"]
    backend.clear()
    return backend


@pytest.mark.django_db(transaction=True)
def test_a_commit_enqueues_its_rows_and_the_task_sends_them(dummy_tasks: Any, queued: Base) -> None:
    ada = Author.objects.create(name="Ada")
    with transaction.atomic():
        posts = [Post.objects.create(title=f"post {i}", author=ada) for i in range(3)]
        posts[1].delete()
    assert list(indexed(queued)) == []  # nothing sent by the process that saved
    pending = rows()
    assert [r.state for r in pending] == ["pending"] * 4
    [result] = dummy_tasks.results
    assert result.task.module_path == "djangoes.django_tasks.sync_queue_entries"
    using, ids, claim = result.args
    assert (using, sorted(ids), claim) == (
        "default",
        [r.pk for r in pending],
        pending[0].claimed_by,
    )

    counts = sync_queue_entries.call(*result.args)  # what a worker does with it

    assert counts == {"entries": 4, "sent": 4, "retrying": 0, "failed": 0}
    assert sorted(indexed(queued)) == sorted(str(p.pk) for p in (posts[0], posts[2]))
    assert rows() == []


@pytest.mark.django_db(transaction=True)
def test_a_dispatch_of_ones_own_chooses_the_queue_and_priority(queued: Base, settings: Any) -> None:
    """The dispatch function of docs/queue.md (``tests/queue/search_dispatch.py``)."""
    settings.TASKS = {"default": {"BACKEND": DUMMY, "QUEUES": ["default", "search"]}}
    settings.DJANGOES = {
        **settings.DJANGOES, "QUEUE_DISPATCH": "tests.queue.search_dispatch.dispatch"
    }  # fmt: skip
    backend = API.task_backends["default"]
    backend.clear()
    ada = Author.objects.create(name="Ada")
    with transaction.atomic():
        post = Post.objects.create(title="queued", author=ada)
    assert list(indexed(queued)) == []
    [result] = backend.results
    assert (result.task.queue_name, result.task.priority) == ("search", 10)
    assert result.task.module_path == "djangoes.django_tasks.sync_queue_entries"

    counts = sync_queue_entries.call(*result.args)

    assert counts == {"entries": 1, "sent": 1, "retrying": 0, "failed": 0}
    assert list(indexed(queued)) == [str(post.pk)]
    assert rows() == []


@pytest.mark.django_db(transaction=True)
def test_a_backend_that_cannot_enqueue_falls_back_to_sending_inline(
    queued: Base, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.TASKS = {"default": {"BACKEND": WORKERS}}  # chosen by default
    ada = Author.objects.create(name="Ada")
    with transaction.atomic():
        post = Post.objects.create(title="inline", author=ada)
    assert f"QUEUE_DISPATCH {DISPATCH_PATH!r} failed for 1 queue entries" in caplog.text
    assert "the task broker is down" in caplog.text
    assert list(indexed(queued)) == [str(post.pk)]
    assert rows() == []


def test_dispatch_raises_what_the_backend_raises(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": WORKERS}}
    with pytest.raises(ConnectionRefusedError, match="broker is down"):
        dispatch("default", [1], "claim")


def test_a_backend_without_the_default_queue_is_a_clear_error(tmp_path: Path) -> None:
    """Importing the task module in a fresh process, where its task is defined."""
    settings = tmp_path / "queues_settings.py"
    settings.write_text(
        "from tests.settings import *\n"
        f"TASKS = {{'default': {{'BACKEND': {DUMMY!r}, 'QUEUES': ['search']}}}}\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); import djangoes.django_tasks"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}",
             "DJANGO_SETTINGS_MODULE": "queues_settings"},
        timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert "ImportError: djangoes.django_tasks cannot define its task" in done.stderr
    assert "add it to TASKS['default']['QUEUES']" in done.stderr


@pytest.mark.django_db(transaction=True)
def test_an_unimportable_dispatch_is_a_configuration_error_and_keeps_the_rows(
    queued: Base, settings: Any
) -> None:
    settings.DJANGOES = {**settings.DJANGOES, "QUEUE_DISPATCH": "myproject.nope.dispatch"}
    settings.TASKS = {"default": {"BACKEND": WORKERS}}
    ada = Author.objects.create(name="Ada")
    with pytest.raises(ConfigurationError, match=r"'myproject\.nope\.dispatch' cannot be imported"):
        Post.objects.create(title="kept", author=ada)
    assert [r.state for r in rows()] == ["pending"]


# -- real workers -------------------------------------------------------------------


SAVE = """
from django.db import transaction
from tests.testapp.models import Author, Post
ada = Author.objects.create(name="Ada")
with transaction.atomic():
    posts = [Post.objects.create(title=f"post {i}", author=ada) for i in range(3)]
    posts[2].delete()
    Post.objects.create(title="last", author=ada)
"""

STATE = """
from djangoes.sync.models import SyncQueueEntry
from django_tasks_db.models import DBTaskResult
print("rows:", sorted(SyncQueueEntry.objects.values_list("state", flat=True)))
print("tasks:", [(t.status, t.return_value and dict(sorted(t.return_value.items())))
                 for t in DBTaskResult.objects.all()])
"""

#: The claim of the killed worker's rows runs out (it lasts five minutes).
CLAIM_RUNS_OUT = """
from datetime import timedelta
from django.utils import timezone
from djangoes.sync.models import SyncQueueEntry
SyncQueueEntry.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))
"""


class TasksProject(Project):
    """The queue tests' project with django-tasks-db's database backend."""

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "django", *args, "--settings=tests.queue.tasks_settings"]

    def state(self) -> str:
        done = self.run("shell", "-c", STATE)
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture
def project_database() -> Iterator[dict[str, str]]:
    """SQLite, or in the PostgreSQL lane a database of this test's own."""
    with own_postgres_database() as name:
        yield {"QUEUE_TEST_PG_NAME": name} if name else {}


@pytest.fixture
def project(tmp_path: Path, engine_url: str, project_database: dict[str, str]) -> TasksProject:
    made = TasksProject(tmp_path, engine_url, **project_database)
    made.setup()
    return made


@pytest.mark.postgres
def test_a_worker_sends_what_a_transaction_committed(project: TasksProject) -> None:
    saved = project.run("shell", "-c", SAVE)
    assert saved.returncode == 0, saved.stderr
    # no worker yet: nothing sent, nothing lost
    assert project.count() == 0
    assert "rows: ['pending', 'pending', 'pending', 'pending', 'pending']" in project.state()

    worker = project.run("db_worker", "--batch", "--no-startup-delay", "--no-reload")
    assert worker.returncode == 0, worker.stderr

    assert project.count() == 3  # post 2 was created and deleted
    state = project.state()
    assert "rows: []" in state
    counts = "{'entries': 5, 'failed': 0, 'retrying': 0, 'sent': 5}"
    assert f"tasks: [('SUCCESSFUL', {counts})]" in state


@pytest.mark.postgres
def test_a_worker_killed_mid_way_loses_nothing(project: TasksProject) -> None:
    """The worker is killed while its request hangs on an engine that never answers.

    Its rows stay in the queue; once their claim runs out (five minutes, made
    to pass at once here) ``search_sync`` sends them.
    """
    saved = project.run("shell", "-c", SAVE)
    assert saved.returncode == 0, saved.stderr
    with silent_server() as silent:
        worker = subprocess.Popen(
            project.command("db_worker", "--no-startup-delay", "--no-reload", "--interval", "0.1"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**project.env, "QUEUE_TEST_ENGINE_URL": silent.url},
        )
        try:
            deadline = time.monotonic() + 120  # a safety net against a hung worker
            while not silent.accepted:  # the worker is sending its bulk request
                assert worker.poll() is None, worker.communicate()[1]
                assert time.monotonic() < deadline, "the worker never sent its request"
                time.sleep(0.05)
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.communicate()

    state = project.state()
    assert "rows: ['pending', 'pending', 'pending', 'pending', 'pending']" in state
    assert "tasks: [('RUNNING', None)]" in state
    assert project.count() == 0

    assert project.run("shell", "-c", CLAIM_RUNS_OUT).returncode == 0
    drained = project.run("search_sync")
    assert drained.returncode == 0, drained.stderr
    assert "Sent 5 of 5 queue entries" in drained.stdout
    assert project.count() == 3
    assert "rows: []" in project.state()
