"""djangoes 0.3's ``ConnectionHandler``, called as its own test suite and the seeds call it.

The cases follow djangoes 0.3's ``tests/test_djangoes.py`` (same calls, same
settings), written for djangoes as it is. Where djangoes differs on purpose
the assertion says what it expects instead and names the migration guide's
row (docs/migration/djangoes-0.3.md): settings are normalised when read
(every default is there from the start, ``HOSTS`` included), never written
back into the user's dicts; test names get the ``test_`` prefix.
"""

from __future__ import annotations

import copy
import os
from typing import Any
from unittest import TestCase, mock

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test.utils import override_settings

from djangoes import ConnectionDoesNotExist, ConnectionHandler, IndexDoesNotExist, load_backend
from djangoes.backends import Base
from djangoes.backends.elasticsearch import SimpleHttpBackend

ENGINE = "djangoes.backends.elasticsearch.SimpleHttpBackend"


class DefaultsTests(TestCase):
    """Nothing or little configured: djangoes works with the defaults."""

    def test_empty_settings_give_a_default_server(self) -> None:
        handler = ConnectionHandler({}, {})
        # migration guide, "defaults": normalised at once instead of ``{'default': {}}``
        assert list(handler.servers) == ["default"]
        assert handler.servers["default"]["HOSTS"] == ["http://localhost:9200"]
        assert handler.servers["default"]["ENGINE"] == ENGINE
        assert handler.indices == {}

    def test_a_complete_configuration_is_taken_as_it_is(self) -> None:
        servers = {
            "default": {"ENGINE": ENGINE, "HOSTS": ["http://es:9200"], "PARAMS": {},
                        "INDICES": ["index"]},
        }  # fmt: skip
        indices = {"index": {"NAME": "index", "ALIASES": []}}
        given = copy.deepcopy((servers, indices))
        handler = ConnectionHandler(servers, indices)
        server = handler.servers["default"]
        assert {k: server[k] for k in servers["default"]} == servers["default"]  # type: ignore[literal-required]
        assert handler.indices["index"]["NAME"] == "index"
        assert (servers, indices) == given  # the user's dicts are left alone

    def test_settings_come_from_the_django_project_by_default(self) -> None:
        servers = {"default": {}, "by_settings": {}}
        indices = {"index_by_settings": {}}
        with override_settings(ES_SERVERS=servers, ES_INDICES=indices):
            handler = ConnectionHandler()
            assert list(handler.servers) == ["default", "by_settings"]
            assert list(handler.indices) == ["index_by_settings"]


class ImproperlyConfiguredTests(TestCase):
    def test_servers_without_default_raise_on_first_use(self) -> None:
        handler = ConnectionHandler({"not_default": {}}, {})
        with pytest.raises(ImproperlyConfigured) as raised:
            handler.servers  # noqa: B018 - reading is what raises
        assert "ES_SERVERS has no 'default' connection" in str(raised.value)
        assert "'not_default'" in str(raised.value)

    def test_an_index_missing_from_es_indices_raises(self) -> None:
        handler = ConnectionHandler({"default": {"INDICES": ["missing"]}}, {"other": {}})
        with pytest.raises(ImproperlyConfigured) as raised:
            handler["default"]
        assert "names the index 'missing', which is not in ES_INDICES" in str(raised.value)


class EnsureDefaultsTests(TestCase):
    def test_ensure_server_defaults_fills_the_handlers_copy(self) -> None:
        servers: dict[str, Any] = {"default": {}}
        handler = ConnectionHandler(servers, {})
        del handler.servers["default"]["PARAMS"]
        handler.ensure_server_defaults("default")
        assert handler.servers["default"]["PARAMS"] == {}
        assert handler.servers["default"]["INDICES"] == []
        assert servers == {"default": {}}  # migration guide: never written into the setting

    def test_ensure_server_defaults_of_an_unknown_server(self) -> None:
        handler = ConnectionHandler({}, {})
        with pytest.raises(ConnectionDoesNotExist) as raised:
            handler.ensure_server_defaults("index")
        assert raised.value.alias == "index"
        assert "The connection 'index' doesn't exist" in str(raised.value)

    def test_ensure_index_defaults(self) -> None:
        indices: dict[str, Any] = {"index": {}}
        handler = ConnectionHandler({}, indices)
        handler.ensure_index_defaults("index")
        index = handler.indices["index"]
        assert (index["NAME"], index["ALIASES"]) == ("index", [])
        assert indices == {"index": {}}

    def test_ensure_index_defaults_of_an_unknown_index(self) -> None:
        handler = ConnectionHandler({}, {})
        with pytest.raises(IndexDoesNotExist) as raised:
            handler.ensure_index_defaults("index")
        assert isinstance(raised.value, KeyError)
        assert raised.value.index == "index"


class PrepareTestSettingsTests(TestCase):
    def test_prepare_server_test_settings(self) -> None:
        handler = ConnectionHandler({"default": {"ENGINE": ENGINE}}, {})
        del handler.servers["default"]["TEST"]
        handler.prepare_server_test_settings("default")
        assert "TEST" in handler.servers["default"]

    def test_prepare_server_test_settings_of_an_unknown_server(self) -> None:
        handler = ConnectionHandler({"default": {"ENGINE": ENGINE}}, {})
        with pytest.raises(ConnectionDoesNotExist):
            handler.prepare_server_test_settings("index")

    def test_prepare_index_test_settings(self) -> None:
        handler = ConnectionHandler({}, {"index": {}})
        handler.ensure_index_defaults("index")
        handler.prepare_index_test_settings("index")
        # migration guide, "test names": prefix test_ (djangoes 0.3: suffix _test)
        assert handler.indices["index"]["TEST"]["NAME"] == "test_index"
        assert handler.indices["index"]["TEST"]["ALIASES"] == []

    def test_prepare_index_test_settings_of_an_unknown_index(self) -> None:
        handler = ConnectionHandler({}, {})
        with pytest.raises(IndexDoesNotExist):
            handler.prepare_index_test_settings("index")

    def test_the_key_is_expected_not_the_name_or_an_alias(self) -> None:
        handler = ConnectionHandler(
            {}, {"index": {"NAME": "not_this_index", "ALIASES": ["not_this_alias"]}}
        )
        for name in ("not_this_index", "not_this_alias"):
            with pytest.raises(IndexDoesNotExist):
                handler.prepare_index_test_settings(name)

    def test_a_test_name_equal_to_the_live_name_is_refused(self) -> None:
        indices = {
            "index": {
                "NAME": "index_production_name",
                "ALIASES": [],
                "TEST": {"NAME": "index_production_name", "ALIASES": []},
            }
        }
        handler = ConnectionHandler({}, indices)
        with pytest.raises(ImproperlyConfigured) as raised:
            handler.prepare_index_test_settings("index")
        assert "uses the live name 'index_production_name'" in str(raised.value)

    def test_a_test_alias_equal_to_a_live_alias_is_refused(self) -> None:
        indices = {
            "index": {
                "NAME": "index",
                "ALIASES": ["alias_prod", "alias_prod_2"],
                "TEST": {"NAME": "index_valid_test_name", "ALIASES": ["alias_prod", "alias_test"]},
            }
        }
        handler = ConnectionHandler({}, indices)
        with pytest.raises(ImproperlyConfigured) as raised:
            handler.prepare_index_test_settings("index")
        assert "uses the live name 'alias_prod'" in str(raised.value)


class GetServerIndicesTests(TestCase):
    def test_a_server_without_indices_has_none(self) -> None:
        handler = ConnectionHandler({}, {})
        assert handler.get_server_indices({"INDICES": []}) == {}

    def test_the_servers_indices_with_their_test_settings(self) -> None:
        handler = ConnectionHandler({}, {"used": {}, "not_used": {}})
        indices = handler.get_server_indices({"INDICES": ["used"]})
        assert list(indices) == ["used"]
        assert indices["used"]["NAME"] == "used"
        assert indices["used"]["ALIASES"] == []
        assert indices["used"]["TEST"]["NAME"] == "test_used"
        assert indices["used"]["TEST"]["ALIASES"] == []

    def test_the_result_is_a_copy(self) -> None:
        handler = ConnectionHandler({}, {"used": {}})
        handler.get_server_indices({"INDICES": ["used"]})["used"]["NAME"] = "changed"
        assert handler.indices["used"]["NAME"] == "used"

    def test_an_unknown_index(self) -> None:
        handler = ConnectionHandler({}, {"used": {}})
        with pytest.raises(IndexDoesNotExist):
            handler.get_server_indices({"INDICES": ["nope"]})


class LoadBackendTests(TestCase):
    def test_load_backend_function(self) -> None:
        assert load_backend(ENGINE) is SimpleHttpBackend
        with pytest.raises(ImproperlyConfigured) as raised:
            load_backend("module.does.not.Exist")
        assert "'module.does.not.Exist' isn't an available djangoes backend" in str(raised.value)

    def test_load_backend_method(self) -> None:
        handler = ConnectionHandler({"default": {"ENGINE": ENGINE}}, {})
        result = handler.load_backend("default")
        assert isinstance(result, Base)
        assert result.alias == "default"
        assert result.indices == []
        assert result.index_names == []

    def test_load_backend_with_an_index(self) -> None:
        handler = ConnectionHandler(
            {"default": {"ENGINE": ENGINE, "INDICES": ["index_1"]}},
            {"index_1": {"NAME": "index_1", "ALIASES": ["alias_1", "alias_2"]}},
        )
        result = handler.load_backend("default")
        assert sorted(result.indices) == ["alias_1", "alias_2"]
        assert result.index_names == ["index_1"]

    def test_load_backend_with_indices(self) -> None:
        handler = ConnectionHandler(
            {"default": {"ENGINE": ENGINE, "INDICES": ["index_1", "index_2"]}},
            {
                "index_1": {"NAME": "index_1", "ALIASES": ["alias_1", "alias_2"]},
                "index_2": {"NAME": "index_2_name"},
            },
        )
        result = handler.load_backend("default")
        assert sorted(result.indices) == ["alias_1", "alias_2", "index_2_name"]
        assert sorted(result.index_names) == ["index_1", "index_2_name"]

    def test_a_module_as_engine_is_refused(self) -> None:
        """0.2's ENGINE was a module; 0.3 and djangoes take the backend class."""
        handler = ConnectionHandler({"default": {"ENGINE": "djangoes.backends.elasticsearch"}}, {})
        with pytest.raises(ImproperlyConfigured) as raised:
            handler.load_backend("default")
        assert "is a module; ENGINE is the dotted path of a backend class" in str(raised.value)


class HandlerAsAContainerTests(TestCase):
    def test_iteration_gives_the_aliases(self) -> None:
        handler = ConnectionHandler({"default": {}, "task": {}}, {})
        assert sorted(handler) == ["default", "task"]

    def test_all_returns_every_connection(self) -> None:
        handler = ConnectionHandler({"default": {}, "task": {}}, {})
        assert [c.alias for c in handler.all()] == ["default", "task"]

    def test_items_follow_the_handlers_settings_once_deleted(self) -> None:
        handler = ConnectionHandler(
            {"default": {"ENGINE": ENGINE, "INDICES": ["index_1"]}},
            {"index_1": {}, "index_2": {}},
        )
        wrapper = handler["default"]
        assert wrapper.indices == ["index_1"]
        handler.servers["default"]["INDICES"] = ["index_2"]
        assert handler["default"].indices == ["index_1"]  # the connection is kept
        del handler["default"]
        assert handler["default"].indices == ["index_2"]  # a new one, from the new settings
        handler["default"] = wrapper
        assert handler["default"] is wrapper

    def test_setting_an_item_that_is_not_a_connection_says_so(self) -> None:
        """0.3's own test stored a string; the handler keeps connections only."""
        handler = ConnectionHandler({"default": {"ENGINE": ENGINE}}, {})
        with pytest.raises(
            TypeError,
            match=r"connections\['something'\] = \.\.\. takes a djangoes "
            r"connection .* not str",
        ):
            handler["something"] = "else"
        assert "something" not in handler


def test_check_for_multiprocess_drops_the_connections_when_the_pid_changed() -> None:
    """``check_for_multiprocess()`` called by hand, as 0.3 documents it.

    Same PID: the same objects. Another PID (as in a forked child, which
    tests/test_handler.py runs for real): the inherited connections are
    forgotten and new ones made.
    """
    handler = ConnectionHandler({"default": {"ENGINE": ENGINE}, "task": {"ENGINE": ENGINE}}, {})
    parent = handler["default"]
    handler.check_for_multiprocess()
    assert handler["default"] is parent
    assert handler.all(initialized_only=True) == [parent]
    with mock.patch("os.getpid", return_value=os.getpid() + 1):
        handler.check_for_multiprocess()
        assert handler.all(initialized_only=True) == []
        child = handler["default"]
        assert child is not parent
        handler.check_for_multiprocess()
        assert handler["default"] is child
