"""``python manage.py demo [addrport]``: set up the example project, then serve it.

The set-up makes what is missing and nothing else: the database, the
standard library's documentation in it, the search index and its documents
(rebuilt when the mapping file changed), a demo admin user. A second run
finds them as the first left them and starts serving at once. The site is
served by ``runserver``: under its autoreloader the process that serves is a
child running this command again, and the set-up was done by the parent.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from djangoes.indexing import create_index, index_drift, rebuild_index, update_index
from djangoes.management.progress import ProgressBar
from djangoes.models import execute_count
from djangoes.sync import disable_search_updates
from library.address import Address
from library.corpus import documented, module_files
from library.models import Entry, Module
from library.search import INDEX

#: The admin user the demo creates: (username, password). For a local demo only.
DEMO_USER = ("demo", "demo")
#: The address chosen by the first process, for the autoreloader's child (which
#: inherits the environment) to serve on: the one asked for may have been busy.
ADDRESS_ENV = "DJANGOES_DEMO_ADDRESS"


class Command(BaseCommand):
    help = "Set up the example (database, corpus, search index, admin user) and serve the site."
    # Django 6 runs the model checks against the database, which lives in
    # VAR_DIR: the checks run once that directory exists (see set_up).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000",
                            help="where to serve (default: 127.0.0.1:8000)")  # fmt: skip
        parser.add_argument("--modules", type=int, default=None,
                            help="load only the first N modules (default: all)")  # fmt: skip
        parser.add_argument("--no-serve", action="store_false", dest="serve",
                            help="set up, then exit")  # fmt: skip
        parser.add_argument("--noreload", action="store_false", dest="use_reloader",
                            help="serve without the autoreloader")  # fmt: skip

    def handle(
        self, *args: Any, addrport: str, modules: int | None, serve: bool, use_reloader: bool,
        **options: Any,
    ) -> None:  # fmt: skip
        if os.environ.get("RUN_MAIN") == "true":  # the autoreloader's child: serve
            addrport = os.environ.get(ADDRESS_ENV, addrport)
            call_command("runserver", addrport, use_reloader=use_reloader)
            return
        address = self.free_address(addrport) if serve else None
        if serve and address is None:
            return  # a demo already serves there: nothing was done
        self.set_up(modules)
        if address is not None:
            # looked at again: another program may have taken it while we set up
            address = self.free_address(address.addrport)
            if address is None:
                return
            site = address.url
            user, password = DEMO_USER
            self.stdout.write(
                f"\nThe demo site: {site}\n"
                f"The admin:     {site}admin/ (user {user!r}, password {password!r})\n"
                "Quit with CONTROL-C: the server and the search engine stop.\n"
            )
            os.environ[ADDRESS_ENV] = address.addrport
            call_command("runserver", address.addrport, use_reloader=use_reloader)

    def free_address(self, addrport: str) -> Address | None:
        """Where to serve: ``addrport``, or the next free port when another program has it.

        None, having said so, when a demo already serves at ``addrport``.
        """
        try:
            address = Address.parse(addrport)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if address.is_free():
            return address
        if address.serves_a_demo():
            self.stdout.write(
                f"A demo is already running at {address.url}: open it there "
                "(CONTROL-C in its terminal stops it)."
            )
            return None
        free = address.next_free()
        if free is None:
            raise CommandError(
                f"Port {address.port} and the next ones on {address.host} are in use: "
                "give a free address, e.g. `python example/manage.py demo 127.0.0.1:8765`."
            )
        self.stdout.write(
            f"Port {address.port} is used by another program: serving on port {free.port}."
        )
        return free

    def set_up(self, modules: int | None) -> None:
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        self.check()
        call_command("migrate", verbosity=0)
        if Entry.objects.exists():
            self.stdout.write(
                f"Database: {Entry.objects.count():,} entries of {Module.objects.count():,} "
                f"modules (in {settings.VAR_DIR}; delete it to start again)."
            )
        else:
            self.load(modules)

        created = create_index(INDEX, exist_ok=True)
        if created:
            self.stdout.write(f"Created the search index {INDEX!r} ({created}).")
        elif index_drift(INDEX):
            # the mapping file changed since the index was made: a new index,
            # loaded, then switched to in one step (searches never see none)
            with self.progress_bar("Rebuilding") as progress:
                rebuilt = rebuild_index(INDEX, progress=progress)
            self.stdout.write(
                f"The mapping of {INDEX!r} changed: rebuilt it into {rebuilt.new_index}."
            )
        indexed = execute_count(INDEX, save=False).total_hits
        if indexed == Entry.objects.count():
            self.stdout.write(f"Search index {INDEX!r}: {indexed:,} documents.")
        else:
            with self.progress_bar("Indexing") as progress:
                result = update_index(INDEX, progress=progress)
            self.stdout.write(f"Indexed {result.indexed:,} documents in {result.seconds:.1f} s.")

        user, password = DEMO_USER
        User = get_user_model()
        if not User.objects.filter(username=user).exists():
            User.objects.create_superuser(user, password=password)

    def load(self, modules: int | None) -> None:
        """Read the standard library's documentation into the database."""
        files = list(module_files())[:modules]
        count = 0
        # Signals would index each row as it is saved: turned off here, the
        # index is loaded in bulk afterwards.
        with (
            transaction.atomic(),
            disable_search_updates(),
            self.progress_bar("Reading", unit="modules") as progress,
        ):
            for done, (name, path) in enumerate(files, start=1):
                items = list(documented(name, path))
                if items:
                    module = Module.objects.create(name=name, package=name.split(".")[0])
                    Entry.objects.bulk_create(
                        Entry(module=module, name=item.name, qualname=item.qualname,
                              kind=item.kind, doc=item.doc, line=item.line)
                        for item in items
                    )  # fmt: skip
                    count += len(items)
                progress(done, len(files))
        self.stdout.write(
            f"Read {count:,} documented objects of {Module.objects.count():,} modules."
        )

    def progress_bar(self, label: str, unit: str = "docs") -> ProgressBar:
        """A progress bar, drawn only on a terminal."""
        return ProgressBar(
            label,
            unit=unit,
            write=lambda text: self.stdout.write(text, ending=""),
            flush=self.stdout.flush,
            enabled=self.stdout.isatty(),
        )
