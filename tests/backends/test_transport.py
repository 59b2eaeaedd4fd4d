"""PARAMS reach the client, failures become djangoes errors, secrets stay secret.

These tests need clusters that misbehave (silent, refusing, TLS), which the
engine cannot be made to do: they use the small real servers of
``tests/servers.py`` and the production backends (the recording server takes
any media type, so the Elasticsearch backends need no test harness here).
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import pytest

from djangoes import connections
from djangoes.exceptions import ConnectionError, ConnectionTimeout, TransportError
from tests.servers import closed_port_url, recording_server, self_signed_certificate, silent_server

PRODUCTION_ENGINES = {
    "es-urllib3": "djangoes.backends.elasticsearch.SimpleHttpBackend",
    "es-requests": "djangoes.backends.elasticsearch.SimpleRequestsHttpBackend",
    "os-urllib3": "djangoes.backends.opensearch.SimpleHttpBackend",
    "os-requests": "djangoes.backends.opensearch.SimpleRequestsHttpBackend",
}


@pytest.fixture(params=list(PRODUCTION_ENGINES))
def engine_path(request: pytest.FixtureRequest) -> str:
    return PRODUCTION_ENGINES[request.param]


def configure(settings: Any, engine: str, hosts: list[str], **params: Any) -> None:
    settings.ES_SERVERS = {
        "default": {"HOSTS": hosts, "ENGINE": engine, "INDICES": ["blog"], "PARAMS": params}
    }
    settings.ES_INDICES = {"blog": {}}


def test_unreachable_cluster_raises_connection_error(settings: Any, engine_path: str) -> None:
    configure(settings, engine_path, [closed_port_url()], max_retries=0)
    conn = connections["default"]
    with pytest.raises(ConnectionError) as info:
        conn.search(query={"match_all": {}})
    assert info.value.status is None
    assert isinstance(info.value, OSError)  # builtins.ConnectionError
    assert info.value.__cause__ is not None
    assert str(info.value).startswith("[default] ")
    assert conn.ping() is False


def test_closing_closes_the_pools_of_nodes_marked_dead(settings: Any, engine_url: str) -> None:
    """One node of HOSTS is down: the client sends to the other and marks it dead; closing
    the connection closes every node's pool, the dead one's too (opensearch-py's
    ``Transport.close()`` closes the live ones only)."""
    settings.ES_SERVERS = {
        "default": {
            "HOSTS": [closed_port_url(), engine_url],
            "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
            "INDICES": [],
        }
    }
    conn = connections["default"]
    assert [conn.ping() for _ in range(4)] == [True] * 4  # the dead node's turn comes
    pool = conn.client.transport.connection_pool
    assert len(pool.connections) == 1  # the other one is marked dead
    conn.close()
    assert all(node.pool is None for node in pool.orig_connections)  # closed


def test_silent_cluster_times_out_and_retries_as_configured(
    settings: Any, engine_path: str
) -> None:
    """A server that accepts and never answers: timeout, retry_on_timeout, max_retries."""
    with silent_server() as server:
        configure(
            settings, engine_path, [server.url], timeout=0.3, max_retries=2,
            retry_on_timeout=True,
        )  # fmt: skip
        with pytest.raises(ConnectionTimeout) as info:
            connections["default"].count()
        assert isinstance(info.value, TimeoutError)
        assert len(server.accepted) == 3  # the first try and two retries


def test_timeout_without_retry_on_timeout_tries_once(settings: Any, engine_path: str) -> None:
    with silent_server() as server:
        configure(settings, engine_path, [server.url], timeout=0.3, max_retries=3)
        with pytest.raises(ConnectionTimeout):
            connections["default"].count()
        assert len(server.accepted) == 1


def test_basic_auth_is_sent(settings: Any, engine_path: str) -> None:
    with recording_server() as server:
        configure(settings, engine_path, [server.url], basic_auth=("elastic", "s3cret"))
        connections["default"].info()
        expected = "Basic " + base64.b64encode(b"elastic:s3cret").decode()
        assert server.requests[-1].headers["authorization"] == expected


def test_credentials_in_the_host_url_are_sent_as_basic_auth(
    settings: Any, engine_path: str
) -> None:
    with recording_server() as server:
        url = server.url.replace("http://", "http://elastic:s3cret@")
        configure(settings, engine_path, [url])
        connections["default"].info()
        expected = "Basic " + base64.b64encode(b"elastic:s3cret").decode()
        assert server.requests[-1].headers["authorization"] == expected


def test_api_key_is_sent(settings: Any, engine_path: str) -> None:
    with recording_server() as server:
        configure(settings, engine_path, [server.url], api_key="a2V5OnNlY3JldA==")
        connections["default"].info()
        assert server.requests[-1].headers["authorization"] == "ApiKey a2V5OnNlY3JldA=="


def test_custom_headers_are_sent(settings: Any, engine_path: str) -> None:
    with recording_server() as server:
        configure(settings, engine_path, [server.url], headers={"x-tenant": "acme"})
        connections["default"].info()
        assert server.requests[-1].headers["x-tenant"] == "acme"


def test_credentials_never_show(
    settings: Any, engine_path: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "hunter2-very-secret"
    configure(settings, engine_path, [closed_port_url()], basic_auth=("user", secret),
              max_retries=0)  # fmt: skip
    settings.DEBUG = True
    conn = connections["default"]
    caplog.set_level(logging.DEBUG)
    with pytest.raises(TransportError) as info:
        conn.info()
    shown = [repr(conn), str(info.value), repr(info.value), caplog.text, repr(conn.queries),
             repr(conn.describe_params())]  # fmt: skip
    failed = conn.queries[-1]
    assert (failed["status"], failed["error"]) == (None, "ConnectionError")
    for text in shown:
        assert secret not in text


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's CA
    # file (psf/requests#3829): without this, ca_certs would be ignored on
    # machines that set them, which is what the docs warn about.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    made = self_signed_certificate(tmp_path)
    if made is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    return made


def test_tls_is_verified_by_default(
    settings: Any, engine_path: str, certificate: tuple[Path, Path]
) -> None:
    with recording_server(tls=certificate) as server:
        configure(settings, engine_path, [server.url], max_retries=0)
        with pytest.raises(ConnectionError) as info:
            connections["default"].info()
        assert "CERTIFICATE_VERIFY_FAILED" in str(info.value)
        assert server.requests == []


def test_tls_with_the_ca_certificate(
    settings: Any, engine_path: str, certificate: tuple[Path, Path]
) -> None:
    with recording_server(tls=certificate) as server:
        configure(settings, engine_path, [server.url], ca_certs=str(certificate[0]))
        assert connections["default"].info()["version"]["number"] == "8.15.0"
        assert len(server.requests) == 1


@pytest.mark.filterwarnings("ignore")
def test_tls_verification_off_only_when_asked(
    settings: Any, engine_path: str, certificate: tuple[Path, Path]
) -> None:
    with recording_server(tls=certificate) as server:
        configure(settings, engine_path, [server.url], verify_certs=False, ssl_show_warn=False)
        assert connections["default"].info()["cluster_name"] == "test"


def test_unknown_params_are_rejected_with_a_suggestion(settings: Any, engine_path: str) -> None:
    configure(settings, engine_path, ["localhost"], max_retry=3)
    with pytest.raises(
        Exception, match=r"ES_SERVERS\['default'\]\['PARAMS'\] has 'max_retry'"
    ) as info:
        connections["default"]
    assert "Did you mean 'max_retries'?" in str(info.value)


@pytest.mark.parametrize("key", ["dead_timeout", "timeout_cutoff"])
def test_seed_pool_params_are_explained_for_elasticsearch(settings: Any, key: str) -> None:
    configure(settings, PRODUCTION_ENGINES["es-urllib3"], ["localhost"], **{key: 60})
    with pytest.raises(Exception, match="max_dead_node_backoff") as info:
        connections["default"]
    assert f"has {key!r}, which elasticsearch-py 8+ no longer accepts" in str(info.value)


def test_seed_pool_params_are_native_for_opensearch(settings: Any) -> None:
    configure(settings, PRODUCTION_ENGINES["os-urllib3"], ["es1", "es2"], dead_timeout=30,
              timeout_cutoff=3)  # fmt: skip
    pool = connections["default"].client.transport.connection_pool
    assert (pool.dead_timeout, pool.timeout_cutoff) == (30, 3)


def test_cloud_id_is_rejected_for_opensearch(settings: Any) -> None:
    settings.ES_SERVERS = {
        "default": {
            "ENGINE": PRODUCTION_ENGINES["os-urllib3"],
            "PARAMS": {"cloud_id": "x:eHgubG9jYWwkYWJj"},
        }
    }
    with pytest.raises(Exception, match="'cloud_id', which OpenSearch does not support"):
        connections["default"]


def test_cloud_id_reaches_the_elasticsearch_client(settings: Any) -> None:
    """No network: the client derives its node from the cloud id when it is built."""
    cloud_id = "deployment:" + base64.b64encode(b"es.example.io$abc123$def456").decode()
    settings.ES_SERVERS = {
        "default": {
            "ENGINE": PRODUCTION_ENGINES["es-urllib3"],
            "PARAMS": {"cloud_id": cloud_id, "api_key": "k"},
        }
    }
    conn = connections["default"]
    assert conn.server["HOSTS"] == []
    node = next(iter(conn.client.transport.node_pool.all())).config
    assert (node.scheme, node.host, node.port) == ("https", "abc123.es.example.io", 443)


def test_client_certificates_reach_the_node_configuration(
    settings: Any, engine_path: str, certificate: tuple[Path, Path]
) -> None:
    """Mutual TLS: client_cert / client_key end up in each node's TLS settings."""
    cert, key = (str(p) for p in certificate)
    with recording_server(tls=certificate) as server:
        configure(settings, engine_path, [server.url], ca_certs=cert, client_cert=cert,
                  client_key=key)  # fmt: skip
        conn = connections["default"]
        assert conn.info()["cluster_name"] == "test"
        if "elasticsearch" in engine_path:
            node = next(iter(conn.client.transport.node_pool.all())).config
            assert (node.client_cert, node.client_key) == (cert, key)
        else:
            connection = conn.client.transport.get_connection()
            if hasattr(connection, "pool"):  # urllib3
                assert (connection.pool.cert_file, connection.pool.key_file) == (cert, key)
            else:  # requests
                assert connection.session.cert == (cert, key)
