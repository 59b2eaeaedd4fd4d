"""A node of the cluster stops in the middle of a rebuild's load.

The rebuild loads its new index without replicas (the engines' advice for
bulk loads), so the stopped node takes some of the new index's only copies
with it until it is back. As docs/lifecycle.md says, the rebuild waits it out
when the node is back within RETRY_BUDGET and finishes; otherwise it stops
interrupted and ``--resume`` finishes it. Either way the index then equals
the database, document for document.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from djangoes import connections
from tests import engines
from tests.cluster.conftest import CLUSTER_MAPPING
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


def primary_holders(cluster: engines.Cluster, index: str) -> set[str]:
    """The names of the nodes holding a primary shard of ``index``."""
    rows = engines.http_json(f"{cluster.urls[0]}/_cat/shards/{index}?format=json")
    return {row["node"] for row in rows if row.get("node") and row["prirep"] == "p"}


def start_paused_rebuild(project: Project, **env: str) -> tuple[subprocess.Popen[str], Path]:
    """A rebuild process, once it has loaded its first chunk; and the file that lets it go on."""
    paused, go = project.tmp / "paused", project.tmp / "go"
    rebuild = project.start(
        project.django("shell", "-c", PAUSED_REBUILD),
        CLUSTER_TEST_PAUSED=str(paused),
        CLUSTER_TEST_GO=str(go),
        **env,
    )
    try:
        wait_for_file(paused, rebuild)
    except BaseException:
        rebuild.kill()
        rebuild.communicate()
        raise
    return rebuild, go


def stop_a_node_of_the_new_index(cluster: engines.Cluster) -> int:
    """Stop a node holding a primary of the new index (the last such; HOSTS names it)."""
    conn = connections["default"]
    live = conn.meta.indices.get_alias(name="blog")
    building = [name for name in conn.meta.indices.get(index="blog-*") if name not in live]
    assert len(building) == 1
    holders = primary_holders(cluster, building[0])
    victim = max(i for i, name in enumerate(cluster.node_names) if name in holders)
    cluster.stop(victim)
    return victim


def finish(rebuild: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        return rebuild.communicate(timeout=GUARD * 3)
    finally:
        if rebuild.poll() is None:
            rebuild.kill()
            rebuild.communicate()


def test_a_node_stopped_mid_load_and_back_within_the_retry_budget_the_rebuild_finishes(
    project: Project, cluster_settings: Any, whole_cluster: engines.Cluster
) -> None:
    rebuild, go = start_paused_rebuild(project)
    try:
        victim = stop_a_node_of_the_new_index(whole_cluster)
        go.touch()  # the load goes on while the node starts again (half a minute)
        whole_cluster.start(victim)
    finally:
        go.touch()
        out, err = finish(rebuild)
    assert rebuild.returncode == 0, err
    assert "REBUILT" in out
    whole_cluster.health("green")
    assert index_documents(connections["default"]) == project.database_documents()


def test_a_node_stopped_mid_load_beyond_the_retry_budget_the_rebuild_is_resumed(
    project: Project, cluster_settings: Any, whole_cluster: engines.Cluster
) -> None:
    """The node stays down until the rebuild gave up: interrupted, then ``--resume`` finishes it.

    Meanwhile a writer process saves (``ON_ERROR = "queue"``): its saves reach
    the live index, and their copies to the interrupted rebuild's index, which
    lacks the stopped node's shards, wait in the sync queue.
    """
    fast = {"CLUSTER_TEST_BULK_TIMEOUT": "5", "CLUSTER_TEST_RETRY_BUDGET": "5"}
    rebuild, go = start_paused_rebuild(project, **fast)
    try:
        victim = stop_a_node_of_the_new_index(whole_cluster)
    finally:
        go.touch()
        out, err = finish(rebuild)
    assert rebuild.returncode == 3, (out, err)
    assert "INTERRUPTED" in out
    project.env.update(fast, CLUSTER_TEST_ON_ERROR="queue")
    writer, _stop, _count = project.start_writer(seed=11, steps=4)
    _out, err = writer.communicate(timeout=GUARD)
    assert writer.returncode == 0, err
    whole_cluster.start(victim)
    whole_cluster.health("green")
    resumed = project.run("rebuild_search_index", "blog", "--noinput", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    synced = project.run("search_sync", "--ignore-backoff")
    assert synced.returncode == 0, synced.stderr
    assert "Queue: 0 pending (0 waiting to be retried), 0 failed." in synced.stdout
    assert index_documents(connections["default"]) == project.database_documents()


def test_the_switch_waits_until_the_replicas_have_copied_the_new_index(
    project: Project, cluster_settings: Any, whole_cluster: engines.Cluster
) -> None:
    """The new index gets its replica back before the switch, and the switch waits for the copy:
    right after the rebuild every shard has both copies, so a node lost then costs nothing.

    The cluster copies shards slowly here (``indices.recovery.max_bytes_per_sec``), so that a
    switch that did not wait would leave copies still being made."""
    conn = connections["default"]
    slow = {"transient": {"indices.recovery.max_bytes_per_sec": "20kb"}}
    conn.meta.cluster.put_settings(body=slow)
    try:
        rebuilt = project.run("rebuild_search_index", "blog", "--noinput")
        health = conn.meta.cluster.health(index="blog")
    finally:
        reset = {"transient": {"indices.recovery.max_bytes_per_sec": None}}
        conn.meta.cluster.put_settings(body=reset)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert (health["status"], health["initializing_shards"]) == ("green", 0)
    assert index_documents(conn) == project.database_documents()


def test_copies_the_cluster_will_not_place_are_waited_for_retry_budget_then_it_switches(
    project: Project, cluster_settings: Any, whole_cluster: engines.Cluster
) -> None:
    """Allocation rules may keep replicas off every node (here one shard copy per node: three
    shards and their replicas cannot fit on three nodes). The switch waits RETRY_BUDGET seconds
    without progress, says so in the log, and goes ahead with the copies the index has."""
    settings = {**CLUSTER_MAPPING["settings"], "index.routing.allocation.total_shards_per_node": 1}
    mapping = {**CLUSTER_MAPPING, "settings": settings}
    Path(project.env["REBUILD_TEST_MAPPINGS"], "blog.json").write_text(json.dumps(mapping))
    project.env["CLUSTER_TEST_RETRY_BUDGET"] = "3"
    conn = connections["default"]
    try:
        rebuilt = project.run("rebuild_search_index", "blog", "--noinput")
        health = conn.meta.cluster.health(index="blog")
    finally:  # the next test starts from a green cluster: let the replicas in
        unlimited = {"index.routing.allocation.total_shards_per_node": -1}
        conn.meta.indices.put_settings(index="blog", body=unlimited)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "has 3 of its 6 shard copies after 3 s without progress" in rebuilt.stderr
    assert (health["status"], health["active_shards"]) == ("yellow", 3)
    assert index_documents(conn) == project.database_documents()
