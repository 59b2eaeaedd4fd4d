"""Fixtures of the rebuild tests: the blog index with auto-sync on, on a fresh engine.

The blog index holds ``Post`` (indexed by primary key, only published ones)
and ``Page`` (indexed by UUID). Auto-sync is on: the point of these tests is
what happens to saves and deletes made while a rebuild runs. Tests in this
process use ``REBUILD_POLL_SECONDS = 0`` (nothing else can hold an old view of
the rebuild table); the tests with several processes use the default.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches

from djangoes import connections
from djangoes.backends.abstracts import Base
from djangoes.indexing import dualwrite
from djangoes.sync import disable_search_updates
from tests.lifecycle.conftest import BLOG_MAPPING, write_mapping
from tests.testapp.models import Author, Page, Post

__all__ = ["BLOG_MAPPING", "write_mapping"]

ENGINE = "djangoes.backends.opensearch.SimpleHttpBackend"


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    """No fingerprint or cached view of the rebuild table crosses from one test to another."""
    caches["default"].clear()
    dualwrite.forget()
    yield
    dualwrite.forget()
    caches["default"].clear()


@pytest.fixture
def rebuild_settings(settings: Any, engine_url: str, tmp_path: Path) -> Any:
    """ES_SERVERS / ES_INDICES / DJANGOES for the blog index, auto-sync on."""
    mappings = tmp_path / "mappings"
    write_mapping(mappings)
    settings.ES_SERVERS = {
        "default": {"HOSTS": [engine_url], "ENGINE": ENGINE, "INDICES": ["blog"]},
    }
    settings.ES_INDICES = {
        "blog": {"ALIASES": ["blog_public"], "MODELS": ["testapp.Post", "testapp.Page"]},
    }
    settings.DJANGOES = {
        "MAPPINGS_DIR": str(mappings),
        "CHUNK_SIZE": 5,
        "ON_ERROR": "raise",
        "REBUILD_POLL_SECONDS": 0,
    }
    return settings


@pytest.fixture
def conn(rebuild_settings: Any) -> Base:
    return connections["default"]


@pytest.fixture
def blog(conn: Base, transactional_db: None) -> dict[str, Any]:
    """30 published posts, 3 drafts and 4 pages, indexed (the index created and loaded)."""
    from djangoes.indexing import create_index, update_index

    with disable_search_updates():
        ada = Author.objects.create(name="Ada")
        posts = [Post.objects.create(title=f"post {i}", author=ada) for i in range(30)]
        for i in range(3):
            Post.objects.create(title=f"draft {i}", author=ada, published=False)
        pages = [Page.objects.create(title=f"page {i}") for i in range(4)]
    create_index("blog")
    update_index("blog")
    return {"author": ada, "posts": posts, "pages": pages}
