"""Saves made by async code (``acreate()``, ``asave()``, ``adelete()``) are synced like sync ones.

The coroutines run as Django runs an async view (asgiref's ``async_to_sync``):
Django's async ORM methods run the save in a thread, where the signals,
the transaction's commit and the send happen as for a sync save.
"""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import transaction

from djangoes.backends.abstracts import Base
from djangoes.exceptions import NotFoundError
from djangoes.sync import SyncError, disable_search_updates
from djangoes.sync.models import SyncQueueEntry
from tests.servers import closed_port_url
from tests.sync.conftest import indexed
from tests.testapp.models import Author, Post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["raise", "queue"])
def policy_index(blog_index: Base, settings: Any, request: pytest.FixtureRequest) -> Base:
    settings.DJANGOES = {**settings.DJANGOES, "ON_ERROR": request.param}
    return blog_index


def test_acreate_asave_and_adelete_reach_the_index(policy_index: Base) -> None:
    seen: list[dict[str, Any]] = []

    # --8<-- [start:saves]
    async def main() -> None:
        ada = await Author.objects.acreate(name="Ada")
        post = await Post.objects.acreate(title="Written in a coroutine", author=ada)
        seen.append(await sync_to_async(indexed)(policy_index))
        post.title = "Changed in a coroutine"
        await post.asave()
        seen.append(await sync_to_async(indexed)(policy_index))
        await post.adelete()
        seen.append(await sync_to_async(indexed)(policy_index))

    # --8<-- [end:saves]

    async_to_sync(main)()
    created, changed, deleted = seen
    [(doc_id, doc)] = created.items()
    assert doc["title"] == "Written in a coroutine"
    assert changed[doc_id]["title"] == "Changed in a coroutine"
    assert deleted == {}
    assert not SyncQueueEntry.objects.exists()  # under "queue": written, sent, settled


def test_a_transaction_of_async_code_is_sent_after_commit_or_not_at_all(
    policy_index: Base,
) -> None:
    during: list[dict[str, Any]] = []

    def in_transaction(fail: bool) -> None:
        with transaction.atomic():
            ada = Author.objects.create(name="Ada")
            Post.objects.create(title="kept" if not fail else "rolled back", author=ada)
            during.append(indexed(policy_index))
            if fail:
                raise RuntimeError("rolled back")

    async def main() -> None:
        with pytest.raises(RuntimeError):
            await sync_to_async(in_transaction)(True)
        await sync_to_async(in_transaction)(False)

    async_to_sync(main)()
    assert during == [{}, {}]  # nothing sent before the commit
    assert [doc["title"] for doc in indexed(policy_index).values()] == ["kept"]
    assert not SyncQueueEntry.objects.exists()


# -- explicit operations from async code ------------------------------------------------


@pytest.fixture
def quiet_post(blog_index: Base) -> Post:
    """A saved post that auto-sync did not index."""
    with disable_search_updates():
        return Post.objects.create(title="Hello", body="b", author=Author.objects.create(name="A"))


def test_index_fetch_update_and_delete_one_object(blog_index: Base, quiet_post: Post) -> None:
    blog_index.force_debug = True
    steps: list[Any] = []

    # --8<-- [start:operations]
    async def main(post: Post) -> None:
        await post.aindex_search_document(index="blog")
        steps.append((await post.afetch_search_document(index="blog"))["_source"]["title"])
        post.views = 7
        await post.asave(update_fields=["views"])  # auto-sync is off around main()
        await post.aupdate_search_document(index="blog", update_fields=["views"])
        steps.append((await post.afetch_search_document(index="blog"))["_source"]["views"])
        await post.adelete_search_document(index="blog")
        with pytest.raises(NotFoundError):
            await post.afetch_search_document(index="blog")
        await post.adelete_search_document(index="blog")  # already gone: no error

    # --8<-- [end:operations]

    with disable_search_updates():  # explicit operations only
        async_to_sync(main)(quiet_post)
    assert steps == ["Hello", 7]
    assert indexed(blog_index) == {}


def test_update_search_index_from_async_code(blog_index: Base, quiet_post: Post) -> None:
    async def main(post: Post) -> None:
        await post.aupdate_search_index("index")
        assert str(post.pk) in await sync_to_async(indexed)(blog_index)
        await post.aupdate_search_index("delete", index="blog")
        with pytest.raises(ValueError, match="action must be one of index, update, delete"):
            await post.aupdate_search_index("reindex")

    async_to_sync(main)(quiet_post)
    assert indexed(blog_index) == {}


def test_an_unreachable_engine_raises_sync_error(quiet_post: Post, settings: Any) -> None:
    settings.ES_SERVERS = {
        "default": {**settings.ES_SERVERS["default"], "HOSTS": [closed_port_url()],
                    "PARAMS": {"max_retries": 0}}
    }  # fmt: skip

    async def main(post: Post) -> None:
        with pytest.raises(SyncError, match="default"):
            await post.aindex_search_document(index="blog")

    async_to_sync(main)(quiet_post)
