"""The "queue" policy at save time: rows written in the change's transaction, settled at commit."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from djangoes import connections
from djangoes.backends.abstracts import Base
from djangoes.sync import sync_objects
from djangoes.sync.models import SyncQueueEntry
from djangoes.sync.queue import resume_sending
from tests.queue.conftest import engine_down, rows
from tests.servers import silent_server
from tests.sync.conftest import BLOG_MAPPING, indexed
from tests.testapp.models import Author, Page, Post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def run(*args: str, stdin: str | None = None) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    extra: dict[str, Any] = {"stdin": io.StringIO(stdin)} if stdin is not None else {}
    call_command("search_sync", *args, stdout=out, stderr=err, **extra)
    return out.getvalue(), err.getvalue()


def test_a_rolled_back_transaction_leaves_no_trace(queued: Base, ada: Author) -> None:
    kept = Post.objects.create(title="kept", author=ada)

    def failing() -> None:
        with transaction.atomic():
            Post.objects.create(title="never", author=ada)
            kept.title = "never either"
            kept.save()
            Page.objects.create(title="never")
            assert len(rows()) == 3  # written with the changes, inside the transaction
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        failing()
    assert rows() == []
    assert indexed(queued) == {str(kept.pk): indexed(queued)[str(kept.pk)]}
    assert indexed(queued)[str(kept.pk)]["title"] == "kept"


def test_a_rolled_back_savepoint_drops_only_its_rows(queued: Base, ada: Author) -> None:
    with transaction.atomic():
        outer = Post.objects.create(title="outer", author=ada)
        try:
            with transaction.atomic():
                Post.objects.create(title="inner", author=ada)
                raise RuntimeError("roll back the savepoint")
        except RuntimeError:
            pass
        assert [row.object_pk for row in rows()] == [str(outer.pk)]
    assert rows() == []
    assert list(indexed(queued)) == [str(outer.pk)]


def test_committed_rows_are_deleted_once_sent(queued: Base, ada: Author) -> None:
    with transaction.atomic():
        posts = [Post.objects.create(title=f"post {i}", author=ada) for i in range(3)]
        posts[0].delete()
        page = Page.objects.create(title="about")
        assert len(rows()) == 5
    assert rows() == []
    assert sorted(indexed(queued)) == sorted([str(posts[1].pk), str(posts[2].pk), str(page.uid)])


def test_outside_a_transaction_the_row_is_written_sent_and_deleted(
    queued: Base, ada: Author, settings: Any
) -> None:
    settings.DEBUG = True  # record the SQL
    from django.db import connection

    Post.objects.create(title="alone", author=ada)
    sql = [q["sql"] for q in connection.queries]
    inserts = [q for q in sql if q.startswith("INSERT") and "djangoes_syncqueueentry" in q]
    deletes = [q for q in sql if q.startswith("DELETE") and "djangoes_syncqueueentry" in q]
    assert (len(inserts), len(deletes)) == (1, 1)
    assert rows() == []
    assert len(indexed(queued)) == 1


def test_a_save_never_fails_when_the_engine_is_down(
    queued: Base, ada: Author, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    servers = engine_down(settings)
    with transaction.atomic():
        post = Post.objects.create(title="kept for later", author=ada)
        gone = Post.objects.create(title="gone", author=ada)
        gone_pk = gone.pk
        gone.delete()
    outside = Post.objects.create(title="outside", author=ada)
    left = rows()
    assert [(r.object_pk, r.action) for r in left] == [
        (str(post.pk), "index"), (str(gone_pk), "index"), (str(gone_pk), "delete"),
        (str(outside.pk), "index"),
    ]  # fmt: skip
    for row in left:
        assert (row.state, row.attempts, row.last_status) == ("pending", 1, None)
        assert "connect" in row.last_error.lower()
        assert row.next_attempt > row.last_attempt
        assert row.claimed_by == ""
    assert "stay in the queue for search_sync" in caplog.text
    settings.ES_SERVERS = servers
    out, _ = run("--ignore-backoff")
    assert "Sent 4 of 4 queue entries: 2 document(s) indexed, 1 deleted" in out
    assert rows() == []
    assert sorted(indexed(queued)) == sorted([str(post.pk), str(outside.pk)])


def test_the_backoff_is_respected_unless_told(queued: Base, ada: Author, settings: Any) -> None:
    servers = engine_down(settings)
    Post.objects.create(title="later", author=ada)
    settings.ES_SERVERS = servers
    out, _ = run()
    assert "Nothing to send." in out
    assert "Queue: 1 pending (1 waiting to be retried), 0 failed." in out
    assert "1 entry waits out their backoff: `search_sync --ignore-backoff` sends them now." in out
    out, _ = run("--ignore-backoff")
    assert "Sent 1 of 1 queue entries" in out
    assert "Queue: 0 pending (0 waiting to be retried), 0 failed." in out
    assert "--ignore-backoff" not in out


def test_attempts_and_backoff_grow(queued: Base, ada: Author, settings: Any) -> None:
    settings.DJANGOES = {**settings.DJANGOES, "QUEUE_RETRY_DELAY": 10,
                         "QUEUE_MAX_RETRY_DELAY": 25}  # fmt: skip
    engine_down(settings)
    Post.objects.create(title="later", author=ada)
    waits = []
    for _ in range(3):
        row = rows()[0]
        waits.append((row.attempts, round((row.next_attempt - row.last_attempt).total_seconds())))
        with pytest.raises(CommandError, match="could not be sent and wait for a retry"):
            run("--ignore-backoff")
    assert waits == [(1, 10), (2, 20), (3, 25)]


@pytest.fixture
def strict_index(blog_settings: Any, settings: Any) -> Base:
    """The blog index with ``author`` mapped as an integer: posts by "Ada" are refused (400)."""
    mapping = {"mappings": {"properties": {**BLOG_MAPPING["mappings"]["properties"],
                                           "author": {"type": "integer"}}}}  # fmt: skip
    settings.ES_INDICES = {"blog": {**settings.ES_INDICES["blog"], "SETTINGS": mapping}}
    settings.DJANGOES = {**settings.DJANGOES, "ON_ERROR": "queue"}
    conn = connections["default"]
    conn.create_indices()
    return conn


def test_a_document_refused_for_good_is_kept_with_the_reason_and_shown(
    strict_index: Base, caplog: pytest.LogCaptureFixture
) -> None:
    ada, number = Author.objects.create(name="Ada"), Author.objects.create(name="42")
    with transaction.atomic():
        bad = Post.objects.create(title="refused", author=ada)
        good = Post.objects.create(title="fine", author=number)
    assert list(indexed(strict_index)) == [str(good.pk)]  # the other document went
    [row] = rows()
    assert (row.object_pk, row.state, row.last_status, row.attempts) == (
        str(bad.pk), "failed", 400, 1,
    )  # fmt: skip
    assert "author" in row.last_error
    assert "Search sync failed for good" in caplog.text
    out, _ = run()
    assert "Nothing to send." in out  # failed entries are not retried by themselves
    assert "Queue: 0 pending (0 waiting to be retried), 1 failed." in out
    out, _ = run("--failed")
    assert "1 failed entries (retry with --retry-failed, drop with --purge-failed):" in out
    assert f"#{row.pk} index testapp.Post pk={bad.pk} (document '{bad.pk}') in index 'blog'" in out
    assert "(attempts: 1, last tried " in out
    assert ": [400] " in out
    with pytest.raises(CommandError, match="1 entries were refused for good"):
        run("--retry-failed")  # still refused: failed again, with a non-zero exit
    assert rows()[0].attempts == 2
    Post.objects.filter(pk=bad.pk).update(author=number)  # the data is fixed (no signal)
    out, _ = run("--retry-failed")
    assert "Put 1 failed entries back in the queue." in out
    assert "Sent 1 of 1 queue entries: 1 document(s) indexed" in out
    assert rows() == []
    assert indexed(strict_index)[str(bad.pk)]["author"] == "42"


def test_failed_entries_are_purged_after_confirmation(strict_index: Base) -> None:
    ada = Author.objects.create(name="Ada")
    Post.objects.create(title="refused", author=ada)
    assert rows(state="failed")
    out, _ = run("--purge-failed", stdin="no\n")
    assert "This will delete 1 failed entries of the sync queue" in out
    assert "Cancelled: nothing was changed." in out
    with pytest.raises(CommandError, match="Pass --noinput"):
        run("--purge-failed", stdin="")
    out, _ = run("--purge-failed", "--noinput")
    assert "Deleted 1 failed entries." in out
    assert rows() == []
    out, _ = run("--failed")
    assert "No failed entries." in out


def test_sync_objects_is_queued_too(queued: Base, ada: Author, settings: Any) -> None:
    from djangoes.sync import disable_search_updates

    with disable_search_updates():
        posts = Post.objects.bulk_create([Post(title=f"bulk {i}", author=ada) for i in range(3)])
    engine_down(settings)
    with transaction.atomic():
        sync_objects(posts)
    assert len(rows(state="pending")) == 3
    assert SyncQueueEntry.objects.filter(attempts=1).count() == 3


@contextmanager
def resumed() -> Iterator[None]:
    """Commits of this process send to every engine again after the block."""
    try:
        yield
    finally:
        resume_sending()


def test_a_hung_engine_makes_one_commit_wait_not_every_one(
    queued: Base, ada: Author, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """After a timeout, commits leave their rows for search_sync instead of waiting too.

    The hung engine is a real TCP server that accepts and never answers.
    """
    settings.DJANGOES = {**settings.DJANGOES, "QUEUE_RETRY_DELAY": 3600, "BULK_TIMEOUT": 0.5,
                         "INLINE_RETRY_BUDGET": 0}  # fmt: skip
    servers = dict(settings.ES_SERVERS)
    with resumed():
        with silent_server() as hung:
            params = {"max_retries": 0, "timeout": 0.5}
            settings.ES_SERVERS = {"default": {**servers["default"], "HOSTS": [hung.url],
                                               "PARAMS": params}}  # fmt: skip
            first = Post.objects.create(title="waited", author=ada)
            with transaction.atomic():
                later = [Post.objects.create(title=f"later {i}", author=ada) for i in range(2)]
        settings.ES_SERVERS = servers  # another cluster: commits send to it
        post = Post.objects.create(title="sent", author=ada)
        assert str(post.pk) in indexed(queued)
    waited, *skipped = rows()
    assert (waited.object_pk, waited.attempts) == (str(first.pk), 1)
    assert "timed out" in waited.last_error.lower() or "timeout" in waited.last_error.lower()
    assert [(r.object_pk, r.attempts, r.claimed_by) for r in skipped] == [
        (str(p.pk), 0, "") for p in later
    ]
    for row in skipped:
        assert row.last_error.startswith(
            "not sent: the search engine of connection 'default' did not answer in time ("
        )
        assert row.last_error.endswith("); left for search_sync")
    assert "commits leave their sync operations in the queue without waiting" in caplog.text
    out, _ = run("--ignore-backoff")
    assert "Sent 3 of 3 queue entries" in out
    assert len(indexed(queued)) == 4
