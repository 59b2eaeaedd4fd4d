"""djangoes 0.3's test settings: ``setup_djangoes()`` and the runner switch every connection.

The cases follow djangoes 0.3's ``tests/test_test_runner.py``: a connection
is taken, the test set-up runs, and *the same connection object* must then
use the test names, ``TEST['SETTINGS']`` and the server's ``TEST['INDICES']``.
Test names get the ``test_`` prefix (migration guide, "test names"). The last
tests run against an engine: a connection taken before the switch can no
longer read or write a live index.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.test.runner import DiscoverRunner as DjangoRunner
from django.test.utils import override_settings

from djangoes import IndexDoesNotExist, connections
from djangoes.exceptions import LiveIndexAccessError
from djangoes.test.mixins import ElasticSearchTestMixin
from djangoes.test.runner import DiscoverRunner
from djangoes.test.utils import TestModeRequired, setup_djangoes, teardown_djangoes, worker_suffix

ENGINE = "djangoes.backends.opensearch.SimpleHttpBackend"


@pytest.fixture
def switch_back() -> Iterator[list[Any]]:
    """Undo every ``setup_djangoes()`` a test makes (its return values go in the list)."""
    states: list[Any] = []
    try:
        yield states
    finally:
        for state in reversed(states):
            teardown_djangoes(state)


def _servers(**test: Any) -> dict[str, Any]:
    server: dict[str, Any] = {"ENGINE": ENGINE, "INDICES": ["test_index_1", "test_index_2"]}
    if test:
        server["TEST"] = test
    return {"default": server}


def test_indices_switch_on_a_connection_taken_before(switch_back: list[Any]) -> None:
    indices = {"test_index_1": {"NAME": "index_prod"}, "test_index_2": {"NAME": "index_backup"}}
    with override_settings(ES_SERVERS=_servers(), ES_INDICES=indices):
        conn = connections["default"]
        assert sorted(conn.indices) == ["index_backup", "index_prod"]
        switch_back.append(setup_djangoes(""))
        assert sorted(conn.indices) == ["test_index_backup", "test_index_prod"]
        assert sorted(conn.index_names) == ["test_index_backup", "test_index_prod"]


def test_aliases_switch_too(switch_back: list[Any]) -> None:
    indices = {
        "test_index_1": {"NAME": "index_prod", "ALIASES": ["alias_prod"]},
        "test_index_2": {"NAME": "index_backup", "ALIASES": ["alias_backup"]},
    }
    with override_settings(ES_SERVERS=_servers(), ES_INDICES=indices):
        conn = connections["default"]
        assert sorted(conn.indices) == ["alias_backup", "alias_prod"]
        assert sorted(conn.index_names) == ["index_backup", "index_prod"]
        switch_back.append(setup_djangoes(""))
        assert sorted(conn.indices) == ["test_alias_backup", "test_alias_prod"]
        assert sorted(conn.alias_names) == ["test_alias_backup", "test_alias_prod"]
        assert sorted(conn.index_names) == ["test_index_backup", "test_index_prod"]


def test_test_settings_come_from_settings_unless_test_gives_its_own(
    switch_back: list[Any],
) -> None:
    indices = {
        "test_index_1": {"NAME": "index_prod", "SETTINGS": {"index": {"number_of_replicas": 1}}},
        "test_index_2": {
            "NAME": "index_backup",
            "SETTINGS": {"index": {"number_of_replicas": 1}},
            "TEST": {"SETTINGS": {"index": {"number_of_replicas": 0}}},
        },
    }
    with override_settings(ES_SERVERS=_servers(), ES_INDICES=indices):
        conn = connections["default"]
        live = conn.get_indices_with_settings()
        assert live["index_prod"] == {"settings": {"index": {"number_of_replicas": 1}}}
        switch_back.append(setup_djangoes(""))
        tested = conn.get_indices_with_settings()
        assert "index_prod" not in tested
        assert tested["test_index_prod"] == {"settings": {"index": {"number_of_replicas": 1}}}
        assert tested["test_index_backup"] == {"settings": {"index": {"number_of_replicas": 0}}}


def test_two_connections_sharing_an_index_both_switch(switch_back: list[Any]) -> None:
    servers = {
        "default": {"ENGINE": ENGINE, "INDICES": ["index"]},
        "copy": {"ENGINE": ENGINE, "INDICES": ["index"]},
    }
    indices = {"index": {"NAME": "index_prod", "TEST": {"NAME": "index_test"}}}
    with override_settings(ES_SERVERS=servers, ES_INDICES=indices):
        switch_back.append(setup_djangoes(""))
        assert connections["default"].indices == ["index_test"]
        assert connections["copy"].indices == ["index_test"]


def test_the_servers_test_indices_replace_its_indices(switch_back: list[Any]) -> None:
    servers = {
        "default": {"ENGINE": ENGINE, "INDICES": ["index"], "TEST": {"INDICES": ["override"]}},
        "copy": {"ENGINE": ENGINE, "INDICES": ["index"], "TEST": {"INDICES": ["override"]}},
    }
    indices = {
        "index": {"NAME": "index_prod", "ALIASES": ["alias_prod"]},
        "override": {"NAME": "overridden", "ALIASES": ["alias_overridden"]},
    }
    with override_settings(ES_SERVERS=servers, ES_INDICES=indices):
        conn = connections["default"]
        assert conn.indices == ["alias_prod"]
        switch_back.append(setup_djangoes(""))
        assert conn.indices == ["test_alias_overridden"]
        assert conn.index_names == ["test_overridden"]
        assert connections["copy"].indices == ["test_alias_overridden"]


def test_an_empty_test_indices_list_keeps_the_indices(switch_back: list[Any]) -> None:
    """As in 0.3, ``TEST['INDICES'] = []`` means "not overridden"."""
    servers = {"default": {"ENGINE": ENGINE, "INDICES": ["index"], "TEST": {"INDICES": []}}}
    with override_settings(ES_SERVERS=servers, ES_INDICES={"index": {}}):
        switch_back.append(setup_djangoes(""))
        assert connections["default"].indices == ["test_index"]


def test_the_runner_switches_a_connection_taken_before() -> None:
    """Django's own ``setup_test_environment`` is replaced by a mock, as in the 0.3 test.

    pytest-django has already set Django's test environment up in this
    process, and Django refuses to do it twice; djangoes' part of the runner
    is what is under test. ``tests/test_testing`` runs the real runner in
    subprocesses.
    """
    servers = {
        "default": {"ENGINE": ENGINE, "INDICES": ["index"], "TEST": {"INDICES": ["override"]}}
    }
    indices = {"index": {"NAME": "index_prod"}, "override": {"NAME": "overridden"}}
    with override_settings(ES_SERVERS=servers, ES_INDICES=indices):
        conn = connections["default"]
        assert conn.indices == ["index_prod"]
        runner = DiscoverRunner(verbosity=0)
        with (
            mock.patch.object(DjangoRunner, "setup_test_environment") as django_setup,
            mock.patch.object(DjangoRunner, "teardown_test_environment"),
        ):
            runner.setup_test_environment()
            try:  # with this test worker's suffix, if any (the runner adds it)
                assert conn.indices == ["test_overridden" + worker_suffix()]
            finally:
                runner.teardown_test_environment()
        django_setup.assert_called_once_with()
        assert conn.indices == ["index_prod"]


def test_a_connection_taken_before_cannot_reach_the_live_index(
    engine_url: str, switch_back: list[Any], settings: Any
) -> None:
    """Before, such a connection kept the live names and sent a ``_search`` to the live index."""
    settings.ES_SERVERS = {
        "default": {"HOSTS": [engine_url], "ENGINE": ENGINE, "INDICES": ["blog"]}
    }
    settings.ES_INDICES = {"blog": {"NAME": "blog_live"}}
    settings.DEBUG = True
    earlier = connections["default"]
    earlier.create_indices()
    earlier.index(id="1", document={"title": "live data"}, refresh=True)
    raw_client = earlier.client

    switch_back.append(setup_djangoes())  # as documented: no argument (this worker's suffix)
    test_name = "test_blog_live" + worker_suffix()
    earlier.reset_queries()
    earlier.create_indices()
    assert earlier.search(query={"match_all": {}})["hits"]["hits"] == []
    assert [q["path"].split("?")[0] for q in earlier.queries][-1] == f"/{test_name}/_search"
    with pytest.raises(IndexDoesNotExist, match=f"may only use 'blog', '{test_name}'"):
        earlier.search(index="blog_live")
    with pytest.raises(LiveIndexAccessError):
        raw_client.search(index="blog_live", body={"query": {"match_all": {}}})
    with pytest.raises(LiveIndexAccessError):
        raw_client.index(index="blog_live", id="2", body={"title": "written by a test"})
    assert earlier.client is raw_client  # switched in place: no new client


def test_the_test_mixin_creates_and_deletes_the_test_indices(
    engine_url: str, switch_back: list[Any], settings: Any
) -> None:
    """0.3's ``djangoes.test.mixins.ElasticSearchTestMixin``, its four class methods."""
    settings.ES_SERVERS = {
        "default": {"HOSTS": [engine_url], "ENGINE": ENGINE, "INDICES": ["blog", "shop"]},
        "shop": {"HOSTS": [engine_url], "ENGINE": ENGINE, "INDICES": ["shop"]},
    }
    settings.ES_INDICES = {"blog": {"NAME": "blog_live"}, "shop": {"NAME": "shop_live"}}
    with pytest.raises(TestModeRequired, match="Switch to test names first"):
        ElasticSearchTestMixin.create_connections_indices()

    switch_back.append(setup_djangoes())
    suffix = worker_suffix()
    conn = connections["default"]
    exists = conn.meta.indices.exists_alias

    class SearchTests(ElasticSearchTestMixin):
        pass

    assert SearchTests.create_connections_indices() == [
        f"test_blog_live{suffix}",
        f"test_shop_live{suffix}",
    ]
    assert exists(name=f"test_blog_live{suffix}")
    assert exists(name=f"test_shop_live{suffix}")
    assert len(SearchTests.delete_connections_indices()) == 2
    assert not exists(name=f"test_blog_live{suffix}")
    assert SearchTests.create_connection_indices(connections["shop"]) == [f"test_shop_live{suffix}"]
    assert not exists(name=f"test_blog_live{suffix}")
    assert len(SearchTests.delete_connection_indices(connections["shop"])) == 1
    assert not exists(name=f"test_shop_live{suffix}")
