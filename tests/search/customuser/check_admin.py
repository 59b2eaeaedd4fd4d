"""Run by ``tests/search/test_admin.py`` in a process of its own (its settings swap the user model).

Migrates an in-memory database, logs a search by a user without a
``username``, and asserts the query log admin lists, searches and shows it.
Prints ``ok`` when everything holds.
"""

from __future__ import annotations

import os

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.search.customuser.settings"

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from djangoes.search.models import SearchQuery  # noqa: E402


def main() -> None:
    setup_test_environment()
    call_command("migrate", verbosity=0, run_syncdb=True)
    admin = get_user_model().objects.create_superuser(email="admin@example.com", password="pw")
    logged = SearchQuery.objects.create(
        user=admin, index="blog", search_terms="emails", hits=[{"id": "1", "score": None}]
    )
    assert list(admin.search_queries.all()) == [logged]
    client = Client()
    client.force_login(admin)
    listing = client.get(reverse("admin:djangoes_searchquery_changelist"))
    assert listing.status_code == 200, listing.status_code
    assert b"admin@example.com" in listing.content
    found = client.get(reverse("admin:djangoes_searchquery_changelist"), {"q": "admin@example"})
    assert found.status_code == 200
    assert b"emails" in found.content
    detail = client.get(reverse("admin:djangoes_searchquery_change", args=[logged.pk]))
    assert detail.status_code == 200, detail.status_code
    assert b"admin@example.com" in detail.content
    print("ok")


if __name__ == "__main__":
    main()
