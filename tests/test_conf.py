"""ES_SERVERS / ES_INDICES parsing, tested as data (no engine, no network)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from djangoes.conf import (
    DEFAULT_ENGINE,
    Host,
    creation_body,
    index_name_error,
    normalize_host,
    parse,
)
from djangoes.redact import mask_url


def errors(servers: Any = None, indices: Any = None) -> list[tuple[str, str, str | None]]:
    return [(p.id, p.msg, p.hint) for p in parse(servers, indices).errors]


def only_error(servers: Any = None, indices: Any = None) -> tuple[str, str, str]:
    found = errors(servers, indices)
    assert len(found) == 1, found
    problem_id, msg, hint = found[0]
    return problem_id, msg, hint or ""


# -- defaults ------------------------------------------------------------------


def test_no_settings_means_one_default_connection_on_localhost() -> None:
    parsed = parse(None, None)
    assert parsed.problems == []
    assert parsed.servers == {
        "default": {
            "HOSTS": ["http://localhost:9200"],
            "ENGINE": DEFAULT_ENGINE,
            "INDICES": [],
            "PARAMS": {},
            "TEST": {"INDICES": None},
        }
    }
    assert parsed.indices == {}


def test_empty_hosts_means_localhost_as_in_the_seed() -> None:
    parsed = parse({"default": {"HOSTS": []}}, None)
    assert parsed.servers["default"]["HOSTS"] == ["http://localhost:9200"]


def test_index_defaults() -> None:
    parsed = parse({"default": {"INDICES": ["blog"]}}, {"blog": {}})
    assert parsed.indices["blog"] == {
        "KEY": "blog",
        "NAME": "blog",
        "ALIASES": [],
        "SETTINGS": {},
        "TEST": {"NAME": "test_blog", "ALIASES": [], "SETTINGS": None},
        "MODELS": [],
        "MAPPING": None,
    }


def test_test_aliases_default_to_prefixed_live_aliases() -> None:
    parsed = parse(None, {"blog": {"NAME": "blog_v1", "ALIASES": ["blog", "blog_public"]}})
    assert parsed.indices["blog"]["TEST"] == {
        "NAME": "test_blog_v1",
        "ALIASES": ["test_blog", "test_blog_public"],
        "SETTINGS": None,
    }


def test_the_users_settings_are_never_mutated() -> None:
    servers = {"default": {"HOSTS": "localhost", "INDICES": ["blog"], "PARAMS": {"timeout": 3}}}
    indices = {"blog": {"SETTINGS": {"number_of_shards": 1}}}
    before = copy.deepcopy((servers, indices))
    parsed = parse(servers, indices)
    assert (servers, indices) == before
    parsed.servers["default"]["PARAMS"]["timeout"] = 99
    parsed.indices["blog"]["SETTINGS"]["settings"]["number_of_shards"] = 5
    assert (servers, indices) == before


def test_plain_settings_are_wrapped_into_a_creation_body() -> None:
    assert creation_body({"number_of_shards": 1}) == {"settings": {"number_of_shards": 1}}
    body = {"settings": {"number_of_shards": 1}, "mappings": {"properties": {}}}
    assert creation_body(body) == body
    assert creation_body({}) == {}


# -- hosts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("localhost", "http://localhost:9200"),
        ("es1:9201", "http://es1:9201"),
        ("10.0.0.5", "http://10.0.0.5:9200"),
        ("[::1]:9300", "http://[::1]:9300"),
        ("http://search.example.com", "http://search.example.com:80"),
        ("https://search.example.com", "https://search.example.com:443"),
        ("https://search.example.com:9243/prefix/", "https://search.example.com:9243/prefix"),
        ({"host": "es2"}, "http://es2:9200"),
        ({"host": "es2", "port": 9443, "scheme": "https"}, "https://es2:9443"),
        ({"host": "es2", "use_ssl": True, "url_prefix": "es"}, "https://es2:9200/es"),
    ],
)
def test_hosts_are_normalised(given: Any, url: str) -> None:
    assert normalize_host(given) == Host(url)


def test_credentials_in_a_url_move_to_basic_auth_and_out_of_hosts() -> None:
    parsed = parse({"default": {"HOSTS": ["https://elastic:s3cr%40t@es.example.com:9243"]}}, None)
    server = parsed.servers["default"]
    assert server["HOSTS"] == ["https://es.example.com:9243"]
    assert server["PARAMS"]["basic_auth"] == ("elastic", "s3cr@t")


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("ftp://es.example.com", "has scheme 'ftp'"),
        ("http://", "has no host name"),
        ("es:notaport", "is neither 'host', 'host:port' nor a URL"),
        ("", "must not be empty"),
        (9200, "must be a string or a dict, not int"),
        ({"hots": "x"}, "has unknown key 'hots' Did you mean 'host'?"),
        ({"host": "x", "port": 70000}, "has port 70000"),
        ("http://es:9200/?x=1", "must not have a query string"),
    ],
)
def test_bad_hosts_are_rejected_naming_alias_key_and_value(given: Any, reason: str) -> None:
    problem_id, msg, hint = only_error({"default": {"HOSTS": [given]}})
    assert problem_id == "djangoes.E010"
    assert msg.startswith("ES_SERVERS['default']['HOSTS'][0] = ")
    assert reason in msg
    assert "'host:port'" in hint


def test_a_password_in_a_bad_host_is_not_shown() -> None:
    _, msg, _ = only_error({"default": {"HOSTS": ["ftp://user:hunter2@es.example.com"]}})
    assert "hunter2" not in msg
    assert "user:***@es.example.com" in msg


def test_mask_url() -> None:
    assert mask_url("https://u:p@h:9200/x") == "https://u:***@h:9200/x"
    assert mask_url("https://h:9200") == "https://h:9200"


def test_credentials_over_plain_http_to_a_remote_host_warn() -> None:
    parsed = parse({"default": {"HOSTS": ["http://u:p@es.example.com:9200"]}}, None)
    assert [(p.id, p.level) for p in parsed.problems] == [("djangoes.W001", "warning")]
    assert "https://" in (parsed.problems[0].hint or "")
    local = parse({"default": {"HOSTS": ["http://u:p@localhost:9200"]}}, None)
    assert local.problems == []


def test_cloud_id_and_hosts_together_are_rejected() -> None:
    problem_id, msg, _ = only_error(
        {"default": {"HOSTS": ["es:9200"], "PARAMS": {"cloud_id": "name:abc"}}}
    )
    assert problem_id == "djangoes.E012"
    assert "cloud_id" in msg
    parsed = parse({"default": {"PARAMS": {"cloud_id": "name:abc"}}}, None)
    assert parsed.servers["default"]["HOSTS"] == []


# -- every configuration mistake -------------------------------------------------


def test_es_servers_must_be_a_dict() -> None:
    problem_id, msg, hint = only_error(["localhost"])
    assert problem_id == "djangoes.E001"
    assert "ES_SERVERS must be a dict" in msg
    assert "not list" in msg
    assert "ES_SERVERS = {'default'" in hint


def test_es_indices_must_be_a_dict() -> None:
    problem_id, msg, _ = only_error(None, "blog")
    assert problem_id == "djangoes.E001"
    assert "ES_INDICES must be a dict" in msg


def test_unknown_server_key_suggests_the_right_one() -> None:
    problem_id, msg, hint = only_error({"default": {"HOST": ["localhost"]}})
    assert problem_id == "djangoes.E002"
    assert msg == "ES_SERVERS['default'] has an unknown key 'HOST'. Did you mean 'HOSTS'?"
    assert "HOSTS, ENGINE, INDICES, PARAMS, TEST" in hint


def test_unknown_key_case_mismatch_is_suggested() -> None:
    _, msg, _ = only_error({"default": {"indices": []}})
    assert "Did you mean 'INDICES'?" in msg


def test_unknown_index_key_suggests_the_right_one() -> None:
    # the 0.3 guide spells it TESTS
    problem_id, msg, _ = only_error(None, {"blog": {"TESTS": {"NAME": "t"}}})
    assert problem_id == "djangoes.E002"
    assert msg == "ES_INDICES['blog'] has an unknown key 'TESTS'. Did you mean 'TEST'?"


def test_unknown_test_key() -> None:
    problem_id, msg, _ = only_error(None, {"blog": {"TEST": {"NAMES": "x"}}})
    assert problem_id == "djangoes.E002"
    assert "ES_INDICES['blog']['TEST'] has an unknown key 'NAMES'. Did you mean 'NAME'?" in msg


@pytest.mark.parametrize(
    ("servers", "indices", "where", "value"),
    [
        ({"default": "localhost"}, None, "ES_SERVERS['default'] must be a dict", "'localhost'"),
        ({"default": {"HOSTS": 9200}}, None, "ES_SERVERS['default']['HOSTS']", "9200"),
        ({"default": {"INDICES": 5}}, None, "ES_SERVERS['default']['INDICES']", "5"),
        ({"default": {"PARAMS": ["timeout"]}}, None, "ES_SERVERS['default']['PARAMS']", "list"),
        ({"default": {"ENGINE": 42}}, None, "ES_SERVERS['default']['ENGINE']", "42"),
        ({"default": {"TEST": []}}, None, "ES_SERVERS['default']['TEST']", "[]"),
        (None, {"blog": "blog_v1"}, "ES_INDICES['blog'] must be a dict", "'blog_v1'"),
        (None, {"blog": {"SETTINGS": "x"}}, "ES_INDICES['blog']['SETTINGS']", "'x'"),
        (None, {"blog": {"ALIASES": [1]}}, "ES_INDICES['blog']['ALIASES'][0]", "1"),
        (None, {"blog": {"MODELS": ["Post"]}}, "ES_INDICES['blog']['MODELS']", "'Post'"),
        (None, {"blog": {"MAPPING": 3}}, "ES_INDICES['blog']['MAPPING']", "3"),
        (None, {"blog": {"TEST": "x"}}, "ES_INDICES['blog']['TEST']", "'x'"),
    ],
)
def test_wrong_types_name_the_setting_and_the_value(
    servers: Any, indices: Any, where: str, value: str
) -> None:
    found = errors(servers, indices)
    assert len(found) == 1, found
    problem_id, msg, _ = found[0]
    assert problem_id == "djangoes.E003"
    assert where in msg
    assert value in msg


def test_one_string_is_taken_as_a_list_of_one() -> None:
    # ('blog') instead of ('blog',) is a classic slip: take it as meant
    parsed = parse({"default": {"HOSTS": "es1", "INDICES": "blog"}}, {"blog": {"ALIASES": "pub"}})
    assert parsed.problems == []
    assert parsed.servers["default"]["HOSTS"] == ["http://es1:9200"]
    assert parsed.servers["default"]["INDICES"] == ["blog"]
    assert parsed.indices["blog"]["ALIASES"] == ["pub"]


def test_an_index_missing_from_es_indices() -> None:
    problem_id, msg, hint = only_error({"default": {"INDICES": ["blgo"]}}, {"blog": {}})
    assert problem_id == "djangoes.E004"
    assert "ES_SERVERS['default']['INDICES'] names the index 'blgo'" in msg
    assert hint == "Add 'blgo' to ES_INDICES. Did you mean 'blog'?"


def test_an_index_missing_from_test_indices() -> None:
    problem_id, msg, _ = only_error(
        {"default": {"INDICES": ["blog"], "TEST": {"INDICES": ["nope"]}}}, {"blog": {}}
    )
    assert problem_id == "djangoes.E004"
    assert "ES_SERVERS['default']['TEST']['INDICES']" in msg


def test_no_default_connection() -> None:
    problem_id, msg, hint = only_error({"main": {}})
    assert problem_id == "djangoes.E013"
    assert "no 'default' connection" in msg
    assert "'main'" in msg
    assert "djangoes.connection" in hint


@pytest.mark.parametrize(
    ("index", "clash"),
    [
        ({"NAME": "blog", "TEST": {"NAME": "blog"}}, "'blog'"),
        ({"NAME": "blog", "ALIASES": ["pub"], "TEST": {"ALIASES": ["pub"]}}, "'pub'"),
        ({"NAME": "blog", "ALIASES": ["pub"], "TEST": {"NAME": "pub"}}, "'pub'"),
    ],
)
def test_a_test_name_equal_to_a_live_name_is_rejected(index: dict[str, Any], clash: str) -> None:
    problem_id, msg, hint = only_error(None, {"blog": index})
    assert problem_id == "djangoes.E008"
    assert f"ES_INDICES['blog']['TEST'] uses the live name {clash}" in msg
    assert "tests would write to the live index" in msg
    assert "test_" in hint


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Blog", "must be lower case"),
        ("_blog", "must not start with '-', '_' or '+'"),
        ("blog posts", "must not contain ' '"),
        ("blog/posts", "must not contain '/'"),
        ("blog*", "must not contain '*'"),
        ("a:b", "must not contain ':'"),
        ("..", "must not be '.' or '..'"),
        ("x" * 256, "must not be longer than 255 bytes"),
    ],
)
def test_index_names_the_engines_reject(name: str, reason: str) -> None:
    assert index_name_error(name) == reason
    problem_id, msg, _ = only_error(None, {"blog": {"NAME": name}})
    assert problem_id == "djangoes.E009"
    assert f"ES_INDICES['blog']['NAME'] = {name!r} is not a valid index name: it {reason}" in msg


def test_alias_names_the_engines_reject() -> None:
    problem_id, msg, _ = only_error(None, {"blog": {"ALIASES": ["ok", "Not Ok"]}})
    assert problem_id == "djangoes.E009"
    assert "ES_INDICES['blog']['ALIASES'][1] = 'Not Ok' is not a valid index or alias name" in msg


def test_an_index_key_that_is_not_a_valid_name_needs_an_explicit_name() -> None:
    problem_id, _, _ = only_error(None, {"My Blog": {}})
    assert problem_id == "djangoes.E009"
    assert errors(None, {"My Blog": {"NAME": "my_blog"}}) == []


def test_all_problems_are_collected_not_only_the_first() -> None:
    found = errors(
        {"default": {"HOST": "x", "INDICES": ["missing"]}, "other": {"PARAMS": 3}},
        {"blog": {"NAME": "Bad"}},
    )
    assert sorted(p[0] for p in found) == [
        "djangoes.E002",
        "djangoes.E003",
        "djangoes.E004",
        "djangoes.E009",
    ]


def test_first_error_is_raised_as_improperly_configured() -> None:
    parsed = parse({"default": {"HOST": "x"}}, None)
    with pytest.raises(ImproperlyConfigured, match=r"unknown key 'HOST'\. Did you mean 'HOSTS'\?"):
        parsed.raise_first_error()
