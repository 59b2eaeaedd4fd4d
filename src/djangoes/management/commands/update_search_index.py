"""``manage.py update_search_index [index ...]``: (re)index every object of the indexes' models.

The work is :func:`djangoes.indexing.update_index`.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from djangoes.management.base import IndexCommand


class Command(IndexCommand):
    help = (
        "Index every object of the models of search indexes (their get_search_queryset), "
        "in bulk requests of CHUNK_SIZE. Exits with an error when any document could not "
        "be indexed."
    )
    action = "update"
    needs_models = True

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        self.add_chunk_size_argument(parser, "Objects read per chunk")
        self.add_parallel_argument(parser)

    def handle_index(self, key: str, using: str | None, options: dict[str, Any]) -> None:
        from djangoes.indexing import update_index

        parallel = self.parallel_option(options)

        with self.progress_bar(f"Indexing {key}") as progress:
            result = update_index(
                key,
                using=using,
                chunk_size=options["chunk_size"],
                parallel=parallel,
                progress=progress,
                raise_errors=False,
            )
        if result.failures:
            shown = "\n".join(f"  - {failure}" for failure in result.failures[:10])
            more = len(result.failures) - 10
            raise CommandError(
                f"Could not update index {key!r}: {len(result.failures)} of {result.total} "
                f"document(s) were not indexed:\n{shown}"
                + (f"\n  ... and {more} more" if more > 0 else "")
            )
        per_model = ", ".join(f"{label}: {count:,}" for label, count in result.objects.items())
        self.say(
            f"Indexed {result.indexed:,} document(s) into index {key!r} ({per_model}) "
            f"in {result.seconds:.1f} s."
        )
