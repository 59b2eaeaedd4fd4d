"""``python -m djangoes.embedded``: the background keeper (see :mod:`djangoes.embedded.keeper`)."""

import sys

from djangoes.embedded.keeper import main

if __name__ == "__main__":
    sys.exit(main())
