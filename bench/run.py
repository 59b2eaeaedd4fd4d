"""The benchmark's main process: plan, engines, rounds, workers, results, report.

Run inside the benchmark's environment (``python -m bench`` gets there)::

    python -m bench.run [--engine opensearch,embedded] [--db sqlite,postgresql]
                        [--only reindex,scaling,saves,search,profile] [--rounds 5]
                        [--scale 1] [--embedded-scale 0.05] [--check]
                        [--opensearch-url URL] [--output DIR] [--report-only RESULTS.json]

Every measurement runs in a fresh worker process (:mod:`bench.worker`) on an
empty engine: a fresh osmem-server for the embedded engine, the one
OpenSearch node of the run with its indices deleted for the real one. A
*round* runs every variant of every scenario once; the order of the
variants rotates from round to round, so a change of load on the machine
hits them all alike, and every figure compared is a median over the rounds.
Results go to ``build/bench/results.json`` after every round; the report to
``docs/benchmarks.md`` for a full run, else to ``build/bench/``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.cluster import ClusterEngine, start_cluster
from bench.data import ROOT, Database, create_database, database_for, postgres_unavailable
from bench.engine import Engine, EngineError, OpenSearchNode, peak_rss
from bench.worker import RESULT_PREFIX

BUILD = ROOT / "build" / "bench"
SCENARIOS = ("reindex", "scaling", "saves", "search", "profile", "parallel")
#: Real OpenSearch first: its figures lead the report.
ENGINES = ("opensearch", "embedded")
#: The peers on each engine, each through its own client.
PEERS = {"embedded": ("esdjango", "dsl"), "opensearch": ("osdsl", "modelsearch")}
#: The engine alone: (documents per request, senders) of helpers.bulk (1 sender)
#: or helpers.parallel_bulk (2), sending pre-built documents. The fastest is the
#: ceiling the reindex target compares with. (helpers.bulk's default of 500 per
#: request and 2,000 from one thread were slower on both engines: left out.)
BULK_CONFIGS = ((5_000, 1), (2_000, 2), (5_000, 2))
#: ``update_index(parallel=N)`` on the three-node cluster (the ``parallel`` scenario).
PARALLEL_WORKERS = (1, 2, 3)
#: The issue's sizes: full reindex, scaling, memory (on the real engine).
ISSUE_REINDEX_ROWS = 100_000
ISSUE_SCALING_ROWS = (25_000, 50_000, 100_000, 200_000)
ISSUE_MEMORY_ROWS = (50_000, 200_000)
#: The embedded engine indexes a few hundred to a thousand documents per
#: second and keeps 30-50 KiB per document: it runs a fraction of the sizes.
DEFAULT_EMBEDDED_SCALE = 0.05


def bulk_variant(chunk: int, senders: int) -> str:
    return f"bulk{chunk}x{senders}"


class BenchmarkFailed(RuntimeError):
    """A measurement failed; the message says which and why."""


@dataclass(frozen=True)
class Sizes:
    """Row counts of one engine's runs."""

    scale: float
    reindex_rows: int
    scaling_rows: tuple[int, ...]
    memory_rows: tuple[int, int]


@dataclass(frozen=True)
class Plan:
    """What to measure, how big and how often."""

    engines: tuple[str, ...]
    vendors: tuple[str, ...]
    scenarios: tuple[str, ...]
    sizes: dict[str, Sizes]
    rounds: int
    #: Rows of the work database of the save and search scenarios.
    work_rows: int
    #: Saves in one transaction, and saves each in its own transaction.
    saves: int
    each: int
    queries: int
    check: bool
    #: Variants of the save scenario besides the defaults (keys of SAVES_EXTRA).
    saves_extra: tuple[str, ...]
    #: The number of the first round (more rounds of an earlier run go on rotating).
    first_round: int
    #: Minutes after which no new round starts (0: no limit).
    budget: float


def _scaled(rows: int, scale: float) -> int:
    return max(500, round(rows * scale / 500) * 500)


def make_sizes(scale: float, *, check: bool) -> Sizes:
    memory = (_scaled(ISSUE_MEMORY_ROWS[0], scale), _scaled(ISSUE_MEMORY_ROWS[1], scale))
    scaling = () if check else tuple(sorted({_scaled(r, scale) for r in ISSUE_SCALING_ROWS}))
    return Sizes(scale, _scaled(ISSUE_REINDEX_ROWS, scale), scaling, memory)


def make_plan(args: argparse.Namespace) -> Plan:
    check = bool(args.check)
    engines = tuple(e.strip() for e in args.engine.split(",") if e.strip())
    vendors = tuple(v.strip() for v in args.db.split(",") if v.strip())
    default_only = "reindex,saves,search" if check else ",".join(SCENARIOS)
    scenarios = tuple(s.strip() for s in (args.only or default_only).split(",") if s.strip())
    scenarios = tuple("saves" if s == "autosync" else s for s in scenarios)
    unknown = (
        sorted({v for v in (args.saves_variants or "").split(",") if v} - set(SAVES_EXTRA))
        + sorted(set(engines) - set(ENGINES))
        + sorted(set(vendors) - {"sqlite", "postgresql"})
        + sorted(set(scenarios) - set(SCENARIOS))
    )
    if unknown:
        raise SystemExit(f"unknown engine, database or scenario: {', '.join(unknown)}")
    scale = args.scale if args.scale is not None else (0.2 if check else 1.0)
    embedded = args.embedded_scale
    if embedded is None:
        embedded = DEFAULT_EMBEDDED_SCALE  # the page's: the reindex ratios there depend on the size
    return Plan(
        engines=engines,
        vendors=vendors,
        scenarios=scenarios,
        sizes={
            "opensearch": make_sizes(scale, check=check),
            "embedded": make_sizes(embedded, check=check),
        },
        rounds=args.rounds if args.rounds is not None else (3 if check else 5),
        work_rows=1_000 if check else 2_000,
        saves=1_000,
        each=50 if check else 100,
        queries=60 if check else 200,
        check=check,
        saves_extra=tuple(v for v in (args.saves_variants or "").split(",") if v),
        first_round=args.first_round,
        budget=args.budget,
    )


@dataclass
class Runner:
    """Runs workers against an engine and keeps a log of what they printed."""

    log_dir: Path
    opensearch: OpenSearchNode | None = None
    cluster: ClusterEngine | None = None
    started: float = field(default_factory=time.monotonic)
    embedded_version: str = ""

    @property
    def worker_log(self) -> Path:
        return self.log_dir / "workers.log"

    @contextmanager
    def engine(self, kind: str) -> Iterator[tuple[str, str, Engine | None]]:
        """(URLs, process ids, embedded engine or None) of an empty engine of ``kind``.

        URLs and process ids are comma-separated (a cluster has three; a process
        id may be unknown: ``""``).
        """
        if kind == "opensearch":
            assert self.opensearch is not None
            self.opensearch.reset()
            yield self.opensearch.url, str(self.opensearch.pid or ""), None
            return
        if kind == "cluster":
            assert self.cluster is not None
            self.cluster.reset()
            yield ",".join(self.cluster.urls), ",".join(map(str, self.cluster.pids)), None
            return
        engine = Engine.start(self.log_dir / "engine.log")
        self.embedded_version = engine.version
        try:
            yield engine.url, str(engine.pid), engine
        finally:
            engine.stop()

    def run(
        self,
        task: dict[str, Any],
        *,
        library: str,
        database: Database,
        kind: str,
        with_engine: bool = True,
        environ: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Run ``task`` in a worker against an empty engine of ``kind``; its result."""
        env = {
            **os.environ,
            **database.environ(),
            **(environ or {}),
            "BENCH_LIBRARY": library,
            "BENCH_ENGINE_KIND": kind,
            "DJANGO_SETTINGS_MODULE": "bench.project.settings",
            "PYTHONHASHSEED": "0",
        }
        if not with_engine:
            return self._run(task, library, database, env)
        with self.engine(kind) as (url, pids, embedded):
            env.update(BENCH_ENGINE_URL=url)
            if pids:
                env.update(BENCH_ENGINE_PID=pids)
            result = self._run(task, library, database, env)
            if embedded is not None:
                result["engine_peak_rss"] = peak_rss(embedded.pid)
        return result

    def _run(
        self, task: dict[str, Any], library: str, database: Database, env: dict[str, str]
    ) -> dict[str, Any]:
        what = (
            f"{task['task']} {library} on {env['BENCH_ENGINE_KIND']}/{database.label}: "
            f"{json.dumps(task)}"
        )
        started = time.monotonic()
        process = subprocess.run(
            [sys.executable, "-m", "bench.worker", json.dumps(task)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        with self.worker_log.open("a", encoding="utf-8") as log:
            log.write(f"=== {what} (exit {process.returncode})\n{process.stderr}{process.stdout}")
        if process.returncode != 0:
            tail = "\n".join(process.stderr.strip().splitlines()[-25:])
            raise BenchmarkFailed(
                f"{what} failed (exit status {process.returncode}):\n{tail}\n"
                f"(whole output in {self.worker_log})"
            )
        lines = [line for line in process.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
        if not lines:
            raise BenchmarkFailed(f"{what} printed no result; see {self.worker_log}")
        result: dict[str, Any] = json.loads(lines[-1][len(RESULT_PREFIX) :])
        result["process_seconds"] = time.monotonic() - started
        return result

    def say(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed / 60:5.1f} min] {message}", flush=True)


# -- one round of each scenario ----------------------------------------------------


def rotated(items: list[str], by: int) -> list[str]:
    shift = by % len(items) if items else 0
    return items[shift:] + items[:shift]


def reindex_variants(kind: str, vendor: str) -> list[str]:
    """The ORM alone, the engine alone (SQLite only: it reads no database), the libraries."""
    engine_alone = [bulk_variant(c, s) for c, s in BULK_CONFIGS] if vendor == "sqlite" else []
    return ["orm", *engine_alone, "djangoes", *PEERS[kind]]


def reindex_task(variant: str, rows: int) -> tuple[dict[str, Any], str]:
    """The worker task and library of a reindex variant."""
    if variant == "orm":
        return {"task": "reindex", "kind": "orm", "rows": rows}, "none"
    if variant.startswith("bulk"):
        chunk, senders = variant[4:].split("x")
        task = {"task": "reindex", "kind": "engine", "rows": rows, "chunk": int(chunk),
                "senders": int(senders)}  # fmt: skip
        return task, "none"
    return {"task": "reindex", "kind": "library", "rows": rows}, variant


def reindex_round(
    runner: Runner, plan: Plan, kind: str, vendor: str, number: int, into: dict[str, Any]
) -> None:
    rows = plan.sizes[kind].reindex_rows
    database = database_for(vendor, str(rows))
    runs = into.setdefault("runs", {})
    into["rows"] = rows
    for variant in rotated(reindex_variants(kind, vendor), number):
        runs.setdefault(variant, []).append(reindex_run(runner, kind, database, variant, rows))


def reindex_run(
    runner: Runner, kind: str, database: Database, variant: str, rows: int
) -> dict[str, Any]:
    """One reindex of ``rows`` books by ``variant``, said as it ends."""
    task, library = reindex_task(variant, rows)
    result = runner.run(
        task, library=library, database=database, kind=kind, with_engine=variant != "orm"
    )
    runner.say(
        f"  reindex {variant:12} {rows:>7,} rows ({kind}, {database.label}): "
        f"{result['seconds']:7.2f} s, peak RSS {result['peak_rss'] / 2**20:,.0f} MiB"
    )
    return result


def scaling_round(runner: Runner, plan: Plan, kind: str, number: int, into: dict[str, Any]) -> None:
    """djangoes' reindex at each scaling size but the reindex scenario's own (SQLite)."""
    sizes = [
        rows for rows in plan.sizes[kind].scaling_rows if rows != plan.sizes[kind].reindex_rows
    ]
    runs = into.setdefault("runs", {})
    for rows in sizes if number % 2 == 0 else list(reversed(sizes)):
        database = database_for("sqlite", str(rows))
        runs.setdefault(str(rows), []).append(reindex_run(runner, kind, database, "djangoes", rows))


#: Extra variants of the save scenario (``--saves-variants``): djangoes with a setting.
SAVES_EXTRA = {
    "djangoes_commit": {"BENCH_DJANGOES_QUEUE_SEND": "commit"},
    "djangoes_background": {"BENCH_DJANGOES_QUEUE_SEND": "background"},
}


def saves_variants(kind: str, extra: tuple[str, ...] = ()) -> list[str]:
    return ["none", "djangoes", *extra, *PEERS[kind]]


def saves_round(
    runner: Runner, plan: Plan, kind: str, vendor: str, number: int, into: dict[str, Any]
) -> None:
    database = database_for(vendor, "work")
    runs = into.setdefault("runs", {})
    into.update(saves=plan.saves, each=plan.each)
    for position, variant in enumerate(rotated(saves_variants(kind, plan.saves_extra), number)):
        task = {"task": "autosync", "rows": plan.work_rows, "saves": plan.saves,
                "each": plan.each, "each_first": (number + position) % 2 == 1}  # fmt: skip
        library = "djangoes" if variant in SAVES_EXTRA else variant
        result = runner.run(
            task, library=library, database=database, kind=kind, with_engine=variant != "none",
            environ=SAVES_EXTRA.get(variant),
        )  # fmt: skip
        runs.setdefault(variant, []).append(result)
        runner.say(
            f"  saves {variant:12} ({kind}, {database.label}): {plan.saves} in one transaction "
            f"{result['one']['seconds']:6.3f} s, {plan.each} each in its own "
            f"{result['each']['seconds']:6.3f} s"
        )


def search_round(runner: Runner, plan: Plan, kind: str, vendor: str, into: dict[str, Any]) -> None:
    database = database_for(vendor, "work")
    result = runner.run(
        {"task": "search", "rows": plan.work_rows, "queries": plan.queries},
        library="djangoes",
        database=database,
        kind=kind,
    )
    into.setdefault("runs", []).append(result)
    medians = {path: median(times) * 1000 for path, times in result["seconds"].items()}
    runner.say(
        f"  search ({kind}, {database.label}): "
        + ", ".join(f"{path} {ms:.2f} ms" for path, ms in medians.items())
    )


def parallel_round(runner: Runner, plan: Plan, number: int, into: dict[str, Any]) -> None:
    """djangoes' reindex with 1, 2 and 3 worker processes on the three-node cluster (SQLite)."""
    rows = plan.sizes["opensearch"].reindex_rows
    database = database_for("sqlite", str(rows))
    runs = into.setdefault("runs", {})
    into["rows"] = rows
    for workers in rotated([str(n) for n in PARALLEL_WORKERS], number):
        task = {"task": "reindex", "kind": "library", "rows": rows, "parallel": int(workers)}
        result = runner.run(task, library="djangoes", database=database, kind="cluster")
        runs.setdefault(workers, []).append(result)
        runner.say(
            f"  reindex --parallel {workers} {rows:>7,} rows (cluster, SQLite): "
            f"{result['seconds']:7.2f} s"
        )


def profile_runs(runner: Runner, plan: Plan, kind: str) -> dict[str, Any]:
    """cProfile of djangoes' reindex, saves and search (SQLite, engine ``kind``)."""
    results: dict[str, Any] = {"engine": kind}
    rows = min(plan.sizes[kind].scaling_rows or (plan.sizes[kind].reindex_rows,))
    database = database_for("sqlite", str(rows))
    runner.say(f"Profile of djangoes' reindex of {rows:,} rows ({kind})")
    results["reindex"] = runner.run(
        {"task": "profile", "what": "reindex", "rows": rows},
        library="djangoes", database=database, kind=kind,
    )  # fmt: skip
    work = database_for("sqlite", "work")
    runner.say(f"Profile of the search path, {plan.queries} queries ({kind})")
    results["search"] = runner.run(
        {"task": "profile", "what": "search", "rows": plan.work_rows, "queries": plan.queries},
        library="djangoes", database=work, kind=kind,
    )  # fmt: skip
    for mode, saves in (("one", plan.saves), ("each", plan.each)):
        runner.say(f"Profile of djangoes' saves, {saves} ({mode}, {kind})")
        results[f"autosync_{mode}"] = runner.run(
            {"task": "profile", "what": "autosync", "mode": mode, "rows": plan.work_rows,
             "saves": saves},
            library="djangoes", database=work, kind=kind,
        )  # fmt: skip
    return results


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def prepare(runner: Runner, plan: Plan, vendor: str) -> None:
    """Create and load the databases the scenarios need (reusing loaded ones)."""
    sizes: set[int] = set()
    for kind in plan.engines:
        if "reindex" in plan.scenarios:
            sizes.add(plan.sizes[kind].reindex_rows)
        if "profile" in plan.scenarios:
            sizes.add(min(plan.sizes[kind].scaling_rows or (plan.sizes[kind].reindex_rows,)))
        if "scaling" in plan.scenarios and vendor == "sqlite":
            sizes.update(plan.sizes[kind].scaling_rows)
    if "parallel" in plan.scenarios and vendor == "sqlite":
        sizes.add(plan.sizes["opensearch"].reindex_rows)
    datasets: list[tuple[str, int, bool]] = [(str(rows), rows, False) for rows in sorted(sizes)]
    if {"saves", "search", "profile"} & set(plan.scenarios):
        datasets.append(("work", plan.work_rows, True))
    for name, rows, fresh in datasets:
        database = database_for(vendor, name)
        create_database(database, fresh=fresh)
        result = runner.run(
            {"task": "prepare", "rows": rows},
            library="none", database=database, kind="embedded", with_engine=False,
        )  # fmt: skip
        verb = "loaded" if result["loaded"] else "reused"
        runner.say(f"Data set {name} on {database.label}: {rows:,} books {verb} "
                   f"({result['seconds']:.1f} s)")  # fmt: skip


# -- environment ------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = int(line.split()[1]) * 1024
    system = platform.platform()
    os_release = Path("/etc/os-release")
    if os_release.exists():
        for line in os_release.read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                system = f"{line.split('=', 1)[1].strip(chr(34))} ({platform.release()})"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "os": system,
        "python": platform.python_version(),
    }


def versions() -> dict[str, str]:
    import sqlite3

    names = ("djangoes", "Django", "elasticsearch", "elastic-transport", "opensearch-py",
             "elasticsearch-django", "django-elasticsearch-dsl", "django-opensearch-dsl",
             "modelsearch", "osmem-server", "psycopg", "urllib3")  # fmt: skip
    found = {name: metadata.version(name) for name in names}
    found["SQLite"] = sqlite3.sqlite_version
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    if commit.returncode == 0:
        found["djangoes"] += f" ({commit.stdout.strip()})"
    return found


def opensearch_node(args: argparse.Namespace) -> OpenSearchNode:
    """The real OpenSearch node of the run: ``--opensearch-url``, else one started for it."""
    if args.opensearch_url:
        return OpenSearchNode(args.opensearch_url, args.opensearch_pid).connect()
    from bench.opensearch import start_node

    return start_node(BUILD)


# -- main -------------------------------------------------------------------------


def save(results: dict[str, Any], name: str) -> Path:
    path = BUILD / name
    path.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return path


def measure(plan: Plan, runner: Runner) -> dict[str, Any]:
    """Run the plan's rounds; the results as a JSON-able dict (saved after each round)."""
    results: dict[str, Any] = {
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "plan": asdict(plan),
        "machine": machine(),
        "versions": versions(),
        "load_before": os.getloadavg(),
        "engines": {},
        "skipped": {},
        "rounds": 0,
    }
    vendors: list[str] = []
    for vendor in plan.vendors:
        if vendor == "postgresql":
            reason = postgres_unavailable()
            if reason:
                runner.say(f"PostgreSQL SKIPPED: {reason}")
                results["skipped"]["postgresql"] = reason
                continue
            from bench.data import postgres_version

            results["versions"]["PostgreSQL"] = postgres_version()
        prepare(runner, plan, vendor)
        vendors.append(vendor)
    if runner.opensearch is not None:
        results["versions"]["OpenSearch (engine)"] = runner.opensearch.version
    if runner.cluster is not None:
        results["versions"]["OpenSearch cluster (engine)"] = runner.cluster.version
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    for count in range(plan.rounds):
        number = count + plan.first_round  # the order of the variants rotates with it
        round_started = time.monotonic()
        runner.say(f"Round {count + 1} of {plan.rounds}")
        for kind in plan.engines:
            engine = results["engines"].setdefault(kind, {"databases": {}})
            for vendor in vendors:
                entry = engine["databases"].setdefault(vendor, {})
                if "reindex" in plan.scenarios:
                    reindex_round(
                        runner, plan, kind, vendor, number, entry.setdefault("reindex", {})
                    )
                if "scaling" in plan.scenarios and vendor == "sqlite":
                    scaling_round(runner, plan, kind, number, entry.setdefault("scaling", {}))
                if "saves" in plan.scenarios:
                    saves_round(runner, plan, kind, vendor, number, entry.setdefault("saves", {}))
                if "search" in plan.scenarios:
                    search_round(runner, plan, kind, vendor, entry.setdefault("search", {}))
        if runner.cluster is not None and "sqlite" in vendors:
            parallel_round(runner, plan, number, results.setdefault("cluster", {}))
        results["rounds"] = count + 1
        results["versions"]["osmem-server (engine)"] = runner.embedded_version
        save(results, f"results-{stamp}.json")
        round_minutes = (time.monotonic() - round_started) / 60
        elapsed = (time.monotonic() - runner.started) / 60
        if plan.budget and count + 1 < plan.rounds and elapsed + round_minutes > plan.budget:
            runner.say(
                f"Stopping after {count + 1} round(s): another would take about "
                f"{round_minutes:.0f} min and end past the budget ({plan.budget:.0f} min)."
            )
            results["stopped"] = f"after {count + 1} of {plan.rounds} rounds (time budget)"
            break
    if "profile" in plan.scenarios and "sqlite" in vendors:
        results["profile"] = profile_runs(runner, plan, plan.engines[0])
    results["load_after"] = os.getloadavg()
    results["seconds"] = time.monotonic() - runner.started
    save(results, f"results-{stamp}.json")
    return results


def merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One results dict from several runs (the first run's plan and machine).

    A run that goes on with an earlier one's rounds (``--first-round``, the
    same sizes) adds its rounds to the scenarios they both measured;
    otherwise the last run that measured a scenario gives it. The run times
    and versions of every run are kept.
    """
    merged: dict[str, Any] = json.loads(json.dumps(runs[0]))
    merged["runs"] = [
        {key: run.get(key) for key in ("started", "seconds", "rounds", "load_before",
                                       "load_after")}
        | {"scenarios": run["plan"]["scenarios"], "djangoes": run["versions"]["djangoes"]}
        for run in runs
    ]  # fmt: skip
    for run in runs[1:]:
        for kind, engine in run["engines"].items():
            target = merged["engines"].setdefault(kind, {"databases": {}})
            for vendor, entry in engine["databases"].items():
                into = target["databases"].setdefault(vendor, {})
                for scenario, measured in entry.items():
                    go_on = run["plan"].get("first_round", 0) > 0
                    into[scenario] = _more_rounds(into.get(scenario) if go_on else None, measured)
        merged["plan"]["scenarios"] = sorted({*merged["plan"]["scenarios"],
                                              *run["plan"]["scenarios"]})  # fmt: skip
        for key in ("saves", "each", "queries", "work_rows"):
            merged["plan"][key] = run["plan"][key]
        merged["versions"].update({k: v for k, v in run["versions"].items() if v})
        same_plan = {
            k: v for k, v in run["plan"].items() if k not in ("rounds", "budget", "scenarios")
        } == {
            k: v for k, v in runs[0]["plan"].items() if k not in ("rounds", "budget", "scenarios")
        }
        go_on = same_plan and run["plan"].get("first_round", 0) > 0
        rounds = merged["rounds"] + run["rounds"] if go_on else min(merged["rounds"], run["rounds"])
        merged["rounds"] = rounds
        merged["seconds"] = merged.get("seconds", 0) + run.get("seconds", 0)
        if "profile" in run:
            merged["profile"] = run["profile"]
        if "cluster" in run:
            go_on = run["plan"].get("first_round", 0) > 0
            merged["cluster"] = _more_rounds(merged.get("cluster") if go_on else None,
                                             run["cluster"])  # fmt: skip
    if merged["rounds"] >= runs[0]["plan"]["rounds"]:
        merged.pop("stopped", None)  # the later runs made up the rounds a budget left out
        merged.setdefault("skipped", {}).update(runs[-1].get("skipped", {}))
    return merged


def _more_rounds(before: Any, after: Any) -> Any:
    """``after``'s rounds appended to ``before``'s when both measured the same thing."""
    if before is None:
        return after
    same = all(before.get(k) == after.get(k) for k in ("rows", "saves", "each"))
    if not same:
        return after
    merged = dict(before)
    if isinstance(after["runs"], list):
        merged["runs"] = [*before["runs"], *after["runs"]]
    else:
        merged["runs"] = {
            key: [*before["runs"].get(key, []), *after["runs"].get(key, [])]
            for key in {*before["runs"], *after["runs"]}
        }
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--engine", default=",".join(ENGINES),
                        help="engines, real first (default: opensearch,embedded)")  # fmt: skip
    parser.add_argument("--db", default="sqlite", help="databases: sqlite,postgresql")
    parser.add_argument("--only", default=None,
                        help=f"scenarios (default: {','.join(SCENARIOS)})")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=None,
                        help="interleaved rounds (default 5; --check: 3)")  # fmt: skip
    parser.add_argument(
        "--scale", type=float, default=None,
        help="fraction of the issue's row counts on real OpenSearch (default 1: a 100,000-row "
        "reindex, 25,000-200,000 for scaling and memory)",
    )  # fmt: skip
    parser.add_argument(
        "--embedded-scale", type=float, default=None,
        help=f"the same on the embedded engine (default {DEFAULT_EMBEDDED_SCALE})",
    )  # fmt: skip
    parser.add_argument("--check", action="store_true",
                        help="a few minutes: reindex, saves and search at small sizes, 3 rounds, "
                        "ratios printed (report in build/bench)")  # fmt: skip
    parser.add_argument("--saves-variants", default="",
                        help=f"more save variants: {', '.join(SAVES_EXTRA)}")  # fmt: skip
    parser.add_argument("--first-round", type=int, default=0,
                        help="rotate as from this round (0-based): more rounds of an earlier run, "
                        "merged with --report-only")  # fmt: skip
    parser.add_argument("--budget", type=float, default=0,
                        help="minutes after which no new round starts (default: none)")  # fmt: skip
    parser.add_argument("--opensearch-url", default=os.environ.get("BENCH_OPENSEARCH_URL"),
                        help="a running OpenSearch node to use, not one started")  # fmt: skip
    parser.add_argument("--opensearch-pid", type=int, default=None,
                        help="its process id, for the engine's CPU time")  # fmt: skip
    parser.add_argument("--output", type=Path, default=None,
                        help="report folder (docs/ if full, else build/bench/)")  # fmt: skip
    parser.add_argument("--report-only", type=Path, nargs="+", metavar="RESULTS_JSON",
                        help="write the report from saved results (runs of other scenarios are "
                        "merged), measuring nothing")  # fmt: skip
    args = parser.parse_args(argv)
    from bench.report import print_ratios, write_report

    BUILD.mkdir(parents=True, exist_ok=True)
    if args.report_only:
        results = merge([json.loads(p.read_text(encoding="utf-8")) for p in args.report_only])
        full = not results["plan"]["check"]
    else:
        plan = make_plan(args)
        full = not plan.check and args.only is None
        runner = Runner(BUILD)
        runner.worker_log.write_text("")
        try:
            if "opensearch" in plan.engines and set(plan.scenarios) - {"parallel"}:
                runner.opensearch = opensearch_node(args)
            if "opensearch" in plan.engines and "parallel" in plan.scenarios:
                runner.cluster = start_cluster(BUILD)
            results = measure(plan, runner)
        except (BenchmarkFailed, EngineError) as exc:
            print(f"\nBENCHMARK FAILED: {exc}", file=sys.stderr)
            return 1
        finally:
            if runner.opensearch is not None and not args.opensearch_url:
                from bench.opensearch import stop_node

                stop_node(runner.opensearch)
            if runner.cluster is not None:
                runner.cluster.stop()
        path = save(results, "check.json" if plan.check else "results.json")
        print(f"Results in {path} ({results['seconds'] / 60:.1f} min)")
    print_ratios(results)
    output = args.output or (ROOT / "docs" if full else BUILD)
    markdown = write_report(results, output)
    print(f"Report: {markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
