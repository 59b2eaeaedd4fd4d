"""django-elasticsearch-dsl's document: fields declared as that library documents it.

The fields are those of :func:`bench.project.catalog.documents.dsl_fields`
(the same for django-opensearch-dsl); the worker checks the mapping and the
documents written.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django_elasticsearch_dsl import Document, Index, fields
from django_elasticsearch_dsl.registries import registry

from bench.project.catalog.documents import INDEX, dsl_fields, index_body
from bench.project.dsl_books.models import Book

books = Index(INDEX)
books.settings(**index_body()["settings"])


class _Django:
    model = Book


def _get_queryset(self: Any) -> models.QuerySet[Any]:
    return super(BookDocument, self).get_queryset().select_related("publisher")


BookDocument = registry.register_document(
    books.document(
        type(
            "BookDocument",
            (Document,),
            {
                **dsl_fields(fields),
                "Django": _Django,
                "get_queryset": _get_queryset,
                "__module__": __name__,
            },
        )
    )
)
