"""Public model API: the document mixins (and, with the query log, ``SearchQuery``)."""

from djangoes.documents import InvalidUpdateFields, SearchDocumentManagerMixin, SearchDocumentMixin

__all__ = ["InvalidUpdateFields", "SearchDocumentManagerMixin", "SearchDocumentMixin"]
