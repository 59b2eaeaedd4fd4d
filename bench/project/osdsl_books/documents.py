"""django-opensearch-dsl's document: fields declared as that library documents it.

The fields are those of :func:`bench.project.catalog.documents.dsl_fields`
(the same for django-elasticsearch-dsl); the worker checks the mapping and
the documents written.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django_opensearch_dsl import Document, fields
from django_opensearch_dsl.registries import registry

from bench.project.catalog.documents import INDEX, dsl_fields, index_body
from bench.project.osdsl_books.models import Book


class _Index:
    name = INDEX
    settings = index_body()["settings"]


class _Django:
    model = Book


def _get_queryset(self: Any, *args: Any, **kwargs: Any) -> models.QuerySet[Any]:
    return super(BookDocument, self).get_queryset(*args, **kwargs).select_related("publisher")


BookDocument = registry.register_document(
    type(
        "BookDocument",
        (Document,),
        {
            **dsl_fields(fields),
            "Index": _Index,
            "Django": _Django,
            "get_queryset": _get_queryset,
            "__module__": __name__,
        },
    )
)
