"""Document versions: which write of a document is the newest.

Every document djangoes writes carries an external version: a timestamp in
microseconds taken when the data it holds was known to be current — at
commit for auto-sync, before the database read for bulk loading and for the
queue. The engine refuses a write whose version is not higher than the one it
has, so a stale write that arrives late (a slow request, a rebuild loading a
row just before it changed, a retried queue entry) can never overwrite a
newer document.

Versions come from the wall clock, kept strictly increasing within a process.
Across machines they assume clocks in step (NTP): two writes of one document
closer together than the clocks' difference may be ordered wrongly.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from djangoes.sync.operations import Operation

_lock = threading.Lock()
_last = 0


def next_version() -> int:
    """A version higher than any this process gave before (microseconds since 1970)."""
    global _last
    now = time.time_ns() // 1000
    with _lock:
        _last = max(now, _last + 1)
        return _last


def stamp(operations: list[Operation]) -> list[Operation]:
    """Give the operations without a version the current one; returns them."""
    version = next_version()
    for op in operations:
        if op.version is None:
            op.version = version
    return operations
