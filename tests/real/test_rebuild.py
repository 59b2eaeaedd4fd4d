"""A rebuild's bulk load on a real node: the engines' loading settings, then the index's own.

While ``rebuild_index`` loads the new physical index it has no refresh and no
replica (``djangoes.indexing.rebuild.LOADING_SETTINGS``); before the alias
swap it gets the mapping file's ``refresh_interval`` and
``number_of_replicas`` back and is refreshed, so every document is
searchable when the rebuild returns. Only a real engine shows this: the
emulator makes every write searchable at once and ignores both settings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from djangoes.backends.abstracts import Base
from djangoes.indexing import index_state, rebuild_index
from tests.lifecycle.conftest import BLOG_MAPPING
from tests.rebuild.conftest import blog, conn, rebuild_settings

__all__ = ["blog", "conn", "rebuild_settings"]

pytestmark = pytest.mark.real_engine


def index_settings(conn: Base, index: str) -> dict[str, Any]:
    answer = conn.meta.indices.get_settings(index=index)
    return dict(answer[index]["settings"]["index"])


def searchable(conn: Base, index: str) -> int:
    """Documents a search finds in ``index`` now (no refresh asked)."""
    return int(conn.client.count(index=index, body={"query": {"match_all": {}}})["count"])


@pytest.mark.parametrize(
    "own",
    [
        {"refresh_interval": "30s", "number_of_replicas": 1},  # the mapping file's values
        {},  # none: the engine's defaults come back
    ],
    ids=["mapping", "defaults"],
)
def test_a_rebuild_loads_without_refresh_and_replicas_then_restores_and_refreshes(
    conn: Base, blog: dict[str, Any], rebuild_settings: Any, own: dict[str, Any]
) -> None:
    body = json.loads(json.dumps(BLOG_MAPPING))
    body["settings"] = {"number_of_shards": 1, **own}
    Path(rebuild_settings.DJANGOES["MAPPINGS_DIR"], "blog.json").write_text(json.dumps(body))
    old = sorted(index_state(conn, "blog").indices)
    seen: list[tuple[dict[str, Any], int]] = []

    def progress(done: int, total: int) -> None:
        new = [name for name in index_state(conn, "blog-*").indices if name not in old]
        (loading,) = new
        seen.append((index_settings(conn, loading), searchable(conn, loading)))

    result = rebuild_index("blog", chunk_size=5, progress=progress)

    assert len(seen) >= 7  # 34 documents in chunks of 5
    for settings, _ in seen:
        assert settings["refresh_interval"] == "-1"
        assert settings["number_of_replicas"] == "0"
    assert all(found == 0 for _, found in seen)  # loaded, never refreshed: none searchable
    after = index_settings(conn, result.new_index)
    assert after.get("refresh_interval") == own.get("refresh_interval")
    assert after["number_of_replicas"] == str(own.get("number_of_replicas", 1))
    # refreshed before the swap: all searchable when the rebuild returns
    # (with refresh_interval 30s nothing else would have made them so)
    assert searchable(conn, "blog") == result.loaded.total == 34
