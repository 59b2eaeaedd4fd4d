"""django-modelsearch: ``index.Indexed`` and ``search_fields``, as its README shows.

Its documents have its own layout (field names, ``_all_text``, content types),
not the shared document: the worker checks each field's value against the
database instead.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from modelsearch import index

from bench.project.catalog import models as catalog


class Book(index.Indexed, catalog.Book):  # type: ignore[misc]
    search_fields = [
        index.SearchField("title"),
        index.SearchField("summary"),
        index.FilterField("sku"),
        index.FilterField("category"),
        index.FilterField("language"),
        index.FilterField("published"),
        index.FilterField("pages"),
        index.FilterField("price"),
        index.FilterField("stock"),
        index.RelatedFields("publisher", [index.FilterField("name"), index.FilterField("country")]),
    ]

    class Meta:
        proxy = True

    @classmethod
    def get_indexed_objects(cls) -> models.QuerySet[Any]:
        return super().get_indexed_objects().select_related("publisher")
