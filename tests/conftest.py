"""Shared fixtures: a running engine, per-test isolation, the backends under contract.

One osmem-server runs for the whole session; every test that needs an engine
gets its own copy-on-write clone of it (a separate port, milliseconds to make),
so tests never see each other's indices.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from osmem_server import OsmemServer

from tests.faults import FaultProxy, fault_proxy

#: Every backend the shared contract suite runs against (id -> ENGINE).
ENGINES = {
    "es-urllib3": "djangoes.test.backends.SimpleHttpBackend",
    "es-requests": "djangoes.test.backends.SimpleRequestsHttpBackend",
    "os-urllib3": "djangoes.backends.opensearch.SimpleHttpBackend",
    "os-requests": "djangoes.backends.opensearch.SimpleRequestsHttpBackend",
    "embedded": "djangoes.backends.embedded.EmbeddedBackend",
}


@pytest.fixture(scope="session")
def djangoes_test_names() -> None:
    """Keep live names for the session (overrides the djangoes pytest plugin's switch).

    This suite tests live-name behaviour as well; tests of test mode switch
    themselves (``djangoes.test.utils``), and ``tests/test_testing`` runs the
    plugin's session switch in real pytest subprocesses.
    """
    return None


@pytest.fixture(scope="session")
def osmem() -> Iterator[OsmemServer]:
    """The session's engine; tests never write to it directly (see ``engine_url``)."""
    server = OsmemServer.start(japanese=False)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def engine_url(osmem: OsmemServer) -> Iterator[str]:
    """URL of a fresh, empty engine for this test only (a clone of the session engine)."""
    clone = osmem.clone()
    try:
        yield clone.url
    finally:
        clone.close()


@pytest.fixture
def proxy(engine_url: str) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of this test's engine (``tests/faults.py``)."""
    with fault_proxy(engine_url) as running:
        yield running


@pytest.fixture(params=list(ENGINES))
def engine(request: pytest.FixtureRequest) -> str:
    """The ENGINE dotted path of each backend under contract, in turn."""
    return ENGINES[request.param]


@pytest.fixture
def es_config(
    settings: Any, engine_url: str, engine: str, tmp_path: Path
) -> Iterator[dict[str, Any]]:
    """ES_SERVERS / ES_INDICES for a test: the backend under contract on a fresh engine.

    Two connections: 'default' with one index ('blog', aliased 'blog_public'),
    'multi' with 'blog' and 'shop' (for single-index errors and multi-index search).
    The embedded backend ignores HOSTS: both connections share an engine of its
    own in a runtime directory of this test, stopped after it.
    """
    embedded = engine == ENGINES["embedded"]
    if embedded:
        from djangoes.embedded import config_from_params, ensure_engine

        where: dict[str, Any] = {"PARAMS": {"runtime_dir": str(tmp_path / "engine")}}
        engine_config = config_from_params("default", where["PARAMS"])
        engine_url = ensure_engine(engine_config).url
    else:
        where = {"HOSTS": [engine_url]}
    settings.ES_SERVERS = {
        "default": {**where, "ENGINE": engine, "INDICES": ["blog"]},
        "multi": {**where, "ENGINE": engine, "INDICES": ["blog", "shop"]},
    }
    settings.ES_INDICES = {
        "blog": {
            "NAME": "blog_v1",
            "ALIASES": ["blog_public"],
            "SETTINGS": {
                "settings": {"number_of_shards": 1},
                "mappings": {
                    "properties": {
                        "title": {"type": "text"},
                        "tag": {"type": "keyword"},
                        "views": {"type": "integer"},
                    }
                },
            },
        },
        "shop": {"SETTINGS": {"mappings": {"properties": {"name": {"type": "text"}}}}},
    }
    try:
        yield {"url": engine_url, "engine": engine}
    finally:
        if embedded:
            from djangoes.embedded import stop_engine

            stop_engine(engine_config)
