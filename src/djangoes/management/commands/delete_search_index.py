"""``manage.py delete_search_index [index ...]``: delete indexes and every document in them.

The work is :func:`djangoes.indexing.delete_index`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.management.base import CommandParser

from djangoes.management.base import IndexCommand


class Command(IndexCommand):
    help = (
        "Delete search indexes: every physical index behind each index's NAME, and older "
        "'<NAME>-<timestamp>' ones. Asks for confirmation unless --noinput."
    )
    action = "delete"
    destructive = True

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--missing-ok",
            action="store_true",
            help="Do not fail for indexes that do not exist.",
        )

    def confirmation_text(self, keys: Sequence[str], using: str | None) -> str:
        them = "them" if len(keys) > 1 else "it"
        return (
            f"This will permanently delete {self.describe_keys(keys, using)} and every "
            f"document in {them}."
        )

    def handle_index(self, key: str, using: str | None, options: dict[str, Any]) -> None:
        from djangoes.indexing import delete_index

        deleted = delete_index(key, using=using, missing_ok=options["missing_ok"])
        if deleted:
            self.say(f"Deleted index {key!r}: {', '.join(map(repr, deleted))}.")
        else:
            self.say(f"Index {key!r} does not exist: nothing deleted.")
