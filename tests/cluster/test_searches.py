"""Searches while a node of the cluster is down, and HOSTS naming every node.

docs/backends.md (PARAMS) says what the client does with several HOSTS: a
request that cannot connect to one node is sent to another, up to
``max_retries`` times (3 by default); a timeout is not retried unless
``retry_on_timeout``. These tests check it on the cluster:

* a node stopped: a scan (``Base.scan``, what ``prune_search_index`` reads
  with) whose scroll contexts it held raises djangoes' ``TransportError``
  naming what was lost, not the client's ``ScanError``; searches through
  HOSTS naming the three nodes all succeed, with the sync and the async
  client, with every document (the replicas answer for it); with ``max_retries: 0``
  the request that met the stopped node fails with djangoes'
  ``ConnectionError``, and a connection to that node alone always does;
* a node frozen (SIGSTOP: it accepts connections and never answers): a search
  through it raises djangoes' ``ConnectionTimeout`` after the configured
  ``timeout``, not later; searches through the other nodes succeed or raise
  ``ConnectionTimeout`` (the node coordinating them may wait for the frozen
  one), never later than the timeout either;
* each node comes back, and the cluster returns to green.

The bounds on durations are hang guards (the configured timeout plus
:data:`GRACE`), not measurements.
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

import pytest

from djangoes import connections
from djangoes.exceptions import ConnectionError, ConnectionTimeout, TransportError
from tests import engines
from tests.rebuild.helpers import Project

#: Seconds a failing request may take beyond its timeout (thread scheduling on a busy machine).
GRACE = 5.0
TIMEOUT = 3.0
ENGINE = "djangoes.backends.opensearch.SimpleHttpBackend"


def add_connection(settings: Any, alias: str, hosts: list[str], **params: Any) -> None:
    settings.ES_SERVERS = {
        **settings.ES_SERVERS,
        alias: {"HOSTS": hosts, "ENGINE": ENGINE, "INDICES": ["blog"], "PARAMS": params},
    }


def all_documents(alias: str) -> int:
    found = connections[alias].search(index="blog", query={"match_all": {}}, size=1000)
    return len(found["hits"]["hits"])


def all_documents_async(alias: str, times: int) -> list[int]:
    """``all_documents`` ``times`` over, through the async client, in one event loop."""

    async def searches() -> list[int]:
        counts = []
        for _ in range(times):
            found = await connections[alias].asearch(
                index="blog", query={"match_all": {}}, size=1000
            )
            counts.append(len(found["hits"]["hits"]))
        return counts

    return asyncio.run(searches())


def scroll_holders(cluster: engines.Cluster) -> list[int]:
    """The positions of the nodes holding open scroll contexts."""
    stats = engines.http_json(f"{cluster.urls[0]}/_nodes/stats/indices/search")
    holding = {
        node["name"]
        for node in stats["nodes"].values()
        if node["indices"]["search"]["scroll_current"] > 0
    }
    return [i for i, name in enumerate(cluster.node_names) if name in holding]


def test_a_node_stopped_hosts_naming_every_node_fail_over(
    project: Project, cluster_settings: Any, whole_cluster: engines.Cluster
) -> None:
    conn = connections["default"]
    conn.meta.indices.refresh(index="blog")
    expected = all_documents("default")
    assert expected == 44  # 40 published posts and 4 pages
    # a scan whose first page is read: its scroll contexts are open on some nodes
    pages = conn.scan("blog", {"query": {"match_all": {}}}, size=5)
    scanned = [next(pages)["_id"] for _ in range(5)]
    holders = scroll_holders(whole_cluster)
    assert holders
    victim = holders[-1]
    add_connection(cluster_settings, "no_retries", whole_cluster.urls, max_retries=0)
    add_connection(cluster_settings, "down", whole_cluster.urls[victim : victim + 1])
    whole_cluster.stop(victim)

    with pytest.raises(TransportError, match="scan of 'blog' stopped") as info:
        scanned.extend(hit["_id"] for hit in pages)
    assert "shards" in str(info.value)
    assert len(scanned) < expected
    # every node in turn gets requests: the stopped one among them
    assert [all_documents("default") for _ in range(12)] == [expected] * 12
    assert all_documents_async("default", 12) == [expected] * 12
    outcomes: list[int | ConnectionError] = []
    for _ in range(12):
        try:
            outcomes.append(all_documents("no_retries"))
        except ConnectionError as exc:
            outcomes.append(exc)
    failed = [o for o in outcomes if isinstance(o, ConnectionError)]
    assert failed, outcomes  # without retries, the request that met the stopped node fails
    assert all(o == expected for o in outcomes if not isinstance(o, ConnectionError))
    with pytest.raises(ConnectionError):
        all_documents("down")
    with pytest.raises(ConnectionError):
        all_documents_async("down", 1)

    whole_cluster.start(victim)
    assert whole_cluster.health("green")["number_of_nodes"] == engines.CLUSTER_SIZE
    assert all_documents("down") == expected


def test_a_node_frozen_searches_never_hang_beyond_the_timeout(
    project: Project, cluster_settings: Any, whole_cluster: engines.Cluster
) -> None:
    connections["default"].meta.indices.refresh(index="blog")
    expected = all_documents("default")
    add_connection(cluster_settings, "frozen", whole_cluster.urls[1:2], timeout=TIMEOUT)
    add_connection(cluster_settings, "others", whole_cluster.urls[::2], timeout=TIMEOUT)
    whole_cluster.signal(1, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(ConnectionTimeout):
            all_documents("frozen")
        assert time.monotonic() - started < TIMEOUT + GRACE
        outcomes: list[int | ConnectionTimeout] = []
        for _ in range(4):
            started = time.monotonic()
            try:
                outcomes.append(all_documents("others"))
            except ConnectionTimeout as exc:  # the coordinating node waited for the frozen one
                outcomes.append(exc)
            assert time.monotonic() - started < TIMEOUT + GRACE
        assert all(o == expected for o in outcomes if not isinstance(o, ConnectionTimeout))
    finally:
        whole_cluster.signal(1, signal.SIGCONT)
    assert whole_cluster.health("green")["number_of_nodes"] == engines.CLUSTER_SIZE
    assert all_documents("frozen") == expected
