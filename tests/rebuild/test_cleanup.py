"""cleanup_search_indexes: physical indexes nothing needs are found and removed, others never."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from typing import Any

import pytest
from django.core.management import call_command

from djangoes import connections
from djangoes.backends.abstracts import Base
from djangoes.indexing import (
    cleanup_index,
    find_leftovers,
    index_state,
    physical_indexes,
    rebuild_index,
)
from djangoes.indexing.lifecycle import creation_parts
from djangoes.indexing.names import create_physical, get_target, physical_name
from djangoes.models import IndexRebuild

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def live(conn: Base) -> list[str]:
    return sorted(index_state(conn, "blog").indices)


def crashed_rebuild_index() -> str:
    """A physical index as a rebuild that died before its switch leaves it (newest of all)."""
    target = get_target("blog")
    return create_physical(target, creation_parts(target, connections.options)[0])


def ancient_index(conn: Base) -> str:
    """A physical index older than every other (left by a crash long ago)."""
    name = physical_name("blog", datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    conn.meta.indices.create(index=name)
    return name


def lock(new_index: str = "", stage: str = "loading") -> IndexRebuild:
    return IndexRebuild.objects.create(
        connection="default", name="blog", index="blog", new_index=new_index, stage=stage,
        owner="c" * 32, host="web-3.example.com", pid=99,
    )  # fmt: skip


def run(*args: str, stdin: str | None = None) -> str:
    out = io.StringIO()
    extra: dict[str, Any] = {"stdin": io.StringIO(stdin)} if stdin is not None else {}
    call_command("cleanup_search_indexes", *args, stdout=out, **extra)
    return out.getvalue()


def test_leftovers_go_the_live_and_the_kept_indexes_stay(
    conn: Base, blog: dict[str, Any], rebuild_settings: Any
) -> None:
    rebuild_settings.DJANGOES = {**rebuild_settings.DJANGOES, "KEEP_OLD_INDEXES": 1}
    first = live(conn)[0]
    rebuild_index("blog")  # keeps `first`
    crashed, ancient = crashed_rebuild_index(), ancient_index(conn)
    found = find_leftovers("blog")
    assert found.live == live(conn)
    assert found.kept == [first]
    assert found.leftovers == [crashed, ancient]
    assert (found.lock, found.protected) == (None, [])
    assert cleanup_index("blog", dry_run=True).deleted == []
    assert len(physical_indexes(conn, "blog")) == 4
    assert cleanup_index("blog").deleted == [crashed, ancient]
    assert physical_indexes(conn, "blog") == [*live(conn), first]
    assert cleanup_index("blog").deleted == []  # nothing left to do


def test_the_index_of_a_rebuild_holding_the_lock_is_protected(
    conn: Base, blog: dict[str, Any]
) -> None:
    unfinished, ancient = crashed_rebuild_index(), ancient_index(conn)
    lock(new_index=unfinished)
    found = find_leftovers("blog")
    assert found.protected == [unfinished]
    assert found.leftovers == [ancient]
    assert found.lock is not None
    assert "process 99 on host 'web-3.example.com'" in found.lock
    assert cleanup_index("blog").deleted == [ancient]
    assert unfinished in physical_indexes(conn, "blog")
    # Abandoning it: the lock goes, and its index with it.
    result = cleanup_index("blog", break_lock=True)
    assert (result.lock_broken, result.deleted) == (True, [unfinished])
    assert not IndexRebuild.objects.exists()
    assert physical_indexes(conn, "blog") == live(conn)


def test_a_rebuild_that_is_starting_protects_every_new_index(
    conn: Base, blog: dict[str, Any]
) -> None:
    """Before it records the index it created, a starting rebuild's index has no owner yet."""
    just_created = crashed_rebuild_index()
    lock(stage="starting")
    assert find_leftovers("blog").protected == [just_created]
    assert cleanup_index("blog").deleted == []


def test_the_command_shows_asks_and_deletes(conn: Base, blog: dict[str, Any]) -> None:
    crashed = crashed_rebuild_index()
    shown = run("blog", "--dry-run")
    assert f"index 'blog' (NAME 'blog') on connection 'default': live {live(conn)[0]!r}." in shown
    assert f"left behind: {crashed!r}" in shown
    assert "Dry run: nothing was deleted." in shown
    refused = run("blog", stdin="no\n")
    assert f"This will delete 1 physical index(es): {crashed!r}." in refused
    assert "Cancelled: nothing was changed." in refused
    assert crashed in physical_indexes(conn, "blog")
    done = run("blog", stdin="yes\n")
    assert f"Cleaned up index 'blog': deleted {crashed!r}." in done
    assert run("--noinput").endswith("Nothing to clean up.\n")
