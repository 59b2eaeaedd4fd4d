"""The sync queue's admin, through Django's test client as a superuser."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from djangoes.sync.models import SyncQueueEntry

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:djangoes_syncqueueentry_changelist"


@pytest.fixture
def superuser_client(db: None) -> Client:
    admin = get_user_model().objects.create_superuser(
        username="admin", email="admin@example.com", password=None
    )
    client = Client()
    client.force_login(admin)
    return client


def entry(**fields: Any) -> SyncQueueEntry:
    values = {"index": "blog", "model": "testapp.Post", "object_pk": "1", "doc_id": "1",
              "action": "index", "next_attempt": timezone.now(), **fields}  # fmt: skip
    return SyncQueueEntry.objects.create(**values)


def test_the_list_shows_pending_and_failed_entries_with_the_reasons(
    superuser_client: Client,
) -> None:
    entry(object_pk="7", attempts=2, last_error="[default] Connection refused")
    entry(object_pk="8", state="failed", attempts=1, last_status=400,
          last_error="mapper_parsing_exception: failed to parse field [author]")  # fmt: skip
    response = superuser_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    content = response.content.decode()
    assert "[default] Connection refused" in content
    assert "[400] mapper_parsing_exception: failed to parse field [author]" in content
    failed = superuser_client.get(reverse(CHANGELIST), {"state__exact": "failed"})
    assert [e.object_pk for e in failed.context["cl"].result_list] == ["8"]


def test_failed_entries_are_retried_from_the_list(superuser_client: Client) -> None:
    failed = entry(state="failed", last_status=400, last_error="refused")
    response = superuser_client.post(
        reverse(CHANGELIST),
        {"action": "retry", "_selected_action": [str(failed.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 failed entries put back in the queue" in response.content.decode()
    failed.refresh_from_db()
    assert failed.state == "pending"


def test_entries_are_read_only(superuser_client: Client) -> None:
    row = entry()
    assert superuser_client.get(reverse("admin:djangoes_syncqueueentry_add")).status_code == 403
    page = superuser_client.get(reverse("admin:djangoes_syncqueueentry_change", args=[row.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
