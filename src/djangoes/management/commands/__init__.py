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
from typing import Any, ClassVar

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

    #: The options of a direct ``handle(indexes=[...])`` call (as elasticsearch-django's
    #: tests make it) that ``call_command`` would have filled in.
    handle_defaults: ClassVar[dict[str, Any]] = {
        "verbosity": 1,
        "using": None,
        "interactive": True,
    }

    def handle(self, *args: Any, **options: Any) -> None:
        # do_index_command gets the options as given, as in elasticsearch-django
        self._given = {name: value for name, value in options.items() if name != "indexes"}
        super().handle(*args, **{**self.handle_defaults, "indexes": [], **options})

    def handle_index(self, key: str, using: str | None, options: dict[str, Any]) -> None:
        data = self.do_index_command(key, **self._given)
        if data is not None:
            logger.info("%s", data)
