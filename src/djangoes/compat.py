"""Reading elasticsearch-django's ``SEARCH_SETTINGS``.

A project moving from elasticsearch-django may keep its ``SEARCH_SETTINGS``
(``connections`` / ``indexes`` / ``settings``): it is translated here into
the same ``ES_SERVERS`` / ``ES_INDICES`` / ``DJANGOES`` data that djangoes'
own settings give, so switching is a change of imports. Setting both styles
is an error (``djangoes.E203``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from djangoes.conf import DEFAULT_ES_ALIAS, Problem, did_you_mean

SECTIONS = ("connections", "indexes", "settings")
INDEX_KEYS = ("models",)
#: elasticsearch-django setting -> DJANGOES key.
SETTING_KEYS = {
    "chunk_size": "CHUNK_SIZE",
    "page_size": "PAGE_SIZE",
    "auto_sync": "AUTO_SYNC",
    "never_auto_sync": "NEVER_AUTO_SYNC",
    "strict_validation": "STRICT_VALIDATION",
    "mappings_dir": "MAPPINGS_DIR",
    "update_strategy": "UPDATE_STRATEGY",
    "retry_on_conflict": "RETRY_ON_CONFLICT",
    "cache_expiry": "CACHE_EXPIRY",
    "include_source": "INCLUDE_SOURCE",
    "in_search_queryset_db_alias": "IN_SEARCH_QUERYSET_DB_ALIAS",
}


@dataclass
class Translated:
    """``SEARCH_SETTINGS`` as djangoes settings."""

    servers: dict[str, Any] = field(default_factory=dict)
    indices: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


def project_settings(raw: object) -> dict[str, Any]:
    """The keys of ``SEARCH_SETTINGS['settings']`` that are a project's own (djangoes.W213).

    elasticsearch-django's ``get_setting()`` read any key of the section, so
    projects kept settings of their own there; a key close to one of
    elasticsearch-django's is a misspelling instead (djangoes.E204).
    """
    section = raw.get("settings") if isinstance(raw, Mapping) else None
    if not isinstance(section, Mapping):
        return {}
    return {
        key: value
        for key, value in section.items()
        if key not in SETTING_KEYS and not did_you_mean(str(key), SETTING_KEYS)
    }


def translate_search_settings(raw: object, problems: list[Problem]) -> Translated:
    """Translate ``SEARCH_SETTINGS``; problems are appended with ids ``djangoes.E204``."""
    result = Translated()
    if not isinstance(raw, Mapping):
        problems.append(
            Problem(
                "djangoes.E204",
                f"SEARCH_SETTINGS must be a dict with {', '.join(SECTIONS)}, not "
                f"{type(raw).__name__}.",
            )
        )
        return result
    for key in raw:
        if key not in SECTIONS:
            problems.append(
                Problem(
                    "djangoes.E204",
                    f"SEARCH_SETTINGS has an unknown key {key!r}."
                    f"{did_you_mean(str(key), SECTIONS)}",
                    hint=f"Known keys: {', '.join(SECTIONS)}.",
                )
            )
    indexes = _section(raw, "indexes", problems)
    for key, value in indexes.items():
        where = f"SEARCH_SETTINGS['indexes'][{key!r}]"
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            problems.append(Problem("djangoes.E204", f"{where} must be a dict, not {value!r}."))
            continue
        for name in value:
            if name not in INDEX_KEYS:
                problems.append(
                    Problem(
                        "djangoes.E204",
                        f"{where} has an unknown key {name!r}."
                        f"{did_you_mean(str(name), INDEX_KEYS)}",
                    )
                )
        result.indices[key] = {"MODELS": value.get("models") or []}
    connections = _section(raw, "connections", problems)
    if not connections:
        connections = {DEFAULT_ES_ALIAS: None}
    for alias, value in connections.items():
        server = _server(alias, value, problems)
        if server is not None:
            server["INDICES"] = list(result.indices) if alias == DEFAULT_ES_ALIAS else []
            result.servers[alias] = server
    for key, value in _section(raw, "settings", problems).items():
        option = SETTING_KEYS.get(key)
        if option is None:
            suggestion = did_you_mean(str(key), SETTING_KEYS)
            if suggestion:  # a misspelt key of elasticsearch-django's
                problems.append(
                    Problem(
                        "djangoes.E204",
                        f"SEARCH_SETTINGS['settings'] has an unknown key {key!r}.{suggestion}",
                        hint=f"Known keys: {', '.join(SETTING_KEYS)}.",
                    )
                )
            else:  # a project's own setting, kept there as elasticsearch-django allowed
                problems.append(
                    Problem(
                        "djangoes.W213",
                        f"SEARCH_SETTINGS['settings'] has a key djangoes does not use: {key!r}.",
                        hint="get_setting() returns it as you wrote it. If it was meant as one "
                        f"of djangoes' settings, the known keys are: {', '.join(SETTING_KEYS)}.",
                        level="warning",
                    )
                )
            continue
        result.options[option] = value
    chunk_size = result.options.get("CHUNK_SIZE")
    if isinstance(chunk_size, int) and not isinstance(chunk_size, bool) and chunk_size >= 1:
        # elasticsearch-django's chunk_size was the bulk helper's: documents per request
        result.options["BULK_DOCUMENTS"] = chunk_size
    return result


def _section(raw: Mapping[str, Any], name: str, problems: list[Problem]) -> Mapping[str, Any]:
    value = raw.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(
            Problem("djangoes.E204", f"SEARCH_SETTINGS[{name!r}] must be a dict, not {value!r}.")
        )
        return {}
    return value


def _server(alias: str, value: object, problems: list[Problem]) -> dict[str, Any] | None:
    """One elasticsearch-django connection (a URL, or Elasticsearch() keyword arguments)."""
    if value is None:
        return {}
    if isinstance(value, str):
        if not value.strip():
            problems.append(
                Problem(
                    "djangoes.E204",
                    f"SEARCH_SETTINGS['connections'][{alias!r}] is an empty string: it must be "
                    "the engine's URL, e.g. 'http://localhost:9200'.",
                    hint="Is the environment variable it is read from (ELASTICSEARCH_URL...) set "
                    "but empty? None (unset) means http://localhost:9200.",
                )
            )
            return None
        return {"HOSTS": [value]}
    if not isinstance(value, Mapping):
        problems.append(
            Problem(
                "djangoes.E204",
                f"SEARCH_SETTINGS['connections'][{alias!r}] must be a URL or a dict of "
                f"Elasticsearch() arguments, not {type(value).__name__}.",
            )
        )
        return None
    params = dict(value)
    server: dict[str, Any] = {}
    hosts = params.pop("hosts", None)
    if hosts is not None:
        server["HOSTS"] = hosts
    if params:
        server["PARAMS"] = params
    return server
