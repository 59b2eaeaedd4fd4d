"""``manage.py check`` reports every settings problem with its id and hint."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from tests.servers import closed_port_url, recording_server


def djangoes_messages(deploy: bool = False) -> list[checks.CheckMessage]:
    """djangoes' checks without database access (Django 6 defaults to every database)."""
    return list(
        checks.run_checks(include_deployment_checks=deploy, tags=["djangoes"], databases=[])
    )


@pytest.mark.parametrize(
    ("servers", "indices", "check_id", "text"),
    [
        ([], None, "djangoes.E001", "ES_SERVERS must be a dict"),
        ({"default": {"HOST": []}}, None, "djangoes.E002", "Did you mean 'HOSTS'?"),
        ({"default": {"PARAMS": 1}}, None, "djangoes.E003", "['PARAMS'] must be a dict"),
        ({"default": {"INDICES": ["x"]}}, {}, "djangoes.E004", "'x', which is not in ES_INDICES"),
        ({"default": {"ENGINE": "nope.Backend"}}, None, "djangoes.E005", "cannot be imported"),
        (
            {"default": {"ENGINE": "djangoes.backends.elasticsearch.SimpleThriftBackend"}},
            None,
            "djangoes.E005",
            "no longer available",
        ),
        (None, {"b": {"TEST": {"NAME": "b"}}}, "djangoes.E008", "uses the live name 'b'"),
        (None, {"b": {"NAME": "B"}}, "djangoes.E009", "must be lower case"),
        ({"default": {"HOSTS": ["ftp://x"]}}, None, "djangoes.E010", "has scheme 'ftp'"),
        ({"default": {"PARAMS": {"max_retry": 1}}}, None, "djangoes.E012", "'max_retries'"),
        ({"main": {}}, None, "djangoes.E013", "no 'default' connection"),
    ],
)
def test_each_problem_is_a_check_with_its_id(
    settings: Any, servers: Any, indices: Any, check_id: str, text: str
) -> None:
    settings.ES_SERVERS = servers
    settings.ES_INDICES = indices
    messages = djangoes_messages()
    assert [m.id for m in messages] == [check_id]
    assert text in messages[0].msg
    assert messages[0].hint
    assert messages[0].level == checks.ERROR


@pytest.mark.django_db  # on Django 6, `check` runs the model checks against the database
def test_manage_py_check_fails_with_the_message_and_hint(settings: Any) -> None:
    settings.ES_SERVERS = {"default": {"HOSTS": ["localhost"], "INDICES": ["blgo"]}}
    settings.ES_INDICES = {"blog": {}}
    with pytest.raises(SystemCheckError) as info:
        call_command("check", stdout=StringIO(), stderr=StringIO())
    text = str(info.value)
    assert "(djangoes.E004) ES_SERVERS['default']['INDICES'] names the index 'blgo'" in text
    assert "HINT: Add 'blgo' to ES_INDICES. Did you mean 'blog'?" in text


@pytest.mark.django_db  # on Django 6, `check` runs the model checks against the database
def test_a_warning_does_not_fail_the_check(settings: Any) -> None:
    settings.ES_SERVERS = {"default": {"HOSTS": ["http://u:topsecret@es.example.com:9200"]}}
    settings.ES_INDICES = {}
    messages = djangoes_messages()
    assert [(m.id, m.level) for m in messages] == [("djangoes.W001", checks.WARNING)]
    out = StringIO()
    call_command("check", stdout=out, stderr=out)
    assert "djangoes.W001" in out.getvalue()
    assert "topsecret" not in out.getvalue()


def test_an_index_named_by_indices_but_invalid_is_not_said_to_be_missing(settings: Any) -> None:
    """E009 says what is wrong with ES_INDICES['Blog']; E004 points there, not to 'add' it."""
    settings.ES_SERVERS = {"default": {"HOSTS": ["localhost:9200"], "INDICES": ["Blog"]}}
    settings.ES_INDICES = {"Blog": {}}
    messages = {m.id: m for m in djangoes_messages()}
    assert set(messages) == {"djangoes.E004", "djangoes.E009"}
    assert "must be lower case" in messages["djangoes.E009"].msg
    e004 = messages["djangoes.E004"]
    assert "names the index 'Blog', whose ES_INDICES entry is invalid" in e004.msg
    assert e004.hint == "Fix ES_INDICES['Blog'] as its own error says."
    assert "Add" not in e004.hint


def test_network_checks_only_run_with_deploy(settings: Any) -> None:
    settings.ES_SERVERS = {"default": {"HOSTS": [closed_port_url()], "PARAMS": {"max_retries": 0}}}
    settings.ES_INDICES = {}
    assert djangoes_messages() == []
    messages = djangoes_messages(deploy=True)
    assert [(m.id, m.level) for m in messages] == [("djangoes.W101", checks.WARNING)]
    assert "cannot reach" in messages[0].msg
    assert "--fail-level WARNING" in (messages[0].hint or "")


def test_an_unreachable_cluster_does_not_fail_check_deploy(settings: Any) -> None:
    """A build container checks the project with no cluster in reach: that passes, and says so."""
    settings.ES_SERVERS = {"default": {"HOSTS": [closed_port_url()], "PARAMS": {"max_retries": 0}}}
    settings.ES_INDICES = {}
    out = StringIO()
    call_command("check", "--deploy", stdout=out, stderr=out)
    assert "djangoes.W101" in out.getvalue()
    with pytest.raises(SystemCheckError, match=r"djangoes\.W101"):
        call_command("check", "--deploy", "--fail-level", "WARNING", stdout=out, stderr=out)


def test_a_cluster_refusing_the_request_is_an_error(settings: Any) -> None:
    with recording_server(root={"error": "unauthorized"}, status=401) as server:
        settings.ES_INDICES = {}
        settings.ES_SERVERS = {"default": {"HOSTS": [server.url]}}
        messages = djangoes_messages(deploy=True)
    assert [(m.id, m.level) for m in messages] == [("djangoes.E101", checks.ERROR)]
    assert "refused the request" in messages[0].msg


def test_the_server_distribution_must_fit_the_backend(settings: Any, engine_url: str) -> None:
    """The engine is OpenSearch: the Elasticsearch backend refuses it, the OpenSearch one not."""
    settings.ES_INDICES = {}
    settings.ES_SERVERS = {
        "default": {
            "HOSTS": [engine_url],
            "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
        },
        "es": {
            "HOSTS": [engine_url],
            "ENGINE": "djangoes.backends.elasticsearch.SimpleHttpBackend",
        },
    }
    messages = djangoes_messages(deploy=True)
    assert [m.id for m in messages] == ["djangoes.E102"]
    assert "Connection 'es' uses SimpleHttpBackend, which talks to elasticsearch" in messages[0].msg
    assert "but the server is opensearch 3." in messages[0].msg


#: What both settings styles are told when their Elasticsearch client meets another engine.
SEARCH_SETTINGS_HINT = (
    "SEARCH_SETTINGS (elasticsearch-django's style) connects to Elasticsearch only. For "
    "OpenSearch or the embedded engine, replace it with djangoes' settings, which name the "
    "backend: ES_SERVERS = {'default': {'ENGINE': 'djangoes.backends.opensearch.SimpleHttpBackend'"
)
ES_SERVERS_HINT = "Pick the ENGINE of ES_SERVERS['default'] for this server: "


@pytest.mark.parametrize("style", ["SEARCH_SETTINGS", "ES_SERVERS"])
def test_an_elasticsearch_client_meeting_opensearch_is_told_how_to_fix_it_in_its_style(
    settings: Any, engine_url: str, style: str
) -> None:
    """The first request fails with the fix, not a bare 406; so does ``check --deploy``."""
    from djangoes import connection
    from djangoes.exceptions import TransportError

    if style == "SEARCH_SETTINGS":
        del settings.ES_SERVERS, settings.ES_INDICES
        settings.SEARCH_SETTINGS = {"connections": {"default": engine_url}, "indexes": {"blog": {}}}
        hint, other = SEARCH_SETTINGS_HINT, ES_SERVERS_HINT
    else:
        settings.ES_SERVERS = {"default": {"HOSTS": [engine_url], "INDICES": ["blog"]}}
        settings.ES_INDICES = {"blog": {}}  # and the default ENGINE: Elasticsearch
        hint, other = ES_SERVERS_HINT, SEARCH_SETTINGS_HINT
    assert djangoes_messages() == []  # the settings themselves are right

    with pytest.raises(TransportError) as info:
        connection.search(index="blog", query={"match_all": {}})
    message = str(info.value)
    assert "The server refused the Elasticsearch client's media type" in message
    assert "it is not Elasticsearch but OpenSearch or the embedded engine" in message
    assert hint in message
    assert other not in message

    [check] = djangoes_messages(deploy=True)
    assert check.id == "djangoes.E102"
    assert "but the server is opensearch" in check.msg
    assert str(check.hint).startswith(hint)


def test_an_unsupported_server_version_is_reported(settings: Any) -> None:
    old = {"version": {"number": "7.10.2"}, "tagline": "You Know, for Search"}
    with recording_server(root=old) as server:
        settings.ES_INDICES = {}
        settings.ES_SERVERS = {"default": {"HOSTS": [server.url]}}
        messages = djangoes_messages(deploy=True)
    assert [m.id for m in messages] == ["djangoes.E102"]
    assert "elasticsearch 7.10.2 is not supported" in messages[0].msg
    assert "supported: >= 8.0, < 10" in messages[0].msg


def test_an_unimportable_queue_dispatch_is_reported(settings: Any) -> None:
    settings.DJANGOES = {"ON_ERROR": "queue", "QUEUE_DISPATCH": "myproject.nope.dispatch"}
    messages = djangoes_messages()
    assert [m.id for m in messages] == ["djangoes.E210"]
    assert "'myproject.nope.dispatch' cannot be imported" in messages[0].msg


@pytest.mark.django_db(transaction=True)
def test_a_missing_queue_table_is_reported_with_database_checks(settings: Any) -> None:
    from django.db import connection

    settings.DJANGOES = {"ON_ERROR": "queue"}
    assert list(checks.run_checks(tags=["djangoes"], databases=["default"])) == []
    with connection.schema_editor() as editor:
        from djangoes.sync.models import SyncQueueEntry

        editor.delete_model(SyncQueueEntry)
    try:
        messages = list(checks.run_checks(tags=["djangoes"], databases=["default"]))
        assert [m.id for m in messages] == ["djangoes.W211"]
        assert "python manage.py migrate djangoes" in (messages[0].hint or "")
        assert djangoes_messages() == []  # without databases: not checked
    finally:
        with connection.schema_editor() as editor:
            editor.create_model(SyncQueueEntry)
