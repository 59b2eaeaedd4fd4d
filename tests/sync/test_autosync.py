"""Auto-sync: saves and deletes reach the index after commit, in one bulk request.

Several tests are regression tests for defects of elasticsearch-django (see
the docstrings): sync inside the transaction, frozen settings, the
never-auto-sync format, the document cache key and timing, and an
exception leaving sync disabled.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings

from djangoes import connections, signals
from djangoes.backends.abstracts import Base
from djangoes.sync import SyncError, disable_search_updates, sync_enabled
from tests.servers import closed_port_url
from tests.sync.conftest import BLOG_MAPPING, indexed
from tests.testapp.models import Author, Page, Post

pytestmark = pytest.mark.django_db(transaction=True)


def bulk_requests(conn: Base) -> list[dict[str, Any]]:
    return [q for q in conn.queries if q["path"].split("?")[0] == "/_bulk"]


@pytest.fixture
def ada(blog_index: Base) -> Author:
    return Author.objects.create(name="Ada")


def test_save_outside_a_transaction_is_indexed_at_once(blog_index: Base, ada: Author) -> None:
    post = Post.objects.create(title="Hello", author=ada)
    docs = indexed(blog_index)
    assert docs[str(post.pk)]["title"] == "Hello"
    assert docs[str(post.pk)]["author"] == "Ada"


def test_a_transaction_is_sent_after_commit_in_one_bulk(
    blog_index: Base, ada: Author, settings: Any
) -> None:
    """Regression: elasticsearch-django synced inside the open transaction."""
    settings.DEBUG = True
    conn = connections["default"]
    with transaction.atomic():
        posts = [Post.objects.create(title=f"post {i}", author=ada) for i in range(5)]
        posts[0].title = "changed"
        posts[0].save()
        posts[1].delete()
        assert indexed(conn) == {}  # nothing sent before commit
    assert len(bulk_requests(conn)) == 1
    docs = indexed(conn)
    assert sorted(docs) == sorted(str(p.pk) for p in posts if p.pk is not None)
    assert docs[str(posts[0].pk)]["title"] == "changed"
    body = bulk_requests(conn)[0]["body"]
    assert body.count('"index":') == 4  # post 1 was created then deleted: one delete line
    assert body.count('"delete":') == 1


def test_a_rolled_back_transaction_sends_nothing(blog_index: Base, ada: Author) -> None:
    def failing_transaction() -> None:
        with transaction.atomic():
            Post.objects.create(title="never", author=ada)
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        failing_transaction()
    assert indexed(blog_index) == {}


def test_a_rolled_back_savepoint_drops_only_its_changes(blog_index: Base, ada: Author) -> None:
    with transaction.atomic():
        kept = Post.objects.create(title="kept", author=ada)
        try:
            with transaction.atomic():
                Post.objects.create(title="dropped", author=ada)
                raise RuntimeError("inner")
        except RuntimeError:
            pass
        after = Post.objects.create(title="after", author=ada)
    assert set(indexed(blog_index)) == {str(kept.pk), str(after.pk)}


def test_the_flush_runs_after_the_applications_own_commit_hooks(
    blog_index: Base, ada: Author
) -> None:
    seen: list[int] = []
    with transaction.atomic():
        Post.objects.create(title="one", author=ada)
        transaction.on_commit(lambda: seen.append(len(indexed(blog_index))))
        Post.objects.create(title="two", author=ada)
    assert seen == [0]
    assert len(indexed(blog_index)) == 2


def test_delete_removes_the_document(blog_index: Base, ada: Author) -> None:
    post = Post.objects.create(title="gone soon", author=ada)
    pk = str(post.pk)
    post.delete()
    assert pk not in indexed(blog_index)


def test_an_object_leaving_the_search_queryset_is_removed(blog_index: Base, ada: Author) -> None:
    post = Post.objects.create(title="draft", author=ada)
    assert str(post.pk) in indexed(blog_index)
    post.published = False
    post.save()
    assert str(post.pk) not in indexed(blog_index)
    post.published = True
    post.save()
    assert str(post.pk) in indexed(blog_index)


def test_custom_document_ids(blog_index: Base) -> None:
    page = Page.objects.create(title="About")
    assert indexed(blog_index) == {str(page.uid): {"title": "About"}}
    page.delete()
    assert indexed(blog_index) == {}


def test_partial_updates_send_only_mapped_changed_fields(
    blog_index: Base, ada: Author, settings: Any
) -> None:
    settings.DJANGOES = {**settings.DJANGOES, "UPDATE_STRATEGY": "partial"}
    settings.DEBUG = True
    post = Post.objects.create(title="Hello", body="text", author=ada)
    conn = connections["default"]
    conn.reset_queries()
    post.views = 7
    post.title = "not sent: not in update_fields"
    post.save(update_fields=["views"])
    bulk = bulk_requests(conn)[0]["body"]
    assert '{"doc":{"views":7}}' in bulk
    assert indexed(conn)[str(post.pk)]["title"] == "Hello"
    assert indexed(conn)[str(post.pk)]["views"] == 7


def test_a_partial_update_of_a_relation_asks_for_an_override(
    blog_index: Base, ada: Author, settings: Any
) -> None:
    settings.DJANGOES = {**settings.DJANGOES, "UPDATE_STRATEGY": "partial"}
    post = Post.objects.create(title="Hello", author=ada)
    post.author = Author.objects.create(name="Grace")
    with pytest.raises(ValueError, match="cannot serialise the relational field 'author'") as info:
        post.save(update_fields=["author"])
    assert "override as_search_document_update()" in str(info.value)


def test_full_strategy_replaces_the_whole_document(
    blog_index: Base, ada: Author, settings: Any
) -> None:
    settings.DEBUG = True
    post = Post.objects.create(title="Hello", author=ada)
    conn = connections["default"]
    conn.reset_queries()
    post.title = "New title"
    post.save(update_fields=["title"])
    assert '"index":' in bulk_requests(conn)[0]["body"]
    assert indexed(conn)[str(post.pk)]["title"] == "New title"


def test_a_partial_update_of_a_missing_document_sends_it_whole(
    blog_index: Base, ada: Author, settings: Any
) -> None:
    settings.DJANGOES = {**settings.DJANGOES, "UPDATE_STRATEGY": "partial"}
    with disable_search_updates():
        post = Post.objects.create(title="not indexed yet", author=ada)
    post.views = 3
    post.save(update_fields=["views"])
    assert indexed(blog_index)[str(post.pk)]["title"] == "not indexed yet"


def test_signals_carry_the_seed_arguments(blog_index: Base, ada: Author, settings: Any) -> None:
    received: list[tuple[str, Any]] = []

    def receiver(signal_name: str) -> Any:
        def handler(sender: Any, **kwargs: Any) -> None:
            received.append((signal_name, sender, kwargs["instance"], kwargs["index"],
                             kwargs["update_fields"]))  # fmt: skip

        return handler

    handlers = {name: receiver(name) for name in ("pre_index", "pre_update", "pre_delete")}
    for name, handler in handlers.items():
        getattr(signals, name).connect(handler)
    try:
        post = Post.objects.create(title="Hello", author=ada)
        post.save(update_fields=["title"])
        post.delete()
        settings.DJANGOES = {**settings.DJANGOES, "AUTO_SYNC": False}
        Post.objects.create(title="silent", author=ada)
    finally:
        for name, handler in handlers.items():
            getattr(signals, name).disconnect(handler)
    assert [(r[0], r[1], r[3], r[4]) for r in received] == [
        ("pre_index", Post, "blog", None),
        ("pre_update", Post, "blog", frozenset({"title"})),
        ("pre_delete", Post, "blog", None),
        ("pre_index", Post, "blog", None),  # sent with AUTO_SYNC off, for the user's own queue
    ]
    assert received[0][2] is post


def test_auto_sync_off_sends_nothing_and_override_settings_works(
    blog_index: Base, ada: Author, settings: Any
) -> None:
    """Regression: elasticsearch-django froze its settings at import."""
    with override_settings(DJANGOES={**settings.DJANGOES, "AUTO_SYNC": False}):
        Post.objects.create(title="off", author=ada)
    assert indexed(blog_index) == {}
    Post.objects.create(title="on", author=ada)
    assert [d["title"] for d in indexed(blog_index).values()] == ["on"]


@pytest.mark.parametrize("label", ["testapp.Post", "testapp.post", "TESTAPP.POST"])
def test_never_auto_sync_matches_app_model_labels(
    blog_index: Base, ada: Author, settings: Any, label: str
) -> None:
    """Regression: elasticsearch-django's never_auto_sync never matched "app.Model"."""
    settings.DJANGOES = {**settings.DJANGOES, "NEVER_AUTO_SYNC": [label]}
    Post.objects.create(title="never", author=ada)
    Page.objects.create(title="still synced")
    assert [d["title"] for d in indexed(blog_index).values()] == ["still synced"]


def test_no_djangoes_setting_at_all_uses_the_defaults(blog_settings: Any, engine_url: str) -> None:
    """Regression: settings without defaults crashed at import or on every save."""
    del blog_settings.DJANGOES
    conn = connections["default"]
    conn.create_indices()
    post = Post.objects.create(title="defaults", author=Author.objects.create(name="Ada"))
    assert str(post.pk) in indexed(conn)


def test_disable_search_updates_is_restored_after_an_exception(
    blog_index: Base, ada: Author
) -> None:
    """Regression: elasticsearch-django left sync off when the block raised."""

    def fails_inside() -> None:
        with disable_search_updates():
            Post.objects.create(title="quiet", author=ada)
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        fails_inside()
    assert sync_enabled()
    Post.objects.create(title="heard", author=ada)
    assert [d["title"] for d in indexed(blog_index).values()] == ["heard"]


def test_disable_search_updates_is_per_thread(blog_index: Base, ada: Author) -> None:
    other_thread_saw: list[bool] = []
    with disable_search_updates():
        thread = threading.Thread(target=lambda: other_thread_saw.append(sync_enabled()))
        thread.start()
        thread.join()
        assert not sync_enabled()
    assert other_thread_saw == [True]


@pytest.fixture
def two_indexes(settings: Any, engine_url: str, tmp_path: Any) -> Base:
    settings.ES_SERVERS = {
        "default": {
            "HOSTS": [engine_url],
            "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
            "INDICES": ["blog", "archive"],
        }
    }
    settings.ES_INDICES = {
        "blog": {"MODELS": ["testapp.Post"], "SETTINGS": BLOG_MAPPING},
        "archive": {"MODELS": ["testapp.Post"], "SETTINGS": BLOG_MAPPING},
    }
    settings.DJANGOES = {"MAPPINGS_DIR": str(tmp_path)}
    conn = connections["default"]
    conn.create_indices()
    return conn


def test_a_model_in_two_indexes_is_written_to_both(two_indexes: Base, settings: Any) -> None:
    """Regression: the document cache key left out the index, so only the first got it."""
    settings.DEBUG = True
    post = Post.objects.create(title="twice", author=Author.objects.create(name="Ada"))
    for name in ("blog", "archive"):
        assert two_indexes.get(index=name, id=str(post.pk))["_source"]["title"] == "twice"
    assert len(bulk_requests(two_indexes)) == 1


def test_every_committed_save_is_sent_even_when_the_document_looks_unchanged(
    blog_index: Base, ada: Author, settings: Any
) -> None:
    """No cache decides what the index holds: another process may have written since."""
    settings.DEBUG = True
    settings.DJANGOES = {**settings.DJANGOES, "CACHE_EXPIRY": 60}  # accepted, without effect
    post = Post.objects.create(title="same", author=ada)
    conn = connections["default"]
    conn.reset_queries()
    post.save()
    post.update_search_index("index", force=True)
    assert len(bulk_requests(conn)) == 2


def test_a_recreated_index_gets_documents_again(blog_index: Base, ada: Author) -> None:
    post = Post.objects.create(title="same", author=ada)
    blog_index.delete_indices()
    blog_index.create_indices()
    post.save()
    assert str(post.pk) in indexed(blog_index)


def test_a_failed_write_is_not_remembered_as_done(
    blog_index: Base, ada: Author, settings: Any, engine_url: str
) -> None:
    """Regression: the cache was set before the engine call, so a retry was skipped."""
    settings.DJANGOES = {**settings.DJANGOES, "ON_ERROR": "raise"}  # "queue" would keep it
    servers = settings.ES_SERVERS
    settings.ES_SERVERS = {
        "default": {
            **servers["default"],
            "HOSTS": [closed_port_url()],
            "PARAMS": {"max_retries": 0},
        }
    }
    with pytest.raises(SyncError) as info:
        post = Post.objects.create(title="retry me", author=ada)
    assert "testapp.Post" in str(info.value)
    assert "Connection" in str(info.value) or "connect" in str(info.value).lower()
    settings.ES_SERVERS = servers
    post = Post.objects.get(title="retry me")
    post.save()
    assert str(post.pk) in indexed(connections["default"])


def test_a_refused_document_fails_alone(blog_index: Base, ada: Author) -> None:
    good = Post(title="fine", author=ada)
    bad = Post(title="bad", author=ada, views=0)
    with disable_search_updates():
        good.save()
        bad.save()
    Post.objects.filter(pk=bad.pk).update(body="")

    class Refused(Post):
        class Meta:
            proxy = True
            app_label = "testapp"

        def as_search_document(self, *, index: str) -> dict[str, Any]:
            return {**super().as_search_document(index=index), "views": "not a number"}

    from djangoes.sync.operations import Operation
    from djangoes.sync.sending import send_operations

    with pytest.raises(SyncError) as info:
        send_operations(
            [
                Operation.for_instance("index", "blog", good),
                Operation("index", "blog", Refused, str(bad.pk), bad.pk),  # read as a Refused
            ]
        )
    failures = info.value.failures
    assert len(failures) == 1
    assert failures[0].operation.pk == bad.pk
    assert failures[0].status == 400
    assert f"testapp.Refused pk={bad.pk}" in str(info.value)
    assert "views" in failures[0].reason
    assert list(indexed(blog_index)) == [str(good.pk)]


def test_on_error_log_logs_instead_of_raising(
    blog_index: Base, ada: Author, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.DJANGOES = {**settings.DJANGOES, "ON_ERROR": "log"}
    settings.ES_SERVERS = {
        "default": {
            **settings.ES_SERVERS["default"],
            "HOSTS": [closed_port_url()],
            "PARAMS": {"max_retries": 0},
        }
    }
    post = Post.objects.create(title="logged", author=ada)
    records = [r for r in caplog.records if r.name == "djangoes.sync"]
    assert len(records) == 1
    assert f"testapp.Post pk={post.pk}" in records[0].getMessage()


def test_one_client_serves_every_sync(blog_index: Base, ada: Author) -> None:
    """Regression: elasticsearch-django built a new client for every operation."""
    client = connections["default"].client
    for i in range(3):
        Post.objects.create(title=f"p{i}", author=ada)
    assert connections["default"].client is client
