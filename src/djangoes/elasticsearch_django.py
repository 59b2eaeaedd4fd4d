"""The module-level helpers of elasticsearch-django 8, at one place.

A project moving from elasticsearch-django changes its imports of
``elasticsearch_django.settings``, ``.index``, ``.context_managers`` and
``.decorators`` to this module::

    from elasticsearch_django.settings import get_setting, get_model_indexes
    from elasticsearch_django.index import update_index, bulk_actions
    # becomes
    from djangoes.elasticsearch_django import get_setting, get_model_indexes
    from djangoes.elasticsearch_django import update_index, bulk_actions

The models, the query log and the signals are in :mod:`djangoes.models` and
:mod:`djangoes.signals`. Settings are read when asked, from ``SEARCH_SETTINGS``
or djangoes' own ``DJANGOES`` (never frozen at import). What changed and why
is in the migration guide (docs/migration/elasticsearch-django.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings as django_settings
from django.db import models

from djangoes import connections
from djangoes.compat import SETTING_KEYS, project_settings
from djangoes.exceptions import RemovedAPIError
from djangoes.indexing import create_index, delete_index, prune_index, update_index
from djangoes.mappings import load_mapping, mapped_fields
from djangoes.registry import get_registry, label_of, require_index
from djangoes.sync.state import disable_search_updates, sync_enabled

__all__ = [
    "auto_sync",
    "bulk_actions",
    "create_index",
    "delete_index",
    "disable_search_updates",
    "get_client",
    "get_connection_string",
    "get_document_model",
    "get_document_models",
    "get_index_config",
    "get_index_mapping",
    "get_index_models",
    "get_index_names",
    "get_model_index_properties",
    "get_model_indexes",
    "get_setting",
    "get_settings",
    "prune_index",
    "scan_index",
    "set_setting",
    "update_index",
]

#: Seconds the engine keeps a scan's scroll open between two pages.
SCAN_KEEP_ALIVE = "2m"

_NO_DEFAULT = object()


# -- settings ---------------------------------------------------------------------


def get_client(connection: str = "default") -> Any:
    """The client of connection ``connection`` (elasticsearch-py's ``Elasticsearch``...).

    One client per connection and process, not a new one per call. Its
    methods take physical index names; ``connections[alias]`` has the same
    methods taking ES_INDICES keys.
    """
    return connections[connection].client


def get_settings() -> dict[str, Any]:
    """The ``settings`` of SEARCH_SETTINGS in effect, every key with its value (a copy).

    A project's own keys in ``SEARCH_SETTINGS['settings']`` come with them, as
    written (elasticsearch-django returned the section as it was).
    """
    options = connections.options
    values = {key: getattr(options, option) for key, option in SETTING_KEYS.items()}
    values.update(project_settings(getattr(django_settings, "SEARCH_SETTINGS", None)))
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


def get_setting(key: str, *default: Any) -> Any:
    """One value of :func:`get_settings` (``"chunk_size"``...), or ``default`` for unknown keys.

    Every known key has a value (its default when not set). Raises KeyError
    naming the known keys for an unknown one without ``default``.
    """
    settings = get_settings()
    if key in settings:
        return settings[key]
    if default:
        return default[0]
    raise KeyError(f"Unknown search setting {key!r}; known: {', '.join(settings)}.")


def set_setting(key: str, value: Any) -> None:
    """Removed: settings are not changed at run time any more."""
    raise RemovedAPIError(
        f"set_setting({key!r}, ...) no longer exists: djangoes never changes settings at run "
        "time. In tests use django.test.override_settings(SEARCH_SETTINGS=...) (or DJANGOES); "
        "to pause automatic sync use disable_search_updates()."
    )


def get_connection_string(connection: str = "default") -> str:
    """The URL of connection ``connection``, without credentials.

    As written in ``SEARCH_SETTINGS['connections']`` when it is a URL there
    (as elasticsearch-django returned it), else the connection's first host.
    """
    host = connections.servers[connection]["HOSTS"][0]
    legacy = getattr(django_settings, "SEARCH_SETTINGS", None)
    written = legacy.get("connections") if isinstance(legacy, Mapping) else None
    url = written.get(connection) if isinstance(written, Mapping) else None
    if not isinstance(url, str) or not url:
        return host
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def get_index_config(index: str) -> dict[str, list[str]]:
    """``{"models": [...]}`` of index ``index``, as SEARCH_SETTINGS gives it."""
    require_index(index)
    return {"models": list(connections.indices[index]["MODELS"])}


def get_index_names() -> list[str]:
    """The configured indexes (ES_INDICES / SEARCH_SETTINGS['indexes'] keys)."""
    return list(connections.indices)


def get_index_mapping(index: str) -> dict[str, Any]:
    """The contents of index ``index``'s mapping file.

    Raises FileNotFoundError when it has none (as elasticsearch-django did),
    ConfigurationError for a file that is not valid JSON.
    """
    require_index(index)
    settings = connections.indices[index]
    mapping = load_mapping(settings)
    if mapping is None:
        raise FileNotFoundError(f"Index {index!r} has no mapping file.")
    return mapping


def get_model_index_properties(instance: models.Model, index: str) -> list[str]:
    """The properties of index ``index``'s mapping (what a partial update may send)."""
    require_index(index)
    return sorted(mapped_fields(connections.indices[index]))


def get_index_models(index: str) -> list[type[models.Model]]:
    """The model classes of index ``index``."""
    require_index(index)
    return list(get_registry().models_for(index))


def get_model_indexes(model: type[models.Model]) -> list[str]:
    """The indexes ``model`` is configured in."""
    return list(get_registry().indexes_for(model))


def get_document_models() -> dict[str, type[models.Model]]:
    """``{"<index>.<model_name>": model}`` for every model of every index."""
    return {f"{index}.{model._meta.model_name}": model for index, model in get_registry()}


def get_document_model(index: str, doc_type: str) -> type[models.Model] | None:
    """The model of ``index`` whose ``model_name`` is ``doc_type``, or None."""
    return get_document_models().get(f"{index}.{doc_type}")


def auto_sync(instance: models.Model) -> bool:
    """Whether saving ``instance`` syncs it now: AUTO_SYNC, not in NEVER_AUTO_SYNC, not paused."""
    options = connections.options
    return (
        options.AUTO_SYNC and not options.never_syncs(label_of(type(instance))) and sync_enabled()
    )


# -- index helpers -----------------------------------------------------------------


def scan_index(index: str, model: type[models.Model] | None = None) -> Iterator[dict[str, Any]]:
    """Every document of index ``index``, as raw hits, read with a scroll.

    ``model`` is accepted for elasticsearch-django's signature; documents no
    longer carry a type (the engines removed mapping types), so every
    document of the index is yielded whatever it is.
    """
    conn = connections[connections.alias_for_index(index)]
    size = connections.options.CHUNK_SIZE
    # Base.scan raises when a page lacks shards: never a partial "every document"
    yield from conn.scan(index, {"query": {"match_all": {}}}, size=size, scroll=SCAN_KEEP_ALIVE)


def bulk_actions(objects: Iterable[Any], index: str, action: str) -> Iterator[dict[str, Any]]:
    """The bulk helper actions of ``objects`` (``as_search_action``) for ``index``.

    Raises ValueError for ``index='_all'`` (a real index is needed) and for an
    unknown ``action``, TypeError for an object that is not a search document.
    An object that fails to build its action raises (it was logged and
    skipped: a document then went missing unnoticed).
    """
    if index == "_all":
        raise ValueError("index must be an index name: '_all' is reserved.")
    for obj in objects:
        if not hasattr(obj, "as_search_action"):
            raise TypeError(
                f"bulk_actions() takes objects of models with SearchDocumentMixin; got "
                f"{obj!r} ({type(obj).__name__}). Pass the objects of the index's models."
            )
        yield obj.as_search_action(index=index, action=action)


#: Names of elasticsearch-django's modules that djangoes does not provide, and what to use.
_NOT_PROVIDED = {
    "stopwatch": "it timed the searches: SearchQuery.duration is measured for you",
    "Search": "use SearchQuery.do_search(index, query, **search_kwargs)",
    "Count": "use SearchQuery.do_count(index, query)",
}


def __getattr__(name: str) -> Any:
    """``from djangoes.elasticsearch_django import stopwatch``: an error naming the replacement."""
    if name in _NOT_PROVIDED:
        raise RemovedAPIError(
            f"elasticsearch-django's {name} is not provided by djangoes: {_NOT_PROVIDED[name]}."
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
