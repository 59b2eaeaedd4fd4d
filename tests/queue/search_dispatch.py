"""A dispatch function of a project's own, as ``docs/queue.md`` shows it (run by
``test_django_tasks.py``): the task on another queue, with a priority."""

from __future__ import annotations

# --8<-- [start:dispatch]
from djangoes.django_tasks import sync_queue_entries


def dispatch(using: str, entry_ids: list[int], claim: str) -> None:
    sync_queue_entries.using(queue_name="search", priority=10).enqueue(using, entry_ids, claim)


# --8<-- [end:dispatch]
