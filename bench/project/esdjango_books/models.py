"""elasticsearch-django: its ``SearchDocumentMixin`` and ``SearchDocumentManagerMixin``."""

from __future__ import annotations

from typing import Any

from django.db import models
from elasticsearch_django.models import SearchDocumentManagerMixin, SearchDocumentMixin

from bench.project.catalog import models as catalog
from bench.project.catalog.documents import render_document


class BookManager(SearchDocumentManagerMixin):
    def get_search_queryset(self, index: str = "_all") -> models.QuerySet[Any]:
        return self.get_queryset().select_related("publisher")


class Book(SearchDocumentMixin, catalog.Book):
    objects = BookManager()

    class Meta:
        proxy = True

    def as_search_document(self, *, index: str) -> dict[str, Any]:
        return render_document(self)
