"""The data directory: what a stopped engine saved comes back, and a failed save loses nothing."""

from __future__ import annotations

import json
import os
import signal
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from djangoes.embedded import (
    EngineConfig,
    EngineError,
    EngineStartError,
    current_snapshot,
    ensure_engine,
    stop_engine,
)
from djangoes.embedded._http import request_json
from djangoes.embedded.snapshot import read_manifest
from tests.embedded.conftest import Spawn
from tests.embedded.utils import (
    DJANGO_PROLOGUE,
    Dirs,
    document_ids,
    finish,
    read_json_line,
    wait_until,
)

#: Build a little of everything through a connection, then exit (a graceful stop).
FILL = (
    DJANGO_PROLOGUE
    + """
connection.create_indices()
connection.index(id="1", document={"title": "Hello", "tag": "a"})
connection.index(id="2", document={"title": "World", "tag": "b"}, routing="r1")
indices = connection.meta.indices
indices.create(index="shop", body={
    "settings": {"analysis": {"analyzer": {"folded": {
        "type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding"]}}}},
    "mappings": {"properties": {"name": {"type": "text", "analyzer": "folded"}}},
})
connection.client.index(index="shop", id="s1", body={"name": "Crème"})
indices.update_aliases(body={"actions": [
    {"add": {"index": "blog_v1", "alias": "blog_a", "filter": {"term": {"tag": "a"}}}},
    {"add": {"index": "shop", "alias": "shop_w", "is_write_index": True}},
]})
indices.put_index_template(name="logs", body={
    "index_patterns": ["logs-*"],
    "template": {"mappings": {"properties": {"level": {"type": "keyword"}}}},
})
print(json.dumps({"engine": connection.engine.engine.pid}), flush=True)
"""
)

#: Read it all back in a new process, from a new engine.
READ_BACK = (
    DJANGO_PROLOGUE
    + """
conn = connection
meta = conn.meta.indices
print(json.dumps({
    "engine": conn.engine.engine.pid,
    "blog": sorted(h["_id"] for h in conn.search(query={"match_all": {}})["hits"]["hits"]),
    "routed": conn.get(id="2", routing="r1")["_routing"],
    "blog_a": [h["_id"] for h in conn.client.search(index="blog_a")["hits"]["hits"]],
    "shop": conn.client.search(index="shop", body={"query": {"match": {"name": "creme"}}})
        ["hits"]["total"]["value"],
    "mapping": meta.get_mapping(index="blog_v1")["blog_v1"]["mappings"]["properties"],
    "aliases": meta.get_alias(index="blog_v1,shop"),
    "analyzer": meta.get_settings(index="shop")["shop"]["settings"]["index"]["analysis"],
    "templates": [t["name"] for t in conn.client.indices.get_index_template()["index_templates"]],
}), flush=True)
"""
)

#: Save the engine at argv[1] into argv[2], with at most argv[3] bytes per file.
LIMITED_SAVE = """
import resource, signal, sys
from pathlib import Path
from typing import Any
from djangoes.embedded import SnapshotError, save_snapshot

limit = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
if sys.argv[4] == "killed":
    # Python ignores SIGXFSZ (writes fail with EFBIG); the default action kills.
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
try:
    save_snapshot(sys.argv[1], Path(sys.argv[2]))
except SnapshotError as exc:
    print(exc)
    sys.exit(2)
"""


def _wait_stopped(dirs: Dirs) -> None:
    state_file = dirs.runtime / "engine.json"
    wait_until(lambda: not state_file.exists(), timeout=20, what="the engine to stop")


def test_a_restarted_engine_has_the_saved_documents_mappings_aliases_and_templates(
    dirs: Dirs, spawn: Spawn
) -> None:
    filler = spawn(FILL)
    first_engine = read_json_line(filler)["engine"]
    assert finish(filler)[0] == 0
    _wait_stopped(dirs)  # the owner exited gracefully: saved, stopped

    reader = spawn(READ_BACK)
    back = read_json_line(reader)
    finish(reader)

    assert back["blog"] == ["1", "2"]
    assert back["routed"] == "r1"
    assert back["blog_a"] == ["1"]  # the alias filter came back
    assert back["shop"] == 1  # found through the custom analyzer (accents folded)
    assert back["mapping"] == {"tag": {"type": "keyword"}, "title": {"type": "text"}}
    assert back["aliases"]["blog_v1"]["aliases"] == {
        "blog": {},
        "blog_a": {"filter": {"term": {"tag": "a"}}},
    }
    assert back["aliases"]["shop"]["aliases"] == {"shop_w": {"is_write_index": True}}
    assert back["analyzer"]["analyzer"]["folded"]["filter"] == ["lowercase", "asciifolding"]
    assert back["templates"] == ["logs"]
    assert back["engine"] != first_engine  # a new engine, loaded from disk


def test_without_a_data_dir_nothing_is_kept(dirs: Dirs, spawn: Spawn) -> None:
    dirs.data = None
    filler = spawn(FILL)
    read_json_line(filler)
    finish(filler)
    _wait_stopped(dirs)

    config = EngineConfig(runtime_dir=dirs.runtime)
    state = ensure_engine(config)
    try:
        indices = request_json("GET", f"{state.url}/_cat/indices?format=json")
        assert indices == []
    finally:
        stop_engine(config)


def _engine_with(docs: int, size: int, runtime_dir: Path) -> tuple[EngineConfig, str]:
    config = EngineConfig(runtime_dir=runtime_dir)
    url = ensure_engine(config).url
    lines = []
    for i in range(docs):
        lines.append(f'{{"index":{{"_index":"notes","_id":"{i}"}}}}')
        lines.append(f'{{"text":"{"x" * size}"}}')
    request = urllib.request.Request(
        f"{url}/_bulk",
        data=("\n".join(lines) + "\n").encode(),
        headers={"Content-Type": "application/x-ndjson"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        assert not json.load(response)["errors"]
    return config, url


@pytest.mark.parametrize("how", ["killed", "survive"])
def test_an_interrupted_save_keeps_the_previous_snapshot(
    dirs: Dirs, spawn: Spawn, how: str
) -> None:
    """A save that dies half-way (file size limit: SIGXFSZ, or EFBIG when ignored)."""
    assert dirs.data is not None
    config, url = _engine_with(3, 10, dirs.runtime)
    saver = spawn(LIMITED_SAVE, url, str(dirs.data), str(10**7), how)
    assert finish(saver)[0] == 0
    before = current_snapshot(dirs.data)
    assert before is not None
    assert read_manifest(before).documents == {"notes": 3}

    _engine_with(2000, 100, dirs.runtime)  # same engine, now ~250 kB of documents
    saver = spawn(LIMITED_SAVE, url, str(dirs.data), "65536", how)
    status, out, _ = finish(saver)
    if how == "killed":
        assert status == -signal.SIGXFSZ
    else:
        assert status == 2
        assert "The previous snapshot was kept" in out
        assert "File too large" in out

    assert current_snapshot(dirs.data) == before
    assert read_manifest(before).documents == {"notes": 3}
    leftovers = [p.name for p in (dirs.data / "snapshots").iterdir() if p != before]
    assert (how == "survive") == (leftovers == [])  # a killed save cannot tidy up...
    stop_engine(config)

    # ...and a restart loads the previous snapshot all the same.
    restarted = EngineConfig(runtime_dir=dirs.runtime, data_dir=dirs.data)
    state = ensure_engine(restarted)
    try:
        assert document_ids(state.url, "notes") == ["0", "1", "2"]
    finally:
        stop_engine(restarted)
    # The next successful save removed the leftovers.
    assert [p.name for p in (dirs.data / "snapshots").iterdir()] == [
        current_snapshot(dirs.data).name  # type: ignore[union-attr]
    ]


def test_a_snapshot_link_to_nowhere_is_reported(dirs: Dirs) -> None:
    assert dirs.data is not None
    dirs.data.mkdir()
    os.symlink("snapshots/gone", dirs.data / "current")
    with pytest.raises(EngineStartError) as info:
        ensure_engine(EngineConfig(runtime_dir=dirs.runtime, data_dir=dirs.data))
    message = str(info.value)
    assert "is not a complete snapshot" in message
    assert f"Remove {str(dirs.data / 'current')!r}" in message


def test_a_data_dir_serves_one_engine_at_a_time(dirs: Dirs) -> None:
    first = EngineConfig(runtime_dir=dirs.runtime, data_dir=dirs.data)
    ensure_engine(first)
    try:
        with pytest.raises(EngineStartError) as info:
            ensure_engine(EngineConfig(runtime_dir=dirs.base / "other", data_dir=dirs.data))
        assert f"The data_dir {str(dirs.data)!r} is used by another running engine" in str(
            info.value
        )
        assert str(dirs.runtime) in str(info.value)
    finally:
        stop_engine(first)


def test_a_running_engine_with_another_data_dir_is_not_used(dirs: Dirs) -> None:
    first = EngineConfig(runtime_dir=dirs.runtime, data_dir=dirs.data)
    state = ensure_engine(first)
    try:
        with pytest.raises(EngineError) as info:
            ensure_engine(EngineConfig(runtime_dir=dirs.runtime, data_dir=dirs.base / "else"))
        message = str(info.value)
        assert f"uses data_dir {str(dirs.data)!r}, not {str(dirs.base / 'else')!r}" in message
        assert state.url in message
    finally:
        stop_engine(first)


#: Each shape a saved data directory can have: the requests that build it.
SHAPES: dict[str, list[tuple[str, str, Any]]] = {
    "no index": [],
    "an empty index": [("PUT", "/empty", None)],
    "a mapping with no documents": [
        ("PUT", "/mapped", {"mappings": {"properties": {"title": {"type": "text"}}}}),
    ],
    "aliases only": [
        ("PUT", "/v1", {"mappings": {"properties": {"tag": {"type": "keyword"}}}}),
        ("PUT", "/v2", None),
        (
            "POST",
            "/_aliases",
            {
                "actions": [
                    {"add": {"index": "v1", "alias": "read", "filter": {"term": {"tag": "a"}}}},
                    {"add": {"index": "v2", "alias": "write", "is_write_index": True}},
                ]
            },
        ),
    ],
    "several indices, some empty": [
        ("PUT", "/full", None),
        ("PUT", "/full/_doc/1", {"title": "one"}),
        ("PUT", "/full/_doc/2?routing=r", {"title": "two"}),
        ("PUT", "/empty", None),
        ("PUT", "/mapped", {"mappings": {"properties": {"n": {"type": "integer"}}}}),
        ("POST", "/_aliases", {"actions": [{"add": {"index": "empty", "alias": "next"}}]}),
    ],
    "a template only": [
        (
            "PUT",
            "/_index_template/logs",
            {
                "index_patterns": ["logs-*"],
                "template": {"mappings": {"properties": {"level": {"type": "keyword"}}}},
            },
        ),
    ],
}


def _contents(url: str) -> dict[str, Any]:
    """What a data directory must give back: indices (mappings, aliases, documents), templates."""
    indices = request_json("GET", f"{url}/_all") or {}
    return {
        "indices": {
            name: {
                "mappings": meta.get("mappings"),
                "aliases": meta.get("aliases"),
                "documents": document_ids(url, name),
            }
            for name, meta in indices.items()
            if not name.startswith(".")
        },
        "templates": sorted(
            (t["name"], t["index_template"]["index_patterns"])
            for t in request_json("GET", f"{url}/_index_template")["index_templates"]
        ),
    }


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_of_data_dir_comes_back_after_each_restart(dirs: Dirs, shape: str) -> None:
    """Saved, restarted, saved again and restarted again: the same indices every time."""
    config = EngineConfig(runtime_dir=dirs.runtime, data_dir=dirs.data)
    url = ensure_engine(config).url
    for method, path, body in SHAPES[shape]:
        request_json(method, url + path, body)
    built = _contents(url)
    stop_engine(config)
    for _restart in range(2):
        url = ensure_engine(config).url
        try:
            assert _contents(url) == built
        finally:
            stop_engine(config)


def test_a_snapshot_with_an_empty_bulk_file_still_loads(dirs: Dirs) -> None:
    """Earlier versions wrote ``<index>.ndjson`` empty for an index with no documents."""
    assert dirs.data is not None
    config = EngineConfig(runtime_dir=dirs.runtime, data_dir=dirs.data)
    url = ensure_engine(config).url
    request_json("PUT", f"{url}/empty", {"mappings": {"properties": {"t": {"type": "text"}}}})
    stop_engine(config)
    snapshot = current_snapshot(dirs.data)
    assert snapshot is not None
    assert not (snapshot / "empty.ndjson").exists()  # not written: nothing to load
    (snapshot / "empty.ndjson").write_text("")  # as an earlier version left it

    url = ensure_engine(config).url
    try:
        mapping = request_json("GET", f"{url}/empty/_mapping")
        assert mapping == {"empty": {"mappings": {"properties": {"t": {"type": "text"}}}}}
    finally:
        stop_engine(config)
