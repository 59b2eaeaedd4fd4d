"""A node of the cluster crashes during a stream of saves in transactions.

Two writer processes (``tests.rebuild.writers``) keep editing, adding,
deleting, publishing and unpublishing rows in transactions, auto-sync on and
``ON_ERROR = "queue"`` (a save never fails because of the engine). One node is
killed while they write — the elected cluster manager, with SIGKILL: no
goodbye to the cluster or to the clients, a new election — and started
again:

* the first writer's HOSTS names the three nodes: its client sends what the
  dead node cannot take to the others;
* the second writer's HOSTS names only the node that dies: while it is down,
  that writer's changes wait in the sync queue.

After ``search_sync`` the index equals the database, document for document:
nothing is lost.
"""

from __future__ import annotations

import re
import signal
import sys
from typing import Any

from djangoes import connections
from tests import engines
from tests.rebuild.helpers import GUARD, Project, index_documents, steps_done, wait_for_steps

#: Steps each writer does before the crash, while the node is down, and after it is back.
STEPS = 8


def test_a_node_killed_during_saves_in_transactions_nothing_is_lost_after_search_sync(
    project: Project, cluster_settings: Any, whole_cluster: engines.Cluster
) -> None:
    project.env["CLUSTER_TEST_ON_ERROR"] = "queue"
    victim = whole_cluster.manager()
    writers = []
    for seed, hosts in ((3, whole_cluster.urls), (5, whole_cluster.urls[victim : victim + 1])):
        stop, count = project.tmp / f"stop-{seed}", project.tmp / f"count-{seed}"
        argv = [sys.executable, "-m", "tests.rebuild.writers", str(stop), str(count), str(seed)]
        process = project.start(argv, REBUILD_TEST_ENGINE_URL=",".join(hosts))
        writers.append((process, stop, count))

    def more_steps() -> None:
        for process, _stop, count in writers:
            wait_for_steps(count, steps_done(count) + STEPS, process)

    try:
        more_steps()
        whole_cluster.signal(victim, signal.SIGKILL)
        more_steps()
        whole_cluster.start(victim)
        more_steps()
    finally:
        for _process, stop, _count in writers:
            stop.touch()
        outcomes = [process.communicate(timeout=GUARD) for process, _, _ in writers]
    for (process, _, _), (_out, err) in zip(writers, outcomes, strict=True):
        assert process.returncode == 0, err
    synced = project.run("search_sync", "--ignore-backoff")
    assert synced.returncode == 0, synced.stderr
    # the pinned writer's changes made while its node was down were queued, and are sent now
    sent = re.search(r"Sent ([\d,]+) of ([\d,]+) queue entries", synced.stdout)
    assert sent is not None, synced.stdout
    assert sent.group(1) == sent.group(2) != "0", synced.stdout
    assert "Queue: 0 pending (0 waiting to be retried), 0 failed." in synced.stdout
    whole_cluster.health("green")
    assert index_documents(connections["default"]) == project.database_documents()
