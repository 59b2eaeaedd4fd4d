"""``manage.py cleanup_search_indexes [index ...]``: remove physical indexes nothing needs.

The work is :func:`djangoes.indexing.find_leftovers` (what would go) and
:func:`djangoes.indexing.cleanup_index`. Unlike the other lifecycle
commands it shows what it found before asking, and ``--dry-run`` stops there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError, CommandParser

from djangoes.exceptions import DjangoesError
from djangoes.management.base import IndexCommand


def _names(names: Sequence[str]) -> str:
    return ", ".join(map(repr, names)) or "none"


class Command(IndexCommand):
    help = (
        "Find the physical indexes '<NAME>-<timestamp>' left behind by crashed or abandoned "
        "rebuilds — not behind NAME, not kept by KEEP_OLD_INDEXES, not used by a rebuild "
        "holding the lock — and delete them. Shows what it found and asks for confirmation "
        "unless --noinput; --dry-run only shows."
    )
    action = "clean up"
    destructive = True

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only show what would be deleted.",
        )
        parser.add_argument(
            "--break-locks",
            action="store_true",
            help="Also abandon the interrupted rebuilds of these indexes: remove their locks, "
            "so their unfinished indexes are deleted too. Only when they are known not to "
            "run any more.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from djangoes.indexing import CleanupResult, cleanup_index, find_leftovers

        self.verbosity = int(options["verbosity"])
        using: str | None = options["using"]
        break_locks: bool = options["break_locks"]
        keys = self.select_indexes(list(options["indexes"]), using)
        plans: list[CleanupResult] = []
        for key in keys:
            try:
                plans.append(find_leftovers(key, using=using, break_lock=break_locks))
            except (DjangoesError, ImproperlyConfigured) as exc:
                raise CommandError(self.failure_message(key, using, exc)) from exc
        for plan in plans:
            self.show(plan, break_locks)
        todo = [p for p in plans if p.leftovers or (break_locks and p.lock is not None)]
        if not todo:
            self.say("Nothing to clean up.")
            return
        if options["dry_run"]:
            self.say("Dry run: nothing was deleted.")
            return
        self._todo = todo
        if options["interactive"] and not self.confirm(
            [p.index for p in todo], using, options.get("stdin")
        ):
            self.stdout.write("Cancelled: nothing was changed.")
            return
        for plan in todo:
            try:
                result = cleanup_index(plan.index, using=using, break_lock=break_locks)
            except (DjangoesError, ImproperlyConfigured) as exc:
                raise CommandError(self.failure_message(plan.index, using, exc)) from exc
            if result.lock_broken:
                self.say(f"Abandoned the interrupted rebuild of index {plan.index!r}.")
            self.say(f"Cleaned up index {plan.index!r}: deleted {_names(result.deleted)}.")

    def show(self, plan: Any, break_locks: bool) -> None:
        """What was found for one index (stdout, unless -v 0)."""
        where = f"index {plan.index!r} (NAME {plan.name!r}) on connection {plan.connection!r}"
        self.say(f"{where}: live {_names(plan.live)}.")
        if plan.kept:
            self.say(f"  kept (KEEP_OLD_INDEXES): {_names(plan.kept)}")
        if plan.lock is not None:
            if break_locks:
                self.say(f"  rebuild lock to break: {plan.lock}")
            else:
                self.say(
                    f"  in use by a rebuild holding the lock: {_names(plan.protected)} — "
                    f"{plan.lock} (--break-locks abandons it)"
                )
        self.say(f"  left behind: {_names(plan.leftovers)}")

    def confirmation_text(self, keys: Sequence[str], using: str | None) -> str:
        names = [name for plan in self._todo for name in plan.leftovers]
        locks = [plan.index for plan in self._todo if plan.lock is not None]
        text = f"This will delete {len(names)} physical index(es): {_names(names)}"
        if locks:
            text += f", and abandon the rebuild(s) of {_names(locks)} with their new indexes"
        return text + "."
