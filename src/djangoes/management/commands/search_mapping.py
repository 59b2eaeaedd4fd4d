"""``manage.py search_mapping app_label.Model [...]``: a starter mapping from model fields.

Prints the index-creation body (JSON) that :func:`djangoes.mappings.starter_mapping`
makes from the models' concrete fields, or writes it to an index's mapping
file with ``--index``. It is a starting point: documents are what
``as_search_document()`` returns, so edit the mapping to match its keys.
"""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models

from djangoes.conf import did_you_mean


class Command(BaseCommand):
    help = (
        "Print a starter mapping (JSON) generated from the fields of one or more models, "
        "or write it to an index's mapping file with --index (the index's MODELS when no "
        "model is named)."
    )

    # The system checks run after the file is written, not before: W208 would
    # otherwise report the very mapping file this command is about to write.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--skip-checks", action="store_true", help="Skip system checks.")
        parser.add_argument(
            "models",
            nargs="*",
            metavar="app_label.Model",
            help="Models to map (default with --index: the index's MODELS).",
        )
        parser.add_argument(
            "--index",
            default=None,
            help="Write the mapping to the mapping file of this ES_INDICES key instead of "
            "printing it.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Overwrite the mapping file if it exists.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.write_mapping(options)
        if not options["skip_checks"]:
            self.check()

    def write_mapping(self, options: dict[str, Any]) -> None:
        """Print the starter mapping, or write it to the mapping file of ``--index``."""
        from djangoes import connections
        from djangoes.mappings import mapping_path

        key: str | None = options["index"]
        labels: list[str] = list(options["models"])
        index = None
        if key is not None:
            try:
                index = connections.index_settings(key)
            except (KeyError, ImproperlyConfigured) as exc:
                raise CommandError(str(exc)) from exc
            labels = labels or list(index["MODELS"])
        if not labels:
            raise CommandError(
                "Name at least one model ('app_label.Model'), or an index with MODELS (--index)."
            )
        body = self.merged_mapping([self.get_model(label) for label in labels])
        text = json.dumps(body, indent=2) + "\n"
        if index is None:
            self.stdout.write(text, ending="")
            return
        path = mapping_path(index, connections.options)
        if path.exists() and not options["force"]:
            raise CommandError(
                f"The mapping file {str(path)!r} of index {key!r} exists already. Pass --force "
                "to overwrite it."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"Wrote a starter mapping for {', '.join(labels)} to {path}. Edit it to match "
                "what as_search_document() returns."
            )

    def get_model(self, label: str) -> type[models.Model]:
        """The model of ``'app_label.Model'``; CommandError with a suggestion if unknown."""
        try:
            return apps.get_model(label)
        except (LookupError, ValueError) as exc:
            known = sorted(model._meta.label for model in apps.get_models())
            raise CommandError(
                f"{label!r} is not an installed model ({exc}).{did_you_mean(label, known)} "
                "Give it as 'app_label.ModelName'."
            ) from exc

    def merged_mapping(self, model_list: list[type[models.Model]]) -> dict[str, Any]:
        """One starter body for several models (a field mapped differently keeps the first)."""
        from djangoes.mappings import starter_mapping

        body = starter_mapping(model_list[0])
        properties = body["mappings"]["properties"]
        for model in model_list[1:]:
            for name, mapping in starter_mapping(model)["mappings"]["properties"].items():
                if name not in properties:
                    properties[name] = mapping
                elif properties[name] != mapping:
                    self.stderr.write(
                        f"Field {name!r} of {model._meta.label} is mapped as {mapping} but an "
                        f"earlier model's as {properties[name]}: the first is kept."
                    )
        return body
