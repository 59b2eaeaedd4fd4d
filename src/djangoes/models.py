"""Public model API: the document mixins, the query log, the sync queue, the rebuild table
and the search functions.

The names elasticsearch-django's ``models`` module exports are here too
(``SearchResultsQuerySet``, the response parsers, ``UPDATE_STRATEGY_FULL``...);
its settings and index helpers are in :mod:`djangoes.elasticsearch_django`.
"""

from collections.abc import Callable
from typing import Any

from djangoes.documents import InvalidUpdateFields, SearchDocumentManagerMixin, SearchDocumentMixin
from djangoes.indexing.models import IndexRebuild, RebuildFailedWrite
from djangoes.search.execute import (
    CountResponseParser,
    SearchResponseParser,
    aexecute_count,
    aexecute_search,
    execute_count,
    execute_search,
)
from djangoes.search.logwriter import flush_query_log
from djangoes.search.models import SearchQuery
from djangoes.search.results import SearchResultsQuerySet
from djangoes.sync.models import SyncQueueEntry

__all__ = [
    "UPDATE_STRATEGY_FULL",
    "UPDATE_STRATEGY_PARTIAL",
    "CountResponseParser",
    "IndexRebuild",
    "InvalidUpdateFields",
    "RebuildFailedWrite",
    "SearchDocumentManagerMixin",
    "SearchDocumentMixin",
    "SearchQuery",
    "SearchResponseParser",
    "SearchResultsQuerySet",
    "SyncQueueEntry",
    "aexecute_count",
    "aexecute_search",
    "execute_count",
    "execute_search",
    "flush_query_log",
]

#: Values of ``DJANGOES['UPDATE_STRATEGY']`` (``SEARCH_SETTINGS['settings']['update_strategy']``).
UPDATE_STRATEGY_FULL = "full"
UPDATE_STRATEGY_PARTIAL = "partial"

#: elasticsearch-django's values read at import; here read when asked, so that
#: settings changes (override_settings) are seen.
_LIVE_VALUES: dict[str, Callable[[Any], Any]] = {
    "UPDATE_STRATEGY": lambda options: options.UPDATE_STRATEGY,
    "DEFAULT_PAGE_SIZE": lambda options: options.PAGE_SIZE,
    "DEFAULT_INCLUDE_SOURCE": lambda options: options.INCLUDE_SOURCE,
    "DEFAULT_FROM": lambda options: 0,
}


def __getattr__(name: str) -> Any:
    if name in _LIVE_VALUES:
        from djangoes import connections  # the handler reads settings: not at import

        return _LIVE_VALUES[name](connections.options)
    if name == "DEFAULT_CLIENT":
        from djangoes import connections

        return connections["default"].client
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
