"""Fixtures for the index lifecycle tests: the blog index of the test app on a fresh engine.

``blog`` holds two models (``Post``, indexed by primary key, and ``Page``,
indexed by a UUID field), so that every lifecycle step is exercised on a
multi-model index with custom document ids; ``notes`` has no MODELS. Each
test runs on both client libraries (OpenSearch's and Elasticsearch's).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches

from djangoes import connections
from djangoes.backends.abstracts import Base
from djangoes.indexing import index_state
from djangoes.sync import disable_search_updates
from tests.testapp.models import Author, Page, Post

BACKENDS = {
    "opensearch": "djangoes.backends.opensearch.SimpleHttpBackend",
    "elasticsearch": "djangoes.test.backends.SimpleHttpBackend",
}

BLOG_MAPPING = {
    "settings": {"number_of_shards": 1, "number_of_replicas": 0},
    "mappings": {
        "properties": {
            "title": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
            "body": {"type": "text"},
            "author": {"type": "keyword"},
            "views": {"type": "integer"},
            "created": {"type": "date"},
        }
    },
}
NOTES_SETTINGS = {"mappings": {"properties": {"text": {"type": "text"}}}}
CHUNK_SIZE = 4


@pytest.fixture(autouse=True)
def _fresh_document_cache() -> Iterator[None]:
    """Each test's engine is new: fingerprints remembered by another test must not count."""
    caches["default"].clear()
    yield
    caches["default"].clear()


@pytest.fixture(params=list(BACKENDS))
def backend(request: pytest.FixtureRequest) -> str:
    """The ENGINE under test: each client library in turn."""
    return BACKENDS[request.param]


def write_mapping(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "blog.json"
    path.write_text(json.dumps(BLOG_MAPPING), encoding="utf-8")
    return path


@pytest.fixture
def lifecycle_settings(settings: Any, engine_url: str, backend: str, tmp_path: Path) -> Any:
    """ES_SERVERS / ES_INDICES / DJANGOES for the blog and notes indexes (auto-sync off)."""
    mappings = tmp_path / "mappings"
    write_mapping(mappings)
    settings.ES_SERVERS = {
        "default": {"HOSTS": [engine_url], "ENGINE": backend, "INDICES": ["blog", "notes"]},
        "other": {"HOSTS": [engine_url], "ENGINE": backend, "INDICES": ["notes"]},
    }
    settings.ES_INDICES = {
        "blog": {
            "NAME": "blog",
            "ALIASES": ["blog_public"],
            "MODELS": ["testapp.Post", "testapp.Page"],
        },
        "notes": {"SETTINGS": NOTES_SETTINGS},
    }
    settings.DJANGOES = {
        "MAPPINGS_DIR": str(mappings),
        "CHUNK_SIZE": CHUNK_SIZE,
        "AUTO_SYNC": False,
        # one process: no other process can hold an old view of the rebuild table
        "REBUILD_POLL_SECONDS": 0,
    }
    return settings


@pytest.fixture
def conn(lifecycle_settings: Any) -> Base:
    """The 'default' connection (holding blog and notes)."""
    return connections["default"]


@pytest.fixture
def blog_data(db: None) -> dict[str, Any]:
    """10 published posts, 2 unpublished ones and 3 pages (written without syncing)."""
    with disable_search_updates():
        ada = Author.objects.create(name="Ada")
        posts = [Post.objects.create(title=f"post {i}", author=ada) for i in range(10)]
        hidden = [
            Post.objects.create(title=f"draft {i}", author=ada, published=False) for i in range(2)
        ]
        pages = [Page.objects.create(title=f"page {i}") for i in range(3)]
    return {"author": ada, "posts": posts, "hidden": hidden, "pages": pages}


def expected_ids(data: dict[str, Any]) -> set[str]:
    """The document ids the blog index should hold for ``blog_data``."""
    return {str(p.pk) for p in data["posts"]} | {str(p.uid) for p in data["pages"]}


def documents(conn: Base, name: str = "blog") -> dict[str, dict[str, Any]]:
    """Every document answering to ``name``: id -> source (refreshed first)."""
    conn.meta.indices.refresh(index=name)
    result = conn.search(index=name, query={"match_all": {}}, size=1000)
    return {hit["_id"]: hit["_source"] for hit in result["hits"]["hits"]}


def behind(conn: Base, name: str) -> list[str]:
    """The concrete indexes behind ``name`` (itself for a plain index)."""
    return sorted(index_state(conn, name).indices)


def requests_to(conn: Base, path: str) -> list[dict[str, Any]]:
    """Requests the connection made to ``path`` (DEBUG or force_debug must be on)."""
    return [q for q in conn.queries if q["path"].split("?")[0] == path]
