"""The three-node OpenSearch 2.19 cluster of the ``parallel`` scenario.

:func:`tests.engines.start_cluster` starts it (three JVMs of 512 MiB heap
each, every node a cluster manager and a data node), on HTTP ports
9245-9247 and transport ports 9345-9347 (``BENCH_CLUSTER_HTTP_PORT`` /
``BENCH_CLUSTER_TRANSPORT_PORT`` move the first of each).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.engine import EngineError, OpenSearchNode

RELEASE = "2.19"


@dataclass
class ClusterEngine:
    """The running cluster: what a worker's ``HOSTS`` name, and how to empty and stop it."""

    cluster: Any  # tests.engines.Cluster
    version: str

    @property
    def urls(self) -> list[str]:
        return list(self.cluster.urls)

    @property
    def pids(self) -> list[int]:
        return [node.pid for node in self.cluster.nodes if node is not None]

    def reset(self) -> None:
        """Delete every index but the system ones and wait for green."""
        OpenSearchNode(self.urls[0]).reset()
        self.cluster.health("green")

    def stop(self) -> None:
        self.cluster.close()


def start_cluster(build: Path) -> ClusterEngine:
    """Start the cluster and wait until it is green (stopped by :meth:`ClusterEngine.stop`)."""
    try:
        from tests import engines
    except ImportError as exc:  # the launcher is part of the repository's test helpers
        raise EngineError(f"cannot start an OpenSearch cluster ({exc})") from exc
    try:
        cluster = engines.start_cluster(
            engines.release(RELEASE),
            build / "cluster",
            name="djangoes-bench",
            http_port=int(os.environ.get("BENCH_CLUSTER_HTTP_PORT", "9245")),
            transport_port=int(os.environ.get("BENCH_CLUSTER_TRANSPORT_PORT", "9345")),
        )
    except (engines.EngineUnavailable, engines.EngineFailed) as exc:
        raise EngineError(f"cannot start an OpenSearch {RELEASE} cluster: {exc}") from exc
    node = OpenSearchNode(cluster.urls[0]).connect()
    return ClusterEngine(cluster, f"{node.version}, 3 nodes")
