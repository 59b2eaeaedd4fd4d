"""System checks: ``manage.py check`` reports every settings problem with its id.

Importing this module needs no settings; what defines models is imported when a
check runs.

Ids are stable (``djangoes.E001``...); see the settings reference for the
list. The checks that ask the cluster (reachable, supported version, mapping
drift) need the network and run only with ``manage.py check --deploy``; a
cluster that does not answer is a warning there (``djangoes.W101``), so a
build container without the cluster in reach passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core import checks
from django.db import connections as db_connections
from django.utils.module_loading import import_string

from djangoes import connections
from djangoes.conf import Problem
from djangoes.documents import SearchDocumentManagerMixin, SearchDocumentMixin
from djangoes.exceptions import ConfigurationError, ConnectionError, TransportError
from djangoes.mappings import load_mapping, mapping_path
from djangoes.registry import build_registry, label_of

TAG = "djangoes"


def to_message(problem: Problem, obj: Any = None) -> checks.CheckMessage:
    """The Django check message for a :class:`~djangoes.conf.Problem`."""
    cls = checks.Error if problem.level == "error" else checks.Warning
    return cls(problem.msg, hint=problem.hint, obj=obj, id=problem.id)


def check_settings(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """ES_SERVERS / ES_INDICES problems, engines and client libraries (no network)."""

    return [to_message(p) for p in connections.check_problems()]


def check_servers(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Each cluster answers and runs a supported version (network; ``--deploy`` only)."""

    if any(p.level == "error" for p in connections.check_problems()):
        return []  # the settings check already reports why no connection can be made
    messages: list[checks.CheckMessage] = []
    for alias in connections:
        messages.extend(to_message(p) for p in connections[alias].check_server())
    return messages


#: Differences shown per index in the drift warning.
SHOWN_DIFFERENCES = 10


def check_mapping_drift(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Each live index has the mapping of its mapping file (network; ``--deploy`` only).

    ``djangoes.W301`` per physical index that differs, with the differences
    and the rebuild to run; ``djangoes.W302`` when the live mapping cannot be
    read. Indexes that do not exist, unreachable clusters (``check_servers``
    reports them) and unreadable mapping files (``check_models`` does) are
    left out.
    """

    from djangoes.indexing.drift import index_drift  # the rebuild table: a model

    if any(p.level == "error" for p in connections.check_problems()):
        return []
    parsed = connections.settings
    messages: list[checks.CheckMessage] = []
    for alias, server in parsed.servers.items():
        for key in server["INDICES"]:
            if key not in parsed.indices:
                continue
            try:
                drifts = index_drift(key, using=alias)
            except (ConnectionError, ConfigurationError):
                continue  # reported by check_servers / check_models
            except TransportError as exc:
                messages.append(
                    checks.Warning(
                        f"Could not compare index {key!r} on connection {alias!r} with its "
                        f"mapping file: {exc}",
                        hint="Check that the connection's credentials may read index mappings "
                        "and settings.",
                        id="djangoes.W302",
                    )
                )
                continue
            using = "" if alias == connections.alias_for_index(key) else f" --using {alias}"
            for drift in drifts:
                shown = drift.differences[:SHOWN_DIFFERENCES]
                more = len(drift.differences) - len(shown)
                lines = "\n  ".join(shown) + (f"\n  ... and {more} more" if more > 0 else "")
                messages.append(
                    checks.Warning(
                        f"The live index {drift.physical!r} of index {key!r} on connection "
                        f"{alias!r} does not have the mapping of its mapping file:\n  {lines}",
                        hint="A mapping cannot change in place; rebuild the index to apply "
                        f"it: python manage.py rebuild_search_index {key}{using}",
                        id="djangoes.W301",
                    )
                )
    return messages


def register_checks() -> None:
    """Register the checks (called from ``AppConfig.ready()``, never at import)."""
    checks.register(check_settings, TAG)
    checks.register(check_models, TAG, checks.Tags.models)
    checks.register(check_queue, TAG, checks.Tags.database)
    checks.register(check_servers, TAG, deploy=True)
    checks.register(check_mapping_drift, TAG, deploy=True)


def check_models(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Indexed models exist and implement the mixins; indexes have mappings and a connection."""

    parsed = connections.settings
    if parsed.errors:
        return []  # check_settings reports them; the rest would only repeat them
    options = connections.options
    problems: list[Problem] = []
    registry = build_registry(parsed, problems)
    served = {key for server in parsed.servers.values() for key in server["INDICES"]}
    for key, index in parsed.indices.items():
        if not index["MODELS"]:
            continue
        where = f"ES_INDICES[{key!r}]"
        if key not in served:
            problems.append(
                Problem(
                    "djangoes.E207",
                    f"{where} has MODELS but no connection in ES_SERVERS uses it.",
                    hint=f"Add {key!r} to the INDICES of a connection, e.g. 'default'.",
                )
            )
        try:
            mapping = load_mapping(index, options)
        except ConfigurationError as exc:
            problems.append(Problem("djangoes.E209", str(exc)))
            continue
        if mapping is None and not index["SETTINGS"].get("mappings"):
            problems.append(
                Problem(
                    "djangoes.E208" if options.STRICT_VALIDATION else "djangoes.W208",
                    f"Index {key!r} has no mapping: {str(mapping_path(index, options))!r} does "
                    "not exist and its SETTINGS have no 'mappings'.",
                    hint=f"Write the mapping file (python manage.py search_mapping "
                    f"{index['MODELS'][0]} --index {key} gives a starting point).",
                    level="error" if options.STRICT_VALIDATION else "warning",
                )
            )
    for key, model in registry:
        label = label_of(model)
        if not issubclass(model, SearchDocumentMixin):
            problems.append(
                Problem(
                    "djangoes.E206",
                    f"{label} is in ES_INDICES[{key!r}]['MODELS'] but does not inherit "
                    "djangoes.models.SearchDocumentMixin.",
                    hint=f"class {model.__name__}(SearchDocumentMixin, models.Model) with an "
                    "as_search_document(self, *, index) method.",
                )
            )
        if not isinstance(model._default_manager, SearchDocumentManagerMixin):
            problems.append(
                Problem(
                    "djangoes.E206",
                    f"The default manager of {label} (in ES_INDICES[{key!r}]['MODELS']) does not "
                    "inherit djangoes.models.SearchDocumentManagerMixin.",
                    hint="class MyManager(SearchDocumentManagerMixin, models.Manager) and use it "
                    "as the model's first manager (objects = MyManager()).",
                )
            )
    return [to_message(p) for p in problems]


def check_queue(
    app_configs: Sequence[Any] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[checks.CheckMessage]:
    """The sync queue can be used: QUEUE_DISPATCH imports; with ``--database``, the table exists."""

    if connections.settings.errors:
        return []
    options = connections.options
    messages: list[checks.CheckMessage] = []
    dispatch = options.queue_dispatch() if options.error_policy() == "queue" else None
    if dispatch:
        try:
            import_string(dispatch)
        except ImportError as exc:
            chosen = "" if "QUEUE_DISPATCH" in options.raw else " (chosen for TASKS)"
            messages.append(
                checks.Error(
                    f"DJANGOES['QUEUE_DISPATCH'] = {dispatch!r}{chosen} cannot be imported: {exc}.",
                    hint="Give the dotted path of a function, e.g. 'djangoes.tasks.dispatch' "
                    "(pip install 'djangoes[celery]').",
                    id="djangoes.E210",
                )
            )
    if databases and options.error_policy() == "queue":
        from djangoes.sync.models import SyncQueueEntry  # a model: not at import

        table = SyncQueueEntry._meta.db_table
        for alias in databases:
            with db_connections[alias].cursor() as cursor:
                names = db_connections[alias].introspection.table_names(cursor)
            if table not in names:
                # a warning: ``migrate`` runs the database checks before migrating
                messages.append(
                    checks.Warning(
                        f"The sync queue table {table!r} does not exist in database {alias!r}, "
                        "and ON_ERROR is 'queue': saves of synced models will fail.",
                        hint="Run: python manage.py migrate djangoes",
                        id="djangoes.W211",
                    )
                )
    return messages
