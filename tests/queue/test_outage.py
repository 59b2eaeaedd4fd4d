"""The fault test: the engine stops in the middle of 1,000 saves and deletes, then comes back.

A real engine process (osmem-server run by :mod:`djangoes.embedded` on a
fixed port, with a data directory so that it keeps its indices like a
cluster does) is stopped inside an open transaction and started again
inside a later one. Meanwhile the application goes on saving and deleting,
in transactions and outside them, with a rollback while the engine is down
and one while it is up. No save fails. After the restart, ``search_sync``
drains the queue, and the index equals the database, document for document.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

from djangoes import connections
from djangoes.backends.abstracts import Base
from djangoes.embedded import EngineConfig, ensure_engine, stop_engine
from djangoes.sync.models import SyncQueueEntry
from djangoes.sync.sending import encode_document
from tests.servers import closed_port_url
from tests.sync.conftest import BLOG_MAPPING
from tests.testapp.models import Author, Page, Post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

TRANSACTIONS = 10
CHANGES = 100  # per transaction: 1,000 in all
STOP_AT = (2, 30)  # (transaction, change): the engine stops here...
START_AT = (6, 60)  # ...and starts again here
ROLLED_BACK = (4, 8)  # one while the engine is down, one while it is up


class RolledBack(Exception):
    pass


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[EngineConfig]:
    """An engine on a fixed port that keeps its indices in a data directory across restarts."""
    port = int(closed_port_url().rsplit(":", 1)[1])
    config = EngineConfig(
        runtime_dir=tmp_path / "engine", data_dir=tmp_path / "data", port=port,
        label="the test engine",
    )  # fmt: skip
    ensure_engine(config)
    try:
        yield config
    finally:
        stop_engine(config)


@pytest.fixture
def index(engine: EngineConfig, settings: Any, tmp_path: Path) -> Base:
    settings.ES_SERVERS = {
        "default": {
            "HOSTS": [f"http://127.0.0.1:{engine.port}"],
            "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
            "INDICES": ["blog"],
            "PARAMS": {"max_retries": 0},
        }
    }
    settings.ES_INDICES = {
        "blog": {"MODELS": ["testapp.Post", "testapp.Page"], "SETTINGS": BLOG_MAPPING}
    }
    settings.DJANGOES = {
        "MAPPINGS_DIR": str(tmp_path / "mappings"), "ON_ERROR": "queue", "QUEUE_SEND": "commit",
    }  # fmt: skip
    conn = connections["default"]
    conn.create_indices()
    return conn


def change(rng: random.Random, authors: list[Author], step: int) -> None:
    """One save or delete, chosen at random among what the application does."""
    post_ids = sorted(Post.objects.values_list("pk", flat=True))
    page_ids = sorted(Page.objects.values_list("pk", flat=True))
    posts = [Post.objects.get(pk=rng.choice(post_ids))] if post_ids else []
    pages = [Page.objects.get(pk=rng.choice(page_ids))] if page_ids else []
    roll = rng.random()
    if roll < 0.35 or not posts:
        Post.objects.create(
            title=f"post {step}", body=f"body {rng.random()}", author=rng.choice(authors),
            published=rng.random() > 0.1, views=rng.randrange(1000),
        )  # fmt: skip
    elif roll < 0.55:
        posts[0].title = f"edited {step}"
        posts[0].save()
    elif roll < 0.65:
        posts[0].published = not posts[0].published  # leaves or enters get_search_queryset
        posts[0].save()
    elif roll < 0.72:
        posts[0].views += 1
        posts[0].save(update_fields=["views"])
    elif roll < 0.87:
        posts[0].delete()
    elif roll < 0.94 or not pages:
        Page.objects.create(title=f"page {step}")
    else:
        pages[0].delete()


def expected_documents() -> dict[str, Any]:
    """What the index should hold: each searchable object's document, as the engine stores it."""
    objects = [*Post.objects.get_search_queryset(index="blog"), *Page.objects.all()]
    return {
        obj.get_search_document_id(): json.loads(
            encode_document(obj.as_search_document(index="blog"))
        )
        for obj in objects
    }


def index_documents(conn: Base) -> dict[str, Any]:
    found = conn.search(query={"match_all": {}}, size=10_000)
    assert found["hits"]["total"]["value"] < 10_000
    return {hit["_id"]: hit["_source"] for hit in found["hits"]["hits"]}


def test_the_index_equals_the_database_after_an_outage(
    index: Base, engine: EngineConfig, caplog: pytest.LogCaptureFixture
) -> None:
    rng = random.Random(4)
    authors = [Author.objects.create(name=name) for name in ("Ada", "Grace", "Edsger")]
    down_rows = 0
    for number in range(TRANSACTIONS):
        try:
            with transaction.atomic():
                for step in range(CHANGES):
                    if (number, step) == STOP_AT:
                        stop_engine(engine)
                    if (number, step) == START_AT:
                        ensure_engine(engine)
                    change(rng, authors, number * CHANGES + step)
                if number in ROLLED_BACK:
                    raise RolledBack
        except RolledBack:
            pass
        if number == STOP_AT[0] + 1:  # a change outside any transaction, engine down
            Post.objects.create(title="autocommit", author=authors[0])
        if number == START_AT[0] - 1:
            down_rows = SyncQueueEntry.objects.count()
    assert down_rows > CHANGES  # the engine was really down: the queue kept its operations
    assert "stay in the queue for search_sync" in caplog.text
    left = SyncQueueEntry.objects.count()
    assert left == down_rows  # once back, the engine took everything else at commit
    assert not SyncQueueEntry.objects.filter(state="failed").exists()
    assert index_documents(index) != expected_documents()  # behind, as expected

    out = io.StringIO()
    call_command("search_sync", "--ignore-backoff", stdout=out)
    assert f"of {left:,} queue entries" in out.getvalue()
    assert "0 left for a retry, 0 failed." in out.getvalue()
    assert not SyncQueueEntry.objects.exists()
    assert index_documents(index) == expected_documents()
