"""The ``DJANGOES`` setting: how indexes are kept in sync with models.

Every key has a documented default; the setting is read when used (through
the connection handler, which reparses on ``override_settings``) and never
written to. Problems are reported like the other settings: raised as
``ImproperlyConfigured`` on use, listed by ``manage.py check`` with ids
``djangoes.E2xx``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from django.conf import settings

from djangoes.conf import Problem, did_you_mean

UpdateStrategy = Literal["full", "partial"]
ErrorPolicy = Literal["raise", "log", "queue"]

UPDATE_STRATEGIES = ("full", "partial")
ERROR_POLICIES = ("raise", "log", "queue")
_LABEL = re.compile(r"^[A-Za-z_]\w*\.[A-Za-z_]\w*$")
_DOTTED_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")


@dataclass(frozen=True)
class Options:
    """The parsed ``DJANGOES`` setting (every field has its default)."""

    #: Directory of the mapping files (``<index>.json``); relative paths are
    #: taken from ``settings.BASE_DIR`` when it is set, else the working directory.
    MAPPINGS_DIR: str = "search/mappings"
    #: Documents per bulk request when indexing many objects (and per database
    #: read when reindexing).
    CHUNK_SIZE: int = 500
    #: Largest bulk request, in bytes, whatever sends it (0: no limit but
    #: BULK_DOCUMENTS); a document bigger than this goes alone.
    BULK_BYTES: int = 2 * 1024 * 1024
    #: Most documents in one bulk request.
    BULK_DOCUMENTS: int = 5000
    #: Seconds the engine has to answer one bulk request (its own timeout,
    #: whatever the client's PARAMS say).
    BULK_TIMEOUT: float = 60
    #: Seconds a bulk request (or some of its documents) that failed for a
    #: reason that passes (timeout, dropped connection, 429, 502, 503, 504) is
    #: tried again, with exponential backoff and jitter, by work nobody waits
    #: for: update/rebuild loads, search_sync, background sending, tasks.
    RETRY_BUDGET: float = 60
    #: The same for the sends a caller waits for: a commit's own flush, the
    #: model methods, sync_queryset() (0: one attempt).
    INLINE_RETRY_BUDGET: float = 1
    #: Default page size of search results.
    PAGE_SIZE: int = 25
    #: Sync configured models on save and delete.
    AUTO_SYNC: bool = True
    #: ``"app_label.Model"`` labels never synced automatically (matched case-insensitively).
    NEVER_AUTO_SYNC: tuple[str, ...] = ()
    #: Missing mapping files are errors (True) or warnings (False).
    STRICT_VALIDATION: bool = False
    #: ``save(update_fields=...)`` sends the whole document ("full") or only
    #: the mapped fields that changed ("partial").
    UPDATE_STRATEGY: UpdateStrategy = "full"
    #: ``retry_on_conflict`` for partial updates.
    RETRY_ON_CONFLICT: int = 0
    #: No longer used (accepted for compatibility): every committed change is
    #: sent; skipping "unchanged" documents could leave an older one in the
    #: index. ``manage.py check`` warns when it is set (djangoes.W212).
    CACHE_EXPIRY: int = 0
    #: No longer used (see CACHE_EXPIRY).
    CACHE_ALIAS: str = "default"
    #: Include ``_source`` in search hits.
    INCLUDE_SOURCE: bool = True
    #: Database alias the search querysets are read from, to build documents
    #: and to check membership (None: the database of the change, else the
    #: model's write database, never a read replica that may lag behind).
    IN_SEARCH_QUERYSET_DB_ALIAS: str | None = None
    #: What a failed sync does: raise ``SyncError`` ("raise"), log it ("log"),
    #: or keep automatic sync durable in the queue table ("queue"). None (not
    #: set): "queue", or "raise" with DEBUG or test names; see :meth:`error_policy`.
    ON_ERROR: ErrorPolicy | None = None
    #: ``refresh`` of sync requests: False, True or "wait_for" (writes are
    #: searchable when the request returns).
    REFRESH: bool | str = False
    #: Largest document (bytes of JSON) sent to the engine; bigger ones are
    #: rejected before sending (0: no limit).
    MAX_DOCUMENT_SIZE: int = 10 * 1024 * 1024
    #: Physical indexes kept after a rebuild besides the live one.
    KEEP_OLD_INDEXES: int = 0
    #: Seconds a process may trust what it last read of the rebuild table
    #: (which indexes are being rebuilt, so that its writes are copied to the
    #: new index); a rebuild waits this long before reading the database.
    REBUILD_POLL_SECONDS: int = 2
    #: Seconds before a queue entry the engine could not take is tried again;
    #: doubled at each further attempt, up to QUEUE_MAX_RETRY_DELAY.
    QUEUE_RETRY_DELAY: int = 10
    #: The longest wait between two attempts of a queue entry, in seconds.
    QUEUE_MAX_RETRY_DELAY: int = 3600
    #: Dotted path of ``dispatch(using, entry_ids, claim)``, called after commit
    #: instead of sending queued operations inline (``"djangoes.tasks.dispatch"``:
    #: a Celery task; ``"djangoes.django_tasks.dispatch"``: Django's tasks
    #: framework). None: send inline. Not set: see :meth:`queue_dispatch`.
    QUEUE_DISPATCH: str | None = None
    #: Under the "queue" policy, who sends a commit's operations: the commit
    #: itself ("commit": sent when ``atomic()`` returns) or a thread of the
    #: process in the background ("background": the request does not wait for
    #: the engine; the queue rows keep the operations durable until it has sent
    #: them). None (not set): see :meth:`queue_send`.
    QUEUE_SEND: str | None = None
    #: Raw keys as given, for messages.
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def mappings_dir(self) -> Path:
        """The mapping directory as an absolute path."""
        path = Path(self.MAPPINGS_DIR)
        if path.is_absolute():
            return path
        base = getattr(settings, "BASE_DIR", None)
        return (Path(base) if base else Path.cwd()) / path

    def never_syncs(self, label: str) -> bool:
        """Whether ``"app_label.ModelName"`` is in NEVER_AUTO_SYNC (any letter case)."""
        return label.lower() in {item.lower() for item in self.NEVER_AUTO_SYNC}

    def error_policy(self) -> ErrorPolicy:
        """The ON_ERROR policy in effect: the one set, else the default for where we run.

        The default is "queue" (a save never fails because the engine is
        down), except with ``settings.DEBUG`` (the development server) and
        while djangoes' test names are active (test runs), where it is
        "raise" so that sync problems show at once. Read at each call, so
        ``override_settings(DEBUG=...)`` takes effect.
        """
        if self.ON_ERROR is not None:
            return self.ON_ERROR
        from djangoes import connections  # the handler imports this module

        if settings.DEBUG or connections.test_names is not None:
            return "raise"
        return "queue"

    def queue_send(self) -> str:
        """The QUEUE_SEND in effect: the one set, else the default for where we run.

        The default is "background" (a request does not wait for the engine),
        except with ``settings.DEBUG`` and while djangoes' test names are
        active, where it is "commit", so that what a save sent is in the index
        when it returns, as the default "raise" policy there expects.
        """
        if self.QUEUE_SEND is not None:
            return self.QUEUE_SEND
        from djangoes import connections  # the handler imports this module

        if settings.DEBUG or connections.test_names is not None:
            return "commit"
        return "background"

    def queue_dispatch(self) -> str | None:
        """The QUEUE_DISPATCH in effect: the one set (None included), else the default.

        The default is ``"djangoes.django_tasks.dispatch"`` when the project's
        default task backend (``TASKS``) runs tasks in workers, that is when
        it is neither the immediate nor the dummy backend; else None (send
        inline). Read at each call, so ``override_settings(TASKS=...)`` takes
        effect.
        """
        if "QUEUE_DISPATCH" in self.raw:
            return self.QUEUE_DISPATCH
        from djangoes.tasks_api import DISPATCH_PATH, worker_backend

        return DISPATCH_PATH if worker_backend() is not None else None


KEYS = tuple(name for name in Options.__dataclass_fields__ if name != "raw")

_INT_KEYS = {
    "CHUNK_SIZE": 1,
    "BULK_BYTES": 0,
    "BULK_DOCUMENTS": 1,
    "PAGE_SIZE": 1,
    "RETRY_ON_CONFLICT": 0,
    "CACHE_EXPIRY": 0,
    "MAX_DOCUMENT_SIZE": 0,
    "KEEP_OLD_INDEXES": 0,
    "REBUILD_POLL_SECONDS": 0,
    "QUEUE_RETRY_DELAY": 1,
    "QUEUE_MAX_RETRY_DELAY": 1,
}
#: Keys in seconds (a number, whole or not) -> the least value.
_SECONDS_KEYS = {"BULK_TIMEOUT": 0.001, "RETRY_BUDGET": 0, "INLINE_RETRY_BUDGET": 0}
_BOOL_KEYS = ("AUTO_SYNC", "STRICT_VALIDATION", "INCLUDE_SOURCE")
_CHOICE_KEYS: dict[str, tuple[object, ...]] = {
    "UPDATE_STRATEGY": UPDATE_STRATEGIES,
    "ON_ERROR": (None, *ERROR_POLICIES),
    "REFRESH": (False, True, "wait_for"),
    "QUEUE_SEND": (None, "background", "commit"),
}


def parse_options(
    raw: object,
    problems: list[Problem],
    *,
    setting: str = "DJANGOES",
    names: Mapping[str, str] | None = None,
) -> Options:
    """Validate the ``DJANGOES`` dict; problems are appended, defaults kept for bad keys.

    ``names`` maps keys to the names messages show (elasticsearch-django's
    lower-case ones when the values came from ``SEARCH_SETTINGS``).
    """
    if raw is None:
        return Options()
    if not isinstance(raw, Mapping):
        problems.append(
            Problem(
                "djangoes.E201",
                f"{setting} must be a dict, not {type(raw).__name__} ({raw!r}).",
                hint="Example: DJANGOES = {'CHUNK_SIZE': 500, 'AUTO_SYNC': True}.",
            )
        )
        return Options()
    values: dict[str, Any] = {}
    for key, value in raw.items():
        where = f"{setting}[{(names or {}).get(key, key)!r}]"
        if key not in KEYS:
            problems.append(
                Problem(
                    "djangoes.E201",
                    f"{setting} has an unknown key {key!r}.{did_you_mean(str(key), KEYS)}",
                    hint=f"Known keys: {', '.join(KEYS)}.",
                )
            )
            continue
        error = _value_error(key, value)
        if error:
            problems.append(Problem("djangoes.E202", f"{where} = {value!r} {error}."))
            continue
        if key == "NEVER_AUTO_SYNC":
            value = (value,) if isinstance(value, str) else tuple(value)
        elif key == "MAPPINGS_DIR":
            value = str(value)
        elif key == "IN_SEARCH_QUERYSET_DB_ALIAS":
            value = value or None  # elasticsearch-django's default is ""
        values[key] = value
    _check_queue_keys(values, problems, setting)
    if values.get("CACHE_EXPIRY"):
        problems.append(
            Problem(
                "djangoes.W212",
                f"{setting}['CACHE_EXPIRY'] = {values['CACHE_EXPIRY']!r} has no effect any more: "
                "djangoes sends every committed change, because skipping a document that looks "
                "unchanged can leave an older one in the index when several processes write.",
                hint="Remove CACHE_EXPIRY (and CACHE_ALIAS) from the setting.",
                level="warning",
            )
        )
    return Options(**values, raw=dict(raw))


def _check_queue_keys(values: dict[str, Any], problems: list[Problem], setting: str) -> None:
    """Problems between the queue keys; a key in conflict is dropped (its default kept)."""
    delay = values.get("QUEUE_RETRY_DELAY", Options.QUEUE_RETRY_DELAY)
    longest = values.get("QUEUE_MAX_RETRY_DELAY", Options.QUEUE_MAX_RETRY_DELAY)
    if longest < delay:
        problems.append(
            Problem(
                "djangoes.E202",
                f"{setting}['QUEUE_MAX_RETRY_DELAY'] = {longest!r} is less than "
                f"QUEUE_RETRY_DELAY ({delay!r}): the longest wait between two attempts "
                "cannot be shorter than the first.",
            )
        )
        values.pop("QUEUE_MAX_RETRY_DELAY", None)
        values.pop("QUEUE_RETRY_DELAY", None)
    policy = values.get("ON_ERROR")
    if values.get("QUEUE_DISPATCH") is not None and policy not in (None, "queue"):
        problems.append(
            Problem(
                "djangoes.E202",
                f"{setting}['QUEUE_DISPATCH'] = {values['QUEUE_DISPATCH']!r} is set but "
                f"ON_ERROR is {policy!r}: only the 'queue' policy dispatches sync work.",
                hint="Set ON_ERROR to 'queue' (or leave it unset), or remove QUEUE_DISPATCH.",
            )
        )
        del values["QUEUE_DISPATCH"]


def _value_error(key: str, value: object) -> str | None:
    if key in _SECONDS_KEYS:
        low = _SECONDS_KEYS[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= low:
            least = "more than 0" if low else "at least 0"
            return f"must be a number of seconds, {least}"
    elif key in _INT_KEYS:
        low = _INT_KEYS[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            return f"must be a whole number of at least {low}"
    elif key in _BOOL_KEYS:
        if not isinstance(value, bool):
            return "must be True or False"
    elif key in _CHOICE_KEYS:
        choices = _CHOICE_KEYS[key]
        if value not in choices:
            shown = ", ".join(repr(c) for c in choices if c is not None)
            default = " (or None for the default policy)" if key == "ON_ERROR" else ""
            return f"must be one of {shown}{default}"
    elif key == "NEVER_AUTO_SYNC":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            return "must be a list of 'app_label.ModelName' labels"
        bad = [item for item in items if not isinstance(item, str) or not _LABEL.match(item)]
        if bad:
            return f"has {bad[0]!r}, which is not an 'app_label.ModelName' label"
    elif key == "QUEUE_DISPATCH":
        if value is not None and (not isinstance(value, str) or not _DOTTED_PATH.match(value)):
            return "must be None or the dotted path of a function, e.g. 'djangoes.tasks.dispatch'"
    elif key == "IN_SEARCH_QUERYSET_DB_ALIAS":
        if value not in (None, "") and (
            not isinstance(value, str) or value not in settings.DATABASES
        ):
            known = ", ".join(map(repr, settings.DATABASES))
            return f"must be None or a DATABASES alias ({known})"
    elif key in {"MAPPINGS_DIR", "CACHE_ALIAS"} and (
        not isinstance(value, (str, Path)) or not str(value)
    ):
        return "must be a non-empty string" + (" or Path" if key == "MAPPINGS_DIR" else "")
    return None
