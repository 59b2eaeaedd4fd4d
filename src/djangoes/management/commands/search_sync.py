"""``manage.py search_sync``: send what the sync queue holds, once or continuously.

The work is in :mod:`djangoes.sync.drain`; this command picks the options,
handles SIGINT/SIGTERM in ``--watch`` mode and reports.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, DatabaseError
from django.db import connections as db_connections

from djangoes.exceptions import DjangoesError

if TYPE_CHECKING:
    from djangoes.sync.drain import DrainResult

#: How many failed entries ``--failed`` shows.
SHOWN = 50


class Command(BaseCommand):
    help = (
        "Send the sync operations kept in the queue table (ON_ERROR 'queue') to the search "
        "engine, built from the current database state: once (default), or continuously with "
        "--watch. Exits with an error when entries could not be sent."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="The database whose queue to drain (default: 'default').",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="Entries claimed and sent at a time (default: the CHUNK_SIZE setting).",
        )
        parser.add_argument(
            "--ignore-backoff",
            action="store_true",
            help="Also send entries waiting for their next attempt (e.g. after the engine "
            "came back).",
        )
        parser.add_argument(
            "--watch",
            action="store_true",
            help="Keep draining until SIGINT or SIGTERM.",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=2.0,
            help="With --watch: seconds to wait when the queue is empty (default: 2).",
        )
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--failed",
            action="store_true",
            help="List the entries the engine refused for good, with the reasons.",
        )
        which.add_argument(
            "--retry-failed",
            action="store_true",
            help="Put the failed entries back in the queue, then drain it.",
        )
        which.add_argument(
            "--purge-failed",
            action="store_true",
            help="Delete the failed entries (asks first unless --noinput).",
        )
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Do not ask before --purge-failed.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = int(options["verbosity"])
        using: str = options["database"]
        if using not in db_connections:
            raise CommandError(
                f"DATABASES has no database {using!r}; configured: "
                f"{', '.join(map(repr, db_connections)) or 'none'}."
            )
        if options["batch_size"] is not None and options["batch_size"] < 1:
            raise CommandError(f"--batch-size must be at least 1, not {options['batch_size']}.")
        if options["interval"] <= 0:
            raise CommandError(f"--interval must be more than 0, not {options['interval']}.")
        if options["watch"] and (options["ignore_backoff"] or options["failed"]):
            raise CommandError("--watch cannot be combined with --ignore-backoff or --failed.")
        try:
            self._handle(using, options)
        except (DjangoesError, ImproperlyConfigured, DatabaseError) as exc:
            raise CommandError(f"Could not drain the sync queue of {using!r}: {exc}") from exc

    def _handle(self, using: str, options: dict[str, Any]) -> None:
        from djangoes.sync import drain

        if options["failed"]:
            self.list_failed(using)
            return
        if options["purge_failed"]:
            self.purge(using, options["interactive"], options.get("stdin"))
            return
        if options["retry_failed"]:
            self.say(f"Put {drain.retry_failed(using):,} failed entries back in the queue.")
        if options["watch"]:
            self.watch(using, options)
            return
        result = drain.drain(
            using, batch_size=options["batch_size"], ignore_backoff=options["ignore_backoff"]
        )
        self.report(result)
        counts = drain.queue_counts(using)
        self.say(
            f"Queue: {counts.pending:,} pending ({counts.waiting:,} waiting to be retried), "
            f"{counts.failed:,} failed."
        )
        if counts.waiting and not options["ignore_backoff"]:
            entries = "1 entry waits" if counts.waiting == 1 else f"{counts.waiting:,} entries wait"
            self.say(f"{entries} out their backoff: `search_sync --ignore-backoff` sends them now.")
        problems = []
        if result.failed:
            problems.append(f"{result.failed:,} entries were refused for good (see --failed)")
        if result.retrying or result.stopped:
            problems.append(
                f"{result.retrying:,} entries could not be sent and wait for a retry"
                + (f" ({result.stopped})" if result.stopped else "")
            )
        if problems:
            raise CommandError("The sync queue was not drained: " + "; ".join(problems) + ".")

    def report(self, result: DrainResult) -> None:
        """What a drain did, on stdout (documents refused for good listed)."""
        if not result.entries:
            self.say("Nothing to send.")
            return
        self.say(
            f"Sent {result.sent:,} of {result.entries:,} queue entries: "
            f"{result.indexed:,} document(s) indexed, {result.deleted:,} deleted, "
            f"{result.superseded:,} already newer; {result.retrying:,} left for a retry, "
            f"{result.failed:,} failed."
        )
        for line in result.errors[:SHOWN]:
            self.say(f"  - {line}")

    def watch(self, using: str, options: dict[str, Any]) -> None:
        from djangoes.sync import drain

        stop = threading.Event()
        with _stop_on_signals(stop):
            self.say(
                f"Watching the sync queue of {using!r} (every {options['interval']:g} s when "
                "idle). Stop with CONTROL-C or SIGTERM."
            )
            self.stdout.flush()
            total = drain.watch(
                using,
                interval=options["interval"],
                stop=stop,
                batch_size=options["batch_size"],
                progress=self._progress,
            )
        self.say(f"Stopped. Sent {total.sent:,} queue entries, {total.failed:,} failed.")

    def _progress(self, result: DrainResult) -> None:
        self.report(result)
        self.stdout.flush()

    def list_failed(self, using: str) -> None:
        from djangoes.sync import drain

        entries = drain.failed_entries(using)
        count = entries.count()
        if not count:
            self.stdout.write("No failed entries.")
            return
        self.stdout.write(
            f"{count:,} failed entries (retry with --retry-failed, drop with --purge-failed):"
        )
        for line in drain.describe_entries(entries[:SHOWN]):
            self.stdout.write(f"  {line}")
        if count > SHOWN:
            self.stdout.write(f"  ... and {count - SHOWN:,} more")

    def purge(self, using: str, interactive: bool, stdin: TextIO | None) -> None:
        from djangoes.sync import drain

        count = drain.failed_entries(using).count()
        if not count:
            self.say("No failed entries.")
            return
        if interactive:
            self.stdout.write(
                f"This will delete {count:,} failed entries of the sync queue; their documents "
                "stay as they are in the index."
            )
            self.stdout.write("Type 'yes' to continue, or 'no' to cancel: ", ending="")
            self.stdout.flush()
            answer = (stdin or sys.stdin).readline()
            if not answer:
                raise CommandError(
                    "No answer to the confirmation (the input is closed). Pass --noinput to "
                    "purge without asking."
                )
            if answer.strip().lower() not in {"yes", "y"}:
                self.stdout.write("Cancelled: nothing was changed.")
                return
        self.say(f"Deleted {drain.purge_failed(using):,} failed entries.")

    def say(self, message: str) -> None:
        """A line on stdout unless ``-v 0``."""
        if self.verbosity >= 1:
            self.stdout.write(message)


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set ``stop`` on SIGINT and SIGTERM for the block (main thread only), then restore."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals are delivered to the main thread; whoever runs us stops us
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
