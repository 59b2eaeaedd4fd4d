"""The async side of every backend: ``asearch()``, ``aget()``... on the clients' async classes.

Each test runs its coroutine with asgiref's ``async_to_sync``, as Django runs
an async view from sync code: a new event loop, in which the connection makes
its own async client, closed at the end with ``connections.aclose_all()``.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync

from djangoes import connections
from djangoes.exceptions import (
    ConfigurationError,
    ConflictError,
    ConnectionError,
    IndexDoesNotExist,
    NotFoundError,
)
from tests.servers import closed_port_url


def run(main: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``main()`` in a new event loop, then close the async clients of that loop."""

    async def with_cleanup() -> Any:
        try:
            return await main()
        finally:
            await connections.aclose_all()

    return async_to_sync(with_cleanup)()


def test_documents_round_trip_through_the_async_client(es_config: dict[str, Any]) -> None:
    conn = connections["default"]
    conn.create_indices()

    # --8<-- [start:connection]
    async def main() -> dict[str, Any]:
        conn = connections["default"]
        await conn.aindex(id="1", document={"title": "Async Django", "views": 3}, refresh=True)
        await conn.aindex(id="2", document={"title": "Sync Django", "views": 5}, refresh=True)
        found = await conn.asearch(query={"match": {"title": "async"}})
        return {
            "hits": [hit["_id"] for hit in found["hits"]["hits"]],
            "count": (await conn.acount())["count"],
            "doc": (await conn.aget(id="2"))["_source"],
            "exists": await conn.aexists(id="1"),
        }

    # --8<-- [end:connection]

    assert run(main) == {
        "hits": ["1"],
        "count": 2,
        "doc": {"title": "Sync Django", "views": 5},
        "exists": True,
    }
    assert conn.get(id="1")["_source"]["title"] == "Async Django"  # the sync side sees it


def test_updates_deletes_and_bulk(es_config: dict[str, Any]) -> None:
    connections["default"].create_indices()

    async def main() -> tuple[Any, ...]:
        conn = connections["default"]
        await conn.abulk(
            operations=[{"index": {"_id": "1"}}, {"title": "one"}, {"index": {"_id": "2"}},
                        {"title": "two"}],
            refresh=True,
        )  # fmt: skip
        await conn.aupdate(id="1", doc={"views": 7}, refresh=True)
        await conn.adelete(id="2", refresh=True)
        return (
            (await conn.aget(id="1"))["_source"],
            await conn.aexists(id="2"),
            (await conn.amget(ids=["1"]))["docs"][0]["_source"]["title"],
        )

    assert run(main) == ({"title": "one", "views": 7}, False, "one")


def test_create_refresh_msearch_and_by_query(es_config: dict[str, Any]) -> None:
    connections["default"].create_indices()

    async def main() -> tuple[Any, ...]:
        conn = connections["default"]
        for i in range(5):
            await conn.acreate(
                id=str(i), document={"title": f"doc {i}", "tag": "even" if i % 2 == 0 else "odd"}
            )
        with pytest.raises(ConflictError):  # create: only a new id
            await conn.acreate(id="1", document={"title": "again"})
        await conn.arefresh()
        responses = (await conn.amsearch(
            searches=[{}, {"query": {"term": {"tag": "odd"}}}, {}, {"query": {"match_all": {}}}]
        ))["responses"]  # fmt: skip
        updated = await conn.aupdate_by_query(query={"term": {"tag": "odd"}}, refresh=True)
        deleted = await conn.adelete_by_query(query={"term": {"tag": "odd"}}, refresh=True)
        return (
            [r["hits"]["total"]["value"] for r in responses],
            updated["updated"],
            deleted["deleted"],
            (await conn.acount())["count"],
            (await conn.aget(id="1"))["_source"] if await conn.aexists(id="1") else None,
        )

    assert run(main) == ([2, 5], 2, 2, 3, None)
    assert connections["default"].get(id="0")["_source"] == {"title": "doc 0", "tag": "even"}


def test_errors_are_djangoes_errors(es_config: dict[str, Any]) -> None:
    connections["default"].create_indices()

    async def main() -> None:
        conn = connections["default"]
        with pytest.raises(NotFoundError):
            await conn.aget(id="missing")
        with pytest.raises(IndexDoesNotExist, match="has no index 'secrets'"):
            await conn.asearch(index="secrets")
        with pytest.raises(TypeError, match="nonsense"):  # as the sync client says
            await conn.asearch(nonsense=1)
        with pytest.raises(IndexDoesNotExist, match="names index 'secrets'"):
            await conn.asearch(query={"terms": {"tag": {"index": "secrets", "id": "1",
                                                        "path": "tag"}}})  # fmt: skip

    run(main)


def test_requests_are_in_the_query_log(es_config: dict[str, Any]) -> None:
    connections["default"].create_indices()

    async def logged_in_loop() -> list[Any]:
        conn = connections["default"]
        conn.force_debug = True
        await conn.asearch(query={"match_all": {}})
        await conn.aping()
        return conn.queries

    queries = run(logged_in_loop)
    assert [(q["method"], q["path"].split("?")[0], q["status"]) for q in queries[-2:]] == [
        ("POST", "/blog_public/_search", 200),
        ("HEAD", "/", 200),
    ]
    assert queries[-2]["body"] == '{"query":{"match_all":{}}}'


def test_one_client_per_event_loop_shared_by_concurrent_requests(
    es_config: dict[str, Any],
) -> None:
    connections["default"].create_indices()

    async def main() -> tuple[set[int], int]:
        conn = connections["default"]
        clients: set[int] = set()

        async def one(i: int) -> int:
            clients.add(id(await conn.aclient()))
            found = await conn.asearch(query={"match_all": {}})
            return int(found["hits"]["total"]["value"])

        totals = await asyncio.gather(*(one(i) for i in range(20)))
        return clients, len(totals)

    clients, done = run(main)
    assert (len(clients), done) == (1, 20)

    async def two_loops() -> Any:
        return await connections["default"].aclient()

    first, second = run(two_loops), run(two_loops)
    assert first is not second  # each loop its own client (the first one closed with its loop)


def test_close_all_closes_the_clients_of_running_loops(
    es_config: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    replaced: list[bool] = []

    async def main() -> None:
        conn = connections["default"]
        client = await conn.aclient()
        await conn.aping()  # the client's HTTP session is open
        connections.close_all()  # from code of the loop itself: closed by a task of the loop
        await asyncio.sleep(0.01)
        replaced.append(await conn.aclient() is not client)

    run(main)
    gc.collect()  # aiohttp reports a session nobody closed when it is collected
    assert replaced == [True]
    assert "Unclosed" not in caplog.text


def test_a_loop_that_ends_closes_its_clients(
    es_config: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Django runs an async view under WSGI (runserver) in a loop of its own, ended after it."""
    conn = connections["default"]

    async def view() -> bool:
        return await conn.aping()  # the client's HTTP session is open; nobody closes it

    assert async_to_sync(view)() is True
    assert async_to_sync(view)() is True
    gc.collect()  # aiohttp reports a session nobody closed when it is collected
    assert "Unclosed" not in caplog.text
    assert len(conn._clients_by_loop()) == 0  # nothing kept for the ended loops

    async def closed_first() -> bool:
        await conn.aping()
        await conn.aclose()  # closed once: the loop's shutdown leaves it alone
        return await conn.aping()

    assert async_to_sync(closed_first)() is True
    gc.collect()
    assert "Unclosed" not in caplog.text
    assert len(conn._clients_by_loop()) == 0


def test_a_loop_that_ends_closes_the_sessions_of_nodes_marked_dead(
    settings: Any, engine_url: str
) -> None:
    """One node of HOSTS is down: the client sends to the other and marks it dead. When
    the loop ends, every node's HTTP session is closed, the dead one's too (opensearch-py's
    ``AsyncTransport.close()`` closes the live ones only; tests/cluster met it)."""
    settings.ES_SERVERS = {
        "default": {
            "HOSTS": [closed_port_url(), engine_url],
            "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
            "INDICES": [],
        }
    }
    clients = []

    async def view() -> list[bool]:
        conn = connections["default"]
        clients.append(await conn.aclient())
        return [await conn.aping() for _ in range(4)]  # the dead node's turn comes

    assert async_to_sync(view)() == [True] * 4
    pool = clients[0].transport.connection_pool
    assert len(pool.connections) == 1  # the other one is marked dead
    sessions = [node.session for node in pool.orig_connections]
    assert all(session is None or session.closed for session in sessions)


def test_an_unreachable_cluster(settings: Any) -> None:
    settings.ES_SERVERS = {
        "default": {"HOSTS": [closed_port_url()], "INDICES": [], "PARAMS": {"max_retries": 0}}
    }

    async def main() -> bool:
        conn = connections["default"]
        with pytest.raises(ConnectionError, match=r"^\[default\]"):
            await conn.ainfo()
        return await conn.aping()

    assert run(main) is False


def test_without_aiohttp_the_error_says_what_to_install(
    es_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiohttp is installed here: a None in ``sys.modules`` makes importing it fail."""
    monkeypatch.setitem(sys.modules, "aiohttp", None)

    async def main() -> None:
        with pytest.raises(ConfigurationError, match=r"pip install 'djangoes\[async\]'"):
            await connections["default"].asearch()

    run(main)
