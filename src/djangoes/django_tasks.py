"""Django's tasks framework: the sync queue sent by the project's task workers.

With a task backend that runs tasks in workers (``TASKS``, e.g. the database
backend of ``django-tasks-db`` and its ``db_worker`` command), the operations
of a transaction are not sent by the process that saved: after the commit,
the ids of their queue rows go to the :data:`sync_queue_entries` task, and a
worker sends the documents, built from the database's state at that moment.

This is ``QUEUE_DISPATCH = "djangoes.django_tasks.dispatch"``, which is also
the default under the "queue" policy when the default task backend is neither
the immediate nor the dummy one (see ``docs/queue.md``). The framework is
``django.tasks`` on Django 6.0+, the ``django-tasks`` backport on Django 5.2.

Importing this module defines the task, which reads ``TASKS`` (as every
module of tasks does): it is imported only by the dispatch and by workers.
"""

from __future__ import annotations

from typing import Any

from djangoes.sync.drain import sync_entries, task_summary
from djangoes.tasks_api import tasks_api

__all__ = ["dispatch", "sync_queue_entries"]

_api = tasks_api()
if _api is None:  # pragma: no cover - depends on the installation
    raise ImportError(
        "djangoes.django_tasks needs Django's tasks framework: Django 6.0 or later, or on "
        "Django 5.2 the backport: pip install django-tasks"
    )


def sync_queue_entries(using: str, entry_ids: list[int], claim: str) -> dict[str, int]:
    """Send the queue entries ``entry_ids`` of database ``using``; returns the counts.

    A task (``sync_queue_entries.enqueue(using, entry_ids, claim)``). ``claim``
    is the token the committing transaction wrote the entries with; entries
    already sent, or claimed by another live process, are skipped.
    """
    return task_summary(sync_entries(entry_ids, using=using, claim=claim))


try:
    sync_queue_entries = _api.task(sync_queue_entries)
except _api.exceptions.TaskException as exc:
    raise ImportError(
        f"djangoes.django_tasks cannot define its task on the default task backend: {exc} "
        "The task uses the queue 'default': add it to TASKS['default']['QUEUES'], or set "
        "DJANGOES['QUEUE_DISPATCH'] to a function of yours that enqueues "
        "djangoes.django_tasks.sync_queue_entries.using(queue_name=...), or to None."
    ) from exc


def dispatch(using: str, entry_ids: list[int], claim: str) -> None:
    """``QUEUE_DISPATCH`` for django.tasks: enqueue :data:`sync_queue_entries` for the rows.

    Raises the backend's error when the task cannot be enqueued (djangoes then
    sends the operations inline; the rows are committed either way).
    """
    task: Any = sync_queue_entries  # a Task (the framework is untyped here)
    task.enqueue(using, entry_ids, claim)
