"""A Django Debug Toolbar panel listing the search requests of each page, like the SQL panel.

Install the toolbar (``pip install 'djangoes[debug-toolbar]'``) and add the
panel to the toolbar's panels::

    DEBUG_TOOLBAR_PANELS = [
        "debug_toolbar.panels.timer.TimerPanel",
        "debug_toolbar.panels.sql.SQLPanel",
        "djangoes.contrib.debug_toolbar.SearchPanel",
        ...
    ]

The panel reads the connections' request log (``connection.queries``),
which is kept while ``settings.DEBUG`` is on, as it is whenever the toolbar
shows; the log is emptied at the start of each HTTP request, so what the
panel lists is what the page asked. For each request: the connection, the
method and path, the HTTP status (or the error of a request that got no
answer), the time it took and the body sent, indented when it is JSON.
Requests repeated with the same body are counted, as the SQL panel counts
duplicated queries.

This module imports ``debug_toolbar``: import it only where the toolbar is
installed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from debug_toolbar.panels import Panel
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from djangoes.backends.querylog import QueryEntry

__all__ = ["SearchPanel", "format_body", "request_rows"]


def format_body(body: str | None) -> str:
    """``body`` for reading: indented JSON, one JSON object per line for NDJSON, else as is.

    Returns ``""`` for no body. A body the request log kept truncated is not
    valid JSON and is returned unchanged.
    """
    if not body:
        return ""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        pass  # not one JSON document: NDJSON (bulk, msearch), or truncated
    lines = body.splitlines()
    try:
        return "\n".join(json.dumps(json.loads(line), ensure_ascii=False) for line in lines)
    except ValueError:
        return body


def request_rows(entries: Iterable[QueryEntry]) -> list[dict[str, Any]]:
    """One row per logged request, for the panel's template (JSON-serialisable dicts).

    Each row has the entry's fields plus ``number`` (1-based), ``milliseconds``,
    ``pretty_body`` (:func:`format_body`), ``failed`` (no answer, or a status
    of 400 or more) and ``repeated`` (how many requests of the page had the
    same connection, method, path and body).
    """
    entries = list(entries)
    same = Counter((e["alias"], e["method"], e["path"], e["body"]) for e in entries)
    return [
        {
            **entry,
            "number": number,
            "milliseconds": entry["duration"] * 1000,
            "pretty_body": format_body(entry["body"]),
            "failed": entry["error"] is not None
            or (entry["status"] is not None and entry["status"] >= 400),
            "repeated": same[(entry["alias"], entry["method"], entry["path"], entry["body"])],
        }
        for number, entry in enumerate(entries, start=1)
    ]


class SearchPanel(Panel):  # type: ignore[misc]  # debug_toolbar ships no type hints
    """The search requests of the page: timings, statuses and bodies."""

    title = _("Search requests")
    nav_title = _("Search")
    template = "djangoes/debug_toolbar/search.html"
    # The request log is kept per thread (the thread serving the request);
    # an async view may make its requests on other threads.
    is_async = False

    @property
    def nav_subtitle(self) -> str:
        """``"3 requests in 12.50 ms"``."""
        stats = self.get_stats()
        count = len(stats.get("requests", []))
        return ngettext(
            "%(count)d request in %(time).2f ms",
            "%(count)d requests in %(time).2f ms",
            count,
        ) % {"count": count, "time": stats.get("total_milliseconds", 0.0)}

    def generate_stats(self, request: HttpRequest, response: HttpResponse) -> None:
        """Record the requests the connections made for this thread while serving ``request``."""
        from djangoes import connections

        entries: list[QueryEntry] = []
        not_logging: list[str] = []
        for conn in connections.all(initialized_only=True):
            entries.extend(conn.queries)
            if not conn.query_log.enabled:
                not_logging.append(conn.alias)
        rows = request_rows(entries)
        self.record_stats(
            {
                "requests": rows,
                "total_milliseconds": sum(row["milliseconds"] for row in rows),
                # a connection keeps no log when DEBUG is off (and force_debug is not set)
                "not_logging": not_logging,
            }
        )

    def generate_server_timing(self, request: HttpRequest, response: HttpResponse) -> None:
        """Add the search time to the ``Server-Timing`` header (the toolbar's option)."""
        stats = self.get_stats()
        count = len(stats.get("requests", []))
        self.record_server_timing(
            "search_time",
            f"Search {count} request{'s' if count != 1 else ''}",
            stats.get("total_milliseconds", 0.0),
        )
