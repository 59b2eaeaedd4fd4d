"""System checks: ``manage.py check`` reports every settings problem with its id.

Ids are stable (``djangoes.E001``...); see the settings reference for the
list. The checks that ask the cluster (reachable, supported version) need the
network and run only with ``manage.py check --deploy``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core import checks

from djangoes.conf import Problem

TAG = "djangoes"


def to_message(problem: Problem, obj: Any = None) -> checks.CheckMessage:
    """The Django check message for a :class:`~djangoes.conf.Problem`."""
    cls = checks.Error if problem.level == "error" else checks.Warning
    return cls(problem.msg, hint=problem.hint, obj=obj, id=problem.id)


def check_settings(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """ES_SERVERS / ES_INDICES problems, engines and client libraries (no network)."""
    from djangoes import connections

    return [to_message(p) for p in connections.check_problems()]


def check_servers(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Each cluster answers and runs a supported version (network; ``--deploy`` only)."""
    from djangoes import connections

    if any(p.level == "error" for p in connections.check_problems()):
        return []  # the settings check already reports why no connection can be made
    messages: list[checks.CheckMessage] = []
    for alias in connections:
        messages.extend(to_message(p) for p in connections[alias].check_server())
    return messages


def register_checks() -> None:
    """Register the checks (called from ``AppConfig.ready()``, never at import)."""
    checks.register(check_settings, TAG)
    checks.register(check_servers, TAG, deploy=True)
