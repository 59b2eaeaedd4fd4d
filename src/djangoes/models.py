"""Public model API: the document mixins, the query log, the sync queue, the rebuild table
and the search functions."""

from djangoes.documents import InvalidUpdateFields, SearchDocumentManagerMixin, SearchDocumentMixin
from djangoes.indexing.models import IndexRebuild, RebuildFailedWrite
from djangoes.search.execute import execute_count, execute_search
from djangoes.search.models import SearchQuery
from djangoes.sync.models import SyncQueueEntry

__all__ = [
    "IndexRebuild",
    "InvalidUpdateFields",
    "RebuildFailedWrite",
    "SearchDocumentManagerMixin",
    "SearchDocumentMixin",
    "SearchQuery",
    "SyncQueueEntry",
    "execute_count",
    "execute_search",
]
