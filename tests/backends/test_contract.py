"""The contract every backend keeps, run against a running engine for each of them."""

from __future__ import annotations

from typing import Any

import pytest

from djangoes import connection, connections


@pytest.fixture
def blog(es_config: dict[str, Any]) -> Any:
    conn = connections["default"]
    conn.create_indices()
    return conn


def test_index_and_get_round_trip(blog: Any) -> None:
    blog.index(id="1", document={"title": "Hello world", "tag": "news", "views": 3})
    doc = blog.get("1")
    assert doc["_source"] == {"title": "Hello world", "tag": "news", "views": 3}
    assert doc["_index"] == "blog_v1"
    assert connection == connections["default"]
