"""``manage.py create_search_index [index ...]``: create indexes from their mapping files.

The work is :func:`djangoes.indexing.create_index`.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from djangoes.management.base import IndexCommand


class Command(IndexCommand):
    help = (
        "Create search indexes from their mapping files: each becomes a physical index "
        "'<NAME>-<timestamp>' with the index's NAME and ALIASES as aliases. Fails if an "
        "index exists already, unless --exist-ok."
    )
    action = "create"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--exist-ok",
            action="store_true",
            help="Leave indexes that exist already as they are instead of failing.",
        )

    def handle_index(self, key: str, using: str | None, options: dict[str, Any]) -> None:
        from djangoes.indexing import create_index, get_target

        physical = create_index(key, using=using, exist_ok=options["exist_ok"])
        target = get_target(key, using)
        if physical is None:
            self.say(f"Index {key!r} exists already on connection {target.alias!r}: left as it is.")
            return
        names = ", ".join(map(repr, [target.name, *target.aliases]))
        self.say(
            f"Created index {key!r} on connection {target.alias!r}: physical index "
            f"{physical!r}, searched as {names}."
        )
