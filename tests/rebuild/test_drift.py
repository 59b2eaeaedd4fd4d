"""Mapping drift: ``manage.py check --deploy`` says when the live index needs a rebuild."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core import checks

from djangoes.backends.abstracts import Base
from djangoes.indexing import index_drift, rebuild_index
from djangoes.indexing.drift import compare, normalise
from tests.lifecycle.conftest import BLOG_MAPPING
from tests.servers import closed_port_url


def drift_messages(deploy: bool = True) -> list[checks.CheckMessage]:
    found = checks.run_checks(include_deployment_checks=deploy, tags=["djangoes"])
    return [m for m in found if m.id in ("djangoes.W301", "djangoes.W302")]


def write(settings: Any, body: dict[str, Any]) -> None:
    Path(settings.DJANGOES["MAPPINGS_DIR"], "blog.json").write_text(json.dumps(body))


# -- the comparison, as data ----------------------------------------------------


def test_values_compare_by_meaning() -> None:
    assert normalise(100) == normalise(100.0) == normalise("100") == "100"
    assert normalise(True) == normalise("true") == "true"
    assert normalise(["title"]) == normalise("title")
    assert normalise(0.5) != normalise(1)


def test_what_the_engine_adds_or_leaves_out_is_no_drift() -> None:
    expected = {
        "properties": {
            "title": {"type": "text", "index": True, "fields": {"raw": {"type": "keyword"}}},
            "n": {"type": "integer", "doc_values": True, "coerce": True},
            "author": {"type": "object", "properties": {"name": {"type": "keyword"}}},
            "tags": {"type": "keyword", "copy_to": "all"},
            "price": {"type": "scaled_float", "scaling_factor": 100},
        }
    }
    live = {
        "properties": {
            "title": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
            "n": {"type": "integer", "coerce": True},
            "author": {"properties": {"name": {"type": "keyword"}}},
            "tags": {"type": "keyword", "copy_to": ["all"]},
            "price": {"type": "scaled_float", "scaling_factor": 100.0},
            "added_by_a_document": {"type": "long"},
        }
    }
    assert compare(expected, live) == []


def test_real_changes_are_listed() -> None:
    expected = {
        "properties": {
            "title": {"type": "text", "analyzer": "folded"},
            "views": {"type": "integer"},
            "new": {"type": "keyword"},
        }
    }
    live = {"properties": {"title": {"type": "text"}, "views": {"type": "long"}}}
    assert compare(expected, live, path="mappings") == [
        "mappings.properties.title.analyzer: the mapping file has 'folded', the live index "
        "has nothing",
        "mappings.properties.views.type: the mapping file has 'integer', the live index has 'long'",
        "mappings.properties.new: in the mapping file, not in the live index",
    ]


def test_extra_fields_count_where_the_mapping_is_strict() -> None:
    expected = {"dynamic": "strict", "properties": {"title": {"type": "text"}}}
    live = {
        "dynamic": "strict",
        "properties": {"title": {"type": "text"}, "gone": {"type": "long"}},
    }
    [difference] = compare(expected, live)
    assert difference.startswith("properties.gone: in the live index, not in the mapping file")


# -- the check, against the engine ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_check_tells_to_rebuild_when_the_mapping_file_changed(
    conn: Base, blog: dict[str, Any], rebuild_settings: Any
) -> None:
    assert drift_messages() == []  # documents added nothing that counts
    changed = json.loads(json.dumps(BLOG_MAPPING))
    changed["settings"]["analysis"] = {
        "analyzer": {"folded": {"type": "custom", "tokenizer": "standard",
                                "filter": ["lowercase", "asciifolding"]}}
    }  # fmt: skip
    changed["mappings"]["properties"]["title"]["analyzer"] = "folded"
    changed["mappings"]["properties"]["views"]["type"] = "long"
    write(rebuild_settings, changed)
    [message] = drift_messages()
    assert message.level == checks.WARNING
    assert "of index 'blog' on connection 'default' does not have the mapping" in message.msg
    assert "mappings.properties.title.analyzer: the mapping file has 'folded'" in message.msg
    assert "mappings.properties.views.type: the mapping file has 'long'" in message.msg
    assert "settings.analysis.analyzer: the mapping file has" in message.msg
    assert message.hint is not None
    assert message.hint.endswith("python manage.py rebuild_search_index blog")
    assert drift_messages(deploy=False) == []  # a network check: --deploy only
    rebuild_index("blog")
    assert drift_messages() == []
    assert index_drift("blog") == []


@pytest.mark.django_db(transaction=True)
def test_the_check_stays_quiet_without_an_index_or_an_engine(
    rebuild_settings: Any, engine_url: str
) -> None:
    assert drift_messages() == []  # nothing created yet
    rebuild_settings.ES_SERVERS = {
        "default": {**rebuild_settings.ES_SERVERS["default"], "HOSTS": [closed_port_url()],
                    "PARAMS": {"max_retries": 0}},
    }  # fmt: skip
    assert drift_messages() == []  # check_servers reports the unreachable engine


@pytest.mark.django_db(transaction=True)
def test_a_plain_index_is_compared_too(conn: Base, rebuild_settings: Any) -> None:
    """NAME as a plain index (as the test utilities or an older version make it)."""
    conn.meta.indices.create(index="blog", body=BLOG_MAPPING)
    assert drift_messages() == []
    changed = json.loads(json.dumps(BLOG_MAPPING))
    changed["mappings"]["properties"]["body"] = {"type": "keyword"}
    write(rebuild_settings, changed)
    [drift] = index_drift("blog")
    assert drift.physical == "blog"
    assert drift.differences == [
        "mappings.properties.body.type: the mapping file has 'keyword', the live index has 'text'"
    ]
