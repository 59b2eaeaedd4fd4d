"""The code blocks of the migration guides (docs/migration/), run as written.

djangoes-0.3.md: the loop creating the indices by hand, against an engine,
and the template reading hits with the djangoes library. elasticsearch-
django.md: the ``SEARCH_SETTINGS`` example and the djangoes settings it
"becomes" give the same connections, indexes and options (the blocks' app
label ``blog`` is the test project's ``testapp``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.template import Context, Template
from django.test import override_settings

from djangoes import ConnectionHandler, connection
from tests.docs.blocks import Block, blocks

ROOT = Path(__file__).resolve().parents[2]
DJANGOES_03 = ROOT / "docs" / "migration" / "djangoes-0.3.md"
ELASTICSEARCH_DJANGO = ROOT / "docs" / "migration" / "elasticsearch-django.md"
OPENSEARCH = "djangoes.backends.opensearch.SimpleHttpBackend"


def _of(page: Path, lang: str) -> list[Block]:
    return [block for block in blocks(page) if block.lang == lang]


def test_the_loop_creating_indices_by_hand(settings: Any, engine_url: str) -> None:
    [loop] = _of(DJANGOES_03, "python")
    settings.ES_SERVERS = {
        "default": {"HOSTS": [engine_url], "ENGINE": OPENSEARCH, "INDICES": ["blog", "shop"]}
    }
    settings.ES_INDICES = {
        "blog": {"SETTINGS": {"number_of_shards": 1}},
        "shop": {"NAME": "shop_v1", "SETTINGS": {"number_of_shards": 2}},
    }
    exec(compile(loop.body, loop.where(DJANGOES_03), "exec"), {"connection": connection})
    made = connection.meta.indices.get_settings(index="blog,shop_v1")
    shards = {name: made[name]["settings"]["index"]["number_of_shards"] for name in made}
    assert shards == {"blog": "1", "shop_v1": "2"}


def test_the_template_reading_hits() -> None:
    [template] = _of(DJANGOES_03, "django")
    results = {
        "hits": {
            "hits": [
                {"_id": "1", "_source": {"title": "First post", "text": "Hello"}},
                {"_id": "2", "_source": {"title": "Second post", "text": "Again"}},
            ]
        }
    }
    html = Template(template.body).render(Context({"results": results}))
    assert re.findall(r"<h2>(.*?)</h2>\s*(\w+)", html) == [
        ("First post", "Hello"),
        ("Second post", "Again"),
    ]


def test_search_settings_and_what_they_become_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "http://search.example:9200"
    before, after = _of(ELASTICSEARCH_DJANGO, "python")
    monkeypatch.setenv("ELASTICSEARCH_URL", url)

    def run(block: Block) -> dict[str, Any]:
        names: dict[str, Any] = {}
        code = block.body.replace('"blog.Post"', '"testapp.Post"')
        exec(compile("import os\n" + code, block.where(ELASTICSEARCH_DJANGO), "exec"), names)
        return {name: value for name, value in names.items() if name.isupper()}

    old, new = run(before), run(after)
    assert set(old) == {"SEARCH_SETTINGS"}
    assert set(new) == {"ES_SERVERS", "ES_INDICES", "DJANGOES"}
    parsed = []
    for given in (
        {"SEARCH_SETTINGS": old["SEARCH_SETTINGS"], "ES_SERVERS": None, "ES_INDICES": None},
        {"SEARCH_SETTINGS": None, **new},
    ):
        with override_settings(**given):
            handler = ConnectionHandler()
            handler.settings.raise_first_error()
            parsed.append(handler.settings)
    from_search_settings, from_djangoes = parsed
    assert from_search_settings.servers["default"]["HOSTS"] == [url]
    assert from_search_settings.servers == from_djangoes.servers
    assert from_search_settings.indices["blog"]["MODELS"] == ["testapp.Post"]
    assert from_search_settings.indices == from_djangoes.indices
    for option in ("CHUNK_SIZE", "BULK_DOCUMENTS", "AUTO_SYNC", "NEVER_AUTO_SYNC"):
        assert getattr(from_search_settings.options, option) == getattr(
            from_djangoes.options, option
        )
    assert (from_djangoes.options.CHUNK_SIZE, from_djangoes.options.BULK_DOCUMENTS) == (500, 500)
