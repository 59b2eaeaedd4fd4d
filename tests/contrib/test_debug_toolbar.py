"""The Django Debug Toolbar panel, rendered in pages served by Django's test client.

The toolbar runs as in a project (its middleware, its URLs, DEBUG on) with
``RENDER_PANELS`` so that the panel's content is part of the page; the pages
make real requests to a fresh engine.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, override_settings

pytest.importorskip("debug_toolbar", reason="django-debug-toolbar is not installed")

from djangoes.backends.querylog import QueryEntry
from djangoes.contrib.debug_toolbar import format_body, request_rows
from tests.sync.conftest import blog_index, blog_settings

__all__ = ["blog_index", "blog_settings"]

PANEL = "djangoes.contrib.debug_toolbar.SearchPanel"
TOOLBAR_CONFIG = {
    "RENDER_PANELS": True,
    "IS_RUNNING_TESTS": False,
    # shown whatever DEBUG says (the toolbar keeps the first callback it finds:
    # every test here uses this one)
    "SHOW_TOOLBAR_CALLBACK": "tests.contrib.urls.show_toolbar",
}


@pytest.fixture
def toolbar(settings: Any, db: None) -> Iterator[Client]:
    """A test client for pages with the toolbar and the search panel on."""
    # before the apps change: the toolbar's app reads it when it is made ready
    settings.STATIC_URL = "/static/"
    with override_settings(
        DEBUG=True,
        INSTALLED_APPS=[*settings.INSTALLED_APPS, "debug_toolbar"],
        MIDDLEWARE=["debug_toolbar.middleware.DebugToolbarMiddleware"],
        ROOT_URLCONF="tests.contrib.urls",
        INTERNAL_IPS=["127.0.0.1"],
        DEBUG_TOOLBAR_PANELS=[PANEL],
        DEBUG_TOOLBAR_CONFIG=TOOLBAR_CONFIG,
    ):
        yield Client()


def panel_of(content: str) -> str:
    """The search panel's content in a page, unescaped (the toolbar may quote it)."""
    text = html.unescape(content)
    found = re.search(r'id="SearchPanel".*?</table>|id="SearchPanel".*?</p>', text, re.DOTALL)
    assert found, "the page has no search panel"
    return found.group(0)


def test_lists_each_request_of_the_page_with_status_time_and_body(
    toolbar: Client, blog_index: Any
) -> None:
    response = toolbar.get("/search/")

    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r"2 requests in \d+\.\d\d ms", page), "the sidebar shows the count and time"
    panel = panel_of(page)
    rows = re.findall(r"<tr class=\"djDebug(?:Odd|Even)[^\"]*\">(.*?)</tr>", panel, re.DOTALL)
    assert len(rows) == 2
    search, index = rows
    assert re.search(r"<code>POST /blog/_search[^<]*</code>", search)
    assert re.search(r"<td>200</td>", search)
    assert re.search(r"<td>\d+\.\d\d</td>", search), "the time in milliseconds"
    # the body, indented: the query as sent, with its size and from
    body = json.loads(re.search(r"<pre>(.*?)</pre>", search, re.DOTALL).group(1))
    assert body["query"] == {"match": {"title": "django"}}
    assert '\n  "query": {' in search
    assert re.search(r"<code>PUT /blog/_doc/1[^<]*</code>", index)
    assert re.search(r"<td>20[01]</td>", index)
    # the time is in the Server-Timing header too
    assert re.search(
        r'SearchPanel_search_time;dur=[\d.]+;desc="Search 2 requests"', response["Server-Timing"]
    )


def test_escapes_what_the_documents_hold(toolbar: Client, blog_index: Any) -> None:
    page = toolbar.get("/search/").content.decode()

    # the document's "<b>" in the indexing request's body reaches the page as text
    assert "Panel <b>test</b>" not in page
    assert "Panel &lt;b&gt;test&lt;/b&gt;" in page


def test_marks_a_failed_request_with_its_status(toolbar: Client, blog_index: Any) -> None:
    panel = panel_of(toolbar.get("/missing/").content.decode())

    assert 'class="djDebugOdd djangoes-failed"' in panel
    assert "GET /no-such-index" in panel
    assert "<td>404</td>" in panel


def test_counts_a_request_repeated_with_the_same_body(toolbar: Client, blog_index: Any) -> None:
    panel = panel_of(toolbar.get("/search/?times=3").content.decode())

    assert panel.count("Made 3 times with this body") == 3
    assert "Made 1 time" not in panel


def test_says_when_a_page_made_no_request(toolbar: Client, blog_index: Any) -> None:
    page = toolbar.get("/nothing/").content.decode()

    assert "No search request was made by this page." in html.unescape(page)
    assert "0 requests in 0.00 ms" in page


def test_says_when_the_request_log_is_off(toolbar: Client, blog_index: Any) -> None:
    # the toolbar shown with DEBUG off: the connections keep no request log
    with override_settings(DEBUG=False):
        page = html.unescape(toolbar.get("/search/").content.decode())

    assert "The request log of default is off" in page
    assert "No search request was made by this page." in page


def entry(**changes: Any) -> QueryEntry:
    fields: dict[str, Any] = {
        "alias": "default",
        "method": "POST",
        "path": "/blog/_search",
        "status": 200,
        "duration": 0.0125,
        "body_size": 2,
        "body": "{}",
        "error": None,
    }
    return QueryEntry(**(fields | changes))  # type: ignore[typeddict-item]


def test_format_body() -> None:
    assert format_body(None) == ""
    indented = '{\n  "query": {\n    "match_all": {}\n  }\n}'
    assert format_body('{"query":{"match_all":{}}}') == indented
    # NDJSON (bulk, msearch): one object per line
    assert format_body('{"index":{"_id":"1"}}\n{"title":"a"}\n') == (
        '{"index": {"_id": "1"}}\n{"title": "a"}'
    )
    # a body the log kept truncated is shown as it is
    assert format_body('{"query": {"ma... (20000 bytes)') == '{"query": {"ma... (20000 bytes)'


def test_request_rows() -> None:
    rows = request_rows(
        [
            entry(),
            entry(),
            entry(path="/blog/_doc/9", method="GET", status=404, body=None),
            entry(status=None, error="ConnectionError", body='{"size": 0}'),
        ]
    )

    assert [row["number"] for row in rows] == [1, 2, 3, 4]
    assert rows[0]["milliseconds"] == pytest.approx(12.5)
    assert [row["repeated"] for row in rows] == [2, 2, 1, 1]
    assert [row["failed"] for row in rows] == [False, False, True, True]
    assert rows[2]["pretty_body"] == ""
    json.dumps(rows)  # the toolbar stores the stats as JSON
