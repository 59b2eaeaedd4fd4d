"""Secrets never appear in configuration errors or ``manage.py check``, whatever their shape.

Each case is a setting that is wrong in some way *and* holds a secret, in one
of the shapes projects write credentials in: an ``Authorization`` header, an
``api_key`` in a URL's query string, ``user:password@host`` without a scheme,
host dicts carrying ``http_auth`` / ``api_key`` / ``basic_auth``, and
elasticsearch-django's connection URL. The error must still say what is wrong
(so the masking does not hide the problem); the secret must be nowhere.
No engine is needed: every error is raised before a request is sent.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from djangoes import connections
from djangoes.exceptions import ConfigurationError
from djangoes.redact import mask_secrets, mask_url, scrub, secret_values

SECRET = "s3cr3t-Value-42"

#: id -> (ES_SERVERS['default'], text the error must still contain)
CASES: dict[str, tuple[dict[str, Any], str]] = {
    "bearer-header-in-a-host-dict": (
        {"HOSTS": [{"host": "es.example.com", "headers": {"Authorization": f"Bearer {SECRET}"}}]},
        "has unknown key 'headers'",
    ),
    "api-key-in-a-query-string": (
        {"HOSTS": [f"https://es.example.com:9200/?api_key={SECRET}"]},
        "must not have a query string",
    ),
    "user-password-without-scheme": (
        {"HOSTS": [f"elastic:{SECRET}@es.example.com"]},
        "is neither 'host', 'host:port' nor a URL",
    ),
    "host-dict-http-auth": (
        {"HOSTS": [{"host": "es.example.com", "http_auth": ("elastic", SECRET)}]},
        "has unknown key 'http_auth'",
    ),
    "host-dict-api-key": (
        {"HOSTS": [{"host": "es.example.com", "api_key": SECRET}]},
        "has unknown key 'api_key'",
    ),
    "host-dict-basic-auth": (
        {"HOSTS": [{"host": "es.example.com", "basic_auth": f"elastic:{SECRET}"}]},
        "has unknown key 'basic_auth'",
    ),
    "params-not-a-dict": (
        {"HOSTS": ["https://es.example.com"], "PARAMS": [("api_key", SECRET)]},
        "['PARAMS'] must be a dict",
    ),
}


def _check_output() -> str:
    out = StringIO()
    with pytest.raises(SystemCheckError) as info:
        call_command("check", stdout=out, stderr=out)
    return str(info.value) + out.getvalue()


@pytest.mark.parametrize("case", list(CASES))
def test_configuration_error_names_the_problem_not_the_secret(settings: Any, case: str) -> None:
    server, expected = CASES[case]
    settings.ES_SERVERS = {"default": server}
    settings.ES_INDICES = {}
    with pytest.raises(ConfigurationError) as info:
        connections["default"]
    assert expected in str(info.value)
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)


@pytest.mark.postgres
@pytest.mark.django_db  # on Django 6, `check` runs the model checks against the database
@pytest.mark.parametrize("case", list(CASES))
def test_manage_py_check_names_the_problem_not_the_secret(settings: Any, case: str) -> None:
    server, expected = CASES[case]
    settings.ES_SERVERS = {"default": server}
    settings.ES_INDICES = {}
    text = _check_output()
    assert expected in text
    assert SECRET not in text


@pytest.mark.parametrize(
    "connection",
    [
        f"https://es.example.com:9200/?api_key={SECRET}",
        f"elastic:{SECRET}@es.example.com",
        {"hosts": [f"https://es.example.com/?token={SECRET}"], "api_key": SECRET},
    ],
    ids=["url-with-api-key", "user-password", "kwargs-dict"],
)
@pytest.mark.postgres
@pytest.mark.django_db  # on Django 6, `check` runs the model checks against the database
def test_elasticsearch_django_connections_are_masked_too(settings: Any, connection: Any) -> None:
    del settings.ES_SERVERS, settings.ES_INDICES
    settings.SEARCH_SETTINGS = {"connections": {"default": connection}, "indexes": {}}
    text = _check_output()
    assert "djangoes.E010" in text
    assert SECRET not in text
    with pytest.raises(ConfigurationError) as info:
        connections["default"]
    assert SECRET not in str(info.value)


@pytest.mark.parametrize(
    "params",
    [
        {"headers": {"Authorization": f"Bearer {SECRET}"}, "api_key": "other-key-value"},
        {"headers": {"authorization": f"ApiKey {SECRET}"}, "basic_auth": ("elastic", "pw-1234")},
    ],
    ids=["bearer-and-api-key", "api-key-header-and-basic-auth"],
)
def test_a_client_refusing_the_credentials_shows_none_of_them(
    settings: Any, params: dict[str, Any]
) -> None:
    """elasticsearch-py refuses an Authorization header next to another credential."""
    settings.ES_SERVERS = {"default": {"HOSTS": ["https://es.example.com"], "PARAMS": params}}
    settings.ES_INDICES = {}
    with pytest.raises(ConfigurationError) as info:
        _ = connections["default"].client
    text = str(info.value)
    assert "Authorization" in text  # the client's reason is kept
    for secret in (SECRET, "other-key-value", "pw-1234"):
        assert secret not in text
    assert info.value.__cause__ is None  # the client's exception is not chained with it


def test_mask_url_masks_passwords_and_query_values() -> None:
    assert mask_url("https://u:p%40ss@h:9200/x?api_key=abc&n=1") == (
        "https://u:***@h:9200/x?api_key=***&n=***"
    )
    assert mask_url("u:pw@host:9200") == "u:***@host:9200"
    assert mask_url("https://h:9200") == "https://h:9200"
    assert mask_url("localhost") == "localhost"


def test_mask_secrets_keeps_the_shape() -> None:
    value = {
        "HOSTS": [{"host": "h", "http_auth": ("u", "pw")}, "https://h/?api_key=k"],
        "PARAMS": {"headers": {"Authorization": "Bearer t", "X-Trace": "1"}, "timeout": 3},
    }
    assert mask_secrets(value) == {
        "HOSTS": [{"host": "h", "http_auth": "***"}, "https://h/?api_key=***"],
        "PARAMS": {"headers": {"Authorization": "***", "X-Trace": "1"}, "timeout": 3},
    }


def test_secret_values_and_scrub() -> None:
    raw = {
        "default": {
            "HOSTS": ["https://elastic:pass-word@h", "https://h/?api_key=key-value"],
            "PARAMS": {
                "basic_auth": ("elastic", "basic-pw"),
                "http_auth": "user:http-pw",
                "headers": {"Authorization": "Bearer the-token"},
            },
        }
    }
    found = secret_values(raw)
    assert {"pass-word", "key-value", "basic-pw", "http-pw", "the-token"} <= found
    assert "elastic" not in found  # user names stay readable
    text = "pass-word key-value basic-pw http-pw Bearer the-token elastic"
    assert scrub(text, found) == "*** *** *** *** *** elastic"
