"""create_index and delete_index: versioned physical indexes behind NAME and ALIASES."""

from __future__ import annotations

import re
from typing import Any

import pytest

from djangoes.backends.abstracts import Base
from djangoes.exceptions import ConfigurationError, IndexDoesNotExist
from djangoes.indexing import (
    IndexExistsError,
    IndexMissingError,
    create_index,
    delete_index,
    index_state,
    physical_indexes,
    rebuild_index,
    update_index,
)
from djangoes.indexing.names import SUFFIX_BYTES, is_physical_of, physical_name
from tests.lifecycle.conftest import behind, documents, expected_ids
from tests.testapp.models import Post

pytestmark = pytest.mark.django_db(transaction=True)

PHYSICAL = re.compile(r"^blog-\d{8}t\d{12}$")


def test_create_makes_a_versioned_physical_index_behind_name_and_aliases(conn: Base) -> None:
    physical = create_index("blog")
    assert physical is not None
    assert PHYSICAL.match(physical)
    state = index_state(conn, "blog")
    assert state.kind == "alias"
    assert state.indices == {physical: frozenset({"blog", "blog_public"})}
    assert behind(conn, "blog_public") == [physical]
    # The mapping file was used.
    mapping = conn.meta.indices.get_mapping(index=physical)[physical]["mappings"]
    assert mapping["properties"]["author"] == {"type": "keyword"}
    assert mapping["properties"]["title"]["fields"]["raw"] == {"type": "keyword"}


def test_create_fails_clearly_when_the_index_exists(conn: Base) -> None:
    physical = create_index("blog")
    with pytest.raises(IndexExistsError) as info:
        create_index("blog")
    message = str(info.value)
    assert "index 'blog'" in message
    assert physical in message
    assert "rebuild_search_index" in message
    assert create_index("blog", exist_ok=True) is None
    assert behind(conn, "blog") == [physical]


def test_create_fails_when_name_is_a_plain_index(conn: Base) -> None:
    """The test utilities create NAME as a plain index: create refuses to shadow it."""
    conn.create_indices()
    with pytest.raises(IndexExistsError, match="a plain index"):
        create_index("blog")


def test_create_of_an_index_without_mapping_file_uses_its_settings(conn: Base) -> None:
    physical = create_index("notes")
    assert physical is not None
    assert physical.startswith("notes-")
    mapping = conn.meta.indices.get_mapping(index=physical)[physical]["mappings"]
    assert mapping["properties"]["text"] == {"type": "text"}


def test_unknown_index_and_connection_are_clear_errors(conn: Base) -> None:
    with pytest.raises(IndexDoesNotExist, match=r"ES_INDICES has no index 'nope'"):
        create_index("nope")
    with pytest.raises(IndexDoesNotExist, match="'other' has no index 'blog'"):
        create_index("blog", using="other")


def test_create_on_another_connection(conn: Base) -> None:
    physical = create_index("notes", using="other")
    assert physical is not None
    assert behind(conn, "notes") == [physical]


def test_physical_names_respect_the_engines_name_rules() -> None:
    name = physical_name("blog")
    assert name == name.lower()
    assert is_physical_of("blog", name)
    assert not is_physical_of("blog", "blog-archive")
    assert not is_physical_of("blog", "blogs-20250102t030405123456")
    longest = "x" * (255 - SUFFIX_BYTES)
    assert len(physical_name(longest).encode()) == 255
    with pytest.raises(ConfigurationError, match="too long"):
        physical_name(longest + "x")


def test_two_creations_in_a_row_get_distinct_names(conn: Base) -> None:
    first = create_index("blog")
    delete_index("blog")
    second = create_index("blog")
    assert first != second


def test_delete_removes_the_physical_index_and_its_aliases(conn: Base) -> None:
    physical = create_index("blog")
    assert delete_index("blog") == [physical]
    assert index_state(conn, "blog").kind == "missing"
    assert index_state(conn, "blog_public").kind == "missing"
    assert index_state(conn, physical).kind == "missing"


def test_delete_of_a_missing_index(conn: Base) -> None:
    with pytest.raises(IndexMissingError, match="does not exist"):
        delete_index("blog")
    assert delete_index("blog", missing_ok=True) == []


def test_delete_of_a_plain_index(conn: Base) -> None:
    conn.create_indices()
    assert delete_index("blog") == ["blog"]
    assert index_state(conn, "blog").kind == "missing"


def test_delete_also_removes_old_physical_indexes(
    conn: Base, blog_data: dict[str, Any], settings: Any
) -> None:
    settings.DJANGOES = {**settings.DJANGOES, "KEEP_OLD_INDEXES": 2}
    first = create_index("blog")
    second = rebuild_index("blog").new_index
    third = rebuild_index("blog").new_index
    assert set(physical_indexes(conn, "blog")) == {first, second, third}
    assert sorted(delete_index("blog")) == sorted([first, second, third])
    assert physical_indexes(conn, "blog") == []


def test_create_and_delete_start_a_new_cache_generation(
    conn: Base, blog_data: dict[str, Any]
) -> None:
    """Fingerprints of the deleted index must not make its successor skip documents."""
    create_index("blog")
    update_index("blog")  # remembers the fingerprint of every document
    delete_index("blog")
    create_index("blog")
    post = Post.objects.get(pk=blog_data["posts"][0].pk)
    post.index_search_document(index="blog")  # unchanged, but the index is new
    assert list(documents(conn)) == [str(post.pk)]
    assert str(post.pk) in expected_ids(blog_data)
