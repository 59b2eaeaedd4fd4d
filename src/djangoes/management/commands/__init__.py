"""The search index commands, and the base of commands written for elasticsearch-django.

A project's own command written against elasticsearch-django subclasses
``BaseSearchCommand`` and implements ``do_index_command(index, **options)``;
it keeps working with the import changed from
``elasticsearch_django.management.commands`` to this package. It gets the
arguments of djangoes' index commands (index names, ``-f``/``--noinput``,
``--using``); with no index names it runs on every index held by a
connection. djangoes' own commands implement
:meth:`~djangoes.management.base.IndexCommand.handle_index` instead.
"""

from __future__ import annotations

import logging
from typing import Any

from djangoes.management.base import IndexCommand

__all__ = ["BaseSearchCommand"]

logger = logging.getLogger(__name__)


class BaseSearchCommand(IndexCommand):
    """elasticsearch-django's base of index commands: implement ``do_index_command``."""

    action = "run the command on"
    description = "Base search command."

    def do_index_command(self, index: str, **options: Any) -> Any:
        """Run the command on one index (an ES_INDICES key); what it returns is logged."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement do_index_command(index, **options)."
        )

    def handle_index(self, key: str, using: str | None, options: dict[str, Any]) -> None:
        given = {name: value for name, value in options.items() if name != "indexes"}
        data = self.do_index_command(key, **given)
        if data is not None:
            logger.info("%s", data)
