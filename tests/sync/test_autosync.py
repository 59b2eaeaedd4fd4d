"""Auto-sync: saves and deletes reach the index after commit, in one bulk request."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from djangoes.backends.abstracts import Base
from tests.sync.conftest import indexed
from tests.testapp.models import Author, Post

pytestmark = pytest.mark.django_db(transaction=True)


def test_save_outside_a_transaction_is_indexed_at_once(blog_index: Base) -> None:
    author = Author.objects.create(name="Ada")
    post = Post.objects.create(title="Hello", author=author)
    docs = indexed(blog_index)
    assert docs[str(post.pk)]["title"] == "Hello"
    assert docs[str(post.pk)]["author"] == "Ada"


def test_a_transaction_is_sent_after_commit_in_one_bulk(blog_index: Base, settings: Any) -> None:
    settings.DEBUG = True
    author = Author.objects.create(name="Ada")
    blog_index.reset_queries()
    with transaction.atomic():
        posts = [Post.objects.create(title=f"post {i}", author=author) for i in range(5)]
        posts[0].title = "changed"
        posts[0].save()
        posts[1].delete()
        assert indexed(blog_index) == {}
    bulks = [q for q in blog_index.queries if q["path"].startswith("/_bulk")]
    assert len(bulks) == 1
    docs = indexed(blog_index)
    assert sorted(docs) == sorted(str(p.pk) for p in posts if p.pk is not None)
    assert docs[str(posts[0].pk)]["title"] == "changed"


def test_a_rolled_back_transaction_sends_nothing(blog_index: Base) -> None:
    author = Author.objects.create(name="Ada")
    with pytest.raises(RuntimeError), transaction.atomic():
        Post.objects.create(title="never", author=author)
        raise RuntimeError("roll back")
    assert indexed(blog_index) == {}


def test_a_rolled_back_savepoint_drops_only_its_changes(blog_index: Base) -> None:
    author = Author.objects.create(name="Ada")
    with transaction.atomic():
        kept = Post.objects.create(title="kept", author=author)
        try:
            with transaction.atomic():
                Post.objects.create(title="dropped", author=author)
                raise RuntimeError("inner")
        except RuntimeError:
            pass
        after = Post.objects.create(title="after", author=author)
    assert sorted(d["title"] for d in indexed(blog_index).values()) == ["after", "kept"]
    assert {str(kept.pk), str(after.pk)} == set(indexed(blog_index))
