"""Pruning: delete the documents whose objects left every search queryset of the index.

The index is read with a scroll (a consistent snapshot, ids only, CHUNK_SIZE
per page). For each page, every model of the index is asked which of the
page's ids it still has: an id is kept when *any* model's
``get_search_queryset(index=key)`` yields an object with that document id
(ids are unique within an index), so an index holding several models never
loses one model's documents because of another's. The other ids of the page
are deleted at once, in one bulk request, from the physical index they were
found in; nothing is remembered from one page to the next, so no delete is
ever sent twice and memory stays flat.

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

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models

from djangoes.backends.api import Call
from djangoes.exceptions import TransportError
from djangoes.indexing.errors import PruneError
from djangoes.indexing.load import Progress, index_models, require_existing, search_queryset
from djangoes.indexing.names import Target, get_target

if TYPE_CHECKING:
    from djangoes.backends.abstracts import Base

logger = logging.getLogger("djangoes.indexing")

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


def _scroll_ids(conn: Base, name: str, size: int) -> Iterator[list[tuple[str, str]]]:
    """Pages of ``(physical index, document id)`` of every document behind ``name``."""
    page = conn.search(
        index=name,
        query={"match_all": {}},
        size=size,
        source=False,
        sort=["_doc"],
        scroll=SCROLL_KEEP_ALIVE,
    )
    scroll_id = page.get("_scroll_id")
    try:
        while True:
            hits = page["hits"]["hits"]
            if not hits:
                return
            yield [(hit["_index"], hit["_id"]) for hit in hits]
            scroll_id = page.get("_scroll_id") or scroll_id
            with conn.wrap_errors():
                page = conn.unwrap_response(
                    conn.client.scroll(body={"scroll_id": scroll_id, "scroll": SCROLL_KEEP_ALIVE})
                )
    finally:
        if scroll_id:
            try:
                with conn.wrap_errors():
                    conn.client.clear_scroll(body={"scroll_id": [scroll_id]})
            except TransportError as exc:
                # Not worth failing for (and it must not hide the error that
                # got us here): the engine drops the scroll after the keep-alive.
                logger.warning("Could not clear the scroll over %r: %s", name, exc)


def _delete_documents(target: Target, orphans: list[tuple[str, str]]) -> int:
    """Delete ``(physical index, id)`` documents in one bulk request; returns how many went.

    A document already gone (404) is not an error. Raises PruneError for
    documents the engine refused to delete.
    """
    conn = target.conn
    lines = [
        json.dumps({"delete": {"_index": index, "_id": doc_id}}, separators=(",", ":"))
        for index, doc_id in orphans
    ]
    body = ("\n".join(lines) + "\n").encode()
    with conn.wrap_errors():
        response = conn.unwrap_response(conn.perform(Call("bulk", index=None, body=body)))
    deleted = 0
    refused: dict[str, str] = {}
    for (_index, doc_id), item in zip(orphans, response["items"], strict=True):
        outcome = next(iter(item.values()))
        status = int(outcome.get("status", 0))
        if 200 <= status < 300:
            deleted += 1
        elif status != 404:
            refused[doc_id] = f"[{status}] {outcome.get('error') or outcome}"
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
    from djangoes.sync.cache import new_generation

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
    try:
        for page in _scroll_ids(conn, target.name, size):
            unknown = {doc_id for _, doc_id in page}
            for matcher in matchers:
                unknown -= matcher.existing(unknown)
            orphans = [(index, doc_id) for index, doc_id in page if doc_id in unknown]
            if orphans:
                result.deleted += _delete_documents(target, orphans)
            result.checked += len(page)
            if progress is not None:
                progress(result.checked, total)
    finally:
        if result.deleted:
            # Fingerprints of deleted documents must not make a later save of
            # the same document look unchanged (even when the prune stopped early).
            new_generation([target.name], options)
    if result.deleted:
        conn.meta.indices.refresh(index=target.name)
    return result
