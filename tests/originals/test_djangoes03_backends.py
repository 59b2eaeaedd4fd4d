"""djangoes 0.3's ``Base(alias, server, indices)``, built the way its tests built it.

djangoes 0.3 passed ``server`` and ``indices`` as plain dicts (``indices``
keyed by ES_INDICES key, entries possibly partial); a custom backend written
then subclasses ``Base`` and is created the same way. The cases follow 0.3's
``tests/test_backends.py``; ``get_indices_with_settings`` returns creation
bodies today's engines accept (migration guide, "SETTINGS").
"""

from __future__ import annotations

from typing import Any
from unittest import TestCase

import pytest

from djangoes.backends import Base, MetaClientBase
from djangoes.backends.abstracts import Base as AbstractBase


class ExportsTests(TestCase):
    def test_the_package_exports_the_abstract_classes(self) -> None:
        assert Base is AbstractBase
        assert Base.meta_client_class is MetaClientBase


class BaseTests(TestCase):
    def test_configure_client_is_abstract(self) -> None:
        backend = Base("test_backend", {}, {})
        with pytest.raises(NotImplementedError):
            backend.configure_client()

    def test_indices_is_the_index_name_without_aliases(self) -> None:
        backend = Base("test_backend", {}, {"test_name_1": {"NAME": "index1", "ALIASES": []}})
        assert backend.indices == ["index1"]

    def test_indices_are_the_aliases_when_there_are(self) -> None:
        backend = Base(
            "test_backend", {}, {"test_name_1": {"NAME": "index1", "ALIASES": ["alias1", "alias2"]}}
        )
        assert sorted(backend.indices) == ["alias1", "alias2"]

    def test_indices_of_several_indices_once_each(self) -> None:
        backend = Base("test_backend", {}, THREE_INDICES)
        assert sorted(backend.indices) == ["alias1", "alias2", "index3"]

    def test_index_names(self) -> None:
        backend = Base("test_backend", {}, {"test_name_1": {"NAME": "index1", "ALIASES": []}})
        assert backend.index_names == ["index1"]

    def test_index_names_leave_aliases_out(self) -> None:
        backend = Base(
            "test_backend", {}, {"test_name_1": {"NAME": "index1", "ALIASES": ["alias1", "alias2"]}}
        )
        assert backend.index_names == ["index1"]

    def test_index_names_of_several_indices(self) -> None:
        backend = Base("test_backend", {}, THREE_INDICES)
        assert sorted(backend.index_names) == ["index1", "index2", "index3"]

    def test_alias_names(self) -> None:
        backend = Base(
            "test_backend", {}, {"test_name_1": {"NAME": "index1", "ALIASES": ["alias1"]}}
        )
        assert backend.alias_names == ["alias1"]

    def test_alias_names_without_aliases(self) -> None:
        backend = Base("test_backend", {}, {"test_name_1": {"NAME": "index1", "ALIASES": []}})
        assert backend.alias_names == []

    def test_alias_names_of_several_indices_without_duplicates(self) -> None:
        indices = {
            "test_name_1": {"NAME": "index1", "ALIASES": ["alias1", "alias2"]},
            "test_name_2": {"NAME": "index2", "ALIASES": ["alias3"]},
            "test_name_3": {"NAME": "index3", "ALIASES": ["alias1"]},
        }
        backend = Base("test_backend", {}, indices)
        assert sorted(backend.alias_names) == ["alias1", "alias2", "alias3"]

    def test_get_indices_with_settings(self) -> None:
        backend = Base(
            "test_backend",
            {},
            {"test_name": {"NAME": "index", "SETTINGS": {"number_of_shards": 1}}},
        )
        # migration guide, "SETTINGS": plain settings are wrapped as engines now require
        assert backend.get_indices_with_settings() == {
            "index": {"settings": {"number_of_shards": 1}}
        }

    def test_get_indices_with_settings_given_as_a_creation_body(self) -> None:
        body = {"settings": {"number_of_shards": 1}, "mappings": {"properties": {}}}
        backend = Base("test_backend", {}, {"test_name": {"NAME": "index", "SETTINGS": body}})
        assert backend.get_indices_with_settings() == {"index": body}

    def test_get_indices_with_settings_none(self) -> None:
        backend = Base("test_backend", {}, {"test_name": {"NAME": "index", "SETTINGS": None}})
        assert backend.get_indices_with_settings() == {"index": None}

    def test_get_indices_with_settings_uses_index_names_not_aliases(self) -> None:
        backend = Base(
            "test_backend",
            {},
            {"test_name": {"NAME": "index", "ALIASES": ["alias"], "SETTINGS": {"x": 1}}},
        )
        result = backend.get_indices_with_settings()
        assert "index" in result
        assert "alias" not in result

    def test_the_callers_dicts_are_not_changed(self) -> None:
        server: dict[str, Any] = {}
        indices: dict[str, Any] = {"test_name": {"NAME": "index"}}
        Base("test_backend", server, indices)
        assert server == {}
        assert indices == {"test_name": {"NAME": "index"}}

    def test_a_list_of_index_entries_is_accepted_too(self) -> None:
        backend = Base("test_backend", {}, [{"NAME": "index1"}, {"NAME": "index2"}])
        assert backend.index_names == ["index1", "index2"]


THREE_INDICES = {
    "test_name_1": {"NAME": "index1", "ALIASES": ["alias1", "alias2"]},
    "test_name_2": {"NAME": "index2", "ALIASES": ["alias1"]},
    "test_name_3": {"NAME": "index3", "ALIASES": []},
}


class CustomBackend(Base):
    """A backend of a project written against djangoes 0.3 ("Custom backends")."""

    def __init__(self, alias: str, server: Any, indices: Any) -> None:
        super().__init__(alias, server, indices)
        self.made_with = (alias, server, indices)


def test_a_custom_backend_receives_what_0_3_passed() -> None:
    from djangoes import ConnectionHandler

    handler = ConnectionHandler(
        {"default": {"ENGINE": f"{__name__}.CustomBackend", "INDICES": ["blog"]}},
        {"blog": {"NAME": "blog_v1"}},
    )
    conn = handler["default"]
    assert isinstance(conn, CustomBackend)
    alias, server, indices = conn.made_with
    assert alias == "default"
    assert server["INDICES"] == ["blog"]
    assert list(indices) == ["blog"]  # {ES_INDICES key: entry}, as in 0.3
    assert indices["blog"]["NAME"] == "blog_v1"
    with pytest.raises(NotImplementedError):
        conn.client  # noqa: B018 - configure_client is the backend's to write


def test_the_documented_example_of_indices() -> None:
    """The 0.3 page: 'index' alone and 'index_2' aliased 'alias' give ['index', 'alias']."""
    backend = Base(
        "default",
        {},
        {"first": {"NAME": "index"}, "second": {"NAME": "index_2", "ALIASES": ["alias"]}},
    )
    assert backend.get_indices() == ["index", "alias"]
    assert backend.get_index_names() == ["index", "index_2"]
    assert backend.get_alias_names() == ["alias"]
    assert (backend.indices, backend.index_names, backend.alias_names) == (
        ["index", "alias"],
        ["index", "index_2"],
        ["alias"],
    )


def test_meta_client_base_of_a_connection(settings: Any, engine_url: str) -> None:
    """``MetaClientBase(conn)``: its four attributes reach the engine, errors are djangoes'."""
    from djangoes import connections
    from djangoes.exceptions import TransportError

    settings.ES_SERVERS = {
        "default": {
            "HOSTS": [engine_url],
            "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
            "INDICES": ["blog"],
        }
    }
    settings.ES_INDICES = {"blog": {"NAME": "blog_v1"}}
    conn = connections["default"]
    meta = MetaClientBase(conn)
    assert meta.conn is conn
    assert meta.indices.exists(index="blog_v1") is False
    meta.indices.create(index="blog_v1")
    assert meta.indices.exists(index="blog_v1") is True
    assert meta.cluster.health()["status"] in {"green", "yellow", "red"}
    assert isinstance(meta.nodes.info()["nodes"], dict)
    # no such repository: 404 on OpenSearch, 400 on the emulator (no snapshot API)
    with pytest.raises(TransportError) as info:
        meta.snapshot.get(repository="missing", snapshot="none")
    assert info.value.status in {400, 404}
    assert isinstance(conn.meta, MetaClientBase)
