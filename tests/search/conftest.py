"""Fixtures for search tests: the blog index of ``tests/sync`` with posts and pages in it.

Documents are written with one bulk request (``index_documents``) so that
each test decides what the index holds; the tests of the whole path from a
save to a search use the model sync instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from djangoes.backends.abstracts import Base
from tests.sync.conftest import blog_index, blog_settings
from tests.testapp.models import Author, Page, Post

__all__ = ["blog_index", "blog_settings"]

#: (title, body, author, views) of the posts of the ``posts`` fixture.
POSTS = [
    ("Searching with Django", "How django talks to a search engine.", "Ada", 30),
    ("Django admin tips", "Make the django admin yours.", "Bob", 10),
    ("Search relevance", "Scores, boosts and search ranking.", "Ada", 50),
    ("Cooking pasta", "Water, salt, pasta.", "Cy", 5),
    ("Django search pagination", "Pages of search hits in django.", "Bob", 20),
]


def index_documents(conn: Base, objects: Iterable[Any], index: str = "blog") -> None:
    """Index the documents of ``objects`` (bulk requests of 1,000); fails the test on any error.

    A generous request timeout: the machine running the suite may be busy,
    and how long the engine takes is not what these tests are about.
    """
    lines: list[dict[str, Any]] = []
    for obj in objects:
        lines.append({"index": {"_id": obj.get_search_document_id()}})
        lines.append(obj.as_search_document(index=index))
    for start in range(0, len(lines), 2_000):
        response = conn.bulk(operations=lines[start : start + 2_000], request_timeout=120)
        assert not response["errors"], response
    conn.refresh()


@pytest.fixture
def posts(blog_index: Base, db: None) -> list[Post]:
    """The posts of POSTS, in the database and in the index (in that order)."""
    authors = {name: Author.objects.create(name=name) for name in {p[2] for p in POSTS}}
    created = [
        Post.objects.create(title=title, body=body, author=authors[author], views=views)
        for title, body, author, views in POSTS
    ]
    index_documents(blog_index, created)
    return created


@pytest.fixture
def pages(blog_index: Base, db: None) -> list[Page]:
    """Two pages (document id: their UUID) in the database and in the index."""
    created = [Page.objects.create(title="About django"), Page.objects.create(title="Contact")]
    index_documents(blog_index, created)
    return created


@pytest.fixture
def user(db: None) -> Any:
    """A user of the project's user model (no password: hashing one takes a second)."""
    return get_user_model().objects.create_user(username="reader", password=None)


@pytest.fixture
def superuser_client(db: None) -> Client:
    """Django's test client, logged in as a superuser."""
    admin = get_user_model().objects.create_superuser(
        username="admin", email="admin@example.com", password=None
    )
    client = Client()
    client.force_login(admin)
    return client
