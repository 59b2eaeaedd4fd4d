"""django-opensearch-dsl needs nothing on the model: the document is in ``documents.py``."""

from __future__ import annotations

from bench.project.catalog import models as catalog


class Book(catalog.Book):
    class Meta:
        proxy = True
