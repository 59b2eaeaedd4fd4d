"""Public model API: the document mixins, the query log, the sync queue and the search functions."""

from djangoes.documents import InvalidUpdateFields, SearchDocumentManagerMixin, SearchDocumentMixin
from djangoes.search.execute import execute_count, execute_search
from djangoes.search.models import SearchQuery
from djangoes.sync.models import SyncQueueEntry

__all__ = [
    "InvalidUpdateFields",
    "SearchDocumentManagerMixin",
    "SearchDocumentMixin",
    "SearchQuery",
    "SyncQueueEntry",
    "execute_count",
    "execute_search",
]
