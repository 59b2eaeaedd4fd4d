"""``djangoes.test.utils``: test names, worker suffixes, test indices, the live-index guard.

Everything runs against a fresh engine (``engine_url``) and is checked over
plain HTTP (``raw_engine``), not through the code under test.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from typing import Any

import pytest
from osmem_server import OsmemServer

from djangoes import connection, connections
from djangoes.exceptions import BadRequestError, LiveIndexAccessError
from djangoes.test.utils import (
    TestModeRequired,
    create_test_indices,
    delete_test_indices,
    ensure_test_names,
    setup_djangoes,
    teardown_djangoes,
    temporary_test_indices,
    worker_suffix,
)

from .conftest import BLOG_SETTINGS, ELASTICSEARCH, OPENSEARCH, RawEngine, configure, unversioned

pytestmark = pytest.mark.engine


# -- test names -------------------------------------------------------------------


@pytest.mark.usefixtures("blog_settings", "single_process")
def test_setup_switches_every_connection_to_test_names_and_teardown_restores() -> None:
    assert connections["default"].index_names == ["blog_v1"]

    previous = setup_djangoes()
    try:
        assert previous is None
        assert connections.test_names is not None
        assert connections.test_names.suffix == ""
        # Defaults: test_ + the live name, for the index and each alias.
        assert connections["default"].index_names == ["test_blog_v1"]
        assert connections["default"].indices == ["test_blog_public"]
        assert connection.alias_names == ["test_blog_public"]
        # Explicit TEST NAME / ALIASES are used as given.
        assert connections["catalog"].index_names == ["test_blog_v1", "shop_under_test"]
        assert connections["catalog"].indices == ["test_blog_public", "shop_test_alias"]
    finally:
        teardown_djangoes(previous)

    assert connections.test_names is None
    assert connections["default"].index_names == ["blog_v1"]
    assert connections["catalog"].indices == ["blog_public", "shop_public"]


@pytest.mark.usefixtures("blog_settings")
def test_setup_returns_the_previous_state_so_switches_nest() -> None:
    outer = setup_djangoes("_outer")
    try:
        inner = setup_djangoes("_inner")
        assert inner is not None
        assert inner.suffix == "_outer"
        assert connection.index_names == ["test_blog_v1_inner"]
        teardown_djangoes(inner)
        assert connection.index_names == ["test_blog_v1_outer"]
    finally:
        teardown_djangoes(outer)
    assert connection.index_names == ["blog_v1"]


@pytest.mark.usefixtures("blog_settings")
def test_server_test_indices_replace_the_connection_indices_under_test(
    settings: Any, engine_url: str
) -> None:
    settings.ES_SERVERS = {
        "default": {"HOSTS": [engine_url], "INDICES": ["blog"], "TEST": {"INDICES": ["shop"]}}
    }
    assert connection.index_names == ["blog_v1"]
    with ensure_test_names(""):
        assert connection.index_names == ["shop_under_test"]


@pytest.mark.usefixtures("blog_settings")
@pytest.mark.parametrize("suffix", ["_GW0", "_a/b", "_a b", "_x*"])
def test_a_suffix_that_would_make_invalid_names_is_refused(suffix: str) -> None:
    with pytest.raises(ValueError, match="would make invalid index names") as caught:
        setup_djangoes(suffix)
    assert repr(suffix) in str(caught.value)
    assert connections.test_names is None


def test_worker_suffix_comes_from_the_xdist_worker_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """The variable is set by hand here; test_pytest_plugin runs real xdist workers."""
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    assert worker_suffix() == ""  # this process was not started by multiprocessing

    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    assert worker_suffix() == "_gw3"

    monkeypatch.setenv("PYTEST_XDIST_WORKER", "GW 1")  # free text: made a valid name
    assert worker_suffix() == "_gw_1"


def _name_and_suffix(queue: Any = None) -> tuple[str, str, int]:
    """Run in a child process: its name, its worker suffix, its pid."""
    found = (multiprocessing.current_process().name, worker_suffix(), os.getpid())
    if queue is not None:
        queue.put(found)
    return found


# Not "fork" in this multi-threaded process (a child could inherit a held
# lock); forkserver forks as Django's fork workers are, from a single thread.
@pytest.mark.parametrize("start_method", ["forkserver", "spawn"])
def test_worker_suffix_numbers_the_processes_multiprocessing_starts(
    monkeypatch: pytest.MonkeyPatch, start_method: str
) -> None:
    """As Django's --parallel workers are started; test_runner runs real Django workers."""
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    context = multiprocessing.get_context(start_method)
    queue = context.Queue()
    workers = [context.Process(target=_name_and_suffix, args=(queue,)) for _ in range(2)]
    for worker in workers:
        worker.start()
    seen = {name: suffix for name, suffix, _ in (queue.get(timeout=60) for _ in workers)}
    for worker in workers:
        worker.join(timeout=60)

    # Each child has its number among its parent's children ("SpawnProcess-7": "_7").
    assert seen == {worker.name: "_" + worker.name.rsplit("-", 1)[1] for worker in workers}
    assert len(set(seen.values())) == 2

    # Pool workers, which Django's are, the same way.
    with context.Pool(1) as pool:
        name, suffix, _ = pool.apply(_name_and_suffix)
    assert "PoolWorker" in name
    assert suffix == "_" + name.rsplit("-", 1)[1]

    # Both numbers in an xdist worker that starts processes of its own (spawned:
    # a forkserver's children have the environment the server started with).
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw2")
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        name, suffix, _ = pool.apply(_name_and_suffix)
    assert suffix == "_gw2_" + name.rsplit("-", 1)[1]


def test_a_process_named_by_its_creator_is_told_apart_by_its_pid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    context = multiprocessing.get_context("forkserver")
    queue = context.Queue()
    child = context.Process(target=_name_and_suffix, args=(queue,), name="indexer")
    child.start()
    name, suffix, pid = queue.get(timeout=60)
    child.join(timeout=60)
    assert name == "indexer"
    assert suffix == f"_{pid}"
    assert pid != os.getpid()


@pytest.mark.usefixtures("blog_settings")
def test_setup_without_suffix_uses_the_worker_suffix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw7")
    previous = setup_djangoes()
    try:
        assert connection.index_names == ["test_blog_v1_gw7"]
        assert connection.indices == ["test_blog_public_gw7"]
    finally:
        teardown_djangoes(previous)


@pytest.mark.usefixtures("blog_settings")
def test_ensure_test_names_switches_only_when_needed() -> None:
    with ensure_test_names("_a") as names:
        assert names.suffix == "_a"
        # Already in test mode: the names in use are kept, and kept afterwards.
        with ensure_test_names("_b") as inner:
            assert inner.suffix == "_a"
        assert connection.index_names == ["test_blog_v1_a"]
    assert connections.test_names is None


# -- test indices -----------------------------------------------------------------


@pytest.mark.usefixtures("single_process")
def test_create_test_indices_applies_settings_and_aliases_once_per_cluster(
    settings: Any, blog_settings: str, raw_engine: RawEngine
) -> None:
    settings.DEBUG = True  # keep each connection's request log
    with ensure_test_names():
        created = create_test_indices()
        # 'blog' is in both connections on the same hosts: created once.
        assert created == ["test_blog_v1", "shop_under_test"]
        creations = [
            (conn.alias, unversioned(q["path"]))
            for conn in connections.all()
            for q in conn.queries
            if q["method"] == "PUT"
        ]
        assert creations == [("default", "/test_blog_v1"), ("catalog", "/shop_under_test")]

        # laid out as create_search_index lays an index out: NAME is an alias
        assert raw_engine.index_names() == ["shop_under_test", "test_blog_v1"]
        assert raw_engine.physical_index_names() != raw_engine.index_names()
        blog = raw_engine.get("test_blog_v1")
        assert blog["settings"]["index"]["number_of_shards"] == "2"
        assert blog["settings"]["index"]["analysis"] == BLOG_SETTINGS["settings"]["analysis"]
        assert blog["mappings"] == BLOG_SETTINGS["mappings"]
        assert raw_engine.aliases() == {
            "test_blog_v1": ["test_blog_v1"],
            "test_blog_public": ["test_blog_v1"],
            "shop_under_test": ["shop_under_test"],
            "shop_test_alias": ["shop_under_test"],
        }

        deleted = delete_test_indices()
        assert [unversioned(name) for name in deleted] == ["test_blog_v1", "shop_under_test"]
        assert raw_engine.index_names() == []
        assert raw_engine.aliases() == {}


@pytest.mark.usefixtures("single_process")
def test_the_same_index_on_another_cluster_is_created_there_too(
    settings: Any, engine_url: str, osmem: OsmemServer, raw_engine: RawEngine
) -> None:
    other = osmem.clone()
    try:
        settings.ES_SERVERS = {
            "default": {"HOSTS": [engine_url], "ENGINE": OPENSEARCH, "INDICES": ["blog"]},
            "replica": {"HOSTS": [other.url], "ENGINE": OPENSEARCH, "INDICES": ["blog"]},
        }
        settings.ES_INDICES = {"blog": {"NAME": "blog_v1"}}
        with ensure_test_names(), temporary_test_indices() as created:
            assert created == ["test_blog_v1", "test_blog_v1"]
            assert raw_engine.index_names() == ["test_blog_v1"]
            assert RawEngine(other.url).index_names() == ["test_blog_v1"]
        assert raw_engine.index_names() == []
        assert RawEngine(other.url).index_names() == []
    finally:
        other.close()


@pytest.mark.usefixtures("blog_settings", "single_process")
def test_aliases_select_the_connections(raw_engine: RawEngine) -> None:
    with ensure_test_names():
        assert create_test_indices(["default"]) == ["test_blog_v1"]
        assert raw_engine.index_names() == ["test_blog_v1"]
        assert [unversioned(n) for n in delete_test_indices(["default"])] == ["test_blog_v1"]
        with pytest.raises(TypeError, match=r"did you mean \['default'\]"):
            create_test_indices("default")  # type: ignore[arg-type]


@pytest.mark.usefixtures("blog_settings", "single_process")
def test_delete_also_removes_indices_behind_the_test_aliases(raw_engine: RawEngine) -> None:
    with ensure_test_names():
        create_test_indices(["default"])
        (physical,) = raw_engine.physical_index_names()
        # An index a test made itself that took the test alias over.
        raw_engine.request("PUT", "/test_blog_v1_rebuilt")
        raw_engine.request(
            "POST",
            "/_aliases",
            {
                "actions": [
                    {"remove": {"index": physical, "alias": "test_blog_public"}},
                    {"add": {"index": "test_blog_v1_rebuilt", "alias": "test_blog_public"}},
                ]
            },
        )
        deleted = delete_test_indices(["default"])
    assert deleted == [physical, "test_blog_v1_rebuilt"]
    assert raw_engine.index_names() == []


@pytest.mark.usefixtures("blog_settings")
def test_index_helpers_refuse_to_run_on_live_names(raw_engine: RawEngine) -> None:
    raw_engine.request("PUT", "/blog_v1")
    for helper in (create_test_indices, delete_test_indices):
        with pytest.raises(TestModeRequired, match="use live index names") as caught:
            helper()
        assert "setup_djangoes()" in str(caught.value)
    assert raw_engine.index_names() == ["blog_v1"]


@pytest.mark.usefixtures("blog_settings", "single_process")
def test_a_test_index_left_by_an_interrupted_run_is_replaced(
    raw_engine: RawEngine, caplog: pytest.LogCaptureFixture
) -> None:
    raw_engine.request("PUT", "/test_blog_v1")
    raw_engine.request("PUT", "/test_blog_v1/_doc/stale", {"title": "from last time"})
    # ... and an index of that run still holding the test alias.
    raw_engine.request("PUT", "/test_blog_v1_old", {"aliases": {"test_blog_public": {}}})
    with ensure_test_names(), caplog.at_level(logging.WARNING, logger="djangoes.test"):
        assert create_test_indices(["default"]) == ["test_blog_v1"]
        assert raw_engine.count("test_blog_v1") == 0
        assert raw_engine.aliases() == {
            "test_blog_v1": ["test_blog_v1"],
            "test_blog_public": ["test_blog_v1"],
        }
        assert raw_engine.get("test_blog_v1")["mappings"] == BLOG_SETTINGS["mappings"]
        delete_test_indices(["default"])
    assert raw_engine.index_names() == []
    assert "left over from an earlier run" in caplog.text


@pytest.mark.usefixtures("single_process")
def test_a_failed_creation_deletes_what_was_created(
    settings: Any, engine_url: str, raw_engine: RawEngine
) -> None:
    configure(settings, engine_url)
    settings.ES_INDICES = {
        **settings.ES_INDICES,
        "shop": {"SETTINGS": {"mappings": {"properties": {"x": {"type": "no_such_type"}}}}},
    }
    with ensure_test_names():
        with pytest.raises(BadRequestError, match="no_such_type"):
            create_test_indices()
        assert raw_engine.index_names() == []


@pytest.mark.usefixtures("blog_settings", "single_process")
def test_temporary_test_indices_deletes_them_even_when_the_block_fails(
    raw_engine: RawEngine,
) -> None:
    seen: list[str] = []

    def failing_block() -> None:
        with temporary_test_indices() as created:
            seen.extend(raw_engine.index_names())  # by the names they stand for
            assert seen == sorted(created)
            connection.index(id="1", document={"title": "hello"})
            raise RuntimeError("boom")

    with ensure_test_names():
        with pytest.raises(RuntimeError, match="boom"):
            failing_block()
        assert seen == ["shop_under_test", "test_blog_v1"]
        assert raw_engine.index_names() == []


# -- the live-index guard ---------------------------------------------------------


@pytest.mark.usefixtures("single_process")
@pytest.mark.parametrize("engine_path", [OPENSEARCH, ELASTICSEARCH], ids=["opensearch", "es"])
def test_raw_client_requests_to_live_names_are_refused_under_test(
    settings: Any, engine_url: str, raw_engine: RawEngine, engine_path: str
) -> None:
    configure(settings, engine_url, engine_path)
    raw_engine.request("PUT", "/blog_v1", {"aliases": {"blog_public": {}}})
    raw_engine.request("PUT", "/blog_v1/_doc/1", {"title": "live document"})

    with ensure_test_names(), temporary_test_indices():
        with pytest.raises(LiveIndexAccessError) as caught:
            connection.client.search(index="blog_v1")
        message = str(caught.value)
        assert "targets the live index 'blog_v1'" in message
        assert "Use the test index 'test_blog_v1' instead" in message
        assert "Connection 'default'" in message

        with pytest.raises(LiveIndexAccessError, match="Use the test index 'test_blog_public'"):
            connection.client.search(index="blog_public")
        with pytest.raises(LiveIndexAccessError, match="live index 'blog_v1'"):
            connection.meta.indices.delete(index="blog_v1")
        # The test names go through.
        assert connection.client.count(index="test_blog_v1")["count"] == 0

    # The live index was never touched, and live names work again.
    assert raw_engine.count("blog_v1") == 1
    assert connection.client.count(index="blog_v1")["count"] == 1
