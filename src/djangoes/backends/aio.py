"""The async side of a connection: the same index-aware calls, on the client's async class.

Every connection has, beside its ``search()``, ``count()``, ``get()``...,
``asearch()``, ``acount()``, ``aget()``... to await in async views. They take
the same arguments, resolve the same index names (test names included), check
the same bodies and raise the same :mod:`djangoes.exceptions`; the requests
go through ``AsyncElasticsearch`` / ``AsyncOpenSearch`` (which need aiohttp:
``pip install 'djangoes[async]'``) and are recorded in the same
``connection.queries``.

One async client per connection and per event loop, created on first use in
that loop. ``await connection.aclose()`` (or ``await connections.aclose_all()``)
closes the clients of the running loop; :meth:`AsyncOperations.close` (what
``connections.close_all()`` calls) closes those of loops that still run and
forgets those of closed loops. A loop that ends as ``asyncio.run()`` and
asgiref's ``async_to_sync()`` end theirs (the loop of each async view Django
runs under WSGI, or under ``runserver``) closes its clients itself, when it
shuts down its async generators.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from djangoes.backends.api import (
    SPECS,
    Call,
    CallError,
    body_fields_given,
    normalize_call,
    with_fields_in_body,
)
from djangoes.exceptions import ConfigurationError, TransportError

if TYPE_CHECKING:
    from djangoes.backends.abstracts import Base

__all__ = ["AsyncOperations"]

#: The library the async clients send with.
_AIOHTTP_HINT = "pip install 'djangoes[async]'"
#: Guards the loop -> client tables of the connections (threads of one process share them).
_creation_lock = threading.RLock()


class AsyncOperations:
    """Mixin of :class:`~djangoes.backends.abstracts.Base`: the ``a``-prefixed methods."""

    #: The async client class (a dotted path is imported when first needed).
    async_client_class: ClassVar[Any] = None

    #: Loop -> (its client, the async generator closing it when the loop shuts down).
    _async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Any, Any]]

    # -- the clients ------------------------------------------------------------

    def _clients_by_loop(
        self,
    ) -> weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Any, Any]]:
        """Loop -> its client and closer (the threads and loops of a process share a connection)."""
        clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Any, Any]] | None
        clients = self.__dict__.get("_async_clients")
        if clients is None:
            with _creation_lock:
                clients = self.__dict__.setdefault("_async_clients", weakref.WeakKeyDictionary())
        assert clients is not None
        return clients

    def async_client_params(self) -> dict[str, Any]:
        """Keyword arguments of the async client (the backends add their classes)."""
        base: Base = self  # type: ignore[assignment]
        return base.client_params()

    async def async_hosts(self) -> list[str] | None:
        """The hosts of the async client (the embedded backend starts its engine first)."""
        base: Base = self  # type: ignore[assignment]
        return list(base.server["HOSTS"])

    def build_async_client(self, hosts: list[str] | None) -> Any:
        """A new async client for ``hosts`` (no request is sent).

        Raises ConfigurationError when the backend has no async client, when
        aiohttp is missing, or when the client refuses HOSTS/PARAMS.
        """
        base: Base = self  # type: ignore[assignment]
        if self.async_client_class is None:
            raise ConfigurationError(
                f"ES_SERVERS[{base.alias!r}]: {type(self).__name__} has no async client; use "
                "a backend of djangoes.backends.elasticsearch or djangoes.backends.opensearch."
            )
        base.ensure_client_library()
        try:
            import aiohttp  # noqa: F401
        except ImportError as exc:
            raise ConfigurationError(
                f"ES_SERVERS[{base.alias!r}]: the async API needs aiohttp ({exc}). Run: "
                f"{_AIOHTTP_HINT}"
            ) from exc
        return base.build_client(hosts, client_class=self.async_client_class,
                                 **self.async_client_params())  # fmt: skip

    async def aclient(self) -> Any:
        """The async client of this connection for the running event loop (made on first use)."""
        loop = asyncio.get_running_loop()
        clients = self._clients_by_loop()
        entry = clients.get(loop)
        closer = None
        if entry is None:
            hosts = await self.async_hosts()
            with _creation_lock:
                entry = clients.get(loop)  # another task of this loop may have made it meanwhile
                if entry is None:
                    client = self.build_async_client(hosts)
                    closer = self._close_at_shutdown(weakref.ref(loop), client)
                    entry = clients[loop] = (client, closer)
            if closer is not None and entry[1] is closer:
                await anext(closer)  # registered with the loop, suspended until it shuts down
        return entry[0]

    async def _close_at_shutdown(
        self, loop: weakref.ref[asyncio.AbstractEventLoop], client: Any
    ) -> AsyncIterator[None]:
        """Suspended in ``loop`` until its async generators are shut down; then closes ``client``.

        ``asyncio.run()`` and asgiref's ``async_to_sync()`` shut them down
        before closing the loop: a loop made for one async view closes the
        client it made. A client closed before (``aclose()``...) is left alone.
        """
        try:
            yield
        finally:
            running = loop()
            mine = False
            if running is not None:
                with _creation_lock:
                    clients = self._clients_by_loop()
                    entry = clients.get(running)
                    if entry is not None and entry[0] is client:
                        del clients[running]
                        mine = True
            if mine:
                await client.close()

    async def aclose(self) -> None:
        """Close the async client of the running event loop (a new one is made on next use)."""
        with _creation_lock:
            entry = self._clients_by_loop().pop(asyncio.get_running_loop(), None)
        if entry is not None:
            await entry[0].close()

    def close_async_clients(self) -> None:
        """Close the async clients of every loop from outside them (for ``close()``).

        A client of a loop that runs in another thread is closed in that loop;
        one of the loop running this code is closed by a task of that loop; one
        of a closed loop cannot be closed any more and is forgotten.
        """
        clients = self._clients_by_loop()
        with _creation_lock:
            items = list(clients.items())
            clients.clear()
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, (client, _closer) in items:
            if loop.is_closed():
                continue
            if loop is running:
                loop.create_task(client.close())
            elif loop.is_running():
                asyncio.run_coroutine_threadsafe(client.close(), loop)
            else:
                loop.run_until_complete(client.close())

    # -- requests -----------------------------------------------------------------

    def _call_for(self, api: str, args: Sequence[Any], kwargs: dict[str, Any]) -> Call:
        base: Base = self  # type: ignore[assignment]
        try:
            call = normalize_call(SPECS[api], args, kwargs)
            call.index = base._resolve_index(api, call.index)
            sent = with_fields_in_body(call)  # everything the request carries, to check
        except CallError as exc:
            raise TypeError(f"connections[{base.alias!r}].{exc}") from None
        base._check_body_targets(sent)
        return call

    async def aperform(self, call: Call) -> Any:
        """Send a normalised call through the async client, as :meth:`perform` does."""
        if call.body is not None and body_fields_given(call):
            call = with_fields_in_body(call)  # as perform() does
        client = await self.aclient()
        method: Callable[..., Any] = getattr(client, call.api)
        kwargs = dict(call.params)
        if call.body is not None:
            kwargs["body"] = call.body
        if SPECS[call.api].scope != "none":
            kwargs["index"] = call.index
        return await method(**kwargs)

    async def _arequest(self, api: str, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        base: Base = self  # type: ignore[assignment]
        call = self._call_for(api, args, kwargs)
        with base.wrap_errors():
            response = await self.aperform(call)
        result = base.unwrap_response(response)
        if api == "exists":
            return bool(result)
        return result

    async def asearch(self, *args: Any, **kwargs: Any) -> Any:
        """:meth:`~djangoes.backends.abstracts.Base.search`, awaited."""
        return await self._arequest("search", args, kwargs)

    async def acount(self, *args: Any, **kwargs: Any) -> Any:
        """:meth:`~djangoes.backends.abstracts.Base.count`, awaited."""
        return await self._arequest("count", args, kwargs)

    async def amsearch(self, *args: Any, **kwargs: Any) -> Any:
        """:meth:`~djangoes.backends.abstracts.Base.msearch`, awaited."""
        return await self._arequest("msearch", args, kwargs)

    async def aindex(self, *args: Any, **kwargs: Any) -> Any:
        """:meth:`~djangoes.backends.abstracts.Base.index`, awaited."""
        return await self._arequest("index", args, kwargs)

    async def acreate(self, *args: Any, **kwargs: Any) -> Any:
        """:meth:`~djangoes.backends.abstracts.Base.create`, awaited."""
        return await self._arequest("create", args, kwargs)

    async def aget(self, *args: Any, **kwargs: Any) -> Any:
        """:meth:`~djangoes.backends.abstracts.Base.get`, awaited."""
        return await self._arequest("get", args, kwargs)

    async def amget(self, *args: Any, **kwargs: Any) -> Any:
        """:meth:`~djangoes.backends.abstracts.Base.mget`, awaited."""
        return await self._arequest("mget", args, kwargs)

    async def aexists(self, *args: Any, **kwargs: Any) -> bool:
        """:meth:`~djangoes.backends.abstracts.Base.exists`, awaited."""
        return bool(await self._arequest("exists", args, kwargs))

    async def aupdate(self, *args: Any, **kwargs: Any) -> Any:
        """:meth:`~djangoes.backends.abstracts.Base.update`, awaited."""
        return await self._arequest("update", args, kwargs)

    async def adelete(self, *args: Any, **kwargs: Any) -> Any:
        """:meth:`~djangoes.backends.abstracts.Base.delete`, awaited."""
        return await self._arequest("delete", args, kwargs)

    async def abulk(self, *args: Any, **kwargs: Any) -> Any:
        """:meth:`~djangoes.backends.abstracts.Base.bulk`, awaited."""
        return await self._arequest("bulk", args, kwargs)

    async def adelete_by_query(self, *args: Any, **kwargs: Any) -> Any:
        """:meth:`~djangoes.backends.abstracts.Base.delete_by_query`, awaited."""
        return await self._arequest("delete_by_query", args, kwargs)

    async def aupdate_by_query(self, *args: Any, **kwargs: Any) -> Any:
        """:meth:`~djangoes.backends.abstracts.Base.update_by_query`, awaited."""
        return await self._arequest("update_by_query", args, kwargs)

    async def aping(self) -> bool:
        """Whether the cluster answers."""
        base: Base = self  # type: ignore[assignment]
        client = await self.aclient()
        try:
            with base.wrap_errors():
                return bool(await client.ping())
        except TransportError:
            return False

    async def ainfo(self) -> Any:
        """The cluster's root document (name, version, distribution)."""
        base: Base = self  # type: ignore[assignment]
        client = await self.aclient()
        with base.wrap_errors():
            return base.unwrap_response(await client.info())

    async def arefresh(self) -> None:
        """Make recent writes to this connection's indices searchable."""
        base: Base = self  # type: ignore[assignment]
        client = await self.aclient()
        with base.wrap_errors():
            await client.indices.refresh(index=base.index_names)
