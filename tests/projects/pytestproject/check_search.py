"""Tests using the djangoes fixtures; each appends what it saw to ``PYTESTPROJECT_REPORT``."""

import json
import os

import pytest

from djangoes import connections
from djangoes.exceptions import LiveIndexAccessError


def report(**entry):
    entry.update(pid=os.getpid(), worker=os.environ.get("PYTEST_XDIST_WORKER"))
    with open(os.environ["PYTESTPROJECT_REPORT"], "a") as out:
        out.write(json.dumps(entry) + "\n")


def expected_suffix():
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"_{worker}" if worker else ""


def test_session_uses_test_names(djangoes_test_names):
    report(index_names=connections["default"].index_names)
    assert djangoes_test_names is not None
    assert djangoes_test_names.suffix == expected_suffix()
    assert connections["default"].index_names == [f"test_articles{expected_suffix()}"]


@pytest.mark.parametrize("number", range(4))
def test_index_and_search(es_connection, number):
    report(index_names=es_connection.index_names, indices=es_connection.indices)
    assert es_connection.count()["count"] == 0  # fresh indices for every test
    es_connection.index(id=str(number), document={"title": f"article number {number}"})
    es_connection.refresh()
    hits = es_connection.search(query={"match": {"title": "article"}})["hits"]["hits"]
    assert [hit["_id"] for hit in hits] == [str(number)]
    # the index is laid out as in production: NAME is an alias of <NAME>-<timestamp>
    assert hits[0]["_index"].startswith(f"test_articles{expected_suffix()}-")


def test_es_indices_creates_each_index_once(es_indices):
    report(created=es_indices)
    suffix = expected_suffix()
    # 'articles' is used by both connections but created once.
    assert es_indices == [f"test_articles{suffix}", f"authors_under_test{suffix}"]
    assert connections["archive"].indices == [
        f"test_articles_public{suffix}",
        f"authors_under_test{suffix}",
    ]


def test_live_index_is_refused(es_connection):
    with pytest.raises(LiveIndexAccessError) as caught:
        es_connection.client.search(index="articles")
    report(message=str(caught.value))
    assert f"Use the test index 'test_articles{expected_suffix()}'" in str(caught.value)
