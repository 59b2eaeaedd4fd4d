"""What an engine can do, declared as flags (like Django's ``DatabaseFeatures``).

Code that depends on engine-specific behaviour asks ``connection.features``
instead of testing the backend's class, so that a behaviour the embedded
engine lacks (see :class:`djangoes.backends.embedded.EmbeddedFeatures`) is
switched off in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings

from djangoes.conf import Problem

if TYPE_CHECKING:
    from djangoes.backends.abstracts import Base


def parse_version(text: str) -> tuple[int, ...]:
    """``'8.15.1'`` -> ``(8, 15, 1)``; stops at the first non-numeric part."""
    parts: list[int] = []
    for piece in text.split("."):
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def engine_hint(alias: str) -> str:
    """How to connect ``alias`` to the engine it found, in the words of the project's settings.

    ``SEARCH_SETTINGS`` (elasticsearch-django's style) has no ``ENGINE``: it
    connects with the Elasticsearch client only.
    """

    if getattr(settings, "SEARCH_SETTINGS", None) is not None:
        return (
            "SEARCH_SETTINGS (elasticsearch-django's style) connects to Elasticsearch only. "
            "For OpenSearch or the embedded engine, replace it with djangoes' settings, which "
            "name the backend: ES_SERVERS = {'default': {'ENGINE': "
            "'djangoes.backends.opensearch.SimpleHttpBackend' (or "
            "'djangoes.backends.embedded.EmbeddedBackend'), 'HOSTS': [...], 'INDICES': [...]}}, "
            "ES_INDICES and DJANGOES (see 'Migrating from elasticsearch-django')."
        )
    return (
        f"Pick the ENGINE of ES_SERVERS[{alias!r}] for this server: "
        "djangoes.backends.elasticsearch.* for Elasticsearch, djangoes.backends.opensearch.* "
        "for OpenSearch, djangoes.backends.embedded.EmbeddedBackend for the embedded engine."
    )


class BaseFeatures:
    """Capabilities of the engine a backend talks to."""

    #: Distributions this backend may talk to, as reported by the root document
    #: (``version.distribution``; Elasticsearch leaves it out).
    distributions: ClassVar[frozenset[str]] = frozenset({"elasticsearch", "opensearch"})
    #: Oldest and first unsupported server versions.
    minimum_server_version: ClassVar[tuple[int, ...]] = (0,)
    maximum_server_version: ClassVar[tuple[int, ...] | None] = None
    #: ``refresh`` makes writes visible (False where writes are visible at once).
    refresh_needed: ClassVar[bool] = True
    #: Painless scripts in updates and ``update_by_query``.
    supports_scripts: ClassVar[bool] = True
    #: Synonym token filters take effect.
    supports_synonyms: ClassVar[bool] = True
    #: Point-in-time API: "elasticsearch" (``/_pit``), "opensearch"
    #: (``/_search/point_in_time``) or None.
    point_in_time_api: ClassVar[str | None] = None
    #: Snapshot and restore.
    supports_snapshots: ClassVar[bool] = True
    #: Scores are Lucene's BM25 scores (comparable with a real cluster).
    exact_scores: ClassVar[bool] = True
    #: ``version_type=external`` on index and delete (sync orders writes with it).
    supports_external_versions: ClassVar[bool] = True

    #: The flags :meth:`__repr__` shows (what code asks ``connection.features``).
    flags: ClassVar[tuple[str, ...]] = (
        "refresh_needed",
        "supports_scripts",
        "supports_synonyms",
        "point_in_time_api",
        "supports_snapshots",
        "exact_scores",
        "supports_external_versions",
    )

    def __init__(self, connection: Base) -> None:
        self.connection = connection

    def __repr__(self) -> str:
        """``<EmbeddedFeatures of 'default': refresh_needed=False, ...>``: every flag's value."""
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.flags)
        return f"<{type(self).__name__} of {self.connection.alias!r}: {values}>"

    def check_server_info(self, info: Mapping[str, Any]) -> list[Problem]:
        """Problems with the server described by its root document."""
        version = info.get("version") or {}
        number = str(version.get("number", ""))
        distribution = str(version.get("distribution") or "elasticsearch")
        alias = self.connection.alias
        problems: list[Problem] = []
        if distribution not in self.distributions:
            problems.append(
                Problem(
                    "djangoes.E102",
                    f"Connection {alias!r} uses {type(self.connection).__name__}, which talks to "
                    f"{' or '.join(sorted(self.distributions))}, but the server is "
                    f"{distribution} {number}.",
                    hint=engine_hint(alias),
                )
            )
            return problems
        parsed = parse_version(number)
        low, high = self.minimum_server_version, self.maximum_server_version
        if parsed < low or (high is not None and parsed >= high):
            supported = f">= {'.'.join(map(str, low))}"
            if high is not None:
                supported += f", < {'.'.join(map(str, high))}"
            problems.append(
                Problem(
                    "djangoes.E102",
                    f"Connection {alias!r}: {distribution} {number} is not supported by "
                    f"{type(self.connection).__name__} (supported: {supported}).",
                    hint="Upgrade the cluster or use a backend made for this version.",
                )
            )
        return problems
