"""``python manage.py demo``: the example's set-up and a first search, on the embedded engine."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from djangoes import connections
from djangoes.sync import disable_search_updates, sync_queryset
from library.corpus import corpus
from library.models import Entry, Module


class Command(BaseCommand):
    help = "Load the standard library's documentation, index it and answer a search."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("query", nargs="?", default="parse a date string",
                            help="what to search for")  # fmt: skip
        parser.add_argument("--modules", type=int, default=None,
                            help="load only the first N modules (default: all)")  # fmt: skip

    def handle(self, *args: Any, query: str, modules: int | None, **options: Any) -> None:
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", verbosity=0)
        if not Entry.objects.exists():
            self.stdout.write("Loading the standard library's documentation...")
            self.load(modules)
        conn = connections["default"]
        if not conn.meta.indices.exists(index="docs"):
            conn.create_indices()
        if conn.count()["count"] != Entry.objects.count():
            self.stdout.write(f"Indexing {Entry.objects.count()} entries...")
            result = sync_queryset(Entry.objects.all())
            self.stdout.write(f"  {result.indexed} indexed.")
        self.search(query)

    def load(self, modules: int | None) -> None:
        by_name: dict[str, Module] = {}
        entries: list[Entry] = []
        with transaction.atomic(), disable_search_updates():
            for item in corpus(modules):
                module = by_name.get(item.module)
                if module is None:
                    module = Module.objects.create(
                        name=item.module, package=item.module.split(".", 1)[0]
                    )
                    by_name[item.module] = module
                entries.append(Entry(module=module, name=item.name, qualname=item.qualname,
                                     kind=item.kind, doc=item.doc, line=item.line))  # fmt: skip
            Entry.objects.bulk_create(entries, batch_size=2000)
        self.stdout.write(f"  {len(by_name)} modules, {len(entries)} documented objects.")

    def search(self, query: str) -> None:
        result = connections["default"].search(
            query={"multi_match": {"query": query, "fields": ["name^3", "summary^2", "doc"]}},
            size=5,
            source=["qualname", "kind", "summary"],
        )
        total = result["hits"]["total"]["value"]
        self.stdout.write(f'\nSearch "{query}": {total} results, the first five:')
        for hit in result["hits"]["hits"]:
            doc = hit["_source"]
            self.stdout.write(f"  {doc['qualname']} ({doc['kind']}): {doc['summary']}")
