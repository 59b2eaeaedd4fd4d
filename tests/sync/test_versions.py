"""Document versions: a stale write can never overwrite a newer document."""

from __future__ import annotations

import pytest

from djangoes.backends.abstracts import Base
from djangoes.sync.clock import next_version
from djangoes.sync.sending import index_objects
from tests.sync.conftest import indexed
from tests.testapp.models import Author, Post

pytestmark = pytest.mark.django_db(transaction=True)


def test_versions_increase_strictly_within_a_process() -> None:
    versions = [next_version() for _ in range(1000)]
    assert versions == sorted(set(versions))


def test_an_older_write_arriving_late_is_superseded(blog_index: Base) -> None:
    post = Post.objects.create(title="first", author=Author.objects.create(name="Ada"))
    version = next_version()  # a late writer read the row as "first"...
    stale = list(Post.objects.filter(pk=post.pk))
    post.title = "second"
    post.save()  # ...then this save was committed and synced, with a newer version
    result = index_objects("blog", stale, version=version)
    assert (result.indexed, result.superseded, result.failures) == (0, 1, [])
    assert indexed(blog_index)[str(post.pk)]["title"] == "second"


def test_a_bulk_load_read_before_a_save_does_not_undo_it(blog_index: Base) -> None:
    """The race of a reindex: rows read, a save commits and syncs, then the chunk is sent."""
    ada = Author.objects.create(name="Ada")
    post = Post.objects.create(title="before", author=ada)
    version = next_version()  # the loader's read
    stale_chunk = list(Post.objects.filter(pk=post.pk))
    fresh = Post.objects.get(pk=post.pk)
    fresh.title = "after"
    fresh.save()
    result = index_objects("blog", stale_chunk, version=version)
    assert result.superseded == 1
    assert indexed(blog_index)[str(post.pk)]["title"] == "after"


def test_a_stale_write_after_a_delete_does_not_bring_the_document_back(blog_index: Base) -> None:
    post = Post.objects.create(title="doomed", author=Author.objects.create(name="Ada"))
    version = next_version()  # a loader read the row...
    stale_copy = Post.objects.get(pk=post.pk)
    post.delete()  # ...then it was deleted and the delete synced
    result = index_objects("blog", [stale_copy], version=version)
    assert result.superseded == 1
    assert indexed(blog_index) == {}
