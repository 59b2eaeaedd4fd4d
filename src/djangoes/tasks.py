"""Celery tasks: the sync queue sent by the project's Celery workers (``djangoes[celery]``).

With ``DJANGOES = {"QUEUE_DISPATCH": "djangoes.tasks.dispatch"}`` (and the
"queue" ON_ERROR policy), the operations of a transaction are not sent by
the process that saved: after the commit, the ids of their queue rows go to
the :func:`sync_queue_entries` task, and a worker sends the documents, built
from the database's state at that moment. A request never waits for the
engine.

Workers find these tasks with ``app.autodiscover_tasks()`` (this is the
``tasks`` module of the ``djangoes`` app). Entries the engine could not take
stay in the queue with their backoff: drain them with ``manage.py search_sync
--watch``, or schedule :func:`drain_sync_queue` with Celery beat. If the
broker cannot be reached when a transaction commits, the operations are sent
inline instead, as without ``QUEUE_DISPATCH``.

This module is imported only by Celery and by ``QUEUE_DISPATCH``; it needs
the celery package.
"""

from __future__ import annotations

try:
    from celery import shared_task
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        f"djangoes.tasks needs Celery ({exc}); install it with: pip install 'djangoes[celery]'"
    ) from exc

from django.db import DEFAULT_DB_ALIAS

__all__ = ["dispatch", "drain_sync_queue", "sync_queue_entries"]


@shared_task(name="djangoes.sync_queue_entries", ignore_result=True)
def sync_queue_entries(using: str, entry_ids: list[int], claim: str) -> dict[str, int]:
    """Send the queue entries ``entry_ids`` of database ``using``; returns the counts.

    ``claim`` is the token the committing transaction wrote them with; entries
    already sent, or claimed by another live process, are skipped.
    """
    from djangoes.sync.drain import sync_entries, task_summary

    return task_summary(sync_entries(entry_ids, using=using, claim=claim))


@shared_task(name="djangoes.drain_sync_queue", ignore_result=True)
def drain_sync_queue(using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Send every due entry of the queue of ``using`` once (for Celery beat); returns the counts."""
    from djangoes.sync.drain import drain, task_summary

    return task_summary(drain(using))


def dispatch(using: str, entry_ids: list[int], claim: str) -> None:
    """``QUEUE_DISPATCH`` for Celery: hand the committed queue rows to :func:`sync_queue_entries`.

    Raises the broker's error when the task cannot be sent (djangoes then
    sends the operations inline).
    """
    sync_queue_entries.delay(using, entry_ids, claim)
