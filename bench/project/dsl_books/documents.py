"""django-elasticsearch-dsl's document: fields declared as that library documents it.

Each field reads the model attribute of its name (``publisher`` as an object
of two keyword fields), which yields the same document as
:func:`bench.project.catalog.documents.render_document`; the worker checks it.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django_elasticsearch_dsl import Document, Index, fields
from django_elasticsearch_dsl.registries import registry

from bench.project.catalog.documents import INDEX, index_body
from bench.project.dsl_books.models import Book

books = Index(INDEX)
books.settings(**index_body()["settings"])


@registry.register_document
@books.document
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

    class Django:
        model = Book

    def get_queryset(self) -> models.QuerySet[Any]:
        return super().get_queryset().select_related("publisher")
