"""The Celery integration: a real worker process on the local Redis broker (not eager mode).

Skipped, saying why, when Celery is not installed or no Redis server answers
on 127.0.0.1:6379.
"""

from __future__ import annotations

import queue
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from djangoes.backends.abstracts import Base
from djangoes.exceptions import ConfigurationError
from djangoes.sync.models import SyncQueueEntry
from tests.queue.conftest import rows
from tests.queue.test_command import ROOT, Project, read_lines, wait_for
from tests.servers import closed_port_url
from tests.sync.conftest import indexed
from tests.testapp.models import Author, Post

pytest.importorskip("celery", reason="Celery is not installed (pip install 'djangoes[celery]')")

REDIS = ("127.0.0.1", 6379)

#: Saves in a transaction, in a process that has the project's Celery app.
SAVE = """
import tests.queue.celery_app
from django.db import transaction
from tests.testapp.models import Author, Post
ada = Author.objects.create(name="Ada")
with transaction.atomic():
    posts = [Post.objects.create(title=f"post {i}", author=ada) for i in range(3)]
    posts[2].delete()
    Post.objects.create(title="last", author=ada)
"""

COUNT_ROWS = """
from djangoes.sync.models import SyncQueueEntry
print("rows:", SyncQueueEntry.objects.count())
"""


def redis_unavailable() -> str | None:
    """Why the Redis broker cannot be used, or None."""
    try:
        with socket.create_connection(REDIS, timeout=3) as sock:
            sock.sendall(b"PING\r\n")
            answer = sock.recv(64)
    except OSError as exc:
        return f"no Redis server answers on {REDIS[0]}:{REDIS[1]} ({exc})"
    if not answer.startswith(b"+PONG"):
        return f"the server on {REDIS[0]}:{REDIS[1]} does not answer PING like Redis ({answer!r})"
    return None


@pytest.fixture
def broker() -> str:
    reason = redis_unavailable()
    if reason:
        pytest.skip(reason)
    return f"redis://{REDIS[0]}:{REDIS[1]}/0"


class CeleryProject(Project):
    """A project whose commits go to Celery; ``worker_log`` has its worker's output lines."""

    worker_log: queue.Queue[str]


@pytest.fixture
def worker_project(tmp_path: Path, engine_url: str, broker: str) -> Iterator[CeleryProject]:
    """A project dispatching to Celery, and one worker process of it (on its own queue)."""
    project = CeleryProject(
        tmp_path,
        engine_url,
        QUEUE_TEST_DISPATCH="djangoes.tasks.dispatch",
        QUEUE_TEST_BROKER=broker,
        QUEUE_TEST_CELERY_QUEUE=f"djangoes-test-{uuid.uuid4().hex}",
    )
    project.setup()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tests.queue.celery_app", "worker",
         "--pool", "solo", "--without-heartbeat", "--without-gossip", "--without-mingle",
         "-Q", project.env["QUEUE_TEST_CELERY_QUEUE"], "--loglevel", "INFO"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**project.env, "DJANGO_SETTINGS_MODULE": "tests.queue.settings"},
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=read_lines, args=(worker.stderr, lines), daemon=True).start()
    try:
        wait_for(lines, "ready.")
        project.worker_log = lines
        yield project
    finally:
        worker.send_signal(signal.SIGTERM)  # warm shutdown
        try:
            worker.wait(timeout=60)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()


def test_a_worker_sends_what_a_transaction_committed(worker_project: CeleryProject) -> None:
    saved = worker_project.run("shell", "-c", SAVE)
    assert saved.returncode == 0, saved.stderr
    log = wait_for(worker_project.worker_log, "Task djangoes.sync_queue_entries[")
    done = wait_for(worker_project.worker_log, "succeeded")
    assert "'entries': 5, 'sent': 5, 'retrying': 0, 'failed': 0" in done[-1], log + done
    assert worker_project.count() == 3  # post 2 was created and deleted
    left = worker_project.run("shell", "-c", COUNT_ROWS)
    assert "rows: 0" in left.stdout, left.stderr


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_broker_falls_back_to_sending_inline(
    queued: Base, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from celery import Celery, current_app

    settings.DJANGOES = {**settings.DJANGOES, "QUEUE_DISPATCH": "djangoes.tasks.dispatch"}
    previous = current_app._get_current_object()
    app = Celery("unreachable", broker=closed_port_url().replace("http", "redis") + "/0")
    app.conf.broker_transport_options = {"max_retries": 0}
    app.set_current()
    try:
        ada = Author.objects.create(name="Ada")
        with transaction.atomic():
            post = Post.objects.create(title="inline", author=ada)
    finally:
        previous.set_current()
    assert "QUEUE_DISPATCH 'djangoes.tasks.dispatch' failed for 1 queue entries" in caplog.text
    assert list(indexed(queued)) == [str(post.pk)]
    assert rows() == []


@pytest.mark.django_db(transaction=True)
def test_a_dispatch_path_that_cannot_be_imported_is_a_configuration_error(
    queued: Base, settings: Any
) -> None:
    settings.DJANGOES = {**settings.DJANGOES, "QUEUE_DISPATCH": "myproject.tasks.dispatch"}
    ada = Author.objects.create(name="Ada")
    with pytest.raises(ConfigurationError, match=r"QUEUE_DISPATCH'\] = 'myproject.tasks.dispatch'"):
        Post.objects.create(title="kept", author=ada)
    assert [r.state for r in rows()] == ["pending"]  # the operation is safe in the queue
    assert SyncQueueEntry.objects.get().claimed_by != ""
