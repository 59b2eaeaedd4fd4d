"""A book with a few text, keyword, date and numeric fields, and its publisher (a foreign key)."""

from __future__ import annotations

from django.db import models


class Publisher(models.Model):
    name = models.CharField(max_length=100)
    country = models.CharField(max_length=2)

    def __str__(self) -> str:
        return self.name


class Book(models.Model):
    title = models.CharField(max_length=200)
    summary = models.TextField()
    sku = models.CharField(max_length=20, unique=True)
    category = models.CharField(max_length=40)
    language = models.CharField(max_length=5)
    published = models.DateField()
    pages = models.IntegerField()
    price = models.FloatField()
    stock = models.IntegerField()
    publisher = models.ForeignKey(Publisher, on_delete=models.CASCADE, related_name="books")

    def __str__(self) -> str:
        return self.title


class Dataset(models.Model):
    """What the tables hold: written last by :mod:`bench.data`, so a partial load is redone."""

    version = models.CharField(max_length=40)
    rows = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.version}: {self.rows} books"
