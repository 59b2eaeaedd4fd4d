"""Mapping files: where they are, reading them, and starter mappings from models.

An index's mapping file (``<MAPPINGS_DIR>/<index key>.json``, or the path in
``ES_INDICES[key]['MAPPING']``) holds the index-creation body: ``settings``
and ``mappings`` as the engine expects them. ``SETTINGS`` in ``ES_INDICES``
is merged over it, so both ways of giving a mapping work and can be combined.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import models

from djangoes.exceptions import ConfigurationError

if TYPE_CHECKING:
    from djangoes.conf import IndexSettings
    from djangoes.options import Options


def mapping_path(index: IndexSettings, options: Options | None = None) -> Path:
    """The mapping file of ``index`` (it may not exist)."""
    if options is None:
        from djangoes import connections  # the handler (through the backends) imports us

        options = connections.options
    if index["MAPPING"]:
        path = Path(index["MAPPING"])
        return path if path.is_absolute() else options.mappings_dir() / path
    return options.mappings_dir() / f"{index['KEY']}.json"


def load_mapping(index: IndexSettings, options: Options | None = None) -> dict[str, Any] | None:
    """The body in the mapping file of ``index``; None when there is no file.

    Raises ConfigurationError naming the file when it is not a JSON object
    with only ``settings`` / ``mappings`` / ``aliases``.
    """
    path = mapping_path(index, options)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if index["MAPPING"]:
            raise ConfigurationError(
                f"ES_INDICES[{index['KEY']!r}]['MAPPING'] names {str(path)!r}, which does not "
                "exist."
            ) from None
        return None
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"The mapping file {str(path)!r} of index {index['KEY']!r} is not valid JSON: "
            f"{exc.msg} (line {exc.lineno}, column {exc.colno})."
        ) from None
    if not isinstance(body, dict) or not set(body) <= {"settings", "mappings", "aliases"}:
        raise ConfigurationError(
            f"The mapping file {str(path)!r} of index {index['KEY']!r} must be a JSON object "
            "with 'settings' and/or 'mappings' (the index-creation body)."
        )
    return body


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` merged in (nested dicts merged, other values replaced)."""
    result = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def index_creation_body(index: IndexSettings, options: Options | None = None) -> dict[str, Any]:
    """The body to create ``index`` with: its mapping file, then its SETTINGS."""
    return deep_merge(load_mapping(index, options) or {}, index["SETTINGS"])


def mapped_fields(index: IndexSettings, options: Options | None = None) -> set[str]:
    """Top-level field names in the mapping of ``index`` (for partial updates)."""
    body = index_creation_body(index, options)
    properties = (body.get("mappings") or {}).get("properties") or {}
    return set(properties)


# -- starter mappings ------------------------------------------------------------

_TEXT = {"type": "text"}
_FIELD_TYPES: list[tuple[type[models.Field[Any, Any]], dict[str, Any]]] = [
    (models.BooleanField, {"type": "boolean"}),
    (models.BigIntegerField, {"type": "long"}),
    (models.SmallIntegerField, {"type": "short"}),
    (models.IntegerField, {"type": "integer"}),
    (models.AutoField, {"type": "integer"}),
    (models.BigAutoField, {"type": "long"}),
    (models.FloatField, {"type": "double"}),
    (models.DecimalField, {"type": "scaled_float", "scaling_factor": 100}),
    (models.DateTimeField, {"type": "date"}),
    (models.DateField, {"type": "date", "format": "strict_date"}),
    (models.TimeField, {"type": "keyword"}),
    (models.DurationField, {"type": "long"}),
    (models.UUIDField, {"type": "keyword"}),
    (models.EmailField, {"type": "keyword"}),
    (models.URLField, {"type": "keyword"}),
    (models.SlugField, {"type": "keyword"}),
    (models.GenericIPAddressField, {"type": "ip"}),
    (models.JSONField, {"type": "object", "enabled": False}),
    (models.TextField, _TEXT),
]


def field_mapping(field: models.Field[Any, Any]) -> dict[str, Any] | None:
    """A mapping for one model field; None for fields a document does not hold as is."""
    if field.many_to_many or field.one_to_many or (field.one_to_one and not field.concrete):
        return None
    if isinstance(field, models.ForeignKey):
        target = field.target_field
        return field_mapping(target) if target is not None else {"type": "keyword"}
    if isinstance(field, (models.FileField,)):
        return {"type": "keyword"}
    if isinstance(field, models.CharField) and not isinstance(
        field, (models.EmailField, models.URLField, models.SlugField)
    ):
        if field.choices:
            return {"type": "keyword"}
        return {"type": "text", "fields": {"raw": {"type": "keyword", "ignore_above": 256}}}
    for field_class, mapping in _FIELD_TYPES:
        if isinstance(field, field_class):
            return dict(mapping)
    return None


def starter_mapping(model: type[models.Model]) -> dict[str, Any]:
    """An index-creation body with a mapping for the concrete fields of ``model``.

    A starting point to edit, not a final mapping: text fields get a
    ``.raw`` keyword sub-field for sorting and aggregations, foreign keys
    are mapped as the type of the key they hold.
    """
    properties: dict[str, Any] = {}
    for field in model._meta.get_fields():
        if not getattr(field, "concrete", False):
            continue
        assert isinstance(field, models.Field)
        mapping = field_mapping(field)
        if mapping is None:
            continue
        name = field.attname if isinstance(field, models.ForeignKey) else field.name
        properties[name] = mapping
    return {
        "settings": {"number_of_shards": 1, "number_of_replicas": 0},
        "mappings": {"properties": properties},
    }
