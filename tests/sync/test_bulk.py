"""The bulk writer against a running engine, with a fault-injecting proxy in between.

Every fault here is one a real cluster shows (see ``tests/faults.py``): the
engine behind the proxy is real, and what is read back is what it stored.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from djangoes import bulk, connections
from djangoes.backends.abstracts import Base
from tests.faults import Delay, Drop, FaultProxy, MissingItem, RejectItems, Status

QUICK = bulk.Retry(budget=20, initial=0.05, longest=0.2)
ONCE = bulk.Retry(budget=0)


@pytest.fixture
def conn(settings: Any, proxy: FaultProxy, engine_url: str) -> Base:
    """A connection through the proxy to an engine with an empty index 'docs'."""
    settings.ES_SERVERS = {
        "default": {
            "HOSTS": [proxy.url],
            "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
            "INDICES": ["docs"],
            "PARAMS": {"max_retries": 0},
        }
    }
    settings.ES_INDICES = {
        "docs": {"SETTINGS": {"mappings": {"properties": {"n": {"type": "integer"}}}}}
    }
    connection = connections["default"]
    connection.create_indices()
    return connection


def limits(
    retry: bulk.Retry = QUICK, *, max_bytes: int = 0, max_actions: int = 1000,
    timeout: float | None = 5,
) -> bulk.Limits:  # fmt: skip
    return bulk.Limits(max_bytes, max_actions, timeout, retry)


def documents(count: int, *, size: int = 0, version: int = 1) -> list[bulk.Action]:
    filler = "x" * size
    return [
        bulk.Action("index", "docs", str(n), json.dumps({"n": n, "f": filler}).encode(), version)
        for n in range(count)
    ]


def stored(conn: Base) -> dict[str, Any]:
    conn.refresh()
    found = conn.search(query={"match_all": {}}, size=1000)
    return {hit["_id"]: hit["_source"]["n"] for hit in found["hits"]["hits"]}


def kinds(outcomes: list[bulk.Outcome]) -> list[str]:
    return [outcome.kind for outcome in outcomes]


def test_requests_never_exceed_the_byte_cap_nor_the_count(conn: Base, proxy: FaultProxy) -> None:
    actions = documents(40, size=100)
    big = bulk.Action("index", "docs", "big", json.dumps({"n": -1, "f": "y" * 3000}).encode(), 1)
    actions.insert(17, big)
    size = len(actions[0].lines)
    outcomes = list(bulk.write(conn, actions, limits(max_bytes=5 * size + 10, max_actions=4)))
    assert kinds(outcomes) == ["done"] * 41
    bodies = [seen.body for seen in proxy.requests()]
    assert max(len(body) for body in bodies if b'"big"' not in body) <= 5 * size + 10
    assert all(body.count(b'{"index"') <= 4 for body in bodies)
    assert [body.count(b'{"index"') for body in bodies if b'"big"' in body] == [1]  # alone
    assert len(stored(conn)) == 41


ODD_IDS = [
    'say "hi"',
    "back\\slash",
    "new\nline",
    "tab\tand\x01control",
    "é ü 漢字",
    "😀",
    "sep\u2028ara",
]


def test_header_lines_are_the_json_of_their_metadata(conn: Base) -> None:
    """Each action's header line is what ``json.dumps`` writes for its metadata, ids that
    need JSON's quoting included; the engine stores the documents under those very ids."""
    actions = [
        bulk.Action("index", "docs", doc_id, b'{"n":1}', 7, retry_on_conflict=3)
        for doc_id in ODD_IDS
    ]
    expected = [
        {"index": {"_index": "docs", "_id": doc_id, "version": 7, "version_type": "external"}}
        for doc_id in ODD_IDS
    ]
    update = bulk.Action("update", "docs", ODD_IDS[0], b'{"n":2}', 8, retry_on_conflict=3)
    delete = bulk.Action("delete", "docs", ODD_IDS[1], version=9)
    plain = bulk.Action("index", "docs", "plain", b'{"n":3}')
    expected += [
        {"update": {"_index": "docs", "_id": ODD_IDS[0], "retry_on_conflict": 3}},
        {"delete": {"_index": "docs", "_id": ODD_IDS[1], "version": 9, "version_type": "external"}},
        {"index": {"_index": "docs", "_id": "plain"}},
    ]
    for action, meta in zip([*actions, update, delete, plain], expected, strict=True):
        header = action.lines.split(b"\n", 1)[0]
        assert header == json.dumps(meta, separators=(",", ":"), ensure_ascii=False).encode()
    outcomes = list(bulk.write(conn, [*actions, update, delete, plain], limits()))
    assert kinds(outcomes) == ["done"] * len(outcomes)
    assert stored(conn) == {**dict.fromkeys(ODD_IDS[2:], 1), ODD_IDS[0]: 2, "plain": 3}


def test_a_cut_ends_the_request_being_filled() -> None:
    actions = documents(10)
    marked = [*actions[:3], bulk.CUT, bulk.CUT, *actions[3:], bulk.CUT]
    groups = list(bulk.requests(marked, limits(max_actions=4)))
    assert [len(group) for group in groups] == [3, 4, 3]
    assert [action for group in groups for action in group] == actions


def test_an_id_no_engine_accepts_is_refused_before_sending(conn: Base, proxy: FaultProxy) -> None:
    actions = documents(3)
    actions[1].id = "é" * 257  # 514 bytes
    actions.append(bulk.Action("delete", "docs", ""))
    outcomes = {outcome.action.id: outcome for outcome in bulk.write(conn, actions, limits())}
    assert {key: found.kind for key, found in outcomes.items()} == {
        "0": "done", "é" * 257: "refused", "2": "done", "": "refused",
    }  # fmt: skip
    assert "514 bytes long, more than the 512 bytes" in outcomes["é" * 257].reason
    assert outcomes[""].reason == "the document id is empty"
    assert b"\xc3\xa9" not in b"".join(seen.body for seen in proxy.requests())
    assert sorted(stored(conn)) == ["0", "2"]


def test_a_request_refused_as_a_whole_is_split_until_the_bad_action_is_alone(
    conn: Base, proxy: FaultProxy
) -> None:
    """The engine refuses a whole request for one id over 512 bytes; the others are written."""
    actions = documents(9)
    actions[6].id = "z" * 600  # send() does not check ids: the engine refuses the request
    outcomes = bulk.send(conn, actions, limits())
    assert kinds(outcomes) == ["done"] * 6 + ["refused", "done", "done"]
    assert outcomes[6].status == 400
    assert "the engine refused the request holding only this document" in outcomes[6].reason
    assert sorted(stored(conn)) == ["0", "1", "2", "3", "4", "5", "7", "8"]


@pytest.mark.parametrize("fault", [Status(429), Status(502), Status(503), Status(504), Drop()])
def test_a_failed_request_is_sent_again_after_a_pause(
    conn: Base, proxy: FaultProxy, fault: Any
) -> None:
    proxy.add(fault, times=2)
    outcomes = list(bulk.write(conn, documents(5), limits()))
    assert kinds(outcomes) == ["done"] * 5
    assert [seen.fault for seen in proxy.requests()] == [fault, fault, None]
    assert len(stored(conn)) == 5


def test_a_request_that_times_out_is_sent_again(conn: Base, proxy: FaultProxy) -> None:
    proxy.add(Delay(3))
    outcomes = list(bulk.write(conn, documents(5), limits(timeout=1)))
    assert kinds(outcomes) == ["done"] * 5
    assert len(proxy.requests()) == 2
    assert len(stored(conn)) == 5


def test_only_the_items_refused_for_now_are_sent_again(conn: Base, proxy: FaultProxy) -> None:
    proxy.add(RejectItems((1, 3)))
    proxy.add(RejectItems((0,)))  # the retry of 1 and 3: 1 refused again
    outcomes = list(bulk.write(conn, documents(5), limits()))
    assert kinds(outcomes) == ["done"] * 5
    sent = [seen.body.count(b'{"index"') for seen in proxy.requests()]
    assert sent == [5, 2, 1]
    assert sorted(stored(conn)) == ["0", "1", "2", "3", "4"]


def test_a_malformed_answer_is_a_failed_request_never_a_failed_document(
    conn: Base, proxy: FaultProxy
) -> None:
    proxy.add(MissingItem(2))
    outcomes = list(bulk.write(conn, documents(5), limits()))
    # the engine wrote them before its answer was spoiled: the retry finds them there
    assert kinds(outcomes) == ["superseded"] * 5
    assert len(stored(conn)) == 5
    proxy.add(MissingItem(0), times=50)
    outcomes = list(bulk.write(conn, documents(3, version=2), limits(ONCE)))
    assert kinds(outcomes) == ["unsent"] * 3
    assert all(outcome.request_failed for outcome in outcomes)
    assert "answered a bulk request of 3 action(s) with 2 item(s)" in outcomes[0].reason


def test_when_the_budget_is_spent_the_actions_are_unsent_not_refused(
    conn: Base, proxy: FaultProxy
) -> None:
    proxy.add(Status(429), times=1000)
    outcomes = list(bulk.write(conn, documents(2), limits(bulk.Retry(budget=0.5, initial=0.1))))
    assert kinds(outcomes) == ["unsent", "unsent"]
    assert (outcomes[0].status, outcomes[0].request_failed) == (429, True)
    assert len(proxy.requests()) >= 2  # tried again within the budget
    proxy.clear()
    proxy.add(RejectItems((0,)), times=1000)
    outcomes = list(bulk.write(conn, documents(2), limits(bulk.Retry(budget=0.3, initial=0.1))))
    # the second document is written; sent again with its retried request, a real engine
    # answers 409 to its equal external version (superseded), the emulator takes it (done)
    assert kinds(outcomes)[0] == "unsent"
    assert kinds(outcomes)[1] in {"done", "superseded"}
    assert stored(conn)["1"] == 1
    assert (outcomes[0].status, outcomes[0].request_failed) == (429, False)
    assert "es_rejected_execution_exception" in outcomes[0].reason


def test_a_request_sent_twice_cannot_undo_a_newer_write(conn: Base, proxy: FaultProxy) -> None:
    """An answer lost after the engine wrote: the retry meets the newer version, not an error."""
    assert kinds(list(bulk.write(conn, documents(1, version=5), limits()))) == ["done"]
    newer = [bulk.Action("index", "docs", "0", b'{"n":7}', 7)]
    proxy.add(MissingItem(0))  # written, but the answer is lost: sent again
    assert kinds(list(bulk.write(conn, newer, limits()))) == ["superseded"]
    stale = [bulk.Action("index", "docs", "0", b'{"n":6}', 6)]
    assert kinds(list(bulk.write(conn, stale, limits()))) == ["superseded"]
    assert stored(conn) == {"0": 7}


def test_outcomes_of_each_kind(conn: Base) -> None:
    list(bulk.write(conn, documents(2, version=5), limits()))
    actions = [
        bulk.Action("index", "docs", "0", b'{"n":"not a number"}', 9),
        bulk.Action("delete", "docs", "missing", version=9),
        bulk.Action("update", "docs", "missing", b'{"n":1}'),
        bulk.Action("update", "docs", "1", b'{"n":11}'),
        bulk.Action("delete", "docs", "0", version=3),
    ]
    outcomes = list(bulk.write(conn, actions, limits()))
    assert kinds(outcomes) == ["refused", "done", "missing", "done", "superseded"]
    assert outcomes[0].status == 400
    assert "[n]" in outcomes[0].reason


def test_why_the_writer_is_not_the_clients_streaming_bulk(conn: Base, proxy: FaultProxy) -> None:
    """The reason ``djangoes.bulk`` does not send through the client's ``streaming_bulk``
    (docs/sync.md), measured against the same engine and faults. If a client release makes
    one of these assertions fail, the reason is gone: use its helper."""
    from opensearchpy import helpers

    def sent(count: int) -> list[dict[str, Any]]:
        return [{"_index": "docs", "_id": str(n), "_source": {"n": n}} for n in range(count)]

    proxy.add(MissingItem(2))  # an answer missing one item: one outcome silently lost
    results = list(helpers.streaming_bulk(conn.client, sent(5), raise_on_error=False))
    assert len(results) == 4
    proxy.add(Status(502))  # a request answered 502 is not sent again, even with retries
    results = list(
        helpers.streaming_bulk(
            conn.client, sent(5), raise_on_error=False, raise_on_exception=False,
            max_retries=5, initial_backoff=0.05,
        )
    )  # fmt: skip
    assert [ok for ok, _ in results] == [False] * 5
    proxy.add(Status(502))
    proxy.add(MissingItem(2))
    outcomes = kinds(list(bulk.write(conn, documents(5, version=2), limits())))
    # one outcome per action; the retry after the malformed answer finds them written
    assert outcomes == ["superseded"] * 5
    assert sorted(stored(conn)) == ["0", "1", "2", "3", "4"]
