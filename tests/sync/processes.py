"""Django processes that save the blog's posts on command, for the sync tests of several processes.

Each :class:`Worker` is ``python -m tests.sync.processes`` with the settings
``tests.sync.process_settings``: a database shared by every worker of a test
(the test's PostgreSQL database, or a SQLite file), the test's engine, and the
policies a test asks for. It reads one JSON command per line on stdin and
answers one JSON line on stdout:

* ``{"do": "create", "count": N}`` — N posts by one author, in one transaction; their pks;
* ``{"do": "save", "pks": [...], "titles": [T, ...]}`` — each post saved with each
  title in turn (quickly: one transaction each), post after post;
* ``{"do": "race", "pk": PK, "seed": S}`` — the post saved with a title naming
  this worker, in a transaction with an application commit hook that takes a
  few milliseconds first (as hooks sending mail or caching do). Sent to every
  worker at once, it is one round of them saving one row together;
* ``{"do": "wait"}`` — wait until background sending is done;
* ``{"do": "titles"}`` — pk -> title of every post in the database;
* ``{"do": "queue"}`` — how many queue entries are left;
* ``{"do": "update_index"}`` / ``{"do": "prune"}`` — ``update_index("blog")`` /
  ``prune_index("blog")``: their counts;
* ``{"do": "drain", "pks": [...]}`` — the posts' operations written to the queue
  (unclaimed, not sent), then ``search_sync``'s drain: how many it sent;
* ``{"do": "expire_and_drain"}`` — every claim on queue rows run out (as after a
  process holding them died, five minutes later), then the drain: how many it sent;

Every read of these commands goes to the database the rows are written to
(a worker may route reads to a replica: ``tests/sync/process_settings.py``).
* ``{"do": "exit"}``.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
_NOT_INHERITED = ("PYTEST_", "DJANGO_SETTINGS_MODULE", "DJANGOES_", "SYNC_TEST_")
#: Longest wait for an answer, in seconds (a hang guard, not a measurement).
GUARD = 240


def worker_env(database: Mapping[str, str], engine_url: str, **settings: str) -> dict[str, str]:
    """The environment of a worker: ``database`` (SYNC_TEST_PG or SYNC_TEST_DB), the engine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)}
    env.update(database)
    env.update(DJANGO_SETTINGS_MODULE="tests.sync.process_settings",
               SYNC_TEST_ENGINE_URL=engine_url)  # fmt: skip
    env.update({f"SYNC_TEST_{key}": value for key, value in settings.items()})
    return env


def migrate(env: dict[str, str], database: str = "default") -> None:
    """Create the tables of ``database`` (a SQLite file, or the replica's)."""
    done = subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--verbosity", "0", "--database", database],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=GUARD,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


class Worker:
    """A running worker process; :meth:`ask` sends a command and returns its answer."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.sync.processes"],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, bufsize=1,
        )  # fmt: skip

    def send(self, command: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def answer(self) -> Any:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(GUARD)
            stderr = self.process.stderr.read() if self.process.stderr else ""
            raise AssertionError(f"the worker ended ({self.process.returncode}): {stderr}")
        return json.loads(line)["answer"]

    def ask(self, command: dict[str, Any]) -> Any:
        self.send(command)
        return self.answer()

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.send({"do": "exit"})
                self.process.wait(GUARD)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def _run(command: dict[str, Any]) -> Any:
    from django.db import router, transaction

    from djangoes.indexing import prune_index, update_index
    from djangoes.sync import wait_for_background
    from djangoes.sync.drain import drain
    from djangoes.sync.models import SyncQueueEntry
    from djangoes.sync.operations import Operation
    from djangoes.sync.queue import enqueue
    from tests.testapp.models import Author, Post

    def primary(model: Any) -> Any:
        return model.objects.db_manager(router.db_for_write(model))

    do = command["do"]
    if do == "create":
        with transaction.atomic():
            ada = Author.objects.create(name="Ada")
            posts = [Post.objects.create(title=f"post {i}", author=ada)
                     for i in range(command["count"])]  # fmt: skip
        return [post.pk for post in posts]
    if do == "save":
        for pk in command["pks"]:
            post = primary(Post).get(pk=pk)
            for title in command["titles"]:
                post.title = title
                post.save()
        return True
    if do == "race":
        rng = random.Random(f"{command['seed']}-{command['pk']}")
        _race_step(command["pk"], f"worker {command['seed']}", rng)
        return True
    if do == "wait":
        return wait_for_background(timeout=GUARD)
    if do == "titles":
        return {str(pk): title for pk, title in primary(Post).values_list("pk", "title")}
    if do == "queue":
        return primary(SyncQueueEntry).count()
    if do == "update_index":
        return update_index("blog").indexed
    if do == "prune":
        return prune_index("blog").deleted
    if do == "drain":
        posts = primary(Post).filter(pk__in=command["pks"])
        enqueue([Operation.for_instance("index", "blog", p) for p in posts], "default", "")
        primary(SyncQueueEntry).update(claimed_by="", claimed_until=None)
        return drain().sent
    if do == "expire_and_drain":
        primary(SyncQueueEntry).update(claimed_by="", claimed_until=None)
        return drain().sent
    raise ValueError(f"unknown command {do!r}")


def _race_step(pk: int, title: str, rng: random.Random) -> None:
    from django.db import router, transaction

    from tests.testapp.models import Post

    pause = rng.uniform(0, 0.05)
    with transaction.atomic():
        transaction.on_commit(lambda: time.sleep(pause))
        post = Post.objects.db_manager(router.db_for_write(Post)).get(pk=pk)
        post.title = title
        post.save()


def main() -> int:
    import django

    django.setup()
    for line in sys.stdin:
        command = json.loads(line)
        if command["do"] == "exit":
            return 0
        print(json.dumps({"answer": _run(command)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
