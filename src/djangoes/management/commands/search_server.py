"""``manage.py search_server``: run the embedded engine of a connection in the foreground.

The logic is in :func:`djangoes.embedded.run_engine`; this command only picks
the connection and reports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from djangoes.conf import DEFAULT_ES_ALIAS

if TYPE_CHECKING:
    from djangoes.embedded import EngineState


class Command(BaseCommand):
    help = (
        "Run the embedded search engine (osmem-server) of a connection in the foreground "
        "until Ctrl-C, then save its indices to PARAMS['data_dir'] and stop it. Other "
        "processes of the project (runserver, shell, tests) use it while it runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--using",
            default=DEFAULT_ES_ALIAS,
            help="The connection of ES_SERVERS to run the engine of (default: 'default').",
        )

    def handle(self, *args: Any, using: str, **options: Any) -> None:
        from djangoes import connections
        from djangoes.backends.abstracts import import_backend_class
        from djangoes.backends.embedded import EmbeddedBackend
        from djangoes.embedded import EngineError, config_from_params, run_engine

        servers = connections.servers
        if using not in servers:
            raise CommandError(
                f"ES_SERVERS has no connection {using!r}; configured: "
                f"{', '.join(map(repr, servers)) or 'none'}."
            )
        engine = servers[using]["ENGINE"]
        try:
            backend = import_backend_class(engine)
        except ValueError as exc:
            raise CommandError(f"ES_SERVERS[{using!r}]['ENGINE']: {exc}.") from exc
        if not issubclass(backend, EmbeddedBackend):
            raise CommandError(
                f"ES_SERVERS[{using!r}] uses ENGINE {engine!r}, which is not the embedded "
                "engine: search_server only runs djangoes.backends.embedded.EmbeddedBackend."
            )
        for problem in backend.check_client_library():
            raise CommandError(f"{problem.msg} {problem.hint or ''}".strip())
        try:
            config = config_from_params(using, servers[using]["PARAMS"])
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc

        def ready(state: EngineState) -> None:
            data = state.data_dir or "none: the indices are lost when it stops"
            self.stdout.write(
                f"The search engine of {using!r} is running at {state.url} "
                f"(osmem-server {state.osmem_version}, pid {state.engine.pid}).\n"
                f"Data directory: {data}\nQuit with CONTROL-C."
            )
            self.stdout.flush()

        try:
            saved = run_engine(config, ready=ready)
        except EngineError as exc:
            raise CommandError(str(exc)) from exc
        if saved is not None:
            self.stdout.write(f"Saved {saved.describe()}.")
        self.stdout.write("Search engine stopped.")
