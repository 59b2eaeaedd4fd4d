"""Fixtures of the security and bad-input tests: the blog index of ``tests/sync``, and a
``secret`` index on the same engine that no setting names (what must stay out of reach)."""

from __future__ import annotations

from typing import Any

import pytest

from djangoes.backends.abstracts import Base
from tests.sync.conftest import blog_index, blog_settings

__all__ = ["blog_index", "blog_settings"]

SECRET = "classified document"


@pytest.fixture
def secret(blog_index: Base) -> str:
    """An index ``secret`` with one document, written with the raw client (it is not ours)."""
    blog_index.meta.indices.create(index="secret")
    blog_index.client.index(index="secret", id="1", body={"title": SECRET}, refresh=True)
    return "secret"


def configure_errors(settings: Any, **options: Any) -> None:
    """DJANGOES of the sync fixture with ``options`` (ON_ERROR 'raise' unless given)."""
    settings.DJANGOES = {**settings.DJANGOES, "ON_ERROR": "raise", **options}
