"""Public model API: the document mixins, the query log and the search functions."""

from djangoes.documents import InvalidUpdateFields, SearchDocumentManagerMixin, SearchDocumentMixin
from djangoes.search.execute import execute_count, execute_search
from djangoes.search.models import SearchQuery

__all__ = [
    "InvalidUpdateFields",
    "SearchDocumentManagerMixin",
    "SearchDocumentMixin",
    "SearchQuery",
    "execute_count",
    "execute_search",
]
