"""The shared shell of the index lifecycle commands.

Each command is a subclass of :class:`IndexCommand` that implements
:meth:`IndexCommand.handle_index` with one call into :mod:`djangoes.indexing`.
The base class chooses the indexes (the keys given, or all of them), asks
for confirmation before destructive work, draws progress, and turns every
djangoes error into a ``CommandError`` naming the index and the cause, so
that the exit status is non-zero.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, ClassVar, TextIO

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from djangoes.conf import did_you_mean
from djangoes.exceptions import ConnectionError, DjangoesError
from djangoes.management.progress import ProgressBar


class IndexCommand(BaseCommand):
    """Base of ``create_/update_/delete_/prune_/rebuild_search_index``."""

    #: The verb for messages: "create", "update"...
    action: ClassVar[str] = ""
    #: Whether the command destroys documents: it asks before running unless --noinput.
    destructive: ClassVar[bool] = False
    #: Without index names, only the indexes with MODELS are taken.
    needs_models: ClassVar[bool] = False
    #: ``call_command(..., stdin=...)`` answers the confirmation (like createsuperuser).
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        which = "with MODELS " if self.needs_models else ""
        parser.add_argument(
            "indexes",
            nargs="*",
            metavar="index",
            help=f"ES_INDICES keys of the indexes to {self.action}. Default: every index "
            f"{which}held by a connection (by the --using connection when given).",
        )
        parser.add_argument(
            "--using",
            default=None,
            help="The ES_SERVERS connection to use (default: the one holding each index, "
            "'default' first).",
        )
        parser.add_argument(
            "-f",  # elasticsearch-django's short form
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Do not ask for confirmation"
            + (" before destroying documents." if self.destructive else " (none is asked)."),
        )

    @staticmethod
    def add_chunk_size_argument(parser: CommandParser, what: str) -> None:
        """``--chunk-size N`` (default: the CHUNK_SIZE setting)."""
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=None,
            help=f"{what} (default: the CHUNK_SIZE setting).",
        )

    @staticmethod
    def add_parallel_argument(parser: CommandParser) -> None:
        """``--parallel N``: worker processes over primary-key ranges."""
        parser.add_argument(
            "--parallel",
            type=int,
            default=1,
            metavar="N",
            help="Load with N worker processes over primary-key ranges (large tables; needs "
            "integer primary keys and a database they can open).",
        )

    @staticmethod
    def parallel_option(options: dict[str, Any]) -> int:
        """The ``--parallel`` value; CommandError when it is below 1."""
        parallel = int(options["parallel"])
        if parallel < 1:
            raise CommandError(f"--parallel must be at least 1, not {parallel}.")
        return parallel

    # -- what the subclasses implement --------------------------------------------

    def handle_index(self, key: str, using: str | None, options: dict[str, Any]) -> None:
        """Do the work for one index; djangoes errors raised here become CommandErrors."""
        raise NotImplementedError

    def confirmation_text(self, keys: Sequence[str], using: str | None) -> str:
        """What a destructive command is about to do, shown before asking."""
        return f"This will {self.action} {self.describe_keys(keys, using)}."

    # -- the shared part -------------------------------------------------------

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = int(options["verbosity"])
        using: str | None = options["using"]
        keys = self.select_indexes(list(options["indexes"]), using)
        asks = self.destructive and options["interactive"]
        if asks and not self.confirm(keys, using, options.get("stdin")):
            self.stdout.write("Cancelled: nothing was changed.")
            return
        for key in keys:
            try:
                self.handle_index(key, using, options)
            except (DjangoesError, ImproperlyConfigured) as exc:
                raise CommandError(self.failure_message(key, using, exc)) from exc

    def select_indexes(self, keys: list[str], using: str | None) -> list[str]:
        """The ES_INDICES keys to work on; CommandError for unknown ones or none at all."""
        from djangoes import connections

        try:
            parsed = connections.settings
            parsed.raise_first_error()
        except ImproperlyConfigured as exc:
            raise CommandError(f"The search settings are invalid: {exc}") from exc
        servers, indices = parsed.servers, parsed.indices
        if using is not None and using not in servers:
            raise CommandError(
                f"ES_SERVERS has no connection {using!r}.{did_you_mean(using, servers)} "
                f"Configured: {', '.join(map(repr, servers)) or 'none'}."
            )
        if using is not None:
            held = [key for key in servers[using]["INDICES"] if key in indices]
        else:
            held = [
                key
                for key in indices
                if any(key in server["INDICES"] for server in servers.values())
            ]
        if not keys:
            chosen = [key for key in held if indices[key]["MODELS"] or not self.needs_models]
            if not chosen:
                where = f"connection {using!r}" if using is not None else "any connection"
                which = " with MODELS" if self.needs_models else ""
                raise CommandError(
                    f"There is no index{which} to {self.action}: ES_INDICES has "
                    f"{', '.join(map(repr, indices)) or 'none'}, held by {where}: "
                    f"{', '.join(map(repr, held)) or 'none'}."
                )
            return chosen
        chosen = []
        for key in keys:
            if key not in indices:
                raise CommandError(
                    f"Unknown index {key!r}.{did_you_mean(key, indices)} ES_INDICES has "
                    f"{', '.join(map(repr, indices)) or 'no index'}."
                )
            if key not in held:
                where = f"connection {using!r}" if using is not None else "any connection"
                raise CommandError(
                    f"Index {key!r} is not in the INDICES of {where} in ES_SERVERS, so it "
                    "cannot be reached."
                )
            if key not in chosen:
                chosen.append(key)
        return chosen

    def describe_keys(self, keys: Sequence[str], using: str | None) -> str:
        """``"the search index 'blog'"`` / ``"the search indexes 'a', 'b' on connection 'x'"``."""
        names = ", ".join(map(repr, keys))
        plural = "es" if len(keys) > 1 else ""
        where = f" on connection {using!r}" if using is not None else ""
        return f"the search index{plural} {names}{where}"

    def confirm(self, keys: Sequence[str], using: str | None, stdin: TextIO | None) -> bool:
        """Ask before destroying; True to go on. CommandError when no answer can be read."""
        self.stdout.write(self.confirmation_text(keys, using))
        self.stdout.write("Type 'yes' to continue, or 'no' to cancel: ", ending="")
        self.stdout.flush()
        answer = (stdin or sys.stdin).readline()
        if not answer:
            raise CommandError(
                f"No answer to the confirmation (the input is closed). Pass --noinput to "
                f"{self.action} without asking."
            )
        return answer.strip().lower() in {"yes", "y"}

    def failure_message(self, key: str, using: str | None, exc: BaseException) -> str:
        """``"Could not update index 'blog': <cause>"`` with a hint for engine errors."""
        cause = str(exc) or type(exc).__name__
        message = f"Could not {self.action} index {key!r}: {cause}"
        if isinstance(exc, ConnectionError):
            from djangoes import connections

            alias = using or connections.alias_for_index(key)
            message += (
                f" Is the search engine of connection {alias!r} running? Check "
                f"ES_SERVERS[{alias!r}]['HOSTS']."
            )
        return message

    def progress_bar(self, label: str) -> ProgressBar:
        """A progress bar on stderr: shown when verbosity >= 1 and stderr is a terminal."""
        return ProgressBar(
            label,
            # unstyled: Django colours stderr as errors on a terminal
            write=lambda text: self.stderr.write(text, style_func=_plain, ending=""),
            flush=self.stderr.flush,
            enabled=self.verbosity >= 1 and self.stderr.isatty(),
        )

    def say(self, message: str) -> None:
        """A line on stdout unless ``-v 0``."""
        if self.verbosity >= 1:
            self.stdout.write(message)


def _plain(text: str) -> str:
    return text
