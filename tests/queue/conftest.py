"""Fixtures of the sync queue tests: the blog index of ``tests/sync`` under the "queue" policy."""

from __future__ import annotations

from typing import Any

import pytest

from djangoes.backends.abstracts import Base
from djangoes.sync.models import SyncQueueEntry
from tests.servers import closed_port_url
from tests.sync.conftest import blog_index, blog_settings, indexed
from tests.testapp.models import Author

__all__ = ["blog_index", "blog_settings", "indexed"]


@pytest.fixture
def queued(blog_index: Base, settings: Any) -> Base:
    """The blog index, with ON_ERROR "queue"; returns its connection."""
    settings.DJANGOES = {**settings.DJANGOES, "ON_ERROR": "queue"}
    return blog_index


@pytest.fixture
def ada(queued: Base) -> Author:
    return Author.objects.create(name="Ada")


def engine_down(settings: Any) -> dict[str, Any]:
    """Point the 'default' connection at a closed port; returns the servers to restore.

    Failed requests are not retried (budgets 0): these tests are about what
    is left in the queue, and a closed port stays closed.
    """
    settings.DJANGOES = {**settings.DJANGOES, "RETRY_BUDGET": 0, "INLINE_RETRY_BUDGET": 0}
    servers = dict(settings.ES_SERVERS)
    settings.ES_SERVERS = {
        "default": {
            **servers["default"],
            "HOSTS": [closed_port_url()],
            "PARAMS": {"max_retries": 0},
        }
    }
    return servers


def rows(**filters: Any) -> list[SyncQueueEntry]:
    """The queue rows (of the default database), oldest first."""
    return list(SyncQueueEntry.objects.filter(**filters).order_by("pk"))
