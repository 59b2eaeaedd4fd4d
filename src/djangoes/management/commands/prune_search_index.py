"""``manage.py prune_search_index [index ...]``: delete documents whose objects are gone.

The work is :func:`djangoes.indexing.prune_index`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.management.base import CommandParser

from djangoes.management.base import IndexCommand


class Command(IndexCommand):
    help = (
        "Delete from search indexes the documents whose objects are no longer in any of "
        "the index's models' search querysets. Asks for confirmation unless --noinput."
    )
    action = "prune"
    destructive = True
    needs_models = True

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        self.add_chunk_size_argument(parser, "Documents checked per page")

    def confirmation_text(self, keys: Sequence[str], using: str | None) -> str:
        return (
            f"This will delete from {self.describe_keys(keys, using)} every document whose "
            "object is no longer in its model's search queryset."
        )

    def handle_index(self, key: str, using: str | None, options: dict[str, Any]) -> None:
        from djangoes.indexing import prune_index

        with self.progress_bar(f"Pruning {key}") as progress:
            result = prune_index(
                key, using=using, chunk_size=options["chunk_size"], progress=progress
            )
        self.say(
            f"Pruned index {key!r}: {result.deleted:,} of {result.checked:,} document(s) deleted."
        )
