"""Syncing what signals do not see: ``update()``, ``bulk_create()``, related models."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from djangoes.backends.abstracts import Base
from djangoes.sync import iter_chunks, sync_objects, sync_queryset, sync_related
from tests.sync.conftest import indexed
from tests.testapp.models import Author, Post

pytestmark = pytest.mark.django_db(transaction=True)


def test_sync_queryset_after_update_and_bulk_create(blog_index: Base) -> None:
    ada = Author.objects.create(name="Ada")
    Post.objects.bulk_create([Post(title=f"bulk {i}", author=ada) for i in range(7)])
    assert indexed(blog_index) == {}  # bulk_create sends no signals
    result = sync_queryset(Post.objects.all(), chunk_size=3)
    assert result.indexed == 7
    assert len(indexed(blog_index)) == 7
    Post.objects.filter(title__in=["bulk 0", "bulk 1"]).update(views=42)
    result = sync_queryset(Post.objects.filter(views=42))
    assert result.indexed == 2
    assert sorted(d["views"] for d in indexed(blog_index).values()) == [0] * 5 + [42, 42]


def test_sync_queryset_deletes_objects_that_left_the_search_queryset(blog_index: Base) -> None:
    ada = Author.objects.create(name="Ada")
    posts = [Post.objects.create(title=f"p{i}", author=ada) for i in range(3)]
    Post.objects.filter(pk=posts[0].pk).update(published=False)
    result = sync_queryset(Post.objects.all())
    assert (result.indexed, result.deleted, result.skipped) == (2, 1, 0)
    assert sorted(indexed(blog_index)) == sorted(str(p.pk) for p in posts[1:])


def test_sync_objects_waits_for_the_commit(blog_index: Base) -> None:
    ada = Author.objects.create(name="Ada")
    posts = Post.objects.bulk_create([Post(title="a", author=ada), Post(title="b", author=ada)])
    with transaction.atomic():
        sync_objects(posts)
        assert indexed(blog_index) == {}
    assert len(indexed(blog_index)) == 2
    sync_objects(posts, action="delete")
    assert indexed(blog_index) == {}


def test_sync_related_resyncs_documents_showing_the_related_object(blog_index: Base) -> None:
    sync_related(Author, lambda author: author.posts.all(), dispatch_uid="test-related")
    try:
        ada = Author.objects.create(name="Ada")
        post = Post.objects.create(title="by ada", author=ada)
        with transaction.atomic():
            ada.name = "Ada Lovelace"
            ada.save()
            assert indexed(blog_index)[str(post.pk)]["author"] == "Ada"
        assert indexed(blog_index)[str(post.pk)]["author"] == "Ada Lovelace"
    finally:
        post_save.disconnect(sender=Author, dispatch_uid="test-related")
        post_delete.disconnect(sender=Author, dispatch_uid="test-related")


def test_iter_chunks_pages_by_primary_key(django_assert_num_queries: Any) -> None:
    ada = Author.objects.create(name="Ada")
    Post.objects.bulk_create([Post(title=str(i), author=ada) for i in range(10)])
    with django_assert_num_queries(3):  # 4 + 4 + 2 rows: the short page ends it
        chunks = list(iter_chunks(Post.objects.all(), 4))
    assert [len(c) for c in chunks] == [4, 4, 2]
    pks = [p.pk for chunk in chunks for p in chunk]
    assert pks == sorted(pks)
