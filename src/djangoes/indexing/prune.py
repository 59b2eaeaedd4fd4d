"""Pruning: delete the documents whose objects left every search queryset of the index.

The index is read with the client's ``scan`` helper (a scroll: a consistent
snapshot, ids only, CHUNK_SIZE per page). For each page, every model of the
index is asked which of the page's ids it still has: an id is kept when *any* model's
``get_search_queryset(index=key)`` yields an object with that document id
(ids are unique within an index), so an index holding several models never
loses one model's documents because of another's. The other ids of the page
are deleted at once, by the bulk writer (:mod:`djangoes.bulk`), from the
physical index they were found in; nothing is remembered from one page to
the next, so no delete is ever sent twice and memory stays flat. Each
page's deletes carry a version taken before the database was asked, so an
object saved again meanwhile keeps its document.

How a model answers depends on its document ids:

* the default ``get_search_document_id()`` over ``search_document_id_field``
  naming an integer, character or UUID field (the primary key by default,
  or e.g. a ``uid`` UUID field): one query per page,
  ``filter(<field>__in=ids)``;
* anything else (an overridden ``get_search_document_id()``, a property, a
  field whose text form does not round-trip): the model's search queryset is
  read once, in chunks, and the ids it produces are kept in memory for the
  rest of the prune.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models

from djangoes import bulk
from djangoes.exceptions import TransportError
from djangoes.indexing.errors import PruneError
from djangoes.indexing.load import Progress, index_models, require_existing, search_queryset
from djangoes.indexing.names import Target, get_target

if TYPE_CHECKING:
    from djangoes.backends.abstracts import Base

#: How long the engine keeps the scroll open between two pages.
SCROLL_KEEP_ALIVE = "5m"
#: Values per ``__in`` lookup (SQLite allows 999 variables in old builds).
IN_BATCH = 500

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

#: Field types whose values survive ``str()`` -> ``to_python()`` -> ``str()`` unchanged.
_ROUND_TRIP_FIELDS = (
    models.AutoField,
    models.BigAutoField,
    models.SmallAutoField,
    models.IntegerField,
    models.CharField,
    models.UUIDField,
)


@dataclass
class PruneResult:
    """What a prune did."""

    #: The ES_INDICES key.
    index: str
    #: Documents looked at.
    checked: int = 0
    #: Documents deleted.
    deleted: int = 0


class _IdMatcher:
    """Which of some document ids one model's search queryset still produces."""

    def __init__(self, model: type[models.Model], key: str, chunk_size: int) -> None:
        self.model = model
        self.key = key
        self.chunk_size = chunk_size
        self.id_field = _queryable_id_field(model)
        self._all_ids: set[str] | None = None

    def existing(self, ids: set[str]) -> set[str]:
        """The ids among ``ids`` that are documents of objects of this model's queryset."""
        if not ids:
            return set()
        if self.id_field is None:
            return ids & self._every_id()
        attname, check = self.id_field
        values = []
        for doc_id in ids:
            # Only the type is checked, not validators: rows may hold values
            # the field's validators would refuse, and their documents count.
            try:
                value = check.to_python(doc_id)
            except ValidationError:
                continue  # cannot be a value of this field: not this model's document
            if isinstance(value, int) and not _INT64_MIN <= value <= _INT64_MAX:
                continue  # no integer column holds it (and SQLite would overflow)
            values.append(value)
        found: set[str] = set()
        queryset = search_queryset(self.model, self.key)
        for start in range(0, len(values), IN_BATCH):
            batch = values[start : start + IN_BATCH]
            rows = queryset.filter(**{f"{attname}__in": batch}).values_list(attname, flat=True)
            found.update(str(value) for value in rows)
        return found & ids

    def _every_id(self) -> set[str]:
        if self._all_ids is None:
            from djangoes.sync import iter_chunks

            queryset = search_queryset(self.model, self.key)
            self._all_ids = {
                obj.get_search_document_id()
                for chunk in iter_chunks(queryset, self.chunk_size)
                for obj in chunk
            }
        return self._all_ids


def _queryable_id_field(model: type[models.Model]) -> tuple[str, models.Field[Any, Any]] | None:
    """``(attname, value field)`` of the field holding the document ids, when they can be
    looked up in the database; None when only the model's own code can make them."""
    from djangoes.documents import SearchDocumentMixin

    if getattr(model, "get_search_document_id", None) is not (
        SearchDocumentMixin.get_search_document_id
    ):
        return None  # overridden: only the method knows how ids are made
    name = getattr(model, "search_document_id_field", "pk")
    opts = model._meta
    try:
        field = opts.pk if name == "pk" else opts.get_field(name)
    except FieldDoesNotExist:
        return None  # a property or another attribute
    if not isinstance(field, models.Field) or not field.concrete:
        return None
    value_field: models.Field[Any, Any] | None = field
    if isinstance(field, models.ForeignKey):
        # getattr(obj, "author") is an object, getattr(obj, "author_id") its key
        value_field = field.target_field if name == field.attname else None
    elif field.is_relation:
        value_field = None
    if not isinstance(value_field, _ROUND_TRIP_FIELDS):
        return None
    return field.attname, value_field


def _pages(conn: Base, name: str, size: int) -> Iterator[list[tuple[str, str]]]:
    """Pages of ``(physical index, document id)`` of every document behind ``name``."""
    page: list[tuple[str, str]] = []
    query = {"query": {"match_all": {}}, "_source": False}
    for hit in conn.scan(name, query, size=size, scroll=SCROLL_KEEP_ALIVE):
        page.append((hit["_index"], hit["_id"]))
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page


def _delete_documents(target: Target, orphans: list[tuple[str, str]], version: int) -> int:
    """Delete ``(physical index, id)`` documents, at ``version``; returns how many went.

    A document already gone (404), or written again after ``version`` was
    taken (its object came back), is not an error. Raises PruneError for
    documents the engine refused to delete, and the djangoes ``TransportError``
    family when it could not take them within the retry budget.
    """
    from djangoes import connections
    from djangoes.sync.sending import bulk_limits

    versioned = target.conn.features.supports_external_versions
    actions = [
        bulk.Action("delete", index, doc_id, version=version if versioned else None)
        for index, doc_id in orphans
    ]
    limits = bulk_limits(connections.options, budget=connections.options.RETRY_BUDGET)
    deleted = 0
    refused: dict[str, str] = {}
    for outcome in bulk.write(target.conn, actions, limits):
        if outcome.kind == "done" and outcome.status != 404:
            deleted += 1
        elif outcome.kind == "unsent":
            raise outcome.error or TransportError(outcome.reason, status=outcome.status, info=None)
        elif outcome.kind == "refused":
            refused[outcome.action.id] = f"[{outcome.status}] {outcome.reason}"
    if refused:
        shown = "; ".join(f"{doc_id}: {reason}" for doc_id, reason in list(refused.items())[:10])
        raise PruneError(
            target.key,
            f"The engine refused to delete {len(refused)} orphaned document(s) of "
            f"{target.describe()}: {shown}",
            reasons=refused,
        )
    return deleted


def prune_index(
    key: str,
    *,
    using: str | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> PruneResult:
    """Delete the documents of index ``key`` whose objects left every model's search queryset.

    Correct for indexes holding several models (a document is kept when any
    model still has it) and for custom document ids
    (``search_document_id_field``); a second prune right after deletes
    nothing. ``progress(done, total)`` is called after each page of
    ``chunk_size`` (default CHUNK_SIZE) documents.

    Returns the counts. Raises IndexMissingError when the index was not
    created, NoModelsError when it has no MODELS (every document would go),
    PruneError when the engine refuses deletes, and the djangoes
    ``TransportError`` family when a request fails.
    """
    from djangoes import connections
    from djangoes.sync.clock import next_version

    target = get_target(key, using)
    options = connections.options
    size = chunk_size or options.CHUNK_SIZE
    matchers = [_IdMatcher(model, key, size) for model in index_models(target)]
    require_existing(target, "prune")
    conn = target.conn
    result = PruneResult(key)
    total = int(conn.count(index=target.name)["count"]) if progress is not None else None
    if progress is not None:
        progress(0, total)
    for page in _pages(conn, target.name, size):
        # taken before the database is asked: an object that comes back after
        # that is written with a higher version, which the delete cannot undo
        version = next_version()
        unknown = {doc_id for _, doc_id in page}
        for matcher in matchers:
            unknown -= matcher.existing(unknown)
        orphans = [(index, doc_id) for index, doc_id in page if doc_id in unknown]
        if orphans:
            result.deleted += _delete_documents(target, orphans, version)
        result.checked += len(page)
        if progress is not None:
            progress(result.checked, total)
    if result.deleted:
        conn.meta.indices.refresh(index=target.name)
    return result
