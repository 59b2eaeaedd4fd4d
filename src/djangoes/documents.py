"""Model and manager mixins mapping Django objects to search documents.

A model listed in ``ES_INDICES[key]['MODELS']`` implements
:class:`SearchDocumentMixin` (how an object becomes a document) and its
default manager :class:`SearchDocumentManagerMixin` (which objects are
indexed, and search hits back to objects)::

    class PostManager(SearchDocumentManagerMixin, models.Manager):
        def get_search_queryset(self, index="_all"):
            return self.get_queryset().filter(published=True)

    class Post(SearchDocumentMixin, models.Model):
        objects = PostManager()

        def as_search_document(self, *, index):
            return {"title": self.title, "author": self.author.name}
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from asgiref.sync import sync_to_async
from django.db import models, router

from djangoes import connections
from djangoes.deprecation import warn_deprecated
from djangoes.exceptions import ConfigurationError, DjangoesError
from djangoes.mappings import mapped_fields
from djangoes.registry import get_registry

if TYPE_CHECKING:
    from djangoes.search.models import SearchQuery


class InvalidUpdateFields(DjangoesError, ValueError):
    """A partial update was asked for fields that cannot be serialised automatically."""


class InvalidDocumentId(DjangoesError, ValueError):
    """An object has no document id (its ``search_document_id_field`` is None or empty)."""


def search_queryset(
    model: type[models.Model],
    index: str,
    *,
    whole_table: bool = False,
    using: str | None = None,
) -> models.QuerySet[Any]:
    """``model``'s ``get_search_queryset(index=index)``; ConfigurationError if it has none.

    ``whole_table``: every row of the default manager instead (what an
    explicit ``index_search_document()`` reads).

    Documents are built from what this reads, with a version taken before
    the read (:mod:`djangoes.sync.sending`), so it reads where the changes
    were committed, never a replica that may lag behind them: the database
    ``IN_SEARCH_QUERYSET_DB_ALIAS`` names when it is set, else ``using`` (the
    database of the change), else the model's write database
    (``router.db_for_write``).
    """
    manager = model._default_manager
    method = getattr(manager, "get_search_queryset", None)
    if method is None:
        opts = model._meta
        raise ConfigurationError(
            f"The default manager of {opts.app_label}.{opts.object_name} has no "
            "get_search_queryset(): add djangoes.models.SearchDocumentManagerMixin to it."
        )
    queryset: models.QuerySet[Any] = manager.all() if whole_table else method(index=index)
    alias = connections.options.IN_SEARCH_QUERYSET_DB_ALIAS or using or router.db_for_write(model)
    return queryset.using(alias)


class SearchDocumentManagerMixin:
    """Mixin for the default manager of a searchable model."""

    def get_search_queryset(self, index: str = "_all") -> models.QuerySet[Any]:
        """The objects to index in ``index`` (an ES_INDICES key, or '_all').

        Override to filter (``published=True``) or to ``select_related`` what
        ``as_search_document`` reads. The default is every object of the
        manager's model; on a class that is not a ``models.Manager`` there is
        none, and this raises ``NotImplementedError`` (as elasticsearch-django's did).
        """
        get_queryset = getattr(self, "get_queryset", None)
        if get_queryset is None:
            raise NotImplementedError(
                f"{type(self).__name__} has no default search queryset: mix "
                "SearchDocumentManagerMixin into a models.Manager (class "
                "MyManager(SearchDocumentManagerMixin, models.Manager)), or override "
                "get_search_queryset(self, index='_all') to return the objects to index."
            )
        queryset: models.QuerySet[Any] = get_queryset()
        return queryset

    @property
    def IN_SEARCH_QUERYSET_DB_ALIAS(self) -> str:
        """``DJANGOES['IN_SEARCH_QUERYSET_DB_ALIAS']`` ('' when unset), read when asked."""
        return connections.options.IN_SEARCH_QUERYSET_DB_ALIAS or ""

    def in_search_queryset(self, pk: Any, index: str = "_all") -> bool:
        """Whether the object with primary key ``pk`` belongs in ``index``.

        Read from ``DJANGOES['IN_SEARCH_QUERYSET_DB_ALIAS']`` when it is set,
        else from the model's write database (see :func:`search_queryset`).
        """
        return bool(self.search_queryset_for_check(index).filter(pk=pk).exists())

    def search_queryset_for_check(self, index: str = "_all") -> models.QuerySet[Any]:
        """``get_search_queryset(index)`` on the database membership checks read from."""
        return search_queryset(self.model, index)  # type: ignore[attr-defined]

    def from_search_query(self, search_query: SearchQuery) -> models.QuerySet[Any]:
        """The objects of the hits of ``search_query``, in hit order.

        Each object is annotated with ``search_rank`` (1-based) and
        ``search_score`` (None when the query sorted by something else), and
        has ``search_highlights`` when the query asked for highlights. One SQL
        query, whatever the page size.
        """
        # results defines a model (the query log): it is imported when used,
        # so that importing the mixins needs no app registry.
        from djangoes.search.results import queryset_from_search_query

        queryset: models.QuerySet[Any] = self.get_queryset()  # type: ignore[attr-defined]
        return queryset_from_search_query(queryset, search_query)

    def from_search_results(self, search_query: SearchQuery) -> models.QuerySet[Any]:
        """elasticsearch-django 8.1's name of :meth:`from_search_query`."""
        return self.from_search_query(search_query)


class SearchDocumentMixin:
    """Mixin for a model whose objects are indexed as search documents."""

    #: The model field whose value is the document id (``"pk"``: the primary key).
    search_document_id_field: ClassVar[str] = "pk"

    # -- what a document is ----------------------------------------------------

    def as_search_document(self, *, index: str) -> dict[str, Any]:
        """The document for this object in ``index`` (an ES_INDICES key). Must be overridden."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement as_search_document(self, *, index) returning "
            "the document (a dict) for this object."
        )

    @classmethod
    def prepare_search_documents(cls, objects: list[models.Model], *, index: str) -> None:
        """Hook called with each batch of objects before their documents are built.

        Override to load what many documents need in a few queries (instead
        of one query per object), e.g. with ``prefetch_related_objects``.
        """

    def as_search_document_update(
        self, *, index: str, update_fields: Iterable[str]
    ) -> dict[str, Any]:
        """The partial document for ``save(update_fields=...)``.

        With ``UPDATE_STRATEGY = "full"`` (the default) it is the whole
        document. With ``"partial"`` it is the mapped fields among
        ``update_fields``; a relational field raises
        :class:`InvalidUpdateFields`: override this method to serialise it.
        """
        if connections.options.UPDATE_STRATEGY == "full":
            return self.as_search_document(index=index)
        opts = self._meta  # type: ignore[attr-defined]
        return {
            key: getattr(self, opts.get_field(name).attname)
            for name, key in self._mapped_update_fields(index, update_fields)
        }

    def clean_update_fields(self, index: str, update_fields: Iterable[str]) -> list[str]:
        """The names of ``update_fields`` that index ``index``'s mapping has, in order.

        Fields the mapping lacks are left out; a mapped relational field
        raises :class:`InvalidUpdateFields` (a ``ValueError``): its value is an
        object, which only an override of :meth:`as_search_document_update`
        can turn into document data.
        """
        return [name for name, _ in self._mapped_update_fields(index, update_fields)]

    def _mapped_update_fields(
        self, index: str, update_fields: Iterable[str]
    ) -> list[tuple[str, str]]:
        """``(field name, document key)`` of the mapped ones among ``update_fields``."""
        mapped = mapped_fields(connections.index_settings(index))
        opts = self._meta  # type: ignore[attr-defined]
        found: list[tuple[str, str]] = []
        for name in update_fields:
            field = opts.get_field(name)
            key = field.attname if name not in mapped and field.attname in mapped else name
            if key not in mapped:
                continue
            if field.is_relation:
                raise InvalidUpdateFields(
                    f"{type(self).__name__}.as_search_document_update() cannot serialise the "
                    f"relational field {name!r} for index {index!r}: override "
                    "as_search_document_update() to give its value."
                )
            found.append((name, key))
        return found

    @property
    def search_indexes(self) -> list[str]:
        """The indexes this object's model is configured in (ES_INDICES keys)."""
        return list(get_registry().indexes_for(type(self)))  # type: ignore[arg-type]

    @property
    def search_document_cache_key(self) -> str:
        """elasticsearch-django's document cache key; djangoes keeps no such cache (deprecated).

        Documents are read from the committed rows when sent, so no cache can
        make one stale; the key is still returned for code that deletes it.
        """
        warn_deprecated(
            "search_document_cache_key is deprecated: djangoes keeps no document cache, there "
            "is nothing to clear."
        )
        opts = self._meta  # type: ignore[attr-defined]
        return f"djangoes:{opts.app_label}.{opts.model_name}.{self.get_search_document_id()}"

    def get_search_document_id(self) -> str:
        """The document id: ``str()`` of ``search_document_id_field`` (the pk by default).

        Raises :class:`InvalidDocumentId` when the field is None or empty: such
        an object has no document (two of them would share the id "None").
        """
        value = getattr(self, self.search_document_id_field)
        if value is None or value == "":
            opts = self._meta  # type: ignore[attr-defined]
            raise InvalidDocumentId(
                f"{opts.app_label}.{opts.object_name} pk={self.pk!r} has no document id: its "  # type: ignore[attr-defined]
                f"{self.search_document_id_field!r} is {value!r}. Give it a value, or leave "
                "such objects out of get_search_queryset()."
            )
        return str(value)

    def as_search_action(self, index: str, action: str) -> dict[str, Any]:
        """A bulk action for this object: ``index``, ``update`` or ``delete``."""
        name = connections.index_settings(index)["NAME"]
        meta: dict[str, Any] = {"_op_type": action, "_index": name,
                                "_id": self.get_search_document_id()}  # fmt: skip
        if action == "index":
            meta["_source"] = self.as_search_document(index=index)
        elif action == "update":
            fields = [f.attname for f in self._meta.concrete_fields]  # type: ignore[attr-defined]
            meta["doc"] = self.as_search_document_update(index=index, update_fields=fields)
        elif action != "delete":
            raise ValueError(f"action must be 'index', 'update' or 'delete', not {action!r}")
        return meta

    # -- explicit index operations (sent at once) -----------------------------

    def index_search_document(self, index: str) -> None:
        """Index this object's document in ``index`` now, as its row is in the database.

        The row is sent whether the index's ``get_search_queryset`` holds it or
        not: an explicit call does what it says (automatic sync and
        :meth:`update_search_index` delete objects that left the queryset).
        An object whose row is gone is deleted from the index. Raises
        ``SyncError`` (ON_ERROR "raise" or "queue") when it cannot be written.
        """
        from djangoes.sync.operations import Operation
        from djangoes.sync.sending import send_operations

        send_operations([Operation.for_instance("index", index, self, explicit=True)])

    def update_search_document(self, index: str, update_fields: Iterable[str]) -> None:
        """Send ``update_fields`` of this object's row to ``index`` now (a partial update
        under UPDATE_STRATEGY "partial", the whole document under "full").

        Sent whatever ``get_search_queryset`` holds, as :meth:`index_search_document`.
        """
        from djangoes.sync.operations import Operation
        from djangoes.sync.sending import send_operations

        send_operations(
            [
                Operation.for_instance(
                    "update", index, self, update_fields=frozenset(update_fields), explicit=True
                )
            ]
        )

    def delete_search_document(self, index: str) -> None:
        """Delete this object's document from ``index`` now (no error if it is not there)."""
        from djangoes.sync.operations import Operation
        from djangoes.sync.sending import send_operations

        send_operations([Operation.for_instance("delete", index, self, committed=False)])

    def update_search_index(
        self,
        action: str,
        index: str = "_all",
        update_fields: Iterable[str] | None = None,
        force: bool = False,
    ) -> None:
        """Sync this object with ``index`` ('_all': every index it is in) now.

        ``action`` is ``'index'``, ``'update'`` (partial; becomes ``'index'``
        without ``update_fields``) or ``'delete'``. The document is built from
        the object's row as the database has it; an object that is not in the
        index's ``get_search_queryset`` is deleted from it. ``force`` is
        accepted for compatibility: every call sends. The ``pre_*`` signals
        are sent.
        """
        from djangoes.sync.operations import operations_for_change
        from djangoes.sync.sending import send_operations

        ops = operations_for_change(self, action=action, index=index, update_fields=update_fields)
        for op in ops:
            op.committed = op.action != "delete"
        send_operations(ops)

    # -- the same, from async code ------------------------------------------------
    # The bulk writer (its retries, splits and ON_ERROR policy) and the
    # documents' database reads run in a thread: the event loop never waits.

    async def aindex_search_document(self, *, index: str) -> None:
        """:meth:`index_search_document` for async code."""
        await sync_to_async(self.index_search_document)(index=index)

    async def aupdate_search_document(self, *, index: str, update_fields: Iterable[str]) -> None:
        """:meth:`update_search_document` for async code."""
        await sync_to_async(self.update_search_document)(
            index=index, update_fields=list(update_fields)
        )

    async def adelete_search_document(self, *, index: str) -> None:
        """:meth:`delete_search_document` for async code."""
        await sync_to_async(self.delete_search_document)(index=index)

    async def aupdate_search_index(
        self,
        action: str,
        index: str = "_all",
        update_fields: Iterable[str] | None = None,
        force: bool = False,
    ) -> None:
        """:meth:`update_search_index` for async code."""
        await sync_to_async(self.update_search_index)(
            action, index=index, update_fields=update_fields, force=force
        )

    async def afetch_search_document(self, *, index: str) -> dict[str, Any]:
        """:meth:`fetch_search_document` for async code."""
        from djangoes import connections

        conn = connections[connections.alias_for_index(index)]
        response: dict[str, Any] = await conn.aget(index=index, id=self.get_search_document_id())
        return response

    def fetch_search_document(self, index: str) -> dict[str, Any]:
        """This object's document as stored in ``index`` (``get`` response).

        Raises ``ValueError`` for an object that was never saved (it has no
        document id), ``NotFoundError`` when the index has no such document.
        """
        if getattr(self, "pk", None) is None:
            raise ValueError(
                f"This {type(self).__name__} has no primary key yet: save it before fetching "
                "its search document."
            )
        conn = connections[connections.alias_for_index(index)]
        response: dict[str, Any] = conn.get(index=index, id=self.get_search_document_id())
        return response


def prepares_in_batches(model: type[models.Model]) -> bool:
    """Whether ``model`` has a ``prepare_search_documents`` of its own.

    Its objects are then given to it a chunk at a time, before their
    documents are built; the default one does nothing, so the objects of a
    model without its own can be used one at a time.
    """
    hook = getattr(model, "prepare_search_documents", None)
    if hook is None:
        return False
    default = SearchDocumentMixin.prepare_search_documents.__func__  # type: ignore[attr-defined]
    return getattr(hook, "__func__", None) is not default
