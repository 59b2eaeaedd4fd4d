"""The cluster lane: djangoes on a real three-node OpenSearch 2.19 cluster.

``python -m tests.lanes cluster -- pytest -n 0 tests/cluster`` (``make cluster``)
starts three nodes (one JVM each, ``tests/engines.py``) for the session. Every
test starts with all three running and the cluster green, and empty; it may
stop and start nodes. The blog index has three shards and one replica.

Outside the cluster lane these tests are not collected. When the cluster
cannot run here (no Java, no Maven), they are skipped saying why; under CI
(``DJANGOES_CI=1``) that is a failure.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import engines
from tests.lifecycle.conftest import BLOG_MAPPING
from tests.rebuild.conftest import _fresh_state
from tests.rebuild.helpers import Project

#: Autouse: no fingerprint or cached view of the rebuild table crosses from one test to another.
__all__ = ["_fresh_state"]

collect_ignore_glob = [] if os.environ.get("DJANGOES_LANE") == "cluster" else ["test_*.py"]

#: The blog index of these tests: three shards, one replica.
CLUSTER_MAPPING = {**BLOG_MAPPING, "settings": {"number_of_shards": 3, "number_of_replicas": 1}}


@pytest.fixture(scope="session")
def cluster() -> Iterator[engines.Cluster]:
    release = engines.release("2.19")
    reason = engines.unavailable(release)
    if reason is not None:
        if engines.in_ci():
            pytest.fail(f"the OpenSearch {release.name} cluster cannot run under CI: {reason}")
        pytest.skip(f"the OpenSearch {release.name} cluster cannot run here: {reason}")
    cluster = engines.start_cluster(release)
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def whole_cluster(cluster: engines.Cluster) -> engines.Cluster:
    """The cluster with its three nodes running, green and empty."""
    for i in range(engines.CLUSTER_SIZE):
        if i not in cluster.running():
            cluster.start(i)
    try:
        cluster.health("green", timeout=60)
    except engines.EngineFailed:  # an earlier test left an index whose copies cannot all be placed
        engines.http_json(f"{cluster.urls[0]}/blog*", method="DELETE")
        cluster.health("green")
    engines.http_json(f"{cluster.urls[0]}/blog*", method="DELETE")  # what earlier tests left
    return cluster


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the blog's rows (40 posts, 3 drafts, 4 pages)."""
    return Project(tmp_path_factory.mktemp("template"), "http://127.0.0.1:9").make_database()


@pytest.fixture
def project(tmp_path: Path, whole_cluster: engines.Cluster, database: Path) -> Project:
    """Processes on a copy of ``database`` and the cluster; the blog index created and loaded."""
    made = Project(tmp_path, ",".join(whole_cluster.urls))
    (tmp_path / "mappings" / "blog.json").write_text(json.dumps(CLUSTER_MAPPING))
    made.env["DJANGO_SETTINGS_MODULE"] = "tests.cluster.settings"
    made.setup(database)
    whole_cluster.health("green")  # every shard with its replica before the test stops nodes
    return made


@pytest.fixture
def cluster_settings(settings: Any, project: Project) -> Any:
    """This process's settings: the project's index on the cluster (HOSTS: the three nodes)."""
    settings.ES_SERVERS = {
        "default": {
            "HOSTS": project.env["REBUILD_TEST_ENGINE_URL"].split(","),
            "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
            "INDICES": ["blog"],
            "PARAMS": {"timeout": 30},
        }
    }
    settings.ES_INDICES = {
        "blog": {"ALIASES": ["blog_public"], "MODELS": ["testapp.Post", "testapp.Page"]}
    }
    settings.DJANGOES = {"MAPPINGS_DIR": project.env["REBUILD_TEST_MAPPINGS"]}
    return settings
