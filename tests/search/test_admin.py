"""The query log admin, through Django's test client as a superuser."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from djangoes.admin import format_duration, pretty_json
from djangoes.search.execute import execute_count, execute_search
from djangoes.search.models import SearchQuery
from tests.testapp.models import Post

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:djangoes_searchquery_changelist"
ROOT = Path(__file__).resolve().parents[2]


def readonly_value(content: str, field: str) -> str:
    """The text of a read-only field on an admin change page."""
    found = re.search(
        rf'field-{field}">.*?<div class="readonly">(.*?)</div>', content, flags=re.DOTALL
    )
    assert found, f"no read-only field {field!r} on the page"
    return found.group(1).strip()


def change_url(sq: SearchQuery) -> str:
    return reverse("admin:djangoes_searchquery_change", args=[sq.pk])


@pytest.fixture
def logged_searches(posts: list[Post], user: Any) -> dict[str, SearchQuery]:
    """A relevance search by a user, a sorted one (null scores) and a count."""
    return {
        "relevance": execute_search(
            "blog", {"query": {"match": {"body": "django"}}}, user=user, search_terms="django"
        ),
        "sorted": execute_search(
            "blog",
            {"query": {"match_all": {}}, "sort": [{"views": "desc"}]},
            search_terms="by views",
            reference="listing",
        ),
        "count": execute_count("blog", {"match": {"title": "pasta"}}, search_terms="pasta"),
    }


def test_long_search_terms_are_cut_in_the_list_and_whole_in_the_detail(
    superuser_client: Client, posts: list[Post]
) -> None:
    long_terms = "word " * 79 + "<b>end</b>"  # 405 characters: kept as 400
    sq = execute_search("blog", {"query": {"match": {"title": "x"}}}, search_terms=long_terms)
    content = superuser_client.get(reverse(CHANGELIST)).content.decode()
    cell = re.search(r'<td class="field-terms_display">(.*?)</td>', content, flags=re.DOTALL)
    assert cell
    shown = re.search(r'<span title="(.*?)">(.*?)</span>', cell.group(1), flags=re.DOTALL)
    assert shown
    assert shown.group(2) == ("word " * 12)[:59] + "…"
    whole = sq.search_terms.replace("<", "&lt;").replace(">", "&gt;")
    assert shown.group(1) == whole  # on hover
    assert "<b>" not in content
    detail = superuser_client.get(change_url(sq)).content.decode()
    assert readonly_value(detail, "search_terms") == whole


def test_the_list_shows_every_logged_search(
    superuser_client: Client, logged_searches: dict[str, SearchQuery]
) -> None:
    response = superuser_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    content = response.content.decode()
    for terms in ("django", "by views", "pasta"):
        assert terms in content
    assert "reader" in content  # the user of the first search
    assert list(response.context["cl"].result_list) == [
        logged_searches["count"],
        logged_searches["sorted"],
        logged_searches["relevance"],
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "views"}, ["sorted"]),
        ({"q": "reader"}, ["relevance"]),  # the user's USERNAME_FIELD
        ({"q": "listing"}, ["sorted"]),  # the reference
        ({"query_type__exact": "COUNT"}, ["count"]),
        ({"index": "blog"}, ["count", "sorted", "relevance"]),
    ],
)
def test_search_and_filters(
    superuser_client: Client,
    logged_searches: dict[str, SearchQuery],
    params: dict[str, str],
    expected: list[str],
) -> None:
    response = superuser_client.get(reverse(CHANGELIST), params)
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [logged_searches[k] for k in expected]


def test_the_detail_is_read_only_with_pretty_json(
    superuser_client: Client, logged_searches: dict[str, SearchQuery]
) -> None:
    sq = logged_searches["relevance"]
    response = superuser_client.get(change_url(sq))
    assert response.status_code == 200
    content = response.content.decode()
    assert '<pre class="djangoes-json">' in content
    for value in (sq.query, sq.hits, sq.aggregations):
        assert str(pretty_json(value)) in content
    assert "&quot;match&quot;: {\n      &quot;body&quot;: &quot;django&quot;" in content
    assert readonly_value(content, "max_score_display") == f"{sq.max_score:.4g}"
    assert readonly_value(content, "page_display") == "1 - 3"
    assert readonly_value(content, "total") == "3"
    assert 'name="_save"' not in content  # nothing to change
    assert superuser_client.get(reverse("admin:djangoes_searchquery_add")).status_code == 403


def test_the_detail_of_a_search_with_null_scores(
    superuser_client: Client, logged_searches: dict[str, SearchQuery]
) -> None:
    """Regression: elasticsearch-django's admin crashed on null scores (custom sort)."""
    sq = logged_searches["sorted"]
    assert sq.max_score is None
    response = superuser_client.get(change_url(sq))
    assert response.status_code == 200
    content = response.content.decode()
    assert readonly_value(content, "max_score_display") == "-"
    assert readonly_value(content, "min_score_display") == "-"
    assert "&quot;score&quot;: null" in content
    assert superuser_client.get(change_url(logged_searches["count"])).status_code == 200


def test_what_users_typed_is_escaped(superuser_client: Client, posts: list[Post]) -> None:
    script = "<script>alert(1)</script>"
    sq = execute_search("blog", {"query": {"match": {"title": script}}}, search_terms=script)
    for url in (reverse(CHANGELIST), change_url(sq)):
        content = superuser_client.get(url).content.decode()
        assert script not in content
        assert "&lt;script&gt;" in content


def test_durations_read_in_seconds_or_milliseconds(superuser_client: Client, db: None) -> None:
    sq = SearchQuery.objects.create(index="blog", duration=2.25)
    assert "2.25 s" in superuser_client.get(reverse(CHANGELIST)).content.decode()
    assert "2.25 s" in superuser_client.get(change_url(sq)).content.decode()
    assert format_duration(0.0123) == "12.3 ms"
    assert format_duration(None) == "-"


def test_the_admin_works_with_a_user_model_without_username() -> None:
    """A separate process: the user model is chosen once per process (AUTH_USER_MODEL)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")])}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "tests.search.customuser.check_admin"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
