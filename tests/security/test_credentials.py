"""Credentials never show: not in logs, the query logs, exceptions or repr(); plain HTTP warns.

The searches run against the engine with credentials configured (it does
not check them, which is all the better: the whole path runs, and only
where the secret could leak is looked at). ``tests/backends/test_transport.py``
covers the requests that fail before any answer and TLS verification.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from djangoes import connections
from djangoes.conf import is_loopback, parse
from djangoes.exceptions import DjangoesError
from djangoes.models import SearchQuery, execute_search, flush_query_log
from djangoes.search.results import SearchResults
from tests.testapp.models import Author, Post

PASSWORD = "hunter2-do-not-log"
API_KEY = "QVBJLWtleS1kby1ub3QtbG9n"

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(params=["url", "basic_auth", "api_key"])
def secured(request: pytest.FixtureRequest, blog_settings: Any, engine_url: str) -> str:
    """The blog connection with credentials given one way or another; returns the secret."""
    server = dict(blog_settings.ES_SERVERS["default"])
    if request.param == "url":
        server["HOSTS"] = [engine_url.replace("http://", f"http://elastic:{PASSWORD}@")]
        secret = PASSWORD
    elif request.param == "basic_auth":
        server["PARAMS"] = {"basic_auth": ("elastic", PASSWORD)}
        secret = PASSWORD
    else:
        server["PARAMS"] = {"api_key": API_KEY}
        secret = API_KEY
    blog_settings.ES_SERVERS = {"default": server}
    blog_settings.DEBUG = True  # the connection's request log is on
    connections["default"].create_indices()
    return secret


def test_a_whole_search_path_never_shows_the_secret(
    secured: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    Post.objects.create(title="searching", author=Author.objects.create(name="Ada"))
    conn = connections["default"]
    sq = execute_search("blog", {"query": {"match": {"title": "searching"}}}, search_terms="x")
    results = SearchResults("blog", {"query": {"match_all": {}}})
    results[:10]
    failures: list[str] = []
    for bad in ({"query": {"no_such_query": {}}}, {"query": {"match_all": {}}, "size": -1}):
        try:
            execute_search("blog", bad)
        except (DjangoesError, ValueError) as exc:
            failures += [str(exc), repr(exc), repr(exc.__cause__), str(exc.__cause__)]
    assert len(failures) == 8
    assert flush_query_log(30)  # the rows are written by a thread
    row = SearchQuery.objects.get(pk=sq.pk)
    shown = [
        caplog.text,
        repr(conn),
        repr(connections),
        repr(connections["default"]),
        repr(connections.settings),
        repr(conn.describe_params()),
        repr(conn.queries),
        repr(row.__dict__),
        repr(sq),
        repr(results),
        *failures,
    ]
    for text in shown:
        assert secured not in text


@pytest.mark.parametrize(
    ("host", "warns"),
    [
        ("http://u:p@es.example.com:9200", True),
        ("http://u:p@10.0.0.5:9200", True),
        ("http://u:p@127.0.0.1.nip.io:9200", True),  # a name that looks like loopback
        ("http://u:p@localhost.example.com:9200", True),
        ("https://u:p@es.example.com:9200", False),
        ("http://u:p@localhost:9200", False),
        ("http://u:p@127.0.0.1:9200", False),
        ("http://u:p@127.1.2.3:9200", False),
        ("http://u:p@[::1]:9200", False),
        ("http://es.example.com:9200", False),  # no credentials
    ],
)
def test_credentials_over_plain_http_to_another_host_warn(host: str, warns: bool) -> None:
    parsed = parse({"default": {"HOSTS": [host]}}, None)
    assert [p.id for p in parsed.problems] == (["djangoes.W001"] if warns else [])
    for problem in parsed.problems:
        assert "p@" not in problem.msg  # the password is masked in the message


def test_an_api_key_over_plain_http_warns_too() -> None:
    parsed = parse(
        {"default": {"HOSTS": ["http://es.example.com:9200"], "PARAMS": {"api_key": API_KEY}}},
        None,
    )
    assert [p.id for p in parsed.problems] == ["djangoes.W001"]
    assert API_KEY not in parsed.problems[0].msg


def test_loopback_means_this_machine_only() -> None:
    assert is_loopback("localhost")
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert not is_loopback("127.0.0.1.example.com")
    assert not is_loopback("localhost.example.com")
    assert not is_loopback(None)


def test_the_parsed_settings_do_not_show_the_password() -> None:
    parsed = parse({"default": {"HOSTS": [f"https://elastic:{PASSWORD}@es.example.com"]}}, None)
    assert parsed.servers["default"]["PARAMS"]["basic_auth"] == ("elastic", PASSWORD)
    assert PASSWORD not in repr(parsed)
    assert repr(parsed) == "<Settings servers=['default'] indices=[] problems=[]>"
