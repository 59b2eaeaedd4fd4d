"""Extra indexes that get the writes of sync while a rebuild builds them.

A rebuild creates a new physical index and loads it from the database while
the application keeps saving. So that no save made meanwhile is missing from
the new index when it goes live, sync writes every operation both
to the index's NAME and to the indexes returned here. Versions
(:mod:`djangoes.sync.clock`) make the order of the two writers irrelevant.
What an extra index refuses is passed to the failure handlers, so that the
rebuild can write those documents again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from djangoes.sync.sending import Failure

#: Returns, for a connection alias and index keys, {key: [extra index names]}.
Provider = Callable[[str, Sequence[str]], dict[str, list[str]]]
#: Receives, for a connection alias, the writes an extra index refused.
FailureHandler = Callable[[str, Sequence["Failure"]], None]

_providers: list[Provider] = []
_failure_handlers: list[FailureHandler] = []


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


def register_failure_handler(handler: FailureHandler) -> None:
    """Add a receiver of the writes extra indexes refused (the rebuild machinery's)."""
    if handler not in _failure_handlers:
        _failure_handlers.append(handler)


def report_failures(alias: str, failures: Sequence[Failure]) -> None:
    """Pass the writes extra indexes on connection ``alias`` refused to every handler."""
    for handler in _failure_handlers:
        handler(alias, failures)
