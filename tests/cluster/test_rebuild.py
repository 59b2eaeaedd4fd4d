"""A node of the cluster stops in the middle of a rebuild's load.

The rebuild loads its new index without replicas (the engines' advice for
bulk loads), so the stopped node takes some of the new index's only copies
with it until it is back. The rebuild either waits it out within
RETRY_BUDGET and finishes, or stops interrupted and ``--resume`` finishes it
(docs/lifecycle.md); either way the index then equals the database,
document for document.
"""

from __future__ import annotations

import time
from typing import Any

from djangoes import connections
from tests import engines
from tests.rebuild.helpers import GUARD, Project, index_documents, wait_for_file

#: A rebuild that, after its first chunk, writes CLUSTER_TEST_PAUSED and waits for CLUSTER_TEST_GO.
PAUSED_REBUILD = """
import os, pathlib, sys, time
from djangoes.indexing import RebuildInterrupted, rebuild_index

paused = pathlib.Path(os.environ["CLUSTER_TEST_PAUSED"])
go = pathlib.Path(os.environ["CLUSTER_TEST_GO"])

def progress(done, total):
    if done > 0 and not paused.exists():
        paused.write_text(str(done))
        while not go.exists():
            time.sleep(0.05)

try:
    result = rebuild_index("blog", progress=progress)
except RebuildInterrupted as exc:
    print("INTERRUPTED", exc)
    sys.exit(3)
print("REBUILT", result.new_index)
"""


def shard_nodes(cluster: engines.Cluster, index: str) -> set[str]:
    """The names of the nodes holding a copy of ``index``."""
    rows = engines.http_json(f"{cluster.urls[0]}/_cat/shards/{index}?format=json")
    return {row["node"] for row in rows if row.get("node")}


def test_a_node_stopped_mid_load_the_rebuild_finishes_and_the_index_equals_the_database(
    project: Project, cluster_settings: Any, whole_cluster: engines.Cluster
) -> None:
    paused, go = project.tmp / "paused", project.tmp / "go"
    rebuild = project.start(
        project.django("shell", "-c", PAUSED_REBUILD),
        CLUSTER_TEST_PAUSED=str(paused),
        CLUSTER_TEST_GO=str(go),
    )
    try:
        wait_for_file(paused, rebuild)
        building = [
            name
            for name in connections["default"].meta.indices.get(index="blog-*")
            if name not in connections["default"].meta.indices.get_alias(name="blog")
        ]
        assert len(building) == 1
        # the last node: HOSTS names it, and it holds some of the new index's only copies
        victim = engines.CLUSTER_SIZE - 1
        assert whole_cluster.node_names[victim] in shard_nodes(whole_cluster, building[0])
        whole_cluster.stop(victim)
        go.touch()
        time.sleep(10)  # the load goes on meanwhile, against a red new index
        whole_cluster.start(victim)
        out, err = rebuild.communicate(timeout=GUARD * 3)
    finally:
        go.touch()
        if rebuild.poll() is None:
            rebuild.kill()
            rebuild.communicate()
    if rebuild.returncode == 3:  # interrupted: resumed as documented
        assert "INTERRUPTED" in out, err
        resumed = project.run("rebuild_search_index", "blog", "--noinput", "--resume")
        assert resumed.returncode == 0, resumed.stderr
    else:
        assert rebuild.returncode == 0, err
        assert "REBUILT" in out
    whole_cluster.health("green")
    assert index_documents(connections["default"]) == project.database_documents()
