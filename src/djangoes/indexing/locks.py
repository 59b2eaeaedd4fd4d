"""The rebuild lock: one rebuild per index at a time, surviving a crashed process.

The lock is an :class:`~djangoes.indexing.models.IndexRebuild` row, unique
per (connection alias, NAME), in the project's database — so every process
and every machine of the project sees it, and it stays when the process
holding it dies. Taking it is one INSERT: of two rebuilds started together,
the database lets exactly one in; the other gets :class:`RebuildLocked`
naming who holds the lock, since when, and how to break it.

A running rebuild proves it is alive by updating ``heartbeat_at`` before
each chunk it reads (and every :data:`HEARTBEAT_INTERVAL` seconds while it
waits). Every update is conditional on the owner token, so a rebuild whose
lock was broken (``break_lock``) or taken over (``resume``) notices before
its next chunk and stops with :class:`RebuildLockLost`, before it could
switch anything. (Breaking a lock waits ``REBUILD_POLL_SECONDS`` before it
deletes the index, which also lets a chunk already on its way arrive first.)

The row is also what tells every process to dual-write (see
:mod:`djangoes.indexing.dualwrite`): removing a row that names a new index
must be followed by a pause of ``REBUILD_POLL_SECONDS`` before that index is
deleted, or a process still trusting its cached answer would write to the
deleted index and the engine would create it again.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, router, transaction
from django.utils import timezone

from djangoes.exceptions import NotFoundError
from djangoes.indexing.errors import (
    LifecycleError,
    NothingToResume,
    RebuildLocked,
    RebuildLockLost,
)
from djangoes.indexing.names import index_state

if TYPE_CHECKING:
    from djangoes.indexing.models import IndexRebuild
    from djangoes.indexing.names import Target

logger = logging.getLogger("djangoes.indexing")

#: Seconds between two heartbeats of a rebuild that waits.
HEARTBEAT_INTERVAL = 0.5
#: A holder on another host whose heartbeat is older than this is taken for dead
#: by ``resume`` (on the same host, whether its process runs is checked instead).
STALE_AFTER = 120.0


def database() -> str:
    """The database alias of the rebuild table (the router's choice for writes).

    Reads go there too: a replica lagging behind could hide a running rebuild.
    """
    from djangoes.indexing.models import IndexRebuild

    return router.db_for_write(IndexRebuild)


def poll_seconds() -> float:
    """``REBUILD_POLL_SECONDS``: how long a process may trust what it read of the table."""
    from djangoes import connections

    return float(connections.options.REBUILD_POLL_SECONDS)


def current_rebuild(target: Target) -> IndexRebuild | None:
    """The rebuild row of ``target`` (running or interrupted), or None.

    Raises LifecycleError when the rebuild table does not exist (migrations
    not run), Django's ``DatabaseError`` for other database failures.
    """
    from django.db import DatabaseError
    from django.db import connections as db_connections

    from djangoes.indexing.models import IndexRebuild

    db = database()
    try:
        row: IndexRebuild | None = (
            IndexRebuild.objects.using(db).filter(connection=target.alias, name=target.name).first()
        )
    except DatabaseError as exc:
        table = IndexRebuild._meta.db_table
        if table in db_connections[db].introspection.table_names():
            raise
        raise LifecycleError(
            target.key,
            f"Cannot rebuild or clean up {target.describe()}: the table {table!r} of the "
            f"rebuild locks does not exist in database {db!r}. Run "
            "'python manage.py migrate djangoes'.",
        ) from exc
    return row


def process_is_running(host: str, pid: int) -> bool | None:
    """Whether process ``pid`` of ``host`` runs: True/False on this host, None elsewhere.

    Also None on Windows, where asking would need another API.
    """
    if host != socket.gethostname() or sys.platform == "win32":
        return None
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def holder_is_alive(row: IndexRebuild, now: datetime | None = None) -> bool:
    """Whether the rebuild holding ``row`` looks alive (its process runs / recent heartbeat)."""
    if row.stage == row.Stage.INTERRUPTED:
        return False
    running = process_is_running(row.host, row.pid)
    if running is not None:
        return running
    age = ((now or timezone.now()) - row.heartbeat_at).total_seconds()
    return age < STALE_AFTER


def _ago(when: datetime, now: datetime) -> str:
    seconds = max(0, int((now - when).total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def describe_holder(row: IndexRebuild, now: datetime | None = None) -> str:
    """Who holds the lock, since when, doing what (for messages)."""
    now = now or timezone.now()
    started = row.started_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    building = f", building {row.new_index!r}" if row.new_index else ""
    text = (
        f"process {row.pid} on host {row.host!r} since {started} ({_ago(row.started_at, now)}; "
        f"last heartbeat {_ago(row.heartbeat_at, now)}, stage {row.stage!r}{building})"
    )
    running = process_is_running(row.host, row.pid)
    if row.stage == row.Stage.INTERRUPTED:
        text += "; it stopped because the engine could not be reached"
    elif running is False:
        text += "; that process is no longer running, so the rebuild was interrupted"
    return text


def locked_message(target: Target, row: IndexRebuild) -> str:
    """The message of :class:`RebuildLocked` for ``row``: who, since when, what to do."""
    key = target.key
    return (
        f"Cannot rebuild {target.describe()}: another rebuild holds its lock — "
        f"{describe_holder(row)}. Wait for it to finish. If it is not running any more "
        f"(its process crashed or was killed), resume it (rebuild_search_index {key} "
        f"--resume), start over (rebuild_search_index {key} --break-lock), or remove it and "
        f"its unfinished index (cleanup_search_indexes {key} --break-locks)."
    )


def require_outside_transaction(target: Target, doing: str) -> None:
    """LifecycleError when the rebuild table's database is inside ``atomic()``.

    The lock and the dual-write registration must be visible to other
    processes at once, so they cannot wait for an outer transaction's commit.
    """
    if transaction.get_connection(database()).in_atomic_block:
        raise LifecycleError(
            target.key,
            f"Cannot {doing} {target.describe()} inside a database transaction: its lock "
            "must be visible to other processes at once. Call it outside "
            "transaction.atomic() (and outside a TestCase: use TransactionTestCase).",
        )


@dataclass
class RebuildRun:
    """The lock of one running rebuild, held by this process."""

    target: Target
    row: IndexRebuild
    #: Whether the lock was taken over from an interrupted rebuild (``resume``).
    resumed: bool = False

    @property
    def db(self) -> str:
        """The database alias of the row."""
        return self.row._state.db or database()

    def _update(self, **values: object) -> None:
        from djangoes.indexing.models import IndexRebuild

        values["heartbeat_at"] = timezone.now()
        updated = (
            IndexRebuild.objects.using(self.db)
            .filter(pk=self.row.pk, owner=self.row.owner)
            .update(**values)
        )
        if not updated:
            raise RebuildLockLost(
                self.target.key,
                f"The rebuild of {self.target.describe()} lost its lock: it was broken or "
                "taken over by another run (--break-lock, --resume or "
                "cleanup_search_indexes --break-locks). This run stopped without switching "
                "anything; the live index is as it was.",
            )
        for name, value in values.items():
            setattr(self.row, name, value)

    def set_new_index(self, name: str) -> None:
        """Record the physical index being built: from now on it gets dual writes.

        Raises RebuildLockLost when the lock is no longer ours.
        """
        from djangoes.indexing import dualwrite

        self._update(new_index=name)
        dualwrite.forget()  # this process sees it at once

    def heartbeat(self, stage: str | None = None) -> None:
        """Tell the table this rebuild is alive (and, with ``stage``, what it does now).

        One conditional UPDATE, so it also checks that the lock is still
        ours: raises RebuildLockLost when it is not.
        """
        self._update(**({"stage": stage} if stage is not None else {}))

    def release(self) -> bool:
        """Remove the lock if it is still ours; returns whether it was.

        Its failed writes go with it. The caller waits ``REBUILD_POLL_SECONDS``
        before deleting the new index (see the module docstring).
        """
        from djangoes.indexing import dualwrite
        from djangoes.indexing.models import IndexRebuild

        deleted, _ = (
            IndexRebuild.objects.using(self.db)
            .filter(pk=self.row.pk, owner=self.row.owner)
            .delete()
        )
        dualwrite.forget()
        return bool(deleted)

    def wait_for_processes(self, seconds: float) -> None:
        """Sleep ``seconds`` with heartbeats: until every process has seen the new state.

        Raises RebuildLockLost when the lock is lost meanwhile.
        """
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, HEARTBEAT_INTERVAL))
            self.heartbeat()


def _identity() -> tuple[str, int, str]:
    return socket.gethostname(), os.getpid(), uuid.uuid4().hex


def acquire(target: Target, *, resume: bool = False, break_lock: bool = False) -> RebuildRun:
    """Take the rebuild lock of ``target``; returns the run holding it.

    * plain: the lock must be free, else RebuildLocked (who holds it, since
      when, how to break it);
    * ``break_lock``: an existing lock is removed first, with its unfinished
      index (:func:`abandon`), then taken;
    * ``resume``: the lock of an interrupted rebuild is taken over, keeping
      its new index; NothingToResume when there is none, RebuildLocked when its
      holder still looks alive (``break_lock`` as well takes it anyway).

    Raises LifecycleError inside a transaction (see
    :func:`require_outside_transaction`).
    """
    from djangoes.indexing.models import IndexRebuild

    require_outside_transaction(target, "rebuild")
    db = database()
    host, pid, owner = _identity()
    existing = current_rebuild(target)
    if resume:
        if existing is None:
            raise NothingToResume(
                target.key,
                f"There is no interrupted rebuild of {target.describe()} to resume. Start a "
                f"new one without --resume (rebuild_search_index {target.key}).",
            )
        if holder_is_alive(existing) and not break_lock:
            raise RebuildLocked(
                target.key,
                f"Cannot resume the rebuild of {target.describe()}: it looks alive — "
                f"{describe_holder(existing)}. If you are sure it is not running, add "
                "--break-lock to take it over anyway.",
                holder=existing,
            )
        taken = (
            IndexRebuild.objects.using(db)
            .filter(pk=existing.pk, owner=existing.owner)
            .update(
                owner=owner,
                host=host,
                pid=pid,
                heartbeat_at=timezone.now(),
                stage=IndexRebuild.Stage.STARTING,
            )
        )
        mine = current_rebuild(target)
        if not taken or mine is None:
            holder = mine or existing
            raise RebuildLocked(target.key, locked_message(target, holder), holder=holder)
        logger.info("Resuming the rebuild of %s (was %s).", target.describe(), existing)
        return RebuildRun(target, mine, resumed=True)
    if existing is not None and break_lock:
        abandon(target, existing)
    for _attempt in range(3):
        try:
            with transaction.atomic(using=db):
                created = IndexRebuild.objects.using(db).create(
                    connection=target.alias,
                    name=target.name,
                    index=target.key,
                    owner=owner,
                    host=host,
                    pid=pid,
                )
        except IntegrityError:
            found = current_rebuild(target)
            if found is None:
                continue  # released between the INSERT and the SELECT: try again
            raise RebuildLocked(target.key, locked_message(target, found), holder=found) from None
        return RebuildRun(target, created)
    raise LifecycleError(
        target.key,
        f"Could not take the rebuild lock of {target.describe()}: other rebuilds kept "
        "taking and releasing it. Try again.",
    )


def abandon(target: Target, row: IndexRebuild) -> str | None:
    """Break the lock ``row`` and delete its unfinished index; returns the index deleted.

    The row is removed only if it is unchanged (same owner); then, after
    ``REBUILD_POLL_SECONDS`` (so that no process writes to it any more), its
    new index is deleted unless it is live. A running holder notices at its
    next heartbeat and stops. Raises the djangoes ``TransportError`` family.
    """
    from djangoes.indexing import dualwrite
    from djangoes.indexing.models import IndexRebuild

    deleted, _ = (
        IndexRebuild.objects.using(row._state.db or database())
        .filter(pk=row.pk, owner=row.owner)
        .delete()
    )
    dualwrite.forget()
    if not deleted or not row.new_index:
        return None
    logger.warning(
        "Broke the rebuild lock of %s held by %s.", target.describe(), describe_holder(row)
    )
    time.sleep(poll_seconds())
    conn = target.conn
    if row.new_index in index_state(conn, target.name).indices:
        return None  # it went live after all: keep it
    try:
        conn.meta.indices.delete(index=row.new_index)
    except NotFoundError:
        return None
    return row.new_index
