"""Models of the test suite: a blog with authors, posts and tags."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models

from djangoes.models import SearchDocumentManagerMixin, SearchDocumentMixin


class Author(models.Model):
    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name


class PostManager(SearchDocumentManagerMixin, models.Manager["Post"]):
    def get_search_queryset(self, index: str = "_all") -> models.QuerySet[Post]:
        return self.get_queryset().filter(published=True).select_related("author")


class Post(SearchDocumentMixin, models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="posts")
    published = models.BooleanField(default=True)
    views = models.IntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    objects = PostManager()

    def __str__(self) -> str:
        return self.title

    def as_search_document(self, *, index: str) -> dict[str, Any]:
        return {
            "title": self.title,
            "body": self.body,
            "author": self.author.name,
            "views": self.views,
            "created": self.created,
        }


class PageManager(SearchDocumentManagerMixin, models.Manager["Page"]):
    pass


class Page(SearchDocumentMixin, models.Model):
    """Indexed under a UUID rather than its primary key."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True)
    title = models.CharField(max_length=200)

    search_document_id_field = "uid"
    objects = PageManager()

    def __str__(self) -> str:
        return self.title

    def as_search_document(self, *, index: str) -> dict[str, Any]:
        return {"title": self.title}


class Unsearchable(models.Model):
    """A model without the mixins, for the system checks."""

    name = models.CharField(max_length=10)

    def __str__(self) -> str:
        return self.name


class NoteManager(SearchDocumentManagerMixin, models.Manager["Note"]):
    pass


class Note(SearchDocumentMixin, models.Model):
    """Indexed under a text ``slug`` that may be missing or too long for an engine; a float."""

    slug = models.CharField(max_length=1000, null=True, blank=True)  # noqa: DJ001 - on purpose
    text = models.CharField(max_length=200, blank=True)
    score = models.FloatField(default=0.0)

    search_document_id_field = "slug"
    objects = NoteManager()

    def __str__(self) -> str:
        return self.text

    def as_search_document(self, *, index: str) -> dict[str, Any]:
        return {"text": self.text, "score": self.score}
