"""Extra indexes that get the writes of sync while a rebuild builds them.

A rebuild creates a new physical index and loads it from the database while
the application keeps saving. So that no save made meanwhile is missing from
the new index when it goes live, the sync engine writes every operation both
to the index's NAME and to the indexes returned here. Versions
(:mod:`djangoes.sync.clock`) make the order of the two writers irrelevant.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

#: Returns, for a connection alias and index keys, {key: [extra index names]}.
Provider = Callable[[str, Sequence[str]], dict[str, list[str]]]

_providers: list[Provider] = []


def register(provider: Provider) -> None:
    """Add a source of extra targets (the rebuild machinery registers itself)."""
    if provider not in _providers:
        _providers.append(provider)


def extra_targets(alias: str, keys: Sequence[str]) -> dict[str, list[str]]:
    """The extra indexes to write for ``keys`` on connection ``alias`` ({} usually)."""
    result: dict[str, list[str]] = {}
    for provider in _providers:
        for key, names in provider(alias, keys).items():
            result.setdefault(key, []).extend(n for n in names if n not in result[key])
    return result
