"""The Python standard library's documentation as Django models."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db import models
from django.urls import reverse

from djangoes.models import SearchDocumentManagerMixin, SearchDocumentMixin
from library.corpus import identifier_words, is_deprecated, plain_text


class Module(models.Model):
    """One module of the standard library."""

    name = models.CharField(max_length=200, unique=True)
    package = models.CharField(max_length=100, db_index=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        # the search page, narrowed to this module
        return f"{reverse('library:search')}?{urlencode({'module': self.name})}"


class EntryManager(SearchDocumentManagerMixin, models.Manager["Entry"]):
    def get_search_queryset(self, index: str = "_all") -> models.QuerySet[Entry]:
        # the module is rendered into every document: load it with the entries
        return self.get_queryset().select_related("module")


class Entry(SearchDocumentMixin, models.Model):
    """A documented module, class or function."""

    KINDS = [("module", "module"), ("class", "class"), ("function", "function")]

    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="entries")
    name = models.CharField(max_length=300)
    qualname = models.CharField(max_length=300, db_index=True)
    kind = models.CharField(max_length=20, choices=KINDS)
    doc = models.TextField()
    line = models.PositiveIntegerField(default=0)

    objects = EntryManager()

    class Meta:
        verbose_name_plural = "entries"
        ordering = ["qualname"]

    def __str__(self) -> str:
        return self.qualname

    def get_absolute_url(self) -> str:
        return reverse("library:entry", args=[self.pk])

    @property
    def level(self) -> int:
        """How deep in its module: 0 for the module, 1 for a function or class, 2 for a method."""
        if self.kind == "module":
            return 0
        return self.qualname.removeprefix(self.module.name + ".").count(".") + 1

    @property
    def summary(self) -> str:
        """The first line of the docstring."""
        return self.doc.strip().split("\n", 1)[0][:200]

    def as_search_document(self, *, index: str) -> dict[str, Any]:
        return {
            "name": self.name,
            "qualname": self.qualname,
            # the words of the name: "temporary file" finds tempfile.NamedTemporaryFile
            "path": identifier_words(self.qualname),
            "module": self.module.name,
            "package": self.module.package,
            "kind": self.kind,
            # 0: a module, 1: its classes and functions, 2: their methods...
            "level": self.level,
            # modules that warn when imported rank lower
            "deprecated": is_deprecated(self.module.package),
            # searched and highlighted without the reStructuredText markup
            "doc": plain_text(self.doc),
            "summary": plain_text(self.summary),
            # the completion suggester's input: "pars" completes to "parse"
            "suggest": {"input": [self.name]},
        }
