"""prune_index, with regression tests for the prune defects of elasticsearch-django.

Its prune scanned the whole index once per model and asked only that model
whether each id still existed, so in a multi-model index every document of
the other models was deleted; it kept adding to one list of deletions across
models, so earlier prunes were sent again; and it looked documents up by
primary key, which broke with custom document ids.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from djangoes.backends.abstracts import Base
from djangoes.indexing import (
    IndexMissingError,
    NoModelsError,
    create_index,
    prune_index,
    update_index,
)
from djangoes.sync import disable_search_updates
from tests.lifecycle.conftest import documents, expected_ids, requests_to
from tests.testapp.models import Page, Post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def loaded(conn: Base, blog_data: dict[str, Any]) -> dict[str, Any]:
    """The blog index created and loaded with ``blog_data``."""
    create_index("blog")
    update_index("blog")
    return blog_data


def leave_querysets(data: dict[str, Any]) -> set[str]:
    """Unpublish two posts and delete one page behind the index's back; their ids."""
    posts = data["posts"][2:4]
    Post.objects.filter(pk__in=[p.pk for p in posts]).update(published=False)
    page = data["pages"][1]
    with disable_search_updates():
        Page.objects.filter(pk=page.pk).delete()
    return {str(p.pk) for p in posts} | {str(page.uid)}


def deletes_sent(conn: Base) -> list[str]:
    """Every document id named by a delete line of a bulk request, in order."""
    ids = []
    for request in requests_to(conn, "/_bulk"):
        for line in (request["body"] or "").splitlines():
            action = json.loads(line)
            if "delete" in action:
                ids.append(action["delete"]["_id"])
    return ids


def test_prune_deletes_only_what_left_the_querysets(conn: Base, loaded: dict[str, Any]) -> None:
    gone = leave_querysets(loaded)
    result = prune_index("blog")
    assert (result.checked, result.deleted) == (13, 3)
    assert set(documents(conn)) == expected_ids(loaded) - gone


def test_prune_keeps_the_other_models_documents(conn: Base, loaded: dict[str, Any]) -> None:
    """Regression: a multi-model index lost every document of the models but one."""
    result = prune_index("blog")
    assert result.deleted == 0
    docs = documents(conn)
    assert {str(p.pk) for p in loaded["posts"]} <= set(docs)
    assert {str(p.uid) for p in loaded["pages"]} <= set(docs)


def test_prune_sends_each_delete_once(conn: Base, loaded: dict[str, Any], settings: Any) -> None:
    """Regression: deletions found for one model were sent again with the next model's."""
    settings.DEBUG = True
    conn.reset_queries()
    gone = leave_querysets(loaded)
    prune_index("blog", chunk_size=2)
    sent = deletes_sent(conn)
    assert sorted(sent) == sorted(gone)


def test_a_second_prune_deletes_nothing(conn: Base, loaded: dict[str, Any], settings: Any) -> None:
    leave_querysets(loaded)
    assert prune_index("blog").deleted == 3
    settings.DEBUG = True
    conn.reset_queries()
    assert prune_index("blog").deleted == 0
    assert deletes_sent(conn) == []


def test_prune_with_custom_document_ids(conn: Base, loaded: dict[str, Any]) -> None:
    """Regression: ids were taken as primary keys; Page documents are keyed by a UUID field."""
    page = loaded["pages"][0]
    stranger = str(uuid.uuid4())
    conn.index(index="blog", id=stranger, document={"title": "no such page"})
    conn.index(index="blog", id=str(page.pk), document={"title": "pk, not uid"})
    conn.meta.indices.refresh(index="blog")
    result = prune_index("blog")
    assert result.deleted == 2
    docs = documents(conn)
    assert str(page.uid) in docs
    assert stranger not in docs
    # str(page.pk) may also be a live Post id: it stays exactly when it is one.
    assert (str(page.pk) in docs) == Post.objects.filter(pk=page.pk, published=True).exists()


def test_prune_drops_ids_no_model_could_have(conn: Base, loaded: dict[str, Any]) -> None:
    for odd in ("not-a-number", "99999999999999999999999", "-1", "007"):
        conn.index(index="blog", id=odd, document={"title": odd})
    conn.meta.indices.refresh(index="blog")
    assert prune_index("blog").deleted == 4
    assert set(documents(conn)) == expected_ids(loaded)


def test_prune_with_ids_made_by_the_model(
    conn: Base, blog_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model overriding get_search_document_id is asked through its own method.

    The override is installed on the test model for this test only.
    """
    monkeypatch.setattr(Page, "get_search_document_id", lambda self: f"page-{self.uid}")
    create_index("blog")
    update_index("blog")
    leave_querysets(blog_data)
    result = prune_index("blog")
    assert result.deleted == 3
    pages = {f"page-{p.uid}" for p in Page.objects.all()}
    assert pages <= set(documents(conn))
    assert len(documents(conn)) == 8 + 2


def test_prune_reports_progress(conn: Base, loaded: dict[str, Any]) -> None:
    calls: list[tuple[int, int | None]] = []
    prune_index("blog", chunk_size=5, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 13), (5, 13), (10, 13), (13, 13)]


def test_prune_of_a_plain_index(conn: Base, blog_data: dict[str, Any]) -> None:
    conn.create_indices()
    update_index("blog")
    gone = leave_querysets(blog_data)
    assert prune_index("blog").deleted == 3
    assert set(documents(conn)) == expected_ids(blog_data) - gone


def test_prune_refuses_missing_indexes_and_indexes_without_models(conn: Base) -> None:
    with pytest.raises(IndexMissingError):
        prune_index("blog")
    create_index("notes")
    conn.index(index="notes", id="1", document={"text": "kept"})
    with pytest.raises(NoModelsError):
        prune_index("notes")  # every document would be an orphan
    assert conn.get(index="notes", id="1")["found"]


def test_a_pruned_document_comes_back_when_its_object_does(
    conn: Base, loaded: dict[str, Any], settings: Any
) -> None:
    """The document cache must not think a pruned document is still indexed."""
    settings.DJANGOES = {**settings.DJANGOES, "AUTO_SYNC": True}
    post = loaded["posts"][0]
    Post.objects.filter(pk=post.pk).update(published=False)
    prune_index("blog")
    Post.objects.filter(pk=post.pk).update(published=True)
    Post.objects.get(pk=post.pk).save()  # the same document as before the prune
    assert str(post.pk) in documents(conn)
