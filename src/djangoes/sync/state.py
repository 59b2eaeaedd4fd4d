"""Per-thread switch turning automatic sync off for a block of code."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Switch(threading.local):
    disabled = 0


_switch = _Switch()


def sync_enabled() -> bool:
    """False inside :func:`disable_search_updates` in this thread."""
    return _switch.disabled == 0


@contextmanager
def disable_search_updates() -> Iterator[None]:
    """Turn automatic sync off in this thread for the ``with`` block.

    Restored when the block ends, even by an exception; blocks may nest. Other
    threads keep syncing. Use it around bulk changes you sync yourself
    afterwards (e.g. with ``djangoes.sync.sync_queryset``).
    """
    _switch.disabled += 1
    try:
        yield
    finally:
        _switch.disabled -= 1
