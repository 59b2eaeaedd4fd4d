"""Where the time goes: a cProfile run summarised by component and by djangoes function.

Each function's own time (``tottime``) is given to one component by the file
it lives in, so the components add up to the profiled total: djangoes itself,
the model's document code, Django's ORM and the database driver, JSON, the
HTTP client, waiting on the socket for the engine, and the rest. cProfile
slows Python code down (the engine does not slow down), so the shares are
indicative: the wait for the engine is under-represented.
"""

from __future__ import annotations

import pstats
from typing import Any

#: (component, substrings of a file path or built-in's name), first match wins.
COMPONENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("waiting for the engine (socket)", ("_socket.socket", "select.poll", "selectors")),
    ("djangoes", ("/src/djangoes/",)),
    ("document building (the model's code)", ("/bench/project/",)),
    ("JSON encoding and decoding", ("/json/", "_json")),
    ("Django ORM and database driver", ("/django/db/", "sqlite3", "psycopg")),
    ("Django, other", ("/django/",)),
    (
        "HTTP client (elasticsearch-py, elastic-transport, urllib3)",
        ("/elasticsearch/", "/elastic_transport/", "/urllib3/", "/http/client.py", "/email/"),
    ),
)
OTHER = "Python runtime and standard library"


def component_of(filename: str, function: str) -> str:
    """The component a profiled function belongs to."""
    where = f"{filename} {function}"
    for name, markers in COMPONENTS:
        if any(marker in where for marker in markers):
            return name
    return OTHER


def _label(filename: str, line: int, function: str) -> str:
    if "/src/djangoes/" in filename:
        return f"djangoes/{filename.split('/src/djangoes/', 1)[1]}:{line} {function}"
    if filename == "~":
        return function
    parts = filename.split("/site-packages/", 1)
    short = parts[1] if len(parts) == 2 else "/".join(filename.split("/")[-2:])
    return f"{short}:{line} {function}"


def summarise(stats: pstats.Stats, top: int = 15) -> dict[str, Any]:
    """Seconds per component, and the djangoes functions taking the most time."""
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    components: dict[str, float] = {}
    total = 0.0
    djangoes: list[dict[str, Any]] = []
    everything: list[dict[str, Any]] = []
    for (filename, line, function), (_, calls, own, cumulative, _) in raw.items():
        total += own
        name = component_of(filename, function)
        components[name] = components.get(name, 0.0) + own
        entry = {
            "function": _label(filename, line, function),
            "calls": calls,
            "own": own,
            "cumulative": cumulative,
        }
        everything.append(entry)
        if "/src/djangoes/" in filename:
            djangoes.append(entry)
    return {
        "profiled_seconds": total,
        "components": dict(sorted(components.items(), key=lambda item: -item[1])),
        "djangoes_cumulative": sorted(djangoes, key=lambda e: -e["cumulative"])[:top],
        "djangoes_own": sorted(djangoes, key=lambda e: -e["own"])[:top],
        "own_overall": sorted(everything, key=lambda e: -e["own"])[:top],
    }
