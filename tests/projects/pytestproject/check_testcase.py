"""A djangoes test case collected by pytest (pytest-django runs unittest-style classes)."""

# ruff: noqa: PT009  (a Django test case: unittest assertions)

import json
import os

from djangoes import connection, connections
from djangoes.test.testcases import TestCase


class ArticleTests(TestCase):
    es_connections = ["default"]

    def test_uses_the_session_names(self):
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        suffix = f"_{worker}" if worker else ""
        with open(os.environ["PYTESTPROJECT_REPORT"], "a") as out:
            entry = {"testcase": self.id(), "worker": worker, "names": connection.index_names}
            out.write(json.dumps(entry) + "\n")
        self.assertEqual(connections.test_names.suffix, suffix)
        self.assertEqual(connection.index_names, [f"test_articles{suffix}"])
        connection.index(id="1", document={"title": "from a test case"})
        connection.refresh()
        self.assertEqual(connection.count()["count"], 1)
