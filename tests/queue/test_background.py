"""``QUEUE_SEND = "background"``: a commit does not wait for the engine; nothing is lost.

Run against PostgreSQL too: the sending thread uses a database connection of
its own, which an in-memory SQLite database shares only between threads that
never write at the same time.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from djangoes.backends.abstracts import Base
from djangoes.sync import wait_for_background
from tests.queue.conftest import engine_down, indexed, rows
from tests.testapp.models import Author, Post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def background(queued: Base, settings: Any) -> Base:
    settings.DJANGOES = {**settings.DJANGOES, "QUEUE_SEND": "background"}
    return queued


def test_a_commit_hands_its_operations_to_the_sending_thread(background: Base) -> None:
    ada = Author.objects.create(name="Ada")
    with transaction.atomic():
        posts = [Post.objects.create(title=f"post {i}", author=ada) for i in range(20)]
    assert wait_for_background(timeout=60)
    assert sorted(indexed(background)) == sorted(str(p.pk) for p in posts)
    assert rows() == []  # settled by the sending thread


def test_what_the_thread_cannot_send_stays_in_the_queue(background: Base, settings: Any) -> None:
    ada = Author.objects.create(name="Ada")
    servers = engine_down(settings)
    post = Post.objects.create(title="kept", author=ada)
    assert wait_for_background(timeout=60)
    kept = rows()
    assert [(r.object_pk, r.state, r.attempts) for r in kept] == [(str(post.pk), "pending", 1)]
    settings.ES_SERVERS = servers
    assert indexed(background) == {}


def test_the_commit_keeps_documents_current_as_saved(background: Base) -> None:
    """The document is built at commit: later changes in memory are not sent with it."""
    ada = Author.objects.create(name="Ada")
    with transaction.atomic():
        post = Post.objects.create(title="as committed", author=ada)
    post.title = "changed in memory only"
    assert wait_for_background(timeout=60)
    assert indexed(background)[str(post.pk)]["title"] == "as committed"


def test_queue_send_is_checked() -> None:
    from djangoes.conf import Problem
    from djangoes.options import parse_options

    problems: list[Problem] = []
    parse_options({"QUEUE_SEND": "later"}, problems)
    assert [p.msg for p in problems] == [
        "DJANGOES['QUEUE_SEND'] = 'later' must be one of 'background', 'commit'."
    ]
