"""Mapping drift: does the live index still have the mapping its mapping file describes?

A mapping cannot be changed in place (a field's type, its analyzer): after
the mapping file changes, the index must be rebuilt. :func:`index_drift`
compares what the file (merged with SETTINGS) asks for with what the engine
has — the ``mappings`` and the ``analysis`` settings — and lists the
differences. The comparison is one-sided and forgiving, so that it only
reports what a rebuild would change:

* what the engine adds by itself is ignored: fields added by dynamic
  mapping, settings such as ``uuid`` or ``creation_date``; extra fields *are*
  reported where the file's mapping is ``"dynamic": "strict"`` or ``false``,
  since they cannot have come from documents;
* parameters the file sets to their default (``"index": true``,
  ``"doc_values": true``, ``"type": "object"`` of an object with
  properties...) match a live mapping that leaves them out, as engines do;
* values compare by meaning: ``100`` and ``100.0``, ``true`` and ``"true"``
  (settings come back as strings), ``"copy_to": "a"`` and ``["a"]``.

:func:`djangoes.checks.check_mapping_drift` reports the differences in
``manage.py check --deploy``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from djangoes.indexing.names import get_target, index_state

if TYPE_CHECKING:
    from djangoes.backends.abstracts import Base
    from djangoes.indexing.names import Target

#: Mapping parameters an engine leaves out of a mapping when they have this value.
DEFAULTS: dict[str, object] = {
    "index": True,
    "doc_values": True,
    "store": False,
    "norms": True,
    "enabled": True,
    "dynamic": True,
    "coerce": True,
    "ignore_malformed": False,
    "eager_global_ordinals": False,
    "include_in_parent": False,
    "include_in_root": False,
}
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")


@dataclass(frozen=True)
class Drift:
    """How one live physical index differs from its index's mapping file."""

    #: The ES_INDICES key.
    index: str
    #: The connection alias.
    connection: str
    #: The physical index compared.
    physical: str
    #: One line per difference (``"properties.title.type: ..."``).
    differences: list[str]


def normalise(value: object) -> object:
    """``value`` in a form where equal meanings compare equal (see the module docstring)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in ("true", "false"):
            return lowered
        if _NUMBER.match(value):
            return normalise(float(value))
        return value
    if isinstance(value, (list, tuple)):
        items = [normalise(item) for item in value]
        return items[0] if len(items) == 1 else items
    if isinstance(value, Mapping):
        return {str(key): normalise(item) for key, item in value.items()}
    return value


def _is_default(key: str, value: object, node: Mapping[str, Any]) -> bool:
    if key == "type" and normalise(value) == "object" and "properties" in node:
        return True  # an object with properties is an object whether or not it says so
    return key in DEFAULTS and normalise(value) == normalise(DEFAULTS[key])


def compare(
    expected: Mapping[str, Any],
    live: Mapping[str, Any],
    *,
    path: str = "",
    dynamic: object = True,
) -> list[str]:
    """The differences between an ``expected`` mapping (or settings) and the ``live`` one.

    Keys only in ``live`` are ignored, except fields under ``properties``
    where ``dynamic`` (inherited down the tree) is strict or false.
    """
    differences: list[str] = []
    here = expected.get("dynamic", dynamic)
    for key, want in expected.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in live:
            if not _is_default(str(key), want, expected):
                differences.append(
                    f"{where}: the mapping file has {want!r}, the live index has nothing"
                )
            continue
        have = live[key]
        if key == "properties" and isinstance(want, Mapping) and isinstance(have, Mapping):
            differences.extend(_compare_properties(want, have, where, here))
        elif isinstance(want, Mapping) and isinstance(have, Mapping):
            differences.extend(compare(want, have, path=where, dynamic=here))
        elif normalise(want) != normalise(have):
            differences.append(
                f"{where}: the mapping file has {want!r}, the live index has {have!r}"
            )
    return differences


def _compare_properties(
    want: Mapping[str, Any], have: Mapping[str, Any], where: str, dynamic: object
) -> list[str]:
    differences: list[str] = []
    for name, field in want.items():
        field_path = f"{where}.{name}"
        if name not in have:
            differences.append(f"{field_path}: in the mapping file, not in the live index")
        elif isinstance(field, Mapping) and isinstance(have[name], Mapping):
            differences.extend(compare(field, have[name], path=field_path, dynamic=dynamic))
    if normalise(dynamic) in ("strict", "false"):
        for name in sorted(set(have) - set(want)):
            differences.append(
                f"{where}.{name}: in the live index, not in the mapping file (which is "
                f"'dynamic': {dynamic!r}, so documents cannot have added it)"
            )
    return differences


def _expected_analysis(settings: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``analysis`` settings of a creation body (``analysis`` or ``index.analysis``)."""
    analysis = settings.get("analysis")
    if analysis is None:
        nested = settings.get("index")
        analysis = nested.get("analysis") if isinstance(nested, Mapping) else None
    return analysis if isinstance(analysis, Mapping) else None


def _entry(response: Mapping[str, Any], physical: str) -> Mapping[str, Any]:
    """The part of a per-index response about ``physical`` ({} when there is none)."""
    entry = response.get(physical)
    if entry is None and len(response) == 1:
        entry = next(iter(response.values()))
    return entry if isinstance(entry, Mapping) else {}


def physical_drift(target: Target, physical: str, body: Mapping[str, Any]) -> list[str]:
    """Differences between creation ``body`` and the live ``physical`` index (two requests).

    Raises the djangoes ``TransportError`` family when the engine cannot be asked.
    """
    conn: Base = target.conn
    differences: list[str] = []
    mappings = body.get("mappings")
    if isinstance(mappings, Mapping) and mappings:
        found: dict[str, Any] = conn.meta.indices.get_mapping(index=physical)
        live = _entry(found, physical).get("mappings") or {}
        differences += compare(mappings, live, path="mappings")
    settings = body.get("settings")
    analysis = _expected_analysis(settings) if isinstance(settings, Mapping) else None
    if analysis:
        got: dict[str, Any] = conn.meta.indices.get_settings(index=physical)
        live_settings = _entry(got, physical).get("settings") or {}
        live_analysis = _expected_analysis(live_settings) or {}
        differences += compare(analysis, live_analysis, path="settings.analysis")
    return differences


def index_drift(key: str, *, using: str | None = None) -> list[Drift]:
    """How each physical index behind index ``key``'s NAME differs from its mapping file.

    Returns one :class:`Drift` per physical index that differs ([] when all
    match, when NAME does not exist, or when there is no mapping to compare).
    Raises ConfigurationError for an unreadable mapping file and the djangoes
    ``TransportError`` family when the engine cannot be asked.
    """
    from djangoes import connections
    from djangoes.mappings import index_creation_body

    target = get_target(key, using)
    body = index_creation_body(target.settings, connections.options)
    if not body.get("mappings") and not body.get("settings"):
        return []
    drifts = []
    for physical in sorted(index_state(target.conn, target.name).indices):
        differences = physical_drift(target, physical, body)
        if differences:
            drifts.append(Drift(key, target.alias, physical, differences))
    return drifts
