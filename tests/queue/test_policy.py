"""The ON_ERROR policies: the default, the validation of the queue keys, "raise"/"log" untouched."""

from __future__ import annotations

from typing import Any

import pytest

from djangoes import connections
from djangoes.conf import Problem
from djangoes.options import Options, parse_options
from djangoes.sync import SyncError
from djangoes.sync.models import SyncQueueEntry
from tests.queue.conftest import engine_down
from tests.sync.conftest import indexed
from tests.testapp.models import Author, Post


def parse(raw: Any) -> tuple[Options, list[Problem]]:
    problems: list[Problem] = []
    return parse_options(raw, problems), problems


def test_the_default_policy_is_queue_in_production(settings: Any) -> None:
    settings.DEBUG = False
    settings.DJANGOES = {}
    assert connections.test_names is None
    assert connections.options.ON_ERROR is None
    assert connections.options.error_policy() == "queue"


def test_the_development_server_raises(settings: Any) -> None:
    settings.DEBUG = True
    settings.DJANGOES = {}
    assert connections.options.error_policy() == "raise"


def test_test_names_raise() -> None:
    previous = connections.use_test_names("_gw")
    try:
        assert connections.options.error_policy() == "raise"
    finally:
        connections.use_live_names(previous)
    assert connections.options.error_policy() == "queue"


def test_production_sends_in_the_background_tests_and_development_at_commit(
    settings: Any,
) -> None:
    settings.DEBUG = False
    settings.DJANGOES = {}
    assert connections.options.QUEUE_SEND is None
    assert connections.options.queue_send() == "background"
    previous = connections.use_test_names("_gw")
    try:
        assert connections.options.queue_send() == "commit"
    finally:
        connections.use_live_names(previous)
    settings.DEBUG = True
    assert connections.options.queue_send() == "commit"
    settings.DJANGOES = {"QUEUE_SEND": "background"}
    assert connections.options.queue_send() == "background"


@pytest.mark.parametrize("policy", ["raise", "log", "queue"])
@pytest.mark.parametrize("debug", [True, False])
def test_an_explicit_policy_always_wins(settings: Any, policy: str, debug: bool) -> None:
    settings.DEBUG = debug
    settings.DJANGOES = {"ON_ERROR": policy}
    previous = connections.use_test_names()
    try:
        assert connections.options.error_policy() == policy
    finally:
        connections.use_live_names(previous)


def test_none_means_the_default() -> None:
    options, problems = parse({"ON_ERROR": None})
    assert problems == []
    assert options.ON_ERROR is None


def test_queue_defaults() -> None:
    options, _ = parse(None)
    assert (options.QUEUE_RETRY_DELAY, options.QUEUE_MAX_RETRY_DELAY) == (10, 3600)
    assert options.QUEUE_DISPATCH is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"ON_ERROR": "retry"},
         "DJANGOES['ON_ERROR'] = 'retry' must be one of 'raise', 'log', 'queue' (or None for "
         "the default policy)."),
        ({"ON_ERROR": True},
         "DJANGOES['ON_ERROR'] = True must be one of 'raise', 'log', 'queue' (or None for the "
         "default policy)."),
        ({"QUEUE_RETRY_DELAY": 0},
         "DJANGOES['QUEUE_RETRY_DELAY'] = 0 must be a whole number of at least 1."),
        ({"QUEUE_MAX_RETRY_DELAY": 2.5},
         "DJANGOES['QUEUE_MAX_RETRY_DELAY'] = 2.5 must be a whole number of at least 1."),
        ({"QUEUE_RETRY_DELAY": 60, "QUEUE_MAX_RETRY_DELAY": 30},
         "DJANGOES['QUEUE_MAX_RETRY_DELAY'] = 30 is less than QUEUE_RETRY_DELAY (60): the "
         "longest wait between two attempts cannot be shorter than the first."),
        ({"QUEUE_DISPATCH": "celery"},
         "DJANGOES['QUEUE_DISPATCH'] = 'celery' must be None or the dotted path of a function, "
         "e.g. 'djangoes.tasks.dispatch'."),
        ({"QUEUE_DISPATCH": ["djangoes.tasks.dispatch"]},
         "DJANGOES['QUEUE_DISPATCH'] = ['djangoes.tasks.dispatch'] must be None or the dotted "
         "path of a function, e.g. 'djangoes.tasks.dispatch'."),
        ({"ON_ERROR": "raise", "QUEUE_DISPATCH": "djangoes.tasks.dispatch"},
         "DJANGOES['QUEUE_DISPATCH'] = 'djangoes.tasks.dispatch' is set but ON_ERROR is "
         "'raise': only the 'queue' policy dispatches sync work."),
    ],
)  # fmt: skip
def test_bad_queue_values_are_rejected(raw: dict[str, Any], message: str) -> None:
    options, problems = parse(raw)
    assert [(p.id, p.msg) for p in problems] == [("djangoes.E202", message)]
    assert (options.QUEUE_RETRY_DELAY, options.QUEUE_MAX_RETRY_DELAY) == (10, 3600)
    assert options.QUEUE_DISPATCH is None


def test_a_typo_in_a_queue_key_is_caught() -> None:
    _, problems = parse({"QUEUE_RETRY_DELAYS": 5})
    assert problems[0].id == "djangoes.E201"
    assert "Did you mean 'QUEUE_RETRY_DELAY'?" in problems[0].msg


def test_bad_queue_settings_raise_on_use(settings: Any) -> None:
    settings.DJANGOES = {"ON_ERROR": "later"}
    with pytest.raises(Exception, match=r"DJANGOES\['ON_ERROR'\] = 'later'"):
        connections["default"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_raise_and_log_never_touch_the_queue(
    blog_index: Any, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    ada = Author.objects.create(name="Ada")
    settings.DJANGOES = {**settings.DJANGOES, "ON_ERROR": "raise"}
    Post.objects.create(title="sent", author=ada)
    engine_down(settings)
    with pytest.raises(SyncError):
        Post.objects.create(title="raised", author=ada)
    settings.DJANGOES = {**settings.DJANGOES, "ON_ERROR": "log"}
    Post.objects.create(title="logged", author=ada)
    assert "Search sync failed" in caplog.text
    assert not SyncQueueEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_explicit_calls_raise_under_queue(blog_index: Any, settings: Any) -> None:
    """A call that sends at once has a caller waiting: "queue" raises there, keeps nothing."""
    ada = Author.objects.create(name="Ada")
    settings.DJANGOES = {**settings.DJANGOES, "ON_ERROR": "queue"}
    post = Post.objects.create(title="saved", author=ada)
    assert list(indexed(blog_index)) == [str(post.pk)]
    engine_down(settings)
    post.title = "changed"  # not the document the cache remembers
    with pytest.raises(SyncError):
        post.index_search_document(index="blog")
    assert not SyncQueueEntry.objects.exists()
