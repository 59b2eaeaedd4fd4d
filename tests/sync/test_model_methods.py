"""The model methods of SearchDocumentMixin and SearchDocumentManagerMixin, acting at once."""

from __future__ import annotations

from typing import Any

import pytest

from djangoes import connections
from djangoes.backends.abstracts import Base
from djangoes.exceptions import NotFoundError
from djangoes.sync import disable_search_updates
from tests.sync.conftest import indexed
from tests.testapp.models import Author, Page, Post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def quiet_post(blog_index: Base) -> Post:
    """A saved post that auto-sync did not index."""
    with disable_search_updates():
        return Post.objects.create(title="Hello", body="b", author=Author.objects.create(name="A"))


def test_index_fetch_and_delete_a_document(blog_index: Base, quiet_post: Post) -> None:
    assert indexed(blog_index) == {}
    quiet_post.index_search_document(index="blog")
    fetched = quiet_post.fetch_search_document(index="blog")
    assert fetched["_id"] == str(quiet_post.pk)
    assert fetched["_source"]["title"] == "Hello"
    quiet_post.delete_search_document(index="blog")
    with pytest.raises(NotFoundError):
        quiet_post.fetch_search_document(index="blog")
    quiet_post.delete_search_document(index="blog")  # already gone: no error


def test_update_search_document_sends_a_partial_update(
    blog_index: Base, quiet_post: Post, settings: Any
) -> None:
    settings.DJANGOES = {**settings.DJANGOES, "UPDATE_STRATEGY": "partial"}
    quiet_post.index_search_document(index="blog")
    Post.objects.filter(pk=quiet_post.pk).update(title="changed in the database", views=5)
    quiet_post.views = 7  # in memory only: the document is the row's
    quiet_post.update_search_document(index="blog", update_fields=["views"])
    source = quiet_post.fetch_search_document(index="blog")["_source"]
    assert (source["views"], source["title"]) == (5, "Hello")


def test_update_search_index_actions(blog_index: Base, quiet_post: Post) -> None:
    quiet_post.update_search_index("index")
    assert str(quiet_post.pk) in indexed(blog_index)
    quiet_post.update_search_index("delete", index="blog")
    assert indexed(blog_index) == {}
    with pytest.raises(ValueError, match="action must be one of index, update, delete"):
        quiet_post.update_search_index("reindex")
    with pytest.raises(ValueError, match="is not configured in index 'shop'"):
        quiet_post.update_search_index("index", index="shop")


def test_as_search_action_gives_bulk_actions(blog_index: Base, quiet_post: Post) -> None:
    action = quiet_post.as_search_action(index="blog", action="index")
    assert action["_op_type"] == "index"
    assert (action["_index"], action["_id"]) == ("blog", str(quiet_post.pk))
    assert action["_source"]["title"] == "Hello"
    assert quiet_post.as_search_action(index="blog", action="delete") == {
        "_op_type": "delete",
        "_index": "blog",
        "_id": str(quiet_post.pk),
    }
    assert "doc" in quiet_post.as_search_action(index="blog", action="update")
    with pytest.raises(ValueError, match="'index', 'update' or 'delete'"):
        quiet_post.as_search_action(index="blog", action="upsert")


def test_in_search_queryset_and_document_ids(blog_index: Base, quiet_post: Post) -> None:
    assert Post.objects.in_search_queryset(quiet_post.pk, index="blog")
    Post.objects.filter(pk=quiet_post.pk).update(published=False)
    assert not Post.objects.in_search_queryset(quiet_post.pk, index="blog")
    page = Page(title="x")
    assert page.get_search_document_id() == str(page.uid)
    assert quiet_post.get_search_document_id() == str(quiet_post.pk)


def test_a_model_without_as_search_document_says_what_to_write(blog_index: Base) -> None:
    from djangoes.models import SearchDocumentMixin

    with pytest.raises(NotImplementedError, match=r"must implement as_search_document\(self"):
        SearchDocumentMixin().as_search_document(index="blog")


def test_the_connection_holds_one_client(blog_index: Base, quiet_post: Post) -> None:
    client = connections["default"].client
    quiet_post.index_search_document(index="blog")
    quiet_post.delete_search_document(index="blog")
    assert connections["default"].client is client
