"""``python -m bench``: build the benchmark's environment, then run it there.

Arguments are those of :mod:`bench.run` (``--quick``, ``--db``, ``--only``,
``--scale``, ``--budget``, ``--output``, ``--report-only``); ``--budget``
counts the time spent building the environment.
"""

from __future__ import annotations

import os
import sys
import time

from bench.environment import EnvironmentFailed, ensure


def main() -> int:
    started = time.monotonic()
    try:
        interpreter = ensure()
    except EnvironmentFailed as exc:
        print(f"Cannot build the benchmark environment: {exc}", file=sys.stderr)
        return 1
    args = sys.argv[1:]
    spent = (time.monotonic() - started) / 60
    if "--budget" not in args and not any(a.startswith("--budget=") for a in args):
        args += ["--budget", f"{max(5.0, 18.0 - spent):.1f}"]
    os.execv(interpreter, [str(interpreter), "-m", "bench.run", *args])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
