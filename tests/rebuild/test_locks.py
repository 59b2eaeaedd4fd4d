"""The rebuild lock: one rebuild per index, a clear error, breaking, resuming, interruptions.

A lock held by "another process" is a row of the rebuild table written here,
as that process would have written it (another host, or a process of this
host that no longer runs).
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db import connections as db_connections
from django.utils import timezone

from djangoes import connections
from djangoes.backends.abstracts import Base
from djangoes.indexing import (
    LifecycleError,
    NothingToResume,
    RebuildInterrupted,
    RebuildLocked,
    RebuildLockLost,
    delete_index,
    dualwrite,
    index_state,
    physical_indexes,
    rebuild_index,
)
from djangoes.indexing.lifecycle import creation_parts
from djangoes.indexing.names import create_physical, get_target
from djangoes.models import IndexRebuild
from djangoes.sync.sending import index_objects
from tests.rebuild.helpers import database_documents, index_documents
from tests.rebuild.proxy import proxy_to
from tests.testapp.models import Post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def live(conn: Base) -> list[str]:
    return sorted(index_state(conn, "blog").indices)


def dead_pid() -> int:
    """The id of a process of this host that has ended."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def held_by(*, host: str, pid: int, new_index: str = "", stage: str = "loading") -> IndexRebuild:
    """The lock row another process would have written for the blog index."""
    now = timezone.now()
    return IndexRebuild.objects.create(
        connection="default",
        name="blog",
        index="blog",
        new_index=new_index,
        stage=stage,
        owner="f" * 32,
        host=host,
        pid=pid,
        started_at=now - timedelta(minutes=10),
        heartbeat_at=now - timedelta(seconds=5),
    )


def unfinished_index(conn: Base) -> str:
    """A physical index as an interrupted rebuild leaves it (made from the mapping, half full)."""
    target = get_target("blog")
    body, _ = creation_parts(target, connections.options)
    name = create_physical(target, body)
    first = Post.objects.order_by("pk").first()
    assert first is not None
    first.title = "stale"  # what the row held when the interrupted rebuild read it
    assert index_objects("blog", [first], target=name, version=1).indexed == 1
    return name


def test_the_lock_row_while_a_rebuild_runs(conn: Base, blog: dict[str, Any]) -> None:
    seen: list[IndexRebuild] = []

    def progress(done: int, total: int | None) -> None:
        if done:
            seen.append(IndexRebuild.objects.get())

    result = rebuild_index("blog", progress=progress)
    row = seen[0]
    assert (row.index, row.connection, row.name) == ("blog", "default", "blog")
    assert (row.host, row.pid, row.stage) == (socket.gethostname(), os.getpid(), "loading")
    assert row.new_index == result.new_index
    assert all(later.heartbeat_at >= row.heartbeat_at for later in seen)
    assert not IndexRebuild.objects.exists()  # released


def test_a_second_rebuild_is_refused_naming_the_holder(conn: Base, blog: dict[str, Any]) -> None:
    before = live(conn)
    held_by(host="web-7.example.com", pid=4242, new_index="blog-20250102t030405123456")
    with pytest.raises(RebuildLocked) as info:
        rebuild_index("blog")
    message = str(info.value)
    assert "another rebuild holds its lock" in message
    assert "process 4242 on host 'web-7.example.com' since " in message
    assert "(10 min ago; last heartbeat 5 s ago, stage 'loading', building " in message
    assert "rebuild_search_index blog --resume" in message
    assert "rebuild_search_index blog --break-lock" in message
    assert "cleanup_search_indexes blog --break-locks" in message
    assert info.value.holder.pid == 4242
    assert live(conn) == before
    assert physical_indexes(conn, "blog") == before  # nothing was created
    with pytest.raises(CommandError, match="Could not rebuild index 'blog': Cannot rebuild"):
        call_command("rebuild_search_index", "blog", "--noinput", verbosity=0)


def test_a_holder_that_is_gone_is_said_to_be(conn: Base, blog: dict[str, Any]) -> None:
    held_by(host=socket.gethostname(), pid=dead_pid())
    with pytest.raises(RebuildLocked, match="that process is no longer running, so the rebuild"):
        rebuild_index("blog")


def test_two_rebuilds_in_two_threads(conn: Base, blog: dict[str, Any]) -> None:
    """The first holds its lock until the second has been refused."""
    database = connection
    if database.vendor == "sqlite" and database.is_in_memory_db():
        pytest.skip("threads cannot share an in-memory SQLite database (test_processes covers it)")
    refused = threading.Event()
    outcomes: dict[str, object] = {}

    def progress(done: int, total: int | None) -> None:
        refused.wait(60)

    def first() -> None:
        try:
            outcomes["first"] = rebuild_index("blog", progress=progress)
        finally:
            connections.close_all()
            db_connections.close_all()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        while not IndexRebuild.objects.exists():
            pass  # the first thread takes the lock
        with pytest.raises(RebuildLocked):
            rebuild_index("blog")
    finally:
        refused.set()
        thread.join(60)
    assert live(conn) == [outcomes["first"].new_index]  # type: ignore[attr-defined]


def test_break_lock_takes_over_and_the_old_holder_stops(conn: Base, blog: dict[str, Any]) -> None:
    """A rebuild whose lock is broken under it stops at its next chunk, without switching."""
    taken_over: list[Any] = []

    def progress(done: int, total: int | None) -> None:
        if done and not taken_over:
            taken_over.append(rebuild_index("blog", break_lock=True))

    with pytest.raises(RebuildLockLost, match="lost its lock"):
        rebuild_index("blog", progress=progress)
    winner = taken_over[0].new_index
    assert live(conn) == [winner]
    assert physical_indexes(conn, "blog") == [winner]  # the stopped one's index is gone
    assert index_documents(conn) == database_documents()
    assert not IndexRebuild.objects.exists()


def test_resume_takes_over_an_interrupted_rebuild(conn: Base, blog: dict[str, Any]) -> None:
    old = live(conn)
    unfinished = unfinished_index(conn)
    held_by(host=socket.gethostname(), pid=dead_pid(), new_index=unfinished)
    result = rebuild_index("blog", resume=True)
    assert result.resumed
    assert result.new_index == unfinished
    assert live(conn) == [unfinished]
    assert physical_indexes(conn, "blog") == [unfinished]
    assert result.previous == old
    assert index_documents(conn) == database_documents()  # the stale document was replaced


def test_resume_builds_a_new_index_when_the_mapping_changed(
    conn: Base, blog: dict[str, Any], rebuild_settings: Any
) -> None:
    unfinished = unfinished_index(conn)
    held_by(host="gone.example.com", pid=1, new_index=unfinished, stage="interrupted")
    mapping = rebuild_settings.DJANGOES["MAPPINGS_DIR"] + "/blog.json"
    with open(mapping, encoding="utf-8") as handle:
        text = handle.read()
    with open(mapping, "w", encoding="utf-8") as handle:
        handle.write(text.replace('"body": {"type": "text"}', '"body": {"type": "keyword"}'))
    result = rebuild_index("blog", resume=True)
    assert result.new_index != unfinished
    assert live(conn) == [result.new_index]
    assert physical_indexes(conn, "blog") == [result.new_index]  # the stale one retired
    mapping_now = conn.meta.indices.get_mapping(index=result.new_index)
    assert mapping_now[result.new_index]["mappings"]["properties"]["body"]["type"] == "keyword"


def test_resume_is_refused_while_the_holder_looks_alive(conn: Base, blog: dict[str, Any]) -> None:
    unfinished = unfinished_index(conn)
    held_by(host=socket.gethostname(), pid=os.getpid(), new_index=unfinished)
    with pytest.raises(RebuildLocked, match="it looks alive"):
        rebuild_index("blog", resume=True)
    result = rebuild_index("blog", resume=True, break_lock=True)
    assert result.new_index == unfinished


def test_resume_without_an_interrupted_rebuild(conn: Base, blog: dict[str, Any]) -> None:
    with pytest.raises(NothingToResume, match="no interrupted rebuild of index 'blog'"):
        rebuild_index("blog", resume=True)


def test_no_rebuild_inside_a_transaction(conn: Base, blog: dict[str, Any]) -> None:
    with (
        pytest.raises(LifecycleError, match="inside a database transaction"),
        transaction.atomic(),
    ):
        rebuild_index("blog")
    assert not IndexRebuild.objects.exists()


def test_an_engine_gone_midway_leaves_a_rebuild_to_resume(
    rebuild_settings: Any, engine_url: str, blog: dict[str, Any]
) -> None:
    """The network to the engine is cut (a real proxy) after two chunks, then restored.

    The rebuild retries for RETRY_BUDGET seconds (2 here) before it stops.
    """
    rebuild_settings.DJANGOES = {**rebuild_settings.DJANGOES, "RETRY_BUDGET": 2}
    with proxy_to(engine_url) as proxy:
        rebuild_settings.ES_SERVERS = {
            "default": {
                **rebuild_settings.ES_SERVERS["default"],
                "HOSTS": [proxy.url],
                "PARAMS": {"max_retries": 0},
            }
        }
        conn = connections["default"]
        old = live(conn)

        def progress(done: int, total: int | None) -> None:
            if done >= 10:
                proxy.cut()

        with pytest.raises(RebuildInterrupted, match="was interrupted") as info:
            rebuild_index("blog", progress=progress)
        message = str(info.value)
        assert "rebuild_search_index blog --resume" in message
        row = IndexRebuild.objects.get()
        assert (row.stage, row.new_index) == ("interrupted", info.value.new_index)
        proxy.restore()
        assert live(conn) == old  # searches never left the old index
        Post.objects.filter(pk=blog["posts"][0].pk).update(title="changed while down")
        result = rebuild_index("blog", resume=True)
        assert result.new_index == info.value.new_index
        assert index_documents(conn) == database_documents()


def test_without_the_rebuild_table(
    conn: Base, blog: dict[str, Any], caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Before 'migrate': saves still sync (and say once why nothing is copied); rebuilds refuse."""
    monkeypatch.setattr(dualwrite, "_warned_missing_table", False)
    call_command("migrate", "djangoes", "0002", verbosity=0)
    try:
        with pytest.raises(LifecycleError, match=r"Run 'python manage\.py migrate djangoes'"):
            rebuild_index("blog")
        post = blog["posts"][0]
        for title in ("saved once", "saved twice"):
            post.title = title
            post.save()
        assert index_documents(conn)[str(post.pk)]["title"] == "saved twice"
        warnings = [r for r in caplog.records if "so no index can be rebuilding" in r.message]
        assert len(warnings) == 1
    finally:
        call_command("migrate", "djangoes", verbosity=0)


def test_an_index_being_rebuilt_cannot_be_deleted(conn: Base, blog: dict[str, Any]) -> None:
    refusals: list[str] = []

    def progress(done: int, total: int | None) -> None:
        if done == 5:
            with pytest.raises(RebuildLocked, match="a rebuild of it holds its lock") as info:
                delete_index("blog")
            refusals.append(str(info.value))
            with pytest.raises(CommandError, match="Could not delete index 'blog'"):
                call_command("delete_search_index", "blog", "--noinput", verbosity=0)

    result = rebuild_index("blog", progress=progress)
    assert "cleanup_search_indexes blog --break-locks" in refusals[0]
    assert live(conn) == [result.new_index]


def test_a_new_index_deleted_while_loading_is_never_switched_to(
    conn: Base, blog: dict[str, Any]
) -> None:
    """The engine makes the index again from the next writes, without the mapping."""
    before = live(conn)

    def progress(done: int, total: int | None) -> None:
        if done == 5:
            conn.meta.indices.delete(index=IndexRebuild.objects.get().new_index)

    with pytest.raises(LifecycleError, match="does not have the mapping it was created with"):
        rebuild_index("blog", progress=progress)
    assert live(conn) == before
    assert physical_indexes(conn, "blog") == before
    assert not IndexRebuild.objects.exists()
