"""Fixtures for model sync tests: the test app's models in an index on a fresh engine."""

from __future__ import annotations

from typing import Any

import pytest

from djangoes import connections
from djangoes.backends.abstracts import Base

BLOG_MAPPING = {
    "mappings": {
        "properties": {
            "title": {"type": "text"},
            "body": {"type": "text"},
            "author": {"type": "keyword"},
            "views": {"type": "integer"},
            "created": {"type": "date"},
        }
    }
}


@pytest.fixture
def blog_settings(settings: Any, engine_url: str, tmp_path: Any) -> Any:
    settings.ES_SERVERS = {
        "default": {
            "HOSTS": [engine_url],
            "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
            "INDICES": ["blog"],
        }
    }
    settings.ES_INDICES = {
        "blog": {"MODELS": ["testapp.Post", "testapp.Page"], "SETTINGS": BLOG_MAPPING}
    }
    # The suite runs with production's defaults (no test names); these tests read the
    # index right after a commit, so its operations are sent by the commit itself.
    settings.DJANGOES = {"MAPPINGS_DIR": str(tmp_path / "mappings"), "QUEUE_SEND": "commit"}
    return settings


@pytest.fixture
def blog_index(blog_settings: Any) -> Base:
    conn = connections["default"]
    conn.create_indices()
    return conn


def indexed(conn: Base) -> dict[str, dict[str, Any]]:
    """Every document of the connection's index: id -> source.

    Refreshes first: a real engine makes writes searchable at its next
    refresh, not when the write returns.
    """
    conn.refresh()
    result = conn.search(query={"match_all": {}}, size=1000)
    return {hit["_id"]: hit["_source"] for hit in result["hits"]["hits"]}
