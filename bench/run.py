"""The benchmark's main process: plan, engines, workers, repeats, results, report.

Run inside the benchmark's environment (``python -m bench`` gets there)::

    python -m bench.run [--quick] [--db sqlite,postgresql] [--only reindex,scaling,...]
                        [--output DIR] [--report-only RESULTS.json]

Every measurement runs in a fresh worker process (:mod:`bench.worker`) with a
fresh engine, and the variants compared with each other are interleaved
(the order rotates at each repeat) so that a change of load on the machine
hits them all alike. Results go to ``build/bench/results.json``; the report
to ``docs/benchmarks.md`` and ``docs/images/benchmarks.png`` (with
``--quick``: to ``build/bench/``).
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

from bench.data import ROOT, Database, create_database, database_for, postgres_unavailable
from bench.engine import Engine, peak_rss
from bench.worker import RESULT_PREFIX

BUILD = ROOT / "build" / "bench"
#: Fraction of the issue's row counts run by default (see the report for why).
DEFAULT_SCALE = 0.05
SCENARIOS = ("reindex", "scaling", "autosync", "search", "profile")
#: Run only when asked (``--only engine``): the engine alone with other bulk sizes
#: and concurrent senders, to see what the engine rewards.
EXTRA_SCENARIOS = ("engine",)
#: (documents per bulk request, concurrent senders, external versions) of the engine scenario.
ENGINE_SETTINGS = (
    (500, 1, False),
    (500, 1, True),
    (1_000, 1, False),
    (2_000, 1, False),
    (500, 2, False),
    (2_000, 2, False),
)
#: Variants of the full reindex, in the order they are shown.
REINDEX_VARIANTS = ("orm", "engine", "djangoes", "esdjango", "dsl")
#: On PostgreSQL: the engine alone does not read the database, SQLite's figure serves.
PG_REINDEX_VARIANTS = ("orm", "djangoes", "esdjango", "dsl")
#: Variants of the auto-sync scenario: (library, djangoes ON_ERROR or "", QUEUE_SEND or "").
AUTOSYNC_VARIANTS = {
    "none": ("none", "", ""),
    "djangoes": ("djangoes", "", ""),
    "djangoes_direct": ("djangoes", "raise", ""),
    "djangoes_background": ("djangoes", "", "background"),
    "esdjango": ("esdjango", "", ""),
    "dsl": ("dsl", "", ""),
}


class BenchmarkFailed(RuntimeError):
    """A measurement failed; the message says which and why."""


#: The sizes of the issue: full reindex, scaling, memory.
ISSUE_REINDEX_ROWS = 100_000
ISSUE_SCALING_ROWS = (25_000, 50_000, 100_000, 200_000)
ISSUE_MEMORY_ROWS = (50_000, 200_000)
#: The smallest sizes the memory comparison uses (see make_plan).
MIN_MEMORY_ROWS = (10_000, 40_000)


@dataclass(frozen=True)
class Plan:
    """What to measure, how big, how often, and within how much time."""

    #: Fraction of the issue's row counts (1.0: 100,000-row reindex, 25k-200k scaling).
    scale: float
    reindex_rows: int
    #: Sizes of djangoes' reindex for scaling (reindex_rows among them).
    scaling_rows: tuple[int, ...]
    #: The two sizes whose peak memory is compared (among scaling_rows).
    memory_rows: tuple[int, int]
    #: Rows of the work database of the save and search scenarios.
    work_rows: int
    saves: int
    save_repeats: int
    queries: int
    profile_rows: int
    profile_saves: int
    #: Rounds of the reindex and scaling runs (their repeats): ``min_rounds``
    #: always, more up to ``max_rounds`` while the budget allows.
    min_rounds: int
    max_rounds: int
    #: Seconds the measurements may take (a later round starts only if it fits).
    budget: float


def _scaled(rows: int, scale: float) -> int:
    return max(500, round(rows * scale / 500) * 500)


def make_plan(*, scale: float, budget: float, quick: bool) -> Plan:
    """The plan for ``scale`` of the issue's sizes (``quick``: one small round)."""
    # Peak memory is compared past the start, where buffers (a chunk, the
    # requests waiting to be sent) are still filling: at least 10,000 and
    # 40,000 rows, whatever the scale.
    memory = (
        max(_scaled(ISSUE_MEMORY_ROWS[0], scale), MIN_MEMORY_ROWS[0]),
        max(_scaled(ISSUE_MEMORY_ROWS[1], scale), MIN_MEMORY_ROWS[1]),
    )
    scaling = tuple(
        sorted(
            {_scaled(rows, scale) for rows in ISSUE_SCALING_ROWS}
            | ({*memory} if not quick else set())
        )
    )
    return Plan(
        scale=scale,
        reindex_rows=_scaled(ISSUE_REINDEX_ROWS, scale),
        scaling_rows=scaling,
        memory_rows=memory,
        work_rows=1_000 if quick else 2_000,
        saves=200 if quick else 1_000,
        save_repeats=2 if quick else 3,
        queries=30 if quick else 200,
        profile_rows=_scaled(ISSUE_SCALING_ROWS[1], scale),
        profile_saves=200 if quick else 1_000,
        min_rounds=1 if quick else 2,
        max_rounds=1 if quick else 3,
        budget=budget,
    )


@dataclass
class Runner:
    """Runs workers with fresh engines and keeps a log of what they printed."""

    log_dir: Path
    started: float = field(default_factory=time.monotonic)
    engine_version: str = ""

    @property
    def worker_log(self) -> Path:
        return self.log_dir / "workers.log"

    @contextmanager
    def engine(self) -> Iterator[Engine]:
        engine = Engine.start(self.log_dir / "engine.log")
        self.engine_version = engine.version
        try:
            yield engine
        finally:
            engine.stop()

    def run(
        self,
        task: dict[str, Any],
        *,
        library: str,
        database: Database,
        with_engine: bool = True,
        on_error: str = "",
        queue_send: str = "",
    ) -> dict[str, Any]:
        """Run ``task`` in a worker; its result, with the engine's peak memory."""
        if not with_engine:
            return self._run(task, library, database, None, on_error, queue_send)
        with self.engine() as engine:
            result = self._run(task, library, database, engine, on_error, queue_send)
            result["engine_peak_rss"] = peak_rss(engine.pid)
        return result

    def _run(
        self,
        task: dict[str, Any],
        library: str,
        database: Database,
        engine: Engine | None,
        on_error: str,
        queue_send: str = "",
    ) -> dict[str, Any]:
        env = {
            **os.environ,
            **database.environ(),
            "BENCH_LIBRARY": library,
            "DJANGO_SETTINGS_MODULE": "bench.project.settings",
            "BENCH_DJANGOES_ON_ERROR": on_error,
            "BENCH_DJANGOES_QUEUE_SEND": queue_send,
            "PYTHONHASHSEED": "0",
        }
        if engine is not None:
            env.update(BENCH_ENGINE_URL=engine.url, BENCH_ENGINE_PID=str(engine.pid))
        what = f"{task['task']} {library} on {database.label}: {json.dumps(task)}"
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


# -- scenarios ------------------------------------------------------------------


def rotated(items: tuple[str, ...], by: int) -> list[str]:
    shift = by % len(items)
    return list(items[shift:] + items[:shift])


def reindex_run(runner: Runner, database: Database, variant: str, rows: int) -> dict[str, Any]:
    """One full reindex of ``rows`` books: a library, the ORM alone or the engine alone."""
    kind = variant if variant in ("orm", "engine") else "library"
    library = "none" if kind != "library" else variant
    result = runner.run(
        {"task": "reindex", "kind": kind, "rows": rows},
        library=library,
        database=database,
        with_engine=kind != "orm",
    )
    runner.say(
        f"  reindex {variant:9} {rows:>7,} rows on {database.label:10}: {result['seconds']:7.2f} s "
        f"({result['docs_per_s']:,.0f} docs/s, peak RSS {result['peak_rss'] / 2**20:,.0f} MiB)"
    )
    return result


def reindex_round(
    runner: Runner, plan: Plan, vendor: str, number: int, into: dict[str, Any]
) -> None:
    """One run of every reindex variant (the engine alone on SQLite only: no database)."""
    database = database_for(vendor, str(plan.reindex_rows))
    variants = REINDEX_VARIANTS if vendor == "sqlite" else PG_REINDEX_VARIANTS
    runner.say(f"Full reindex on {database.label}, round {number + 1}")
    runs = into.setdefault("runs", {variant: [] for variant in variants})
    into["rows"] = plan.reindex_rows
    for variant in rotated(variants, number):
        runs[variant].append(reindex_run(runner, database, variant, plan.reindex_rows))


def scaling_round(
    runner: Runner, plan: Plan, vendor: str, number: int, into: dict[str, Any]
) -> None:
    """djangoes' reindex at every scaling size but the reindex scenario's own."""
    runs = into.setdefault("runs", {})
    sizes = [rows for rows in plan.scaling_rows if rows != plan.reindex_rows]
    for rows in sizes if number % 2 == 0 else reversed(sizes):
        database = database_for(vendor, str(rows))
        runs.setdefault(str(rows), []).append(reindex_run(runner, database, "djangoes", rows))


def scenario_autosync(runner: Runner, plan: Plan, vendor: str) -> dict[str, Any]:
    database = database_for(vendor, "work")
    results: dict[str, Any] = {}
    for variant, (library, on_error, queue_send) in AUTOSYNC_VARIANTS.items():
        result = runner.run(
            {"task": "autosync", "rows": plan.work_rows, "saves": plan.saves,
             "repeats": plan.save_repeats},
            library=library,
            database=database,
            with_engine=library != "none",
            on_error=on_error,
            queue_send=queue_send,
        )  # fmt: skip
        results[variant] = result
        medians = {mode: median(times) for mode, times in result["seconds"].items()}
        runner.say(
            f"  auto-sync {variant:15} on {database.label:10}: {plan.saves} saves in one "
            f"transaction {medians['one']:6.3f} s, one transaction each {medians['each']:6.3f} s"
        )
    return {"saves": plan.saves, "variants": results}


def scenario_search(runner: Runner, plan: Plan, vendor: str) -> dict[str, Any]:
    database = database_for(vendor, "work")
    result = runner.run(
        {"task": "search", "rows": plan.work_rows, "queries": plan.queries},
        library="djangoes",
        database=database,
    )
    medians = {path: median(times) * 1000 for path, times in result["seconds"].items()}
    runner.say(
        f"  search on {database.label:10}: "
        + ", ".join(f"{path} {ms:.2f} ms" for path, ms in medians.items())
    )
    return result


def scenario_profile(runner: Runner, plan: Plan, vendor: str) -> dict[str, Any]:
    results: dict[str, Any] = {}
    database = database_for(vendor, str(plan.profile_rows))
    runner.say(f"Profile of djangoes' reindex of {plan.profile_rows:,} rows ({database.label})")
    results["reindex"] = runner.run(
        {"task": "profile", "what": "reindex", "rows": plan.profile_rows},
        library="djangoes",
        database=database,
    )
    work = database_for(vendor, "work")
    runner.say(f"Profile of the search path, {plan.queries} queries per path")
    results["search"] = runner.run(
        {"task": "profile", "what": "search", "rows": plan.work_rows, "queries": plan.queries},
        library="djangoes",
        database=work,
    )
    for mode in ("one", "each"):
        runner.say(f"Profile of djangoes' auto-sync, {plan.profile_saves} saves ({mode})")
        results[f"autosync_{mode}"] = runner.run(
            {"task": "profile", "what": "autosync", "mode": mode, "rows": plan.work_rows,
             "saves": plan.profile_saves},
            library="djangoes",
            database=work,
        )  # fmt: skip
    return results


def scenario_engine(runner: Runner, plan: Plan) -> dict[str, Any]:
    database = database_for("sqlite", str(plan.reindex_rows))
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    runs: dict[str, list[dict[str, Any]]] = {}
    for repeat in range(2):
        for chunk, senders, versioned in (
            ENGINE_SETTINGS if repeat == 0 else tuple(reversed(ENGINE_SETTINGS))
        ):
            task = {"task": "engine", "rows": plan.reindex_rows, "chunk": chunk,
                    "senders": senders, "versioned": versioned}  # fmt: skip
            result = runner.run(task, library="none", database=database)
            runs.setdefault(f"{chunk}x{senders}{'v' if versioned else ''}", []).append(result)
            runner.say(
                f"  engine alone, {chunk} per request, {senders} sender(s)"
                f"{', versioned' if versioned else ''}: {result['docs_per_s']:,.0f} docs/s, "
                f"engine CPU {result['engine_cpu']:.1f} s"
            )
    return {"rows": plan.reindex_rows, "started": started, "runs": runs}


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def prepare(runner: Runner, plan: Plan, vendor: str, scenarios: tuple[str, ...]) -> None:
    """Create and load the databases the scenarios need (reusing loaded ones)."""
    sizes: set[int] = set()
    if "reindex" in scenarios or "engine" in scenarios:
        sizes.add(plan.reindex_rows)
    if "scaling" in scenarios:
        sizes.update(plan.scaling_rows)
    if "profile" in scenarios:
        sizes.add(plan.profile_rows)
    datasets: list[tuple[str, int, bool]] = [(str(rows), rows, False) for rows in sorted(sizes)]
    if {"autosync", "search", "profile"} & set(scenarios):
        datasets.append(("work", plan.work_rows, True))
    for name, rows, fresh in datasets:
        database = database_for(vendor, name)
        create_database(database, fresh=fresh)
        result = runner.run(
            {"task": "prepare", "rows": rows}, library="none", database=database, with_engine=False
        )
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

    names = ("djangoes", "Django", "elasticsearch", "elastic-transport", "elasticsearch-django",
             "django-elasticsearch-dsl", "osmem-server", "psycopg", "urllib3")  # fmt: skip
    found = {name: metadata.version(name) for name in names}
    found["SQLite"] = sqlite3.sqlite_version
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    if commit.returncode == 0:
        found["djangoes"] += f" ({commit.stdout.strip()})"
    return found


# -- main -------------------------------------------------------------------------


def measure(
    plan: Plan, vendors: list[str], scenarios: tuple[str, ...], quick: bool
) -> dict[str, Any]:
    """Run the scenarios on the databases; the results as a JSON-able dict."""
    BUILD.mkdir(parents=True, exist_ok=True)
    runner = Runner(BUILD)
    runner.worker_log.write_text("")
    results: dict[str, Any] = {
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "quick": quick,
        "plan": asdict(plan),
        "machine": machine(),
        "versions": versions(),
        "load_before": os.getloadavg(),
        "databases": {},
    }
    available: list[str] = []
    for vendor in vendors:
        results["databases"][vendor] = {}
        if vendor == "postgresql":
            reason = postgres_unavailable()
            if reason:
                runner.say(f"PostgreSQL SKIPPED: {reason}")
                results["databases"][vendor]["skipped"] = reason
                continue
            from bench.data import postgres_version

            results["versions"]["PostgreSQL"] = postgres_version()
        prepare(runner, plan, vendor, scenarios)
        available.append(vendor)
    rounds = 0
    while rounds < plan.max_rounds:
        round_started = time.monotonic()
        for vendor in available:
            entry = results["databases"][vendor]
            if "reindex" in scenarios:
                reindex_round(runner, plan, vendor, rounds, entry.setdefault("reindex", {}))
            if "scaling" in scenarios and vendor == "sqlite":
                scaling_round(runner, plan, vendor, rounds, entry.setdefault("scaling", {}))
        round_seconds = time.monotonic() - round_started
        rounds += 1
        if rounds == 1:  # the scenarios measured once (they repeat inside their worker)
            for vendor in available:
                entry = results["databases"][vendor]
                if "autosync" in scenarios:
                    runner.say(f"Auto-sync on {database_for(vendor, 'work').label}")
                    entry["autosync"] = scenario_autosync(runner, plan, vendor)
                if "search" in scenarios:
                    entry["search"] = scenario_search(runner, plan, vendor)
            if "profile" in scenarios and "sqlite" in available:
                results["profile"] = scenario_profile(runner, plan, "sqlite")
        elapsed = time.monotonic() - runner.started
        late = elapsed + 1.1 * round_seconds > plan.budget
        if plan.min_rounds <= rounds < plan.max_rounds and late:
            runner.say(
                f"Stopping after {rounds} round(s): another would take about "
                f"{round_seconds / 60:.1f} min and end past the budget "
                f"({plan.budget / 60:.0f} min)."
            )
            break
    if "engine" in scenarios and "sqlite" in available:
        runner.say("The engine alone: bulk sizes and concurrent senders")
        results["engine_probe"] = scenario_engine(runner, plan)
    results["rounds"] = rounds
    results["versions"]["osmem-server (engine)"] = runner.engine_version
    results["load_after"] = os.getloadavg()
    results["seconds"] = time.monotonic() - runner.started
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes, one round: for development (report in build/bench)",
    )
    parser.add_argument(
        "--db", default="sqlite,postgresql", help="databases (default: sqlite,postgresql)"
    )
    parser.add_argument(
        "--only", default=",".join(SCENARIOS), help=f"scenarios (default: {','.join(SCENARIOS)})"
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=None,
        help=f"fraction of the issue's row counts (default {DEFAULT_SCALE}; "
        "1 runs 100,000-row reindexes and 200,000-row scaling)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=17.0,
        help="minutes the measurements may take; repeats stop when the next round would "
        "not fit (default 17)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="report folder (default: docs/; --quick: build/bench/)",
    )
    parser.add_argument(
        "--report-only",
        type=Path,
        metavar="RESULTS_JSON",
        help="write the report from saved results, measuring nothing",
    )
    args = parser.parse_args(argv)
    from bench.report import write_report

    output = args.output or (BUILD if args.quick else ROOT / "docs")
    if args.report_only:
        results = json.loads(args.report_only.read_text(encoding="utf-8"))
    else:
        vendors = [v.strip() for v in args.db.split(",") if v.strip()]
        scenarios = tuple(s.strip() for s in args.only.split(",") if s.strip())
        unknown = sorted(set(vendors) - {"sqlite", "postgresql"}) + sorted(
            set(scenarios) - set(SCENARIOS) - set(EXTRA_SCENARIOS)
        )
        if unknown:
            parser.error(f"unknown database or scenario: {', '.join(unknown)}")
        scale = args.scale if args.scale is not None else (0.02 if args.quick else DEFAULT_SCALE)
        plan = make_plan(scale=scale, budget=args.budget * 60, quick=args.quick)
        try:
            results = measure(plan, vendors, scenarios, args.quick)
        except BenchmarkFailed as exc:
            print(f"\nBENCHMARK FAILED: {exc}", file=sys.stderr)
            return 1
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        for name in (f"results-{stamp}.json", "results.json"):
            (BUILD / name).write_text(json.dumps(results, indent=1), encoding="utf-8")
        print(f"Results in {BUILD / 'results.json'} ({results['seconds'] / 60:.1f} min)")
    markdown, chart = write_report(results, output)
    print(f"Report: {markdown}\nChart: {chart}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
