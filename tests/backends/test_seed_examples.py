"""Every example of the djangoes 0.3 guide, run as written (``doc_type`` is ignored).

The guide's examples are quoted from its pages "Short introduction",
"Connections to ElasticSearch", "Perform queries", "Configure your django
project" and "Timeout and retry on error".
"""

from __future__ import annotations

from typing import Any

import pytest
from django.template import Context, Template

from djangoes import connection, connections

OPENSEARCH = "djangoes.backends.opensearch.SimpleHttpBackend"


def test_short_introduction(settings: Any, engine_url: str) -> None:
    settings.ES_SERVERS = {
        "default": {
            "HOSTS": [engine_url],
            "ENGINE": OPENSEARCH,
            "INDICES": ["my_index"],
        }
    }
    settings.ES_INDICES = {"my_index": {"NAME": "index_dev"}}
    connection.create_indices()
    connection.index(id="1", document={"title": "Hello", "text": "search is here"}, refresh=True)

    search_term = "search"
    query = {"query": {"match": {"text": search_term}}}
    with pytest.warns(DeprecationWarning, match="doc_type is ignored"):
        result = connection.search(doc_type="entry", body=query)
    # Django templates refuse names starting with "_" (``hit._source.title`` of
    # the guide): the djangoes template library reads them.
    html = Template(
        "{% load djangoes %}{% for hit in results.hits.hits %}{% with doc=hit|source %}"
        "<h2>{{doc.title}}</h2>{{doc.text}}{% endwith %} ({{ hit|meta:'id' }}){% endfor %}"
    ).render(Context({"results": result}))
    assert html == "<h2>Hello</h2>search is here (1)"


def test_connections_and_the_default_proxy(es_config: dict[str, Any]) -> None:
    """ "Connections to ElasticSearch": search_blog_entries(words) and the proxy."""
    connection.create_indices()
    connection.index(id="1", document={"title": "words here"}, refresh=True)

    def search_blog_entries(words: str) -> list[dict[str, Any]]:
        doc_type = "entry"
        search = {"query": {"term": {"title": words}}}
        result = connection.search(doc_type, search)
        hits: list[dict[str, Any]] = result.get("hits", {}).get("hits", [])
        return hits

    with pytest.warns(DeprecationWarning, match="doc_type is ignored"):
        assert [h["_id"] for h in search_blog_entries("words")] == ["1"]
    conn = connections["default"]
    assert connection == conn


def test_multiple_connections_and_indices(settings: Any, engine_url: str) -> None:
    """ "Search & Single-operation configuration": categories and brands."""
    settings.ES_SERVERS = {
        "default": {"HOSTS": [engine_url], "ENGINE": OPENSEARCH,
                    "INDICES": ["categories", "brands"]},
        "categories": {"HOSTS": [engine_url], "ENGINE": OPENSEARCH, "INDICES": ["categories"]},
        "brands": {"HOSTS": [engine_url], "ENGINE": OPENSEARCH, "INDICES": ["brands"]},
    }  # fmt: skip
    settings.ES_INDICES = {"categories": {"SETTINGS": {}}, "brands": {"SETTINGS": {}}}
    connection.create_indices()

    assert connection.indices == ["categories", "brands"]
    categories = connections["categories"]
    brands = connections["brands"]
    # create(doc_id, document) as the guide writes it: read so, with a warning
    # (djangoes 0.3's code read two positional arguments as doc_type, body)
    with pytest.warns(DeprecationWarning, match=r"read as create\(id, document\)"):
        assert categories.create("c1", {"name": "shoes"})["result"] == "created"
    with pytest.warns(DeprecationWarning, match=r"read as create\(id, document\)"):
        assert brands.create("b1", {"name": "acme"})["result"] == "created"
    assert categories.indices == ["categories"]
    assert brands.indices == ["brands"]
    connection.refresh()
    query = {"query": {"match_all": {}}}
    results = connection.search(query)
    assert sorted(h["_index"] for h in results.get("hits", {}).get("hits", [])) == [
        "brands",
        "categories",
    ]


def test_the_settings_examples(settings: Any, engine_url: str) -> None:
    """ "Configure your django project": ENGINE as spelled there, ALIASES, SETTINGS."""
    settings.ES_SERVERS = {
        "default": {
            "HOSTS": ["es_host_1", "es_host_2"],
            "ENGINE": "djangoes.backends.elasticsearch.SimpleHttpClient",
            "INDICES": ["index_1"],
        }
    }
    settings.ES_INDICES = {
        "index_1": {"NAME": "real_index_name", "ALIASES": ["index_catalog", "index_public"]}
    }
    with pytest.warns(DeprecationWarning, match="SimpleHttpBackend"):
        conn = connections["default"]
    assert conn.server["HOSTS"] == ["http://es_host_1:9200", "http://es_host_2:9200"]
    assert conn.indices == ["index_catalog", "index_public"]
    assert conn.index_names == ["real_index_name"]


def test_get_indices_with_settings_creates_the_indices(settings: Any, engine_url: str) -> None:
    """ "The SETTINGS parameter": the loop creating each index with its settings.

    The guide calls ``connection.get_server_indices()`` (kept, deprecated) and
    ``client.indices.create(name, body)`` positionally; both clients now take
    keyword arguments only, so the call is written with keywords.
    """
    settings.ES_SERVERS = {"default": {"HOSTS": [engine_url], "ENGINE": OPENSEARCH,
                                       "INDICES": ["blog"]}}  # fmt: skip
    settings.ES_INDICES = {"blog": {"SETTINGS": {"number_of_shards": 1}}}
    with pytest.warns(DeprecationWarning, match="get_indices_with_settings"):
        indices_with_settings = connection.get_server_indices()
    for index_name, settings_body in indices_with_settings.items():
        connection.client.indices.create(index=index_name, body=settings_body)
    assert (
        connection.meta.indices.get_settings(index="blog")["blog"]["settings"]["index"][
            "number_of_shards"
        ]
        == "1"
    )


def test_timeout_and_retry_params(settings: Any, engine_url: str) -> None:
    """ "Timeout and retry on error": PARAMS reach the client."""
    settings.ES_SERVERS = {
        "default": {
            "HOSTS": [engine_url],
            "ENGINE": OPENSEARCH,
            "PARAMS": {"timeout": 1, "retry_on_timeout": True, "max_retries": 3},
        }
    }
    transport = connections["default"].client.transport
    assert (transport.max_retries, transport.retry_on_timeout) == (3, True)
    assert transport.kwargs["timeout"] == 1
