"""The request log: ``connection.queries`` and the ``djangoes.queries`` logger."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client

from djangoes import connection, connections
from djangoes.backends.querylog import BODY_PREVIEW_LIMIT, QUERIES_LIMIT, QueryLog


@pytest.fixture
def blog(es_config: dict[str, Any]) -> Any:
    conn = connections["default"]
    conn.create_indices()
    conn.reset_queries()
    return conn


def test_nothing_is_kept_without_debug(blog: Any) -> None:
    blog.count()
    assert blog.queries == []


def test_requests_are_kept_with_debug(settings: Any, blog: Any) -> None:
    settings.DEBUG = True
    conn = connections["default"]
    conn.search(query={"match": {"title": "hello"}})
    assert conn.exists(id="missing") is False
    entries = conn.queries
    assert [(e["method"], e["path"].split("?")[0], e["status"]) for e in entries] == [
        ("POST", "/blog_public/_search", 200),
        ("HEAD", "/blog_v1/_doc/missing", 404),
    ]
    search = entries[0]
    assert search["alias"] == "default"
    assert search["duration"] > 0
    assert search["body"] == '{"query":{"match":{"title":"hello"}}}'
    assert search["body_size"] == len(search["body"])
    assert entries[1]["body"] is None


def test_force_debug_keeps_requests_without_debug(blog: Any) -> None:
    blog.force_debug = True
    blog.count()
    assert [e["path"].split("?")[0] for e in blog.queries] == ["/blog_public/_count"]


def test_failed_requests_are_kept_with_their_status(settings: Any, blog: Any) -> None:
    settings.DEBUG = True
    conn = connections["default"]
    with pytest.raises(Exception, match="404"):
        conn.get(id="nope")
    assert conn.queries[-1]["status"] == 404
    assert conn.queries[-1]["error"] is None  # the engine answered: the status says it all


def test_the_log_is_reset_at_each_http_request(settings: Any, blog: Any) -> None:
    settings.DEBUG = True
    client = Client()
    assert client.get("/search-and-count/").json() == {"queries": 1}
    assert client.get("/search-and-count/").json() == {"queries": 1}


def test_every_request_is_logged_at_debug(blog: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="djangoes.queries"):
        connection.count(query={"match_all": {}})
    records = [r for r in caplog.records if r.name == "djangoes.queries"]
    assert len(records) == 1
    record = records[0]
    assert record.levelno == logging.DEBUG
    assert record.alias == "default"  # type: ignore[attr-defined]
    assert record.method == "POST"  # type: ignore[attr-defined]
    assert record.path.startswith("/blog_public/_count")  # type: ignore[attr-defined]
    assert record.status == 200  # type: ignore[attr-defined]
    assert record.body_size == len('{"query":{"match_all":{}}}')  # type: ignore[attr-defined]
    assert "default POST /blog_public/_count" in record.getMessage()


def test_the_log_is_bounded_and_bodies_truncated(settings: Any) -> None:
    settings.DEBUG = True
    log = QueryLog("x")
    assert log.entries.maxlen == QUERIES_LIMIT
    started = log.start("POST", "/_bulk")
    big = [{"index": {}}, {"text": "y" * (BODY_PREVIEW_LIMIT * 2)}]
    log.finish(started, "POST", "/_bulk", big, 200)
    entry = log.entries[0]
    assert entry["body"] is not None
    assert entry["body"].endswith(f"... ({entry['body_size']} bytes)")
    assert entry["body_size"] > BODY_PREVIEW_LIMIT * 2
    for _ in range(QUERIES_LIMIT + 5):
        log.finish(log.start("GET", "/"), "GET", "/", None, 200)
    assert len(log.entries) == QUERIES_LIMIT
