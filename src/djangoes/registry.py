"""Which models live in which indexes (``ES_INDICES[key]['MODELS']``).

Resolved from the settings in effect each time they change (never frozen at
import), once the app registry is ready.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

from django.apps import apps
from django.db import models

from djangoes import connections
from djangoes.conf import Problem, Settings
from djangoes.exceptions import ConfigurationError


@dataclass(frozen=True)
class Registry:
    """Index keys to model classes, and back."""

    by_index: dict[str, tuple[type[models.Model], ...]]
    by_model: dict[type[models.Model], tuple[str, ...]]

    def models_for(self, index: str) -> tuple[type[models.Model], ...]:
        """Models held by the index ``index`` (an ES_INDICES key)."""
        return self.by_index.get(index, ())

    def indexes_for(self, model: type[models.Model]) -> tuple[str, ...]:
        """ES_INDICES keys of the indexes ``model`` is configured in (proxies included).

        Anything that is not a model (``object``...) is in no index.
        """
        if getattr(model, "_meta", None) is None:
            return ()
        concrete = model._meta.concrete_model if model._meta.proxy else model
        return self.by_model.get(model) or self.by_model.get(concrete or model, ())

    def __iter__(self) -> Iterator[tuple[str, type[models.Model]]]:
        for index, classes in self.by_index.items():
            for model in classes:
                yield index, model


class _Cache(threading.local):
    """The registry of the last settings seen (per thread: no locking needed)."""

    settings: Settings | None = None
    registry: Registry | None = None


_cache = _Cache()


def get_registry() -> Registry:
    """The registry for the settings in effect (rebuilt when they change)."""

    parsed = connections.settings
    if _cache.settings is parsed and _cache.registry is not None:
        return _cache.registry
    problems: list[Problem] = []
    registry = build_registry(parsed, problems)
    errors = [p for p in problems if p.level == "error"]
    if errors:
        raise errors[0].as_exception()
    _cache.settings, _cache.registry = parsed, registry
    return registry


def build_registry(parsed: Settings, problems: list[Problem]) -> Registry:
    """Resolve the model labels of every index; unresolvable ones become problems."""
    by_index: dict[str, tuple[type[models.Model], ...]] = {}
    by_model: dict[type[models.Model], list[str]] = {}
    for key, index in parsed.indices.items():
        found: list[type[models.Model]] = []
        for label in index["MODELS"]:
            try:
                model = apps.get_model(label)
            except (LookupError, ValueError) as exc:
                problems.append(
                    Problem(
                        "djangoes.E205",
                        f"ES_INDICES[{key!r}]['MODELS'] has {label!r}, which is not an "
                        f"installed model ({exc}).",
                        hint="Give 'app_label.ModelName' of a model of INSTALLED_APPS.",
                    )
                )
                continue
            found.append(model)
            by_model.setdefault(model, []).append(key)
        by_index[key] = tuple(found)
    return Registry(by_index, {model: tuple(keys) for model, keys in by_model.items()})


def label_of(model: type[models.Model]) -> str:
    """``'app_label.ModelName'``."""
    return f"{model._meta.app_label}.{model._meta.object_name}"


def require_index(index: str) -> None:
    """ConfigurationError unless ``index`` is an ES_INDICES key."""

    if index not in connections.settings.indices:
        raise ConfigurationError(
            f"There is no index {index!r} in ES_INDICES (it has "
            f"{', '.join(map(repr, connections.settings.indices)) or 'none'})."
        )
