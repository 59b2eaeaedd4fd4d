"""The connection handler: aliases, proxy, threads, fork, settings changes, engines."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import warnings
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from djangoes import ConnectionDoesNotExist, ConnectionHandler, connection, connections
from djangoes.backends.abstracts import Base
from djangoes.backends.elasticsearch import SimpleHttpBackend as EsHttp


def test_connection_proxy_is_the_default_connection(es_config: dict[str, Any]) -> None:
    assert connection == connections["default"]
    assert connection.alias == "default"
    assert connection.indices == connections["default"].indices
    assert "ConnectionProxy 'default'" in repr(connection)


def test_aliases_iteration_and_all(es_config: dict[str, Any]) -> None:
    assert list(connections) == ["default", "multi"]
    assert [c.alias for c in connections.all()] == ["default", "multi"]
    assert "multi" in connections
    assert "nope" not in connections


def test_unknown_alias_names_the_configured_ones(es_config: dict[str, Any]) -> None:
    with pytest.raises(ConnectionDoesNotExist) as info:
        connections["backup"]
    assert str(info.value) == (
        "The connection 'backup' doesn't exist. Configured connections in ES_SERVERS: "
        "'default', 'multi'."
    )
    assert isinstance(info.value, KeyError)


def test_one_connection_and_one_client_per_process_shared_by_threads(
    es_config: dict[str, Any],
) -> None:
    main = connections["default"]
    main.create_indices()
    main.index(id="1", document={"title": "one"}, refresh=True)
    main.close()  # the threads below race to build the client
    start = threading.Barrier(8)
    seen: list[tuple[Base, Any]] = []
    answers: list[int] = []

    def worker() -> None:
        start.wait()
        conn = connections["default"]
        seen.append((conn, conn.client))
        answers.append(conn.count()["count"])

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {id(conn) for conn, _ in seen} == {id(main)}
    assert len({id(client) for _, client in seen}) == 1
    assert answers == [1] * 8


def test_close_all_closes_the_clients_of_every_thread(es_config: dict[str, Any]) -> None:
    clients: list[Any] = []
    thread = threading.Thread(target=lambda: clients.append(connections["multi"].client))
    thread.start()
    thread.join()
    default_client = connections["default"].client
    connections.close_all()
    assert connections["multi"].client is not clients[0]
    assert connections["default"].client is not default_client
    assert connections["default"].ping()


def test_each_thread_sees_its_own_requests_in_queries(
    es_config: dict[str, Any], settings: Any
) -> None:
    settings.DEBUG = True
    conn = connections["default"]
    conn.reset_queries()
    conn.ping()
    other: list[list[str]] = []

    def worker() -> None:
        conn.info()
        other.append([q["path"] for q in conn.queries])

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert [q["method"] for q in conn.queries] == ["HEAD"]
    assert other == [["/"]]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
# Forking is what this test is about (a pre-forking server forks a process that already
# made connections); the test process has threads of other tests, which Python warns of.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_drops_the_parents_connections(es_config: dict[str, Any]) -> None:
    parent = connections["default"]
    parent.create_indices()
    parent.index(id="1", document={"title": "from the parent"}, refresh=True)
    parent_client = parent.client
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running pytest's teardown
        try:
            child = connections["default"]
            report = (
                f"{child is not parent}|{child.client is not parent_client}|"
                f"{child.get('1')['_source']['title']}"
            )
        except BaseException as exc:  # noqa: BLE001 - any failure is reported to the parent
            report = f"error|{exc!r}"
        os.write(write_fd, report.encode())
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        report = pipe.read()
    os.waitpid(pid, 0)
    assert report == "True|True|from the parent"
    assert connections["default"] is parent


def test_override_settings_takes_effect(es_config: dict[str, Any]) -> None:
    assert connections["default"].index_names == ["blog_v1"]
    with override_settings(ES_INDICES={"blog": {"NAME": "blog_v2"}, "shop": {}}):
        assert connections["default"].index_names == ["blog_v2"]
    assert connections["default"].index_names == ["blog_v1"]


def test_a_handler_with_explicit_settings_ignores_django_settings(engine_url: str) -> None:
    handler = ConnectionHandler(
        {
            "default": {
                "HOSTS": [engine_url],
                "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
                "INDICES": ["a"],
            }
        },
        {"a": {"NAME": "alpha"}},
    )
    assert handler["default"].index_names == ["alpha"]
    assert handler["default"].ping()


def test_configuration_errors_raise_on_first_use(settings: Any) -> None:
    settings.ES_SERVERS = {"default": {"HOSTS": ["localhost"], "INDICES": ["nope"]}}
    settings.ES_INDICES = {}
    with pytest.raises(
        ImproperlyConfigured,
        match=r"ES_SERVERS\['default'\]\['INDICES'\] names "
        r"the index 'nope', which is not in ES_INDICES",
    ):
        connections["default"]


@pytest.mark.parametrize(
    ("engine", "message"),
    [
        (
            "djangoes.backends.nosuch.Backend",
            "'djangoes.backends.nosuch.Backend' cannot be imported",
        ),
        (
            "djangoes.backends.elasticsearch",
            "is a module; ENGINE is the dotted path of a backend class",
        ),
        (
            "djangoes.backends.elasticsearch.SimpleHttpBackends",
            "(it has BaseElasticsearchBackend, SimpleHttpBackend",
        ),
        ("djangoes.conf.Problem", "is not a subclass of djangoes.backends.abstracts.Base"),
    ],
)
def test_an_engine_that_cannot_be_used(settings: Any, engine: str, message: str) -> None:
    settings.ES_SERVERS = {"default": {"ENGINE": engine}}
    with pytest.raises(ImproperlyConfigured) as info:
        connections["default"]
    text = str(info.value)
    assert text.startswith(f"ES_SERVERS['default']['ENGINE'] = {engine!r} cannot be used: ")
    assert message in text
    assert "djangoes.backends.elasticsearch.SimpleHttpBackend" in text  # the hint


@pytest.mark.parametrize("name", ["SimpleThriftBackend", "SimpleMemcachedBackend"])
def test_removed_transports_say_so_and_name_the_replacement(settings: Any, name: str) -> None:
    settings.ES_SERVERS = {"default": {"ENGINE": f"djangoes.backends.elasticsearch.{name}"}}
    with pytest.raises(ImproperlyConfigured) as info:
        connections["default"]
    text = str(info.value)
    assert f"{name} is no longer available" in text
    assert "was removed from Elasticsearch" in text
    assert "SimpleHttpBackend" in text


def test_the_guides_misspelled_engine_still_works_with_a_warning(settings: Any) -> None:
    settings.ES_SERVERS = {
        "default": {"ENGINE": "djangoes.backends.elasticsearch.SimpleHttpClient"}
    }
    with pytest.warns(DeprecationWarning, match="use SimpleHttpBackend"):
        conn = connections["default"]
    assert isinstance(conn, EsHttp)


class _TooNew(EsHttp):
    client_version_range = ((99,), (100,))


class _Missing(EsHttp):
    client_distribution = "djangoes-no-such-client"
    install_hint = "'djangoes-no-such-client>=1'"


def test_a_client_library_of_the_wrong_version_names_the_version_found(settings: Any) -> None:
    from importlib import metadata

    settings.ES_SERVERS = {"default": {"ENGINE": f"{__name__}._TooNew"}}
    with pytest.raises(ImproperlyConfigured) as info:
        connections["default"]
    text = str(info.value)
    assert f"needs elasticsearch>=99,<100, found {metadata.version('elasticsearch')}" in text
    assert "Run: pip install 'elasticsearch>=8,<10'" in text


def test_a_missing_client_library_names_the_pip_install(settings: Any) -> None:
    settings.ES_SERVERS = {"default": {"ENGINE": f"{__name__}._Missing"}}
    with pytest.raises(ImproperlyConfigured) as info:
        connections["default"]
    assert "which is not installed" in str(info.value)
    assert "Run: pip install 'djangoes-no-such-client>=1'" in str(info.value)


def test_importing_djangoes_reads_no_settings_and_imports_no_client() -> None:
    code = (
        "import sys\n"
        "import djangoes, djangoes.backends.elasticsearch, djangoes.backends.opensearch\n"
        "import djangoes.checks, djangoes.conf, djangoes.apps\n"
        "from django.conf import settings\n"
        "assert not settings.configured, 'settings were read at import'\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('elasticsearch', 'elastic_transport', 'opensearchpy', 'osmem_server', 'requests', "
        "'urllib3'))\n"
        "print(loaded)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "[]"


def test_deprecated_get_server_indices_is_get_indices_with_settings(
    es_config: dict[str, Any],
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = connection.get_server_indices()
    assert result == connection.get_indices_with_settings()
    assert "get_indices_with_settings" in str(caught[0].message)
