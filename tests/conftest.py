"""Shared fixtures: a running engine, per-test isolation, the backends under contract.

One osmem-server runs for the whole session; every test that needs an engine
gets its own copy-on-write clone of it (a separate port, milliseconds to make),
so tests never see each other's indices.

In a real-engine lane (``DJANGOES_REAL_ENGINE=2.19`` or ``3.8``, set by
``python -m tests.lanes os219|os38``) one real OpenSearch node runs for the
session instead (``tests/engines.py``) and is emptied before each test; tests
of other engines' clients (Elasticsearch's, the embedded one) and tests marked
``emulator_only`` are deselected there, and tests marked ``real_engine`` run
only there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from osmem_server import OsmemServer

from tests import engines
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


#: Parameters naming clients that refuse a real OpenSearch node (fixture -> values).
NOT_OPENSEARCH = {"engine": {"es-urllib3", "es-requests", "embedded"}, "backend": {"elasticsearch"}}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the tests that belong to this run's engine (see the module's docstring)."""
    real = engines.lane_release() is not None

    def belongs(item: pytest.Item) -> bool:
        if not real:
            return item.get_closest_marker("real_engine") is None
        if item.get_closest_marker("emulator_only") is not None:
            return False
        params = getattr(item, "callspec", None)
        given = params.params if params is not None else {}
        return not any(given.get(name) in values for name, values in NOT_OPENSEARCH.items())

    kept = [item for item in items if belongs(item)]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if not belongs(item)])
        items[:] = kept


@pytest.fixture(scope="session")
def real_node() -> Iterator[engines.Node]:
    """The real OpenSearch node of this real-engine lane, for the whole session.

    Skipped, saying why, when it cannot run here (no Java, no Maven...);
    under CI (``DJANGOES_CI=1``) that is a failure instead.
    """
    release = engines.lane_release()
    if release is None:
        pytest.skip("not a real-engine lane (DJANGOES_REAL_ENGINE is not set)")
    reason = engines.unavailable(release)
    if reason is not None:
        if engines.in_ci():
            pytest.fail(f"OpenSearch {release.name} cannot run under CI: {reason}")
        pytest.skip(f"OpenSearch {release.name} cannot run here: {reason}")
    with engines.running_node(release) as node:
        yield node


@pytest.fixture
def engine_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a fresh, empty engine for this test only.

    A clone of the session's osmem-server, or in a real-engine lane the
    session's real node, emptied first.
    """
    if engines.lane_release() is not None:
        node: engines.Node = request.getfixturevalue("real_node")
        engines.wipe(node.url)
        yield node.url
        return
    osmem: OsmemServer = request.getfixturevalue("osmem")
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
