"""The DJANGOES setting, elasticsearch-django's SEARCH_SETTINGS, and the model checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core import checks

from djangoes import connections
from djangoes.conf import Problem
from djangoes.options import Options, parse_options


def parse(raw: Any) -> tuple[Options, list[Problem]]:
    problems: list[Problem] = []
    return parse_options(raw, problems), problems


def test_every_key_has_its_documented_default() -> None:
    options, problems = parse(None)
    assert problems == []
    assert (options.CHUNK_SIZE, options.PAGE_SIZE, options.AUTO_SYNC) == (500, 25, True)
    assert (options.NEVER_AUTO_SYNC, options.STRICT_VALIDATION) == ((), False)
    assert (options.UPDATE_STRATEGY, options.RETRY_ON_CONFLICT) == ("full", 0)
    assert (options.CACHE_EXPIRY, options.INCLUDE_SOURCE, options.ON_ERROR) == (0, True, None)
    assert (options.BULK_BYTES, options.BULK_DOCUMENTS, options.BULK_TIMEOUT) == (2**21, 5000, 60)
    assert (options.RETRY_BUDGET, options.INLINE_RETRY_BUDGET) == (60, 1)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"CHUNK_SIZE": 0}, "DJANGOES['CHUNK_SIZE'] = 0 must be a whole number of at least 1."),
        ({"PAGE_SIZE": "25"}, "DJANGOES['PAGE_SIZE'] = '25' must be a whole number of at least 1."),
        ({"AUTO_SYNC": "yes"}, "DJANGOES['AUTO_SYNC'] = 'yes' must be True or False."),
        ({"UPDATE_STRATEGY": "smart"},
         "DJANGOES['UPDATE_STRATEGY'] = 'smart' must be one of 'full', 'partial'."),
        ({"NEVER_AUTO_SYNC": ["Post"]},
         "DJANGOES['NEVER_AUTO_SYNC'] = ['Post'] has 'Post', which is not an 'app_label.ModelName' "
         "label."),
        ({"ON_ERROR": "ignore"}, "DJANGOES['ON_ERROR'] = 'ignore' must be one of 'raise', 'log', "
         "'queue' (or None for the default policy)."),
        ({"CACHE_EXPIRY": -1},
         "DJANGOES['CACHE_EXPIRY'] = -1 must be a whole number of at least 0."),
        ({"BULK_DOCUMENTS": 0},
         "DJANGOES['BULK_DOCUMENTS'] = 0 must be a whole number of at least 1."),
        ({"BULK_TIMEOUT": 0},
         "DJANGOES['BULK_TIMEOUT'] = 0 must be a number of seconds, more than 0."),
        ({"BULK_TIMEOUT": "30"},
         "DJANGOES['BULK_TIMEOUT'] = '30' must be a number of seconds, more than 0."),
        ({"RETRY_BUDGET": -1},
         "DJANGOES['RETRY_BUDGET'] = -1 must be a number of seconds, at least 0."),
        ({"INLINE_RETRY_BUDGET": float("nan")},
         "DJANGOES['INLINE_RETRY_BUDGET'] = nan must be a number of seconds, at least 0."),
    ],
)  # fmt: skip
def test_bad_values_are_rejected(raw: dict[str, Any], message: str) -> None:
    options, problems = parse(raw)
    assert [(p.id, p.msg) for p in problems] == [("djangoes.E202", message)]
    assert options == Options()


def test_seconds_may_be_fractions_and_the_cache_setting_only_warns() -> None:
    options, problems = parse({"BULK_TIMEOUT": 2.5, "INLINE_RETRY_BUDGET": 0, "CACHE_EXPIRY": 60})
    assert (options.BULK_TIMEOUT, options.INLINE_RETRY_BUDGET) == (2.5, 0)
    assert [(p.id, p.level) for p in problems] == [("djangoes.W212", "warning")]
    assert problems[0].msg.startswith("DJANGOES['CACHE_EXPIRY'] = 60 has no effect any more")
    assert problems[0].hint == "Remove CACHE_EXPIRY (and CACHE_ALIAS) from the setting."


def test_unknown_keys_suggest_the_right_one() -> None:
    _, problems = parse({"CHUNKSIZE": 100})
    assert problems[0].id == "djangoes.E201"
    assert problems[0].msg == (
        "DJANGOES has an unknown key 'CHUNKSIZE'. Did you mean 'CHUNK_SIZE'?"
    )


def test_bad_options_raise_on_use(settings: Any) -> None:
    settings.DJANGOES = {"PAGE_SIZE": 0}
    with pytest.raises(Exception, match=r"DJANGOES\['PAGE_SIZE'\] = 0"):
        connections["default"]


def test_search_settings_are_translated(settings: Any) -> None:
    del settings.ES_SERVERS
    del settings.ES_INDICES
    settings.SEARCH_SETTINGS = {
        "connections": {
            "default": "https://search.example.com:9243",
            "backup": {"hosts": ["http://backup:9200"], "request_timeout": 5},
        },
        "indexes": {"blog": {"models": ["testapp.Post"]}},
        "settings": {"chunk_size": 100, "auto_sync": False, "never_auto_sync": ["testapp.Page"],
                     "update_strategy": "partial", "mappings_dir": "search/maps"},
    }  # fmt: skip
    parsed = connections.settings
    assert parsed.problems == []
    assert parsed.servers["default"]["HOSTS"] == ["https://search.example.com:9243"]
    assert parsed.servers["default"]["INDICES"] == ["blog"]
    assert parsed.servers["backup"]["HOSTS"] == ["http://backup:9200"]
    assert parsed.servers["backup"]["PARAMS"] == {"request_timeout": 5}
    assert parsed.indices["blog"]["MODELS"] == ["testapp.Post"]
    options = connections.options
    assert (options.CHUNK_SIZE, options.AUTO_SYNC, options.UPDATE_STRATEGY) == (
        100,
        False,
        "partial",
    )
    assert options.NEVER_AUTO_SYNC == ("testapp.Page",)
    assert options.MAPPINGS_DIR == "search/maps"


def test_search_settings_errors_name_the_key(settings: Any) -> None:
    del settings.ES_SERVERS
    del settings.ES_INDICES
    settings.SEARCH_SETTINGS = {"indexes": {}, "settings": {"chunksize": 5, "page_size": 0}}
    messages = [(p.id, p.msg) for p in connections.settings.problems]
    assert messages == [
        ("djangoes.E204",
         "SEARCH_SETTINGS['settings'] has an unknown key 'chunksize'. Did you mean 'chunk_size'?"),
        ("djangoes.E202",
         "SEARCH_SETTINGS['settings']['page_size'] = 0 must be a whole number of at least 1."),
    ]  # fmt: skip


def test_both_styles_at_once_are_an_error(settings: Any) -> None:
    settings.SEARCH_SETTINGS = {"indexes": {}}
    problems = connections.settings.problems
    assert problems[0].id == "djangoes.E203"
    assert "Both SEARCH_SETTINGS (elasticsearch-django) and ES_SERVERS, ES_INDICES are set" in (
        problems[0].msg
    )


def djangoes_checks() -> list[checks.CheckMessage]:
    return list(checks.run_checks(tags=["djangoes"], databases=[]))


def configure(settings: Any, tmp_path: Path, indices: dict[str, Any], **options: Any) -> None:
    settings.ES_SERVERS = {"default": {"INDICES": [k for k in indices if k != "orphan"]}}
    settings.ES_INDICES = indices
    settings.DJANGOES = {"MAPPINGS_DIR": str(tmp_path), **options}


def test_a_missing_mapping_is_a_warning_or_with_strict_validation_an_error(
    settings: Any, tmp_path: Path
) -> None:
    configure(settings, tmp_path, {"blog": {"MODELS": ["testapp.Post"]}})
    messages = djangoes_checks()
    assert [(m.id, m.level) for m in messages] == [("djangoes.W208", checks.WARNING)]
    assert str(tmp_path / "blog.json") in messages[0].msg
    assert "search_mapping testapp.Post --index blog" in (messages[0].hint or "")
    settings.DJANGOES = {**settings.DJANGOES, "STRICT_VALIDATION": True}
    assert [m.id for m in djangoes_checks()] == ["djangoes.E208"]
    (tmp_path / "blog.json").write_text(json.dumps({"mappings": {"properties": {}}}))
    assert djangoes_checks() == []


def test_a_mapping_file_that_is_not_json(settings: Any, tmp_path: Path) -> None:
    configure(settings, tmp_path, {"blog": {"MODELS": ["testapp.Post"]}})
    (tmp_path / "blog.json").write_text("{'mappings': ")
    messages = djangoes_checks()
    assert [m.id for m in messages] == ["djangoes.E209"]
    assert "is not valid JSON" in messages[0].msg
    assert "line 1" in messages[0].msg


@pytest.mark.parametrize(
    ("models", "check_id", "text"),
    [
        (["testapp.Nope"], "djangoes.E205", "'testapp.Nope', which is not an installed model"),
        (["testapp.Unsearchable"], "djangoes.E206", "does not inherit djangoes.models.Search"),
        (["testapp.Author"], "djangoes.E206", "does not inherit djangoes.models.Search"),
    ],
)  # fmt: skip
def test_indexed_models_must_exist_and_implement_the_mixins(
    settings: Any, tmp_path: Path, models: list[str], check_id: str, text: str
) -> None:
    configure(settings, tmp_path, {"blog": {"MODELS": models, "SETTINGS": {"mappings": {}}}})
    (tmp_path / "blog.json").write_text("{}")
    messages = [m for m in djangoes_checks() if m.id == check_id]
    assert messages
    assert text in messages[0].msg


def test_an_index_with_models_needs_a_connection(settings: Any, tmp_path: Path) -> None:
    configure(settings, tmp_path, {"orphan": {"MODELS": ["testapp.Post"]}})
    (tmp_path / "orphan.json").write_text("{}")
    messages = djangoes_checks()
    assert [m.id for m in messages] == ["djangoes.E207"]
    assert "Add 'orphan' to the INDICES of a connection" in (messages[0].hint or "")
