"""Writing the query log off the request path, in batches.

A search in autocommit mode (an ordinary view, a script) does not wait for
its :class:`~djangoes.search.models.SearchQuery` row: :func:`log` hands the
row to a thread of the process, which writes what has gathered in one
``bulk_create`` (one ``INSERT`` and one commit for many searches). A search
inside a transaction (``transaction.atomic()``, ``ATOMIC_REQUESTS``, a
``TestCase``) writes its row in that transaction, at once, as before: it
commits or rolls back with the rest of the work. So does a search on an
in-memory SQLite database, which threads cannot share.

Nothing is dropped on the way: :func:`flush_query_log` waits until every
row handed over is written (tests, scripts), the process writes what is left
when it exits normally (``atexit``: also on Ctrl-C, ``sys.exit`` and a
server's graceful shutdown), and a batch the database refuses is written
again row by row, so one bad row (a user deleted meanwhile...) costs only
itself, logged as an error. A process killed outright (``SIGKILL``, a crash)
loses the rows of its last fraction of a second. A forked child starts with
an empty writer of its own.

The row gets its primary key when it is written (``bulk_create`` returns it
on PostgreSQL, SQLite 3.35+, MariaDB 10.5+). Reading ``search_query.pk`` (or
calling ``save()``) on a row still waiting writes it first, so code written
for a log saved at once keeps working; :func:`flush_query_log` waits for
every row of the process (a test reading the table back, a script).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from typing import TYPE_CHECKING

from django.db import DatabaseError, router, transaction

if TYPE_CHECKING:
    from djangoes.search.models import SearchQuery

logger = logging.getLogger("djangoes.search")

#: Seconds the thread lets rows gather before writing them.
GATHER_SECONDS = 0.05
#: Most rows in one INSERT.
BATCH_ROWS = 500
#: Seconds a process waits at exit for the rows still to write.
EXIT_WAIT_SECONDS = 30.0


class QueryLogWriter:
    """One thread per process writing handed-over rows in batches, per database."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._rows: list[tuple[str, SearchQuery]] = []
        self._handed = 0
        self._done = 0
        self._urgent = False
        self._pid = -1
        self._exit_hook = False
        #: id() of the rows handed over and not written yet (referenced by _rows
        #: meanwhile, so no other object can take their id).
        self._waiting: set[int] = set()
        self._thread_id = -1

    def add(self, alias: str, search_query: SearchQuery) -> None:
        """Hand over a row to write on database ``alias`` (starting the thread if needed)."""
        with self._lock:
            if self._pid != os.getpid():  # first use, or a forked child: no thread of its own
                self._pid = os.getpid()
                self._rows, self._handed, self._done = [], 0, 0
                self._waiting = set()
                thread = threading.Thread(target=self._loop, name="djangoes-query-log")
                thread.daemon = True
                thread.start()
                self._thread_id = thread.ident or -1
                if not self._exit_hook:
                    atexit.register(self.flush, EXIT_WAIT_SECONDS)
                    self._exit_hook = True
            self._rows.append((alias, search_query))
            self._waiting.add(id(search_query))
            self._handed += 1
            self._changed.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every row handed over so far is written; False if ``timeout`` ran out."""
        with self._lock:
            if self._pid != os.getpid():
                return True
            target = self._handed
            self._urgent = True
            self._changed.notify_all()
            return self._changed.wait_for(lambda: self._done >= target, timeout)

    def wait_for(self, search_query: SearchQuery) -> None:
        """Return once ``search_query`` is written, if it was handed over (not in the thread)."""
        if id(search_query) in self._waiting and threading.get_ident() != self._thread_id:
            self.flush(EXIT_WAIT_SECONDS)

    def _loop(self) -> None:
        from django.db import close_old_connections

        while True:
            with self._lock:
                self._changed.wait_for(lambda: bool(self._rows))
                urgent = self._urgent
            if not urgent:
                time.sleep(GATHER_SECONDS)  # let a burst of searches gather
            with self._lock:
                rows, self._rows = self._rows, []
                self._urgent = False
            try:
                close_old_connections()
                _write(rows)
            except Exception:  # keep the thread for the next rows: say what was lost
                logger.exception("Writing %d query log rows failed.", len(rows))
            finally:
                close_old_connections()
                with self._lock:
                    self._done += len(rows)
                    self._waiting.difference_update(id(row) for _, row in rows)
                    self._changed.notify_all()


def _write(rows: list[tuple[str, SearchQuery]]) -> None:
    """Write ``rows`` per database in batches; a refused batch is tried row by row."""
    from djangoes.search.models import SearchQuery

    by_alias: dict[str, list[SearchQuery]] = {}
    for alias, row in rows:
        by_alias.setdefault(alias, []).append(row)
    for alias, objects in by_alias.items():
        try:
            SearchQuery.objects.using(alias).bulk_create(objects, batch_size=BATCH_ROWS)
            continue
        except DatabaseError:
            logger.warning(
                "Writing %d query log rows in one batch failed; writing them one by one.",
                len(objects),
                exc_info=True,
            )
        for row in objects:
            row.pk = None  # a key the refused batch gave it (rolled back, so no row has it)
            try:
                row.save(using=alias, force_insert=True)
            except DatabaseError:
                row.pk = None  # nothing was written
                logger.exception(
                    "A query log row of index %r could not be written (search terms %r).",
                    row.index,
                    row.search_terms,
                )


_writer = QueryLogWriter()


def log(search_query: SearchQuery) -> None:
    """Save ``search_query``: now inside a transaction, else by the writer thread.

    Also now on a database the thread cannot share (in-memory SQLite, as in
    many test settings: another thread's connection would lock its tables).
    """
    from djangoes.sync.queue import threads_share

    alias = router.db_for_write(type(search_query), instance=search_query)
    if transaction.get_connection(alias).in_atomic_block or not threads_share(alias):
        search_query.save(using=alias)
    else:
        _writer.add(alias, search_query)


def wait_until_written(search_query: SearchQuery) -> None:
    """Write ``search_query`` first if it waits for the thread (``pk`` and ``save()`` call this)."""
    _writer.wait_for(search_query)


def flush_query_log(timeout: float | None = None) -> bool:
    """Wait until this process has written every query log row of its searches so far.

    Returns False if ``timeout`` seconds ran out first. Rows of searches run
    in autocommit mode are written by a thread, in batches (see
    :mod:`djangoes.search.logwriter`); call this before reading them back
    in the same process (a test, the end of a script).
    """
    return _writer.flush(timeout)
