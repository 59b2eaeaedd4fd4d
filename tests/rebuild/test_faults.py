"""A rebuild on an overloaded engine: slow requests, 429s and dropped connections.

A fault-injecting proxy (``tests/faults.py``) stands between djangoes and a
running engine. A fault that passes is retried (backoff with jitter); only
when the retry budget is spent does the rebuild stop, interrupted, and it can
be resumed.
"""

from __future__ import annotations

from typing import Any

import pytest

from djangoes import connections
from djangoes.backends.abstracts import Base
from djangoes.indexing import RebuildInterrupted, rebuild_index
from djangoes.indexing.models import IndexRebuild
from tests.faults import Delay, Drop, FaultProxy, RejectItems, Status
from tests.rebuild.helpers import database_documents, index_documents

pytestmark = pytest.mark.postgres


@pytest.fixture
def slow_engine(rebuild_settings: Any, proxy: FaultProxy, blog: dict[str, Any]) -> Base:
    """The loaded blog index, now reached through the proxy; requests of 5 documents."""
    rebuild_settings.ES_SERVERS = {
        "default": {**rebuild_settings.ES_SERVERS["default"], "HOSTS": [proxy.url],
                    "PARAMS": {"max_retries": 0}},
    }  # fmt: skip
    rebuild_settings.DJANGOES = {**rebuild_settings.DJANGOES, "BULK_DOCUMENTS": 5}
    return connections["default"]


@pytest.mark.parametrize(
    "faults",
    [
        [RejectItems((1, 3)), RejectItems((0,))],  # an overloaded node refuses some documents
        [Status(429), Status(503)],  # ...or whole requests
        [Drop()],  # a node goes away in the middle of a request
    ],
    ids=["429-items", "429-503-requests", "dropped"],
)
def test_faults_that_pass_do_not_stop_a_rebuild(
    slow_engine: Base, proxy: FaultProxy, faults: list[Any]
) -> None:
    """Regression: a 429 on one item was recorded as a permanent failure and aborted the
    rebuild; a 503 or a dropped connection left it "interrupted"."""
    for fault in faults:
        proxy.add(fault)
    result = rebuild_index("blog")
    assert proxy.pending() == 0  # every fault was met
    assert result.loaded.failures == []
    assert index_documents(slow_engine) == database_documents()
    assert not IndexRebuild.objects.exists()


def test_a_request_that_times_out_is_sent_again(
    slow_engine: Base, proxy: FaultProxy, rebuild_settings: Any
) -> None:
    """Regression: one bulk request timing out under load stopped the rebuild as
    "interrupted". Bulk requests have their own timeout (BULK_TIMEOUT), and are retried."""
    rebuild_settings.DJANGOES = {**rebuild_settings.DJANGOES, "BULK_TIMEOUT": 1}
    server = rebuild_settings.ES_SERVERS["default"]  # the client's own timeout, as short
    rebuild_settings.ES_SERVERS = {
        "default": {**server, "PARAMS": {"max_retries": 0, "timeout": 1}}
    }
    proxy.add(Delay(2))
    result = rebuild_index("blog")
    assert proxy.pending() == 0
    assert result.loaded.failures == []
    assert index_documents(slow_engine) == database_documents()


def test_when_the_budget_is_spent_the_rebuild_stops_and_resumes(
    slow_engine: Base, proxy: FaultProxy, rebuild_settings: Any
) -> None:
    rebuild_settings.DJANGOES = {**rebuild_settings.DJANGOES, "RETRY_BUDGET": 1}
    proxy.add(RejectItems((0, 1, 2, 3, 4)), times=1000)  # overloaded for good
    with pytest.raises(RebuildInterrupted, match="was interrupted") as info:
        rebuild_index("blog")
    assert "for longer than RETRY_BUDGET" in str(info.value.__cause__)
    assert IndexRebuild.objects.get().stage == "interrupted"
    proxy.clear()
    result = rebuild_index("blog", resume=True)
    assert result.new_index == info.value.new_index
    assert index_documents(slow_engine) == database_documents()
