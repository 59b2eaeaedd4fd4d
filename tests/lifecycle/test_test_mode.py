"""The lifecycle under test names, with the test indices of ``djangoes.test``.

The test utilities create NAME as a plain index; a rebuild turns it into an
alias of a physical index named after the test name. The next test's
clean-up must still remove everything.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from djangoes.backends.abstracts import Base
from djangoes.indexing import index_state, physical_indexes, update_index
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
        assert sorted(delete_test_indices(["default"])) == sorted([physical, notes])
        assert index_state(test_conn, name).kind == "missing"
        assert physical_indexes(test_conn, name) == []
    finally:
        teardown_djangoes(state)
    assert index_state(conn, "blog").kind == "missing"  # the live names were never touched
