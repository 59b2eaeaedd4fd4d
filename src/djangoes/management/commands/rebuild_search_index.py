"""``manage.py rebuild_search_index [index ...]``: rebuild indexes and switch to them atomically.

The work is :func:`djangoes.indexing.rebuild_index`: one rebuild per index at
a time (a lock in the database), writes made meanwhile by any process kept,
``--resume`` / ``--break-lock`` for a rebuild that was interrupted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.management.base import CommandParser

from djangoes.management.base import IndexCommand


class Command(IndexCommand):
    help = (
        "Rebuild search indexes without downtime: build a new physical index from the "
        "mapping file, load every object into it while saves made meanwhile are copied to "
        "it, move the NAME and ALIASES to it in one atomic call, then delete the old one "
        "(or keep KEEP_OLD_INDEXES of them). One rebuild per index runs at a time. Asks "
        "for confirmation unless --noinput."
    )
    action = "rebuild"
    destructive = True
    needs_models = True

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        self.add_chunk_size_argument(parser, "Objects read per chunk")
        self.add_parallel_argument(parser)
        parser.add_argument(
            "--allow-failures",
            action="store_true",
            help="Switch to the new index even if some documents could not be indexed "
            "(default: abandon the rebuild and keep the live index).",
        )
        parser.add_argument(
            "--resume",
            action="store_true",
            help="Take over an interrupted rebuild (crashed process, engine gone): reuse its "
            "new index, load it again and switch. Refused while its holder looks alive "
            "(add --break-lock to take it anyway).",
        )
        parser.add_argument(
            "--break-lock",
            action="store_true",
            help="Remove the lock of another rebuild of the index (and its unfinished index) "
            "before starting. Only when that rebuild is known not to run any more: if it "
            "does, it stops at its next heartbeat without switching.",
        )

    def confirmation_text(self, keys: Sequence[str], using: str | None) -> str:
        from djangoes import connections

        keep = connections.options.KEEP_OLD_INDEXES
        old = f"keeps the {keep} most recent old one(s)" if keep else "deletes the old one"
        return (
            f"This will rebuild {self.describe_keys(keys, using)} from the database into new "
            f"physical indexes, switch searches to them, and {old} (KEEP_OLD_INDEXES = {keep})."
        )

    def handle_index(self, key: str, using: str | None, options: dict[str, Any]) -> None:
        from djangoes.indexing import rebuild_index

        parallel = self.parallel_option(options)

        with self.progress_bar(f"Rebuilding {key}") as progress:
            result = rebuild_index(
                key,
                using=using,
                chunk_size=options["chunk_size"],
                parallel=parallel,
                progress=progress,
                allow_failures=options["allow_failures"],
                resume=options["resume"],
                break_lock=options["break_lock"],
            )
        loaded = result.loaded
        was = ", ".join(map(repr, result.previous)) or "nothing"
        how = "Resumed and rebuilt" if result.resumed else "Rebuilt"
        self.say(
            f"{how} index {key!r}: {loaded.indexed:,} document(s) in {result.new_index!r} "
            f"(was {was}) in {loaded.seconds:.1f} s."
        )
        if result.redone:
            self.say(
                f"Wrote {result.redone:,} document(s) again that the new index had refused "
                "while loading."
            )
        if result.deleted:
            self.say(f"Deleted old index(es): {', '.join(map(repr, result.deleted))}.")
        if result.kept:
            self.say(f"Kept old index(es): {', '.join(map(repr, result.kept))}.")
        if loaded.failures:
            self.stderr.write(
                f"{len(loaded.failures)} document(s) of index {key!r} were not indexed "
                "(--allow-failures):"
            )
            for failure in loaded.failures[:10]:
                self.stderr.write(f"  - {failure}")
        if result.late_failures:
            self.stderr.write(
                f"{len(result.late_failures)} change(s) made during the rebuild of index {key!r} "
                "were refused by the new index (now live); fix them and save again:"
            )
            for failure in result.late_failures[:10]:
                self.stderr.write(f"  - {failure}")
