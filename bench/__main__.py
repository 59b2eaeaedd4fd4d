"""``python -m bench``: build the benchmark's environment, then run it there.

Arguments are those of :mod:`bench.run` (``--check``, ``--engine``, ``--db``,
``--only``, ``--rounds``, ``--scale``, ``--opensearch-url``, ``--report-only``...).
"""

from __future__ import annotations

import os
import sys

from bench.environment import EnvironmentFailed, ensure


def main() -> int:
    try:
        interpreter = ensure()
    except EnvironmentFailed as exc:
        print(f"Cannot build the benchmark environment: {exc}", file=sys.stderr)
        return 1
    args = sys.argv[1:]
    os.execv(interpreter, [str(interpreter), "-m", "bench.run", *args])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
