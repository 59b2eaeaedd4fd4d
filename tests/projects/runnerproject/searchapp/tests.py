# ruff: noqa: PT009, PT027  (a Django project: its tests use unittest assertions)
"""Tests of the sample project: index model rows, search them, touch a live index.

Each test appends what it saw (process, index names) to
the JSON-lines file named by ``RUNNERPROJECT_REPORT``, for the test that runs
this project to check. With ``RUNNERPROJECT_WORKERS=N``, the first test of
each class waits until N processes have reported, so that ``--parallel N``
really spreads the classes over N workers.
"""

import json
import os
import time

from djangoes import connection, connections
from djangoes.exceptions import LiveIndexAccessError
from djangoes.test.testcases import TestCase, TransactionTestCase

from .models import Post


def report(test, **extra):
    entry = {
        "test": test.id(),
        "pid": os.getpid(),
        "index_names": connection.index_names,
        "indices": connection.indices,
        "suffix": connections.test_names.suffix if connections.test_names else None,
        **extra,
    }
    with open(os.environ["RUNNERPROJECT_REPORT"], "a") as out:
        out.write(json.dumps(entry) + "\n")


def wait_for_workers():
    wanted = int(os.environ.get("RUNNERPROJECT_WORKERS", "1"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with open(os.environ["RUNNERPROJECT_REPORT"]) as lines:
            pids = {json.loads(line)["pid"] for line in lines}
        if len(pids) >= wanted:
            return
        time.sleep(0.05)
    raise AssertionError(f"only {len(pids)} of {wanted} worker processes ran tests")


class PostSearchTests(TestCase):
    def setUp(self):
        # No super().setUp(): the test indices must not depend on it.
        self.posts = [
            Post.objects.create(title="Searching with Django", author="ada"),
            Post.objects.create(title="Cooking for engineers", author="bob"),
        ]

    def test_index_rows_and_search(self):
        report(self)
        wait_for_workers()
        for post in self.posts:
            connection.index(id=str(post.pk), document=post.to_document())
        connection.refresh()
        hits = connection.search(query={"match": {"title": "django"}})["hits"]["hits"]
        self.assertEqual([hit["_id"] for hit in hits], [str(self.posts[0].pk)])
        self.assertTrue(hits[0]["_index"].startswith(connection.index_names[0] + "-"))

    def test_each_test_starts_with_empty_indices(self):
        report(self)
        self.assertEqual(connection.count()["count"], 0)
        connection.index(id="x", document={"title": "left behind?", "author": "eve"})


class LiveIndexGuardTests(TransactionTestCase):
    def test_raw_client_cannot_reach_the_live_index(self):
        report(self)
        wait_for_workers()
        with self.assertRaises(LiveIndexAccessError) as caught:
            connection.client.search(index="posts_v1")
        message = str(caught.exception)
        report(self, message=message)
        self.assertIn("live index 'posts_v1'", message)
        self.assertIn(repr(connection.index_names[0]), message)

    def test_aliases_are_test_aliases(self):
        report(self)
        self.assertEqual(connection.indices, [f"test_posts_public{connections.test_names.suffix}"])
        connection.index(id="1", document={"title": "via alias", "author": "ada"})
        connection.refresh()
        self.assertEqual(connection.count()["count"], 1)
