"""Bad documents are refused one by one, naming the model, the primary key and the reason.

A document too big (MAX_DOCUMENT_SIZE), one that cannot be serialised, one
holding NaN, one holding infinity (no JSON has them: refused before sending,
never sent as invalid JSON) and one the mapping refuses are
saved in one transaction with good ones: each bad one fails alone, the good
ones are indexed. The documents are made bad by this module's replacement of
``Post.as_search_document`` (by a marker in the title) — only the model's
hook is replaced; djangoes and the engine do the rest.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db import transaction

from djangoes.backends.abstracts import Base
from djangoes.indexing import update_index
from djangoes.sync import SyncError, disable_search_updates
from tests.security.conftest import configure_errors
from tests.sync.conftest import indexed
from tests.testapp.models import Author, Post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

LIMIT = 2000


class Unserialisable:
    def __repr__(self) -> str:
        return "<Unserialisable>"


@pytest.fixture
def bad_documents(monkeypatch: pytest.MonkeyPatch, blog_settings: Any) -> None:
    """Posts titled '[big]', '[object]', '[nan]', '[conflict]' make bad documents."""
    configure_errors(blog_settings, MAX_DOCUMENT_SIZE=LIMIT)
    original = Post.as_search_document

    def as_search_document(self: Post, *, index: str) -> dict[str, Any]:
        document = original(self, index=index)
        if self.title == "[big]":
            document["body"] = "é" * LIMIT  # 2 bytes each: over the limit in bytes
        elif self.title == "[object]":
            document["extra"] = Unserialisable()
        elif self.title == "[nan]":
            document["views"] = float("nan")
        elif self.title == "[inf]":
            document["score"] = float("-inf")
        elif self.title == "[conflict]":
            document["views"] = "not a number"  # the mapping says integer
        return document

    monkeypatch.setattr(Post, "as_search_document", as_search_document)


BAD_TITLES = ["[big]", "[object]", "[nan]", "[inf]", "[conflict]"]


def make_posts(author: Author) -> tuple[list[Post], dict[str, Post]]:
    good = [Post.objects.create(title=f"good {i}", author=author) for i in range(3)]
    bad = {title: Post.objects.create(title=title, author=author) for title in BAD_TITLES}
    return good, bad


def check_failures(failures: list[Any], bad: dict[str, Post]) -> None:
    by_pk = {failure.operation.pk: failure for failure in failures}
    assert set(by_pk) == {post.pk for post in bad.values()}
    for post in bad.values():
        assert f"testapp.Post pk={post.pk}" in str(by_pk[post.pk])
    big = by_pk[bad["[big]"].pk]
    assert f"more than MAX_DOCUMENT_SIZE ({LIMIT}); it was not sent" in big.reason
    assert big.status is None  # refused before sending
    unserialisable = by_pk[bad["[object]"].pk]
    assert "the document cannot be serialised" in unserialisable.reason
    assert "Unserialisable" in unserialisable.reason
    for title in ("[nan]", "[inf]"):
        refused = by_pk[bad[title].pk]
        assert "the document cannot be serialised: it holds NaN or infinity" in refused.reason
        assert refused.status is None  # refused before sending
    conflict = by_pk[bad["[conflict]"].pk]
    assert conflict.status == 400
    assert "views" in conflict.reason


def test_auto_sync_of_a_transaction_refuses_each_bad_document_alone(
    blog_index: Base, bad_documents: None
) -> None:
    with pytest.raises(SyncError) as info, transaction.atomic():
        good, bad = make_posts(Author.objects.create(name="Ada"))
    check_failures(info.value.failures, bad)
    message = str(info.value)
    assert message.startswith("5 search document(s) not synced:")
    assert sorted(indexed(blog_index)) == sorted(str(post.pk) for post in good)


def test_the_log_policy_logs_each_bad_document(
    blog_index: Base,
    bad_documents: None,
    blog_settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure_errors(blog_settings, MAX_DOCUMENT_SIZE=LIMIT, ON_ERROR="log")
    with caplog.at_level(logging.ERROR, logger="djangoes.sync"), transaction.atomic():
        good, bad = make_posts(Author.objects.create(name="Ada"))
    logged = [r.getMessage() for r in caplog.records if r.name == "djangoes.sync"]
    assert len(logged) == 5
    for post in bad.values():
        assert any(f"testapp.Post pk={post.pk}" in line for line in logged)
    assert sorted(indexed(blog_index)) == sorted(str(post.pk) for post in good)


def test_bulk_loading_refuses_each_bad_document_alone(
    blog_index: Base, bad_documents: None
) -> None:
    with disable_search_updates():
        good, bad = make_posts(Author.objects.create(name="Ada"))
    result = update_index("blog", raise_errors=False)
    check_failures(result.failures, bad)
    assert result.indexed == len(good)
    assert sorted(indexed(blog_index)) == sorted(str(post.pk) for post in good)


def test_an_oversized_document_is_never_sent(
    blog_index: Base, bad_documents: None, blog_settings: Any
) -> None:
    blog_settings.DEBUG = True
    blog_index.reset_queries()
    with pytest.raises(SyncError):
        Post.objects.create(title="[big]", author=Author.objects.create(name="Ada"))
    assert [q["path"] for q in blog_index.queries if "_bulk" in q["path"]] == []


def test_the_size_limit_is_a_setting(
    blog_index: Base, bad_documents: None, blog_settings: Any
) -> None:
    configure_errors(blog_settings, MAX_DOCUMENT_SIZE=0)  # no limit
    post = Post.objects.create(title="[big]", author=Author.objects.create(name="Ada"))
    assert str(post.pk) in indexed(blog_index)
