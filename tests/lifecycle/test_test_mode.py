"""The lifecycle under test names, with the test indices of ``djangoes.test``.

The test utilities lay indices out as production does (NAME an alias of
``<NAME>-<timestamp>``), with the lifecycle's own functions; a rebuild inside
a test swaps the physical index, and the next clean-up must still remove
everything, but not under a running rebuild.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from djangoes.backends.abstracts import Base
from djangoes.indexing import (
    RebuildLocked,
    get_target,
    index_state,
    locks,
    physical_indexes,
    update_index,
)
from djangoes.indexing.names import create_physical
from djangoes.test.utils import (
    create_test_indices,
    delete_test_indices,
    setup_djangoes,
    teardown_djangoes,
)
from tests.lifecycle.conftest import documents, expected_ids

pytestmark = pytest.mark.django_db(transaction=True)


def test_rebuild_under_test_names_and_the_clean_up_after_it(
    conn: Base, blog_data: dict[str, Any]
) -> None:
    state = setup_djangoes()
    try:
        from djangoes import connections

        test_conn = connections["default"]
        name = connections.index_settings("blog")["NAME"]  # test_blog, plus a worker suffix
        public = connections.index_settings("blog")["ALIASES"][0]
        notes = connections.index_settings("notes")["NAME"]
        assert name.startswith("test_blog")
        assert create_test_indices(["default"]) == [name, notes]
        update_index("blog")
        call_command("rebuild_search_index", "blog", "--noinput", verbosity=0)
        rebuilt = index_state(test_conn, name)
        assert rebuilt.kind == "alias"
        (physical,) = rebuilt.indices
        assert physical.startswith(f"{name}-")
        assert rebuilt.indices[physical] == {name, public}
        assert set(documents(test_conn, name)) == expected_ids(blog_data)
        (notes_physical,) = index_state(test_conn, notes).indices
        assert sorted(delete_test_indices(["default"])) == sorted([physical, notes_physical])
        assert index_state(test_conn, name).kind == "missing"
        assert physical_indexes(test_conn, name) == []
    finally:
        teardown_djangoes(state)
    assert index_state(conn, "blog").kind == "missing"  # the live names were never touched


def test_test_indices_are_created_as_create_search_index_creates_indexes(conn: Base) -> None:
    state = setup_djangoes("")
    try:
        create_test_indices(["default"])
        target = get_target("blog")
        laid_out = index_state(target.conn, "test_blog")
        assert laid_out.kind == "alias"
        (physical,) = laid_out.indices
        assert physical_indexes(target.conn, "test_blog") == [physical]
        assert laid_out.indices[physical] == {"test_blog", *target.aliases}
        with CaptureQueriesContext(db_connection) as queries:
            delete_test_indices(["default"])
        assert len(queries) == 0  # no rebuild under way: the lock table is not read
        assert index_state(target.conn, "test_blog").kind == "missing"
    finally:
        teardown_djangoes(state)


def test_deleting_test_indices_respects_a_running_rebuild(conn: Base) -> None:
    state = setup_djangoes("")
    try:
        create_test_indices(["default"])
        target = get_target("blog")
        run = locks.acquire(target)
        create_physical(target, {})  # a rebuild creates its new index first
        with pytest.raises(RebuildLocked, match="a rebuild of it holds its lock"):
            delete_test_indices(["default"])
        assert index_state(target.conn, "test_blog").kind == "alias"  # nothing deleted under it
        run.release()
        assert len(delete_test_indices(["default"])) == 3  # blog, the rebuild's index, notes
    finally:
        teardown_djangoes(state)
