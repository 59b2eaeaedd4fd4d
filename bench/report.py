"""The report: ``benchmarks.md`` (tables, targets, where the time goes) and a chart.

Everything here is computed from the results dict of :mod:`bench.run`, so a
report can be written again from a saved ``results.json``
(``python -m bench --report-only build/bench/results.json``). The judgement
that is not a measurement (what to change in djangoes) is kept in
``bench/recommendations.md`` and included as it is.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

NAMES = {
    "orm": "ORM alone (read + build, no engine)",
    "engine": "engine alone (`helpers.bulk` of built documents)",
    "djangoes": "djangoes",
    "djangoes_direct": "djangoes, ON_ERROR='raise' (no queue rows)",
    "djangoes_background": "djangoes, QUEUE_SEND='background' (the request does not wait)",
    "esdjango": "elasticsearch-django",
    "dsl": "django-elasticsearch-dsl",
    "none": "plain saves, no search library",
    "raw": "raw client search + one `pk__in` query",
    "djangoes_nolog": "djangoes, `execute_search(save=False)`",
}
SEARCH_NAMES = {
    "djangoes": "`execute_search` + `from_search_query` (logged, the default)",
    "djangoes_nolog": "`execute_search(save=False)` + `from_search_query`",
    "raw": "raw client search + one `pk__in` query",
}
PEERS = ("esdjango", "dsl")
DB_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
RECOMMENDATIONS = Path(__file__).resolve().parent / "recommendations.md"
MIB = 2**20


# -- statistics -------------------------------------------------------------------


def med(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def spread(values: Sequence[float]) -> str:
    """``min-max (±x %)`` of repeated values, or a dash for one value."""
    if len(values) < 2:
        return "one run"
    low, high, middle = min(values), max(values), med(values)
    return f"{low:.3g}-{high:.3g} (±{50 * (high - low) / middle:.0f} %)"


def fmt(value: float, digits: int = 3) -> str:
    return f"{value:,.{digits}g}" if abs(value) < 10**digits else f"{value:,.0f}"


def met(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


# -- figures taken from the results ----------------------------------------------


def reindex_seconds(entry: dict[str, Any], variant: str) -> list[float]:
    return [run["seconds"] for run in entry["reindex"]["runs"].get(variant, [])]


def engine_ceiling(results: dict[str, Any]) -> list[float]:
    """The engine-alone runs (measured on SQLite; the engine reads no database)."""
    sqlite = results["databases"].get("sqlite", {})
    return reindex_seconds(sqlite, "engine") if "reindex" in sqlite else []


def autosync_overhead(entry: dict[str, Any], variant: str, mode: str) -> float:
    """Median seconds of the saves above plain saves without a search library."""
    variants = entry["autosync"]["variants"]
    return med(variants[variant]["seconds"][mode]) - med(variants["none"]["seconds"][mode])


def scaling_runs(results: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """djangoes' SQLite reindex runs by size: the scaling runs plus the reindex scenario's."""
    sqlite = results["databases"].get("sqlite", {})
    runs = dict(sqlite.get("scaling", {}).get("runs", {}))
    if runs and "reindex" in sqlite:
        runs.setdefault(str(sqlite["reindex"]["rows"]), sqlite["reindex"]["runs"]["djangoes"])
    return dict(sorted(runs.items(), key=lambda item: int(item[0])))


def databases(results: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (vendor, entry) for vendor, entry in results["databases"].items() if "skipped" not in entry
    ]


# -- sections ---------------------------------------------------------------------


def section_machine(results: dict[str, Any]) -> list[str]:
    machine, versions = results["machine"], results["versions"]
    lines = [
        "## Machine and versions",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {machine['cpu']}, {machine['cores']} cores |",
        f"| Memory | {machine['memory'] / 2**30:.1f} GiB |",
        f"| OS | {machine['os']} |",
        f"| Python | {machine['python']} |",
    ]
    lines += [f"| {name} | {version} |" for name, version in versions.items()]
    before, after = results["load_before"], results["load_after"]
    lines += [
        f"| Load average (1, 5, 15 min) | before: {before[0]:.1f}, {before[1]:.1f}, "
        f"{before[2]:.1f}; after: {after[0]:.1f}, {after[1]:.1f}, {after[2]:.1f} |",
        f"| Run | {results['started']}, {results['seconds'] / 60:.1f} min, "
        f"{results['rounds']} round(s) of the reindex and scaling runs |",
        "",
    ]
    if max(before[0], after[0]) > machine["cores"]:
        lines += [
            '!!! warning "A busy machine"',
            f"    The load average was above the {machine['cores']} cores during this run: other",
            "    processes competed for the CPU, so absolute figures are lower and noisier than on",
            "    an idle machine. The variants compared are interleaved (their order rotates at",
            "    each round), so the ratios are the figures to read.",
            "",
        ]
    for vendor, entry in results["databases"].items():
        if "skipped" in entry:
            lines += [f"{DB_LABELS[vendor]} was skipped: {entry['skipped']}.", ""]
    return lines


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool | None, str]]:
    """(target, measured figure, met or None when not measured, note) for every target."""
    found: list[tuple[str, str, bool | None, str]] = []
    ceiling = engine_ceiling(results)
    for vendor, entry in databases(results):
        label = DB_LABELS[vendor]
        if "reindex" in entry:
            ours = med(reindex_seconds(entry, "djangoes"))
            peers = {peer: med(reindex_seconds(entry, peer)) for peer in PEERS}
            fastest = min(peers, key=lambda peer: peers[peer])
            ratio = peers[fastest] / ours
            found.append((
                f"Full reindex at least 2x faster than the faster peer ({label})",
                f"{ratio:.2f}x ({NAMES[fastest]}: {peers[fastest]:.1f} s, djangoes {ours:.1f} s)",
                ratio >= 2.0,
                "" if ratio >= 2 else f"short by a factor of {2 / ratio:.2f}",
            ))  # fmt: skip
            if ceiling:
                engine = med(ceiling)
                ratio = ours / engine
                found.append((
                    f"Full reindex within 1.3x of the engine alone ({label})",
                    f"{ratio:.2f}x (engine alone {engine:.1f} s, djangoes {ours:.1f} s)",
                    ratio <= 1.3,
                    "" if ratio <= 1.3 else f"{ours - 1.3 * engine:.1f} s over 1.3x",
                ))  # fmt: skip
        if "autosync" in entry:
            ours = autosync_overhead(entry, "djangoes", "one")
            peer_costs = {peer: autosync_overhead(entry, peer, "one") for peer in PEERS}
            cheapest = min(peer_costs, key=lambda peer: peer_costs[peer])
            ratio = peer_costs[cheapest] / ours if ours > 0 else float("inf")
            saves = entry["autosync"]["saves"]
            background = ""
            if "djangoes_background" in entry["autosync"]["variants"]:
                bg = autosync_overhead(entry, "djangoes_background", "one")
                bg_ratio = peer_costs[cheapest] / bg if bg > 0 else float("inf")
                background = f"; with QUEUE_SEND='background' {bg_ratio:.1f}x"
            found.append((
                f"Auto-sync of {saves:,} saves in one transaction at least 10x cheaper than "
                f"the peers' per-save requests ({label})",
                f"{ratio:.1f}x ({NAMES[cheapest]}: +{1000 * peer_costs[cheapest]:.0f} ms, "
                f"djangoes +{1000 * ours:.0f} ms over plain saves){background}",
                ratio >= 10,
                "" if ratio >= 10 else f"short by a factor of {10 / ratio:.1f}",
            ))  # fmt: skip
        if "search" in entry:
            times = entry["search"]["seconds"]
            ratio = med(times["djangoes"]) / med(times["raw"])
            nolog = med(times["djangoes_nolog"]) / med(times["raw"])
            found.append((
                f"Search path within 1.15x of the raw client + one query ({label})",
                f"{ratio:.2f}x ({1000 * med(times['djangoes']):.2f} ms vs "
                f"{1000 * med(times['raw']):.2f} ms); without the query log {nolog:.2f}x",
                ratio <= 1.15,
                "" if ratio <= 1.15 else f"{100 * (ratio - 1.15):.0f} points over",
            ))  # fmt: skip
    memory = memory_growth(results)
    if memory is not None:
        low, high, growth, projected = memory
        found.append((
            "Reindex memory flat: peak RSS at 200,000 rows at most 64 MiB above 50,000",
            f"+{growth / MIB:.1f} MiB from {low:,} to {high:,} rows"
            + ("" if (low, high) == (50_000, 200_000)
               else f" (linear projection to 50,000 -> 200,000: +{projected / MIB:.1f} MiB)"),
            projected <= 64 * MIB,
            "" if projected <= 64 * MIB else f"{(projected - 64 * MIB) / MIB:.0f} MiB over",
        ))  # fmt: skip
    linear = linearity(results)
    per_row = cpu_per_row(results)
    if linear is not None and per_row is not None:
        ratio, small, large = linear
        ours = per_row[large][0] / per_row[small][0]
        engine = per_row[large][1] / per_row[small][1]
        found.append((
            "Reindex time grows linearly with the rows",
            f"time per row at {large:,} rows is {ratio:.2f}x that at {small:,} rows; "
            f"djangoes' CPU per row {ours:.2f}x, the engine's {engine:.2f}x",
            ratio <= 1.2,
            "" if ratio <= 1.2 else (
                "the engine's cost per document grows with its index; djangoes' own is flat"
                if ours <= 1.2 < engine else "grows faster than the rows"
            ),
        ))  # fmt: skip
    return found


def memory_growth(results: dict[str, Any]) -> tuple[int, int, float, float] | None:
    """(low rows, high rows, peak RSS growth, growth projected to 50k -> 200k) on SQLite."""
    runs = scaling_runs(results)
    low, high = results["plan"]["memory_rows"]
    if str(low) not in runs or str(high) not in runs:
        return None
    growth = med([r["peak_rss"] for r in runs[str(high)]]) - med(
        [r["peak_rss"] for r in runs[str(low)]]
    )
    return low, high, growth, growth * 150_000 / (high - low)


def linearity(results: dict[str, Any]) -> tuple[float, int, int] | None:
    """(time per row at the largest size / at the smallest, smallest, largest)."""
    runs = scaling_runs(results)
    if len(runs) < 2:
        return None
    sizes = [int(rows) for rows in runs]
    per_row = {rows: med([r["seconds"] for r in runs[str(rows)]]) / rows for rows in sizes}
    return per_row[sizes[-1]] / per_row[sizes[0]], sizes[0], sizes[-1]


def section_targets(results: dict[str, Any]) -> list[str]:
    lines = ["## Targets", "", "| Target | Measured | | |", "|---|---|---|---|"]
    for target, figure, ok, note in targets(results):
        verdict = "not measured" if ok is None else met(ok)
        lines.append(f"| {target} | {figure} | {verdict} | {note} |")
    return [*lines, ""]


def section_reindex(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    ceiling = engine_ceiling(results)
    for vendor, entry in databases(results):
        if "reindex" not in entry:
            continue
        rows = entry["reindex"]["rows"]
        ours = med(reindex_seconds(entry, "djangoes"))
        lines += [
            f"### {DB_LABELS[vendor]}: full reindex of {rows:,} rows",
            "",
            "| | docs/s | seconds (median) | spread | runs | time vs djangoes "
            "| Python CPU s | engine CPU s | peak RSS |",
            "|---|---:|---:|---|---:|---:|---:|---:|---:|",
        ]
        runs = dict(entry["reindex"]["runs"])
        if "engine" not in runs and ceiling:
            runs["engine"] = results["databases"]["sqlite"]["reindex"]["runs"]["engine"]
        for variant, variant_runs in runs.items():
            seconds = [r["seconds"] for r in variant_runs]
            name = NAMES[variant] + (
                " (SQLite's runs)" if vendor != "sqlite" and variant == "engine" else ""
            )
            lines.append(
                f"| {name} | {fmt(rows / med(seconds))} | {med(seconds):.2f} | {spread(seconds)} "
                f"| {len(seconds)} | {med(seconds) / ours:.2f}x "
                f"| {med([r['python_cpu'] for r in variant_runs]):.1f} "
                f"| {med([r['engine_cpu'] for r in variant_runs]):.1f} "
                f"| {med([r['peak_rss'] for r in variant_runs]) / MIB:.0f} MiB |"
            )
        lines.append("")
    return lines


def section_autosync(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for vendor, entry in databases(results):
        if "autosync" not in entry:
            continue
        data = entry["autosync"]
        saves = data["saves"]
        lines += [
            f"### {DB_LABELS[vendor]}: {saves:,} saves of indexed books",
            "",
            "| | one transaction: s | spread | above plain saves | one transaction each: s "
            "| spread | above plain saves |",
            "|---|---:|---|---:|---:|---|---:|",
        ]
        for variant, result in data["variants"].items():
            cells = []
            for mode in ("one", "each"):
                times = result["seconds"][mode]
                above = (
                    "-" if variant == "none"
                    else f"+{1000 * autosync_overhead(entry, variant, mode):.0f} ms"
                )  # fmt: skip
                cells += [f"{med(times):.3f}", spread(times), above]
            lines.append(f"| {NAMES[variant]} | " + " | ".join(cells) + " |")
        ours = autosync_overhead(entry, "djangoes", "one")
        peers = ", ".join(
            f"{NAMES[p]} {autosync_overhead(entry, p, 'one') / ours:.1f}x" for p in PEERS
        )
        lines += [
            "",
            f"Cost of auto-sync above plain saves, in one transaction, peers / djangoes: {peers}.",
            "",
        ]
    return lines


def section_search(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for vendor, entry in databases(results):
        if "search" not in entry:
            continue
        data = entry["search"]
        raw = med(data["seconds"]["raw"])
        lines += [
            f"### {DB_LABELS[vendor]}: a page of 25 hits, {data['queries']} queries per path "
            f"(a {results['plan']['work_rows']:,}-document index, {data['mean_hits']:.1f} hits "
            "per page on average)",
            "",
            "| | median ms | 90th percentile ms | vs raw |",
            "|---|---:|---:|---:|",
        ]
        for path, times in data["seconds"].items():
            p90 = statistics.quantiles(times, n=10)[-1] if len(times) >= 10 else max(times)
            lines.append(
                f"| {SEARCH_NAMES[path]} | {1000 * med(times):.2f} | {1000 * p90:.2f} "
                f"| {med(times) / raw:.2f}x |"
            )
        lines.append("")
    return lines


def section_scaling(results: dict[str, Any]) -> list[str]:
    scaling = scaling_runs(results)
    if not scaling:
        return []
    sizes = [int(rows) for rows in scaling]
    smallest = sizes[0]
    base = med([r["seconds"] for r in scaling[str(smallest)]]) / smallest
    lines = [
        "| rows | seconds (median) | spread | runs | docs/s | time per row vs "
        f"{smallest:,} rows | djangoes CPU per row | engine CPU per row | peak RSS "
        "| RSS before loading | engine peak RSS |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for rows in sizes:
        runs = scaling[str(rows)]
        seconds = [r["seconds"] for r in runs]
        python = med([r["python_cpu"] for r in runs]) / rows
        engine = med([r["engine_cpu"] for r in runs]) / rows
        lines.append(
            f"| {rows:,} | {med(seconds):.2f} | {spread(seconds)} | {len(runs)} "
            f"| {fmt(rows / med(seconds))} | {med(seconds) / rows / base:.2f}x "
            f"| {1e6 * python:.0f} µs | {1e3 * engine:.2f} ms "
            f"| {med([r['peak_rss'] for r in runs]) / MIB:.0f} MiB "
            f"| {med([r['rss_start'] for r in runs]) / MIB:.0f} MiB "
            f"| {med([r['engine_peak_rss'] for r in runs]) / MIB:,.0f} MiB |"
        )
    return [*lines, ""]


def cpu_per_row(results: dict[str, Any]) -> dict[int, tuple[float, float]] | None:
    """Rows -> (djangoes' CPU seconds per row, the engine's) of the scaling runs."""
    scaling = scaling_runs(results)
    if not scaling:
        return None
    return {
        int(rows): (
            med([r["python_cpu"] for r in runs]) / int(rows),
            med([r["engine_cpu"] for r in runs]) / int(rows),
        )
        for rows, runs in scaling.items()
    }


def section_engine(results: dict[str, Any]) -> list[str]:
    probe = results.get("engine_probe")
    if not probe:
        return []
    rows = probe["rows"]
    lines = [
        "## The engine alone: bulk size and concurrent senders",
        "",
        f"`helpers.bulk` (one sender) or `helpers.parallel_bulk` of {rows:,} built documents,",
        "with or without an external version per document as djangoes sends them",
        f"(`python -m bench --only engine`, run {probe['started']}).",
        "",
        "| documents per request | senders | external versions | docs/s (median) "
        "| spread of seconds | engine CPU per document |",
        "|---:|---:|---|---:|---|---:|",
    ]
    for runs in probe["runs"].values():
        seconds = [r["seconds"] for r in runs]
        engine = med([r["engine_cpu"] for r in runs]) / rows
        first = runs[0]
        lines.append(
            f"| {first['chunk']:,} | {first['senders']} | "
            f"{'yes' if first.get('versioned') else 'no'} | {fmt(rows / med(seconds))} "
            f"| {spread(seconds)} | {1e3 * engine:.2f} ms |"
        )
    return [*lines, ""]


def section_profile(results: dict[str, Any]) -> list[str]:
    profile = results.get("profile")
    if not profile:
        return []
    titles = {
        "reindex": f"reindex of {profile['reindex']['rows']:,} rows (`update_index`)",
        "autosync_one": f"{results['plan']['profile_saves']:,} saves in one transaction",
        "autosync_each": f"{results['plan']['profile_saves']:,} saves, one transaction each",
        "search": f"{results['plan']['queries']} searches (`execute_search` + "
        "`from_search_query`, logged)",
    }
    lines = [
        "Own time of every function, by component, under cProfile (SQLite). cProfile slows",
        "Python code, not the engine, so the engine's share is larger without it; the CPU",
        "columns of the reindex table are the unprofiled split.",
        "",
        "| component | " + " | ".join(titles[k] for k in titles if k in profile) + " |",
        "|---|" + "---:|" * sum(1 for k in titles if k in profile),
    ]
    names: list[str] = []
    for key in titles:
        for name in profile.get(key, {}).get("components", {}):
            if name not in names:
                names.append(name)
    for name in names:
        cells = []
        for key in titles:
            if key in profile:
                data = profile[key]
                share = data["components"].get(name, 0.0) / data["profiled_seconds"]
                cells.append(f"{100 * share:.0f} %")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    for key, title in titles.items():
        if key not in profile:
            continue
        data = profile[key]
        lines += [
            f"**djangoes functions, {title}** (cumulative: the function and what it calls; "
            f"profiled total {data['profiled_seconds']:.2f} s)",
            "",
            "| function | calls | cumulative s | own s |",
            "|---|---:|---:|---:|",
        ]
        for item in data["djangoes_cumulative"][:12]:
            lines.append(
                f"| `{item['function']}` | {item['calls']:,} | {item['cumulative']:.3f} "
                f"| {item['own']:.3f} |"
            )
        lines.append("")
    return lines


def section_reading(results: dict[str, Any]) -> list[str]:
    """What the measurements say about djangoes' reindex, in sentences built from them."""
    lines: list[str] = []
    sqlite = results["databases"].get("sqlite", {})
    if "reindex" not in sqlite:
        return lines
    runs = sqlite["reindex"]["runs"]
    wall = med([r["seconds"] for r in runs["djangoes"]])
    python = med([r["python_cpu"] for r in runs["djangoes"]])
    engine = med([r["engine_cpu"] for r in runs["djangoes"]])
    alone = med([r["seconds"] for r in runs["engine"]])
    alone_engine = med([r["engine_cpu"] for r in runs["engine"]])
    orm = med([r["seconds"] for r in runs["orm"]])
    fastest_peer = min(med([r["seconds"] for r in runs[peer]]) for peer in PEERS)
    overlap = (
        "so reading and building overlap with sending"
        if wall < orm + alone
        else "so the read and the sending happen one after the other, not overlapped"
    )
    lines += [
        f"* **Reindex, SQLite.** djangoes took {wall:.1f} s; its process used {python:.1f} s of "
        f"CPU and the engine {engine:.1f} s. Reading and building the documents alone (the ORM "
        f"reference) takes {orm:.1f} s, sending built documents (the engine reference) "
        f"{alone:.1f} s: djangoes' time is {wall / (orm + alone):.2f}x their sum and "
        f"{wall / max(orm, alone):.2f}x the larger of the two, {overlap}.",
    ]
    if wall < alone:
        lines.append(
            f"* djangoes ({wall:.1f} s) is faster than the engine reference ({alone:.1f} s), "
            "which sends `helpers.bulk`'s default requests of 500 documents from one thread: "
            "djangoes sizes its requests by bytes (`BULK_BYTES`), and this engine spends "
            f"less CPU per document on fewer, larger requests ({engine:.1f} s of engine CPU "
            f"for djangoes' requests, {alone_engine:.1f} s for the reference's)."
        )
    else:
        lines.append(
            f"* The engine alone needs {alone:.1f} s, the faster peer {fastest_peer:.1f} s: a "
            f"reindex as fast as the engine reference would take {alone / fastest_peer:.2f}x "
            "the peer's time: the engine, not Python, is the bottleneck."
        )
    return lines


# -- chart ------------------------------------------------------------------------


def _legend(ax: Any) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)


def write_chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    present = databases(results)
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    colors = {"sqlite": "#4c72b0", "postgresql": "#dd8452"}

    ax = axes[0][0]
    variants = ["orm", "engine", "djangoes", "esdjango", "dsl"]
    width = 0.8 / max(1, len(present))
    for i, (vendor, entry) in enumerate(present):
        if "reindex" not in entry:
            continue
        runs = entry["reindex"]["runs"]
        xs, ys, errs = [], [], []
        for j, variant in enumerate(variants):
            if variant in runs:
                seconds = [r["seconds"] for r in runs[variant]]
                xs.append(j + i * width)
                ys.append(med(seconds))
                errs.append([[med(seconds) - min(seconds)], [max(seconds) - med(seconds)]])
        ax.bar(xs, ys, width, label=DB_LABELS[vendor], color=colors[vendor])
        for x, y, err in zip(xs, ys, errs, strict=True):
            ax.errorbar(x, y, yerr=err, color="black", capsize=3)
    ax.set_xticks([j + width * (len(present) - 1) / 2 for j in range(len(variants))])
    ax.set_xticklabels(["ORM\nalone", "engine\nalone", "djangoes", "elasticsearch-\ndjango",
                        "django-elastic-\nsearch-dsl"], fontsize=7)  # fmt: skip
    rows = next((entry["reindex"]["rows"] for _, entry in present if "reindex" in entry), 0)
    ax.set_ylabel(f"seconds for {rows:,} rows (median, min-max)")
    ax.set_title("1. Full reindex (lower is better)")
    _legend(ax)

    for k, (vendor, entry) in enumerate(present[:2]):
        ax = axes[0][1 + k]
        if "autosync" not in entry:
            ax.set_visible(False)
            continue
        names = list(entry["autosync"]["variants"])
        for m, (mode, label) in enumerate([("one", "one transaction"), ("each", "one each")]):
            values = [1000 * med(entry["autosync"]["variants"][v]["seconds"][mode]) for v in names]
            ax.bar([j + m * 0.4 for j in range(len(names))], values, 0.4, label=label)
        ax.set_xticks([j + 0.2 for j in range(len(names))])
        short = {"none": "plain\nsaves", "djangoes": "djangoes", "djangoes_direct":
                 "djangoes\n(no queue)", "djangoes_background": "djangoes\n(background)",
                 "esdjango": "elasticsearch-\ndjango",
                 "dsl": "django-elastic-\nsearch-dsl"}  # fmt: skip
        ax.set_xticklabels([short[n] for n in names], fontsize=7)
        ax.set_ylabel(f"ms for {entry['autosync']['saves']:,} saves")
        ax.set_title(f"2. Auto-sync, {DB_LABELS[vendor]} (lower is better)")
        _legend(ax)
    if len(present) < 2:
        axes[0][2].set_visible(False)

    ax = axes[1][0]
    paths = ["raw", "djangoes_nolog", "djangoes"]
    for i, (vendor, entry) in enumerate(present):
        if "search" in entry:
            values = [1000 * med(entry["search"]["seconds"][p]) for p in paths]
            ax.bar([j + i * width for j in range(len(paths))], values, width,
                   label=DB_LABELS[vendor], color=colors[vendor])  # fmt: skip
    ax.set_xticks([j + width * (len(present) - 1) / 2 for j in range(len(paths))])
    ax.set_xticklabels(["raw client +\none pk__in query", "execute_search\n(save=False)",
                        "execute_search\n(logged)"], fontsize=8)  # fmt: skip
    ax.set_ylabel("ms per page of 25 (median)")
    ax.set_title("3. Search path (lower is better)")
    _legend(ax)

    scaling = scaling_runs(results)
    for ax, key, title, unit in (
        (axes[1][1], "seconds", "5. Scaling: djangoes reindex time, SQLite", 1.0),
        (axes[1][2], "peak_rss", "4. Memory: peak RSS of the reindex process", MIB),
    ):
        if not scaling:
            ax.set_visible(False)
            continue
        sizes = [int(rows) for rows in scaling]
        values = [med([r[key] for r in scaling[str(n)]]) / unit for n in sizes]
        ax.plot(sizes, values, "o-", color=colors["sqlite"], label="measured")
        if key == "seconds":
            slope = values[0] / sizes[0]
            ax.plot([0, sizes[-1]], [0, slope * sizes[-1]], "--", color="grey",
                    label=f"linear from {sizes[0]:,} rows")  # fmt: skip
            ax.set_ylabel("seconds")
        else:
            ax.set_ylim(0, max(values) * 1.3)
            ax.set_ylabel("MiB")
        ax.set_xlabel("rows")
        ax.set_title(title)
        _legend(ax)

    fig.suptitle(
        f"djangoes benchmarks: {results['machine']['cpu']}, {results['machine']['cores']} cores, "
        f"{results['started'][:10]}"
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


# -- the document -------------------------------------------------------------------


def write_report(results: dict[str, Any], output: Path) -> tuple[Path, Path]:
    """Write ``benchmarks.md`` and ``images/benchmarks.png`` into ``output``."""
    chart = output / "images" / "benchmarks.png"
    write_chart(results, chart)
    plan = results["plan"]
    issue_sizes = plan["scale"] == 1
    lines = [
        "# Benchmarks",
        "",
        "How fast djangoes reindexes, syncs saves and serves searches, measured against",
        "[elasticsearch-django](https://pypi.org/project/elasticsearch-django/) and",
        "[django-elasticsearch-dsl](https://pypi.org/project/django-elasticsearch-dsl/) on the",
        "same machine, the same data, the same document and the same engine, in one run.",
        "",
        "```console",
        "$ make bench                     # under 20 minutes; writes this page and the chart",
        "$ .venv/bin/python -m bench --quick              # a few minutes, report in build/bench",
        "$ .venv/bin/python -m bench --scale 1 --budget 180   # the issue's row counts",
        "```",
        "",
        "`make bench` builds its own environment (`.venv-bench`: djangoes from this checkout,",
        "the two peers from PyPI, one elasticsearch-py for all three), loads deterministic data",
        "into SQLite and, when a server answers on 127.0.0.1:5432, PostgreSQL, and runs every",
        "measurement in a fresh process against a fresh",
        "[osmem-server](https://pypi.org/project/osmem-server/) (the engine of",
        "[the embedded backend](embedded.md)). Each library is configured as its documentation",
        'says, with `select_related("publisher")` on its queryset, 500 documents per bulk',
        "request (the default of djangoes and django-elasticsearch-dsl; elasticsearch-django",
        "has none) and the Elasticsearch client over the plain-JSON node class the engine",
        "needs. After each measurement the engine is checked to hold exactly the expected",
        "documents, so a library that failed quietly cannot look fast.",
        "",
        "The model: a book with two text fields (title, summary), three keywords (SKU,",
        "category, language), a date, three numbers and its publisher (a foreign key) rendered",
        "into the document as an object.",
        "",
        "![Benchmark chart](images/benchmarks.png)",
        "",
    ]
    if not issue_sizes:
        lines += [
            '!!! note "Row counts"',
            f"    This run used {plan['scale']:g} of the issue's row counts: a full reindex of",
            f"    {plan['reindex_rows']:,} rows (issue: 100,000), scaling at "
            + ", ".join(f"{r:,}" for r in plan["scaling_rows"])
            + " rows (issue: 25,000 to 200,000).",
            "    The engine indexes these documents at a few hundred to about a thousand per",
            "    second on this machine and holds 30 to 50 KiB per document in memory, so the",
            "    issue's sizes need over an hour and up to 10 GiB for the engine: `--scale 1`",
            "    runs them. Every",
            "    figure compared is a ratio measured at the same size, and the memory target",
            "    is projected linearly from the two sizes measured.",
            "",
        ]
    lines += section_machine(results)
    lines += section_targets(results)
    lines += ["## What the figures say", "", *section_reading(results), ""]
    if RECOMMENDATIONS.exists():
        lines += [RECOMMENDATIONS.read_text(encoding="utf-8").rstrip(), ""]
    lines += ["## 1. Full reindex", "", *section_reindex(results)]
    lines += [
        "## 2. Auto-sync cost",
        "",
        "Saves of books already in the index (`stock += 1; save()`), all in one",
        "`transaction.atomic()`, then each in its own. djangoes sends one bulk request after",
        'the commit (by default its "queue" ON_ERROR policy also writes a queue row per',
        "operation in the transaction, deleted once the engine took the document); the",
        'peers send one request per save, during the transaction. "Above plain saves" is',
        "the median minus the same saves without any search library.",
        "",
        *section_autosync(results),
    ]
    lines += ["## 3. Search path", "", *section_search(results)]
    lines += [
        "## 4 and 5. Reindex memory and scaling",
        "",
        "djangoes' reindex (`update_index`) on SQLite at several sizes, each in a fresh process;",
        "peak RSS is that process's high-water mark (`VmHWM`), the engine's memory apart.",
        "",
        *section_scaling(results),
    ]
    lines += section_engine(results)
    lines += ["## Where the time goes", "", *section_profile(results)]
    markdown = output / "benchmarks.md"
    markdown.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return markdown, chart
