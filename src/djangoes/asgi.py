"""An ASGI application that closes djangoes' async clients when the server stops.

::

    # asgi.py of the project
    from djangoes.asgi import get_asgi_application

    application = get_asgi_application()

It is Django's ``get_asgi_application()`` plus the ASGI *lifespan* protocol
(which Django's handler does not speak): at shutdown, the async clients the
views used (``asearch()``, ``aexecute_search()``...) are closed in the
server's event loop, so their connections end cleanly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from django.core.asgi import get_asgi_application as django_asgi_application

__all__ = ["get_asgi_application", "with_lifespan"]

Scope = Any
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def with_lifespan(application: App) -> App:
    """``application`` answering the lifespan protocol; other scopes go to it unchanged."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await application(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                from djangoes import connections

                await connections.aclose_all()
                await send({"type": "lifespan.shutdown.complete"})
                return

    return app


def get_asgi_application() -> App:
    """Django's ASGI application (sets Django up), closing the async clients at shutdown."""
    return with_lifespan(django_asgi_application())
