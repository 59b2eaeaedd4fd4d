"""django-opensearch-dsl's document: fields declared as that library documents it.

Each field reads the model attribute of its name (``publisher`` as an object
of two keyword fields), which yields the same document as
:func:`bench.project.catalog.documents.render_document`; the worker checks it.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django_opensearch_dsl import Document, fields
from django_opensearch_dsl.registries import registry

from bench.project.catalog.documents import INDEX, index_body
from bench.project.osdsl_books.models import Book


@registry.register_document
class BookDocument(Document):  # type: ignore[misc]
    title = fields.TextField()
    summary = fields.TextField()
    sku = fields.KeywordField()
    category = fields.KeywordField()
    language = fields.KeywordField()
    published = fields.DateField()
    pages = fields.IntegerField()
    price = fields.DoubleField()
    stock = fields.IntegerField()
    publisher = fields.ObjectField(
        properties={"name": fields.KeywordField(), "country": fields.KeywordField()}
    )

    class Index:
        name = INDEX
        settings = index_body()["settings"]

    class Django:
        model = Book

    def get_queryset(self, *args: Any, **kwargs: Any) -> models.QuerySet[Any]:
        return super().get_queryset(*args, **kwargs).select_related("publisher")
