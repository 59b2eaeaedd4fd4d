"""``python manage.py search_quality``: nDCG@10 of the search page's query on the judged queries.

Run it after ``demo --no-serve`` (or ``demo``) has built the index. It prints
the engine, the Python whose standard library is the corpus, each query's
nDCG@10 and the mean (see ``library.quality``).
"""

from __future__ import annotations

import platform
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from djangoes import connections
from djangoes.models import execute_count
from library import quality, search
from library.models import Entry


class Command(BaseCommand):
    help = "Print the nDCG@10 of the search page's query on the judged queries of library.quality."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--details",
            action="store_true",
            help="also list each query's first results, judged ones marked",
        )

    def handle(self, *args: Any, details: bool, **options: Any) -> None:
        indexed = execute_count(search.INDEX, save=False).total_hits
        if not indexed:
            raise CommandError(
                f"The index {search.INDEX!r} is empty: run `python example/manage.py demo "
                "--no-serve` first."
            )
        known = set(Entry.objects.values_list("qualname", flat=True))
        results = quality.measure(search.INDEX, search.query, known, sort=search.SORT)
        conn = connections[connections.alias_for_index(search.INDEX)]
        version = conn.info()["version"]
        engine = f"{version.get('distribution', 'elasticsearch')} {version['number']}"
        self.stdout.write(
            f"Engine: {engine} ({type(conn).__name__}); corpus: the standard library of "
            f"Python {platform.python_version()}, {indexed:,} entries.\n"
        )
        for result in results:
            score = "     -" if result.ndcg is None else f"{result.ndcg:6.3f}"
            self.stdout.write(f"{score}  {result.query}")
            if result.missing:
                self.stdout.write(
                    f"        judged, not in this corpus: {', '.join(result.missing)}"
                )
            if details:
                judged = quality.JUDGMENTS[result.query]
                for rank, name in enumerate(result.found, start=1):
                    grade = judged.get(name)
                    self.stdout.write(f"        {rank:2}. {name}{f'  [{grade}]' if grade else ''}")
        self.stdout.write(
            f"\nnDCG@{quality.K}: {quality.mean(results):.3f} over "
            f"{len(quality.measured(results))} judged queries."
        )
