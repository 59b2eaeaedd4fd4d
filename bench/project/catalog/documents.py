"""The search document of a book, the same for every library, and its mapping."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from bench.project.catalog.models import Book

MAPPING_FILE = Path(__file__).resolve().parent.parent / "mappings" / "books.json"

#: The index every library writes to (on its own engine).
INDEX = "books"


@cache
def index_body() -> dict[str, Any]:
    """The index creation body (``settings`` and ``mappings``) of ``books.json``."""
    body: dict[str, Any] = json.loads(MAPPING_FILE.read_text(encoding="utf-8"))
    return body


def render_document(book: Book) -> dict[str, Any]:
    """The document of ``book``: plain JSON values, its publisher rendered in."""
    publisher = book.publisher
    return {
        "title": book.title,
        "summary": book.summary,
        "sku": book.sku,
        "category": book.category,
        "language": book.language,
        "published": book.published.isoformat(),
        "pages": book.pages,
        "price": book.price,
        "stock": book.stock,
        "publisher": {"name": publisher.name, "country": publisher.country},
    }


def dsl_fields(fields: Any) -> dict[str, Any]:
    """The document's fields declared with a DSL library's ``fields`` module.

    django-elasticsearch-dsl and django-opensearch-dsl declare fields alike:
    each reads the model attribute of its name (``publisher`` as an object of
    two keyword fields), which yields :func:`render_document`'s document.
    """
    return {
        "title": fields.TextField(),
        "summary": fields.TextField(),
        "sku": fields.KeywordField(),
        "category": fields.KeywordField(),
        "language": fields.KeywordField(),
        "published": fields.DateField(),
        "pages": fields.IntegerField(),
        "price": fields.DoubleField(),
        "stock": fields.IntegerField(),
        "publisher": fields.ObjectField(
            properties={"name": fields.KeywordField(), "country": fields.KeywordField()}
        ),
    }
