"""Document versions: which write of a document is the newest.

Every document djangoes writes carries an external version: a timestamp in
microseconds. The engine refuses a write whose version is not higher than the
one it has, so a stale write that arrives late (a slow request, a rebuild
loading a row just before it changed, a retried queue entry, a request sent
again after its answer was lost) can never overwrite a newer document.

A sender takes its version *after* the commit it sends for and *before* it
reads the rows it sends (:mod:`djangoes.sync.sending` says why that makes
the highest version carry the newest state). Versions come from the wall
clock, kept strictly increasing within a process. On one machine every
process reads the same clock; across machines they assume clocks in step
(NTP): two writes of one row committed closer together than the clocks'
difference may be ordered wrongly.
"""

from __future__ import annotations

import threading
import time

_lock = threading.Lock()
_last = 0


def next_version() -> int:
    """A version higher than any this process gave before (microseconds since 1970)."""
    global _last
    now = time.time_ns() // 1000
    with _lock:
        _last = max(now, _last + 1)
        return _last
