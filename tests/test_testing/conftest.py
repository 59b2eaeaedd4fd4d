"""Fixtures for the tests of ``djangoes.test``: settings on a fresh engine, a raw view of it."""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from djangoes import connections

OPENSEARCH = "djangoes.backends.opensearch.SimpleHttpBackend"
ELASTICSEARCH = "djangoes.test.backends.SimpleHttpBackend"
PROJECTS = Path(__file__).resolve().parent.parent / "projects"

#: Environment of this test process that must not reach a project run in a
#: subprocess: it would think it is an xdist worker, or use our settings.
_INHERITED_BY_ACCIDENT = ("PYTEST_", "DJANGO_SETTINGS_MODULE", "DJANGOES_")


def unversioned(name: str) -> str:
    """``test_blog-20250102t030405123456`` -> ``test_blog`` (other names unchanged)."""
    return re.sub(r"-\d{8}t\d{12}$", "", name)


class RawEngine:
    """The engine seen over plain HTTP, not through djangoes: what is really there."""

    def __init__(self, url: str) -> None:
        self.url = url

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """The decoded answer; AssertionError with the engine's words on an error status."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as response:
                text = response.read()
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: {exc.code} {exc.read()[:500]!r}") from None
        return json.loads(text) if text else None

    def physical_index_names(self) -> list[str]:
        return sorted(row["index"] for row in self.request("GET", "/_cat/indices?format=json"))

    def index_names(self) -> list[str]:
        """The indices, each by the name it stands for (``<NAME>-<timestamp>`` -> NAME)."""
        return sorted(unversioned(name) for name in self.physical_index_names())

    def get(self, name: str) -> Any:
        """``GET /<name>`` of the one index behind ``name`` (an alias or an index)."""
        (found,) = self.request("GET", f"/{name}").values()
        return found

    def aliases(self) -> dict[str, list[str]]:
        """Alias name -> the indices it points to (by the names they stand for)."""
        result: dict[str, list[str]] = {}
        for index, info in (self.request("GET", "/_alias") or {}).items():
            for alias in info.get("aliases", {}):
                result.setdefault(alias, []).append(unversioned(index))
        return {alias: sorted(indices) for alias, indices in result.items()}

    def count(self, index: str) -> int:
        return int(self.request("GET", f"/{index}/_count")["count"])


@pytest.fixture
def raw_engine(engine_url: str) -> RawEngine:
    return RawEngine(engine_url)


BLOG_SETTINGS = {
    "settings": {
        "number_of_shards": 2,
        "analysis": {"analyzer": {"folded": {"type": "custom", "tokenizer": "standard"}}},
    },
    "mappings": {"properties": {"title": {"type": "text", "analyzer": "folded"}}},
}


def configure(settings: Any, url: str, engine: str = OPENSEARCH) -> None:
    """Two connections on one engine: 'default' (blog) and 'catalog' (blog and shop).

    'blog' has the default test names (test_blog_v1, alias test_blog_public);
    'shop' has explicit ones.
    """
    settings.ES_SERVERS = {
        "default": {"HOSTS": [url], "ENGINE": engine, "INDICES": ["blog"]},
        "catalog": {"HOSTS": [url], "ENGINE": engine, "INDICES": ["blog", "shop"]},
    }
    settings.ES_INDICES = {
        "blog": {"NAME": "blog_v1", "ALIASES": ["blog_public"], "SETTINGS": BLOG_SETTINGS},
        "shop": {
            "ALIASES": ["shop_public"],
            "TEST": {"NAME": "shop_under_test", "ALIASES": ["shop_test_alias"]},
        },
    }


@pytest.fixture
def blog_settings(settings: Any, engine_url: str) -> str:
    """ES_SERVERS / ES_INDICES of :func:`configure` on this test's engine; returns its URL."""
    configure(settings, engine_url)
    return engine_url


@pytest.fixture
def single_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """This suite runs under pytest-xdist: hide that, so the default suffix is ''."""
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)


@pytest.fixture(autouse=True)
def _live_names_afterwards() -> Iterator[None]:
    """Every test here must leave the live names in use: a leak would mislead later tests."""
    yield
    leaked = connections.test_names
    if leaked is not None:
        connections.use_live_names(None)
        pytest.fail(f"The test left test names in use ({leaked!r}).")


def subprocess_env(**extra: str) -> dict[str, str]:
    """This process's environment without what would confuse a project run inside it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED_BY_ACCIDENT)}
    env.update(extra)
    return env


def read_report(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
