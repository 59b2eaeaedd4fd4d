"""What only a real OpenSearch node shows: refresh, scripts, snapshots, versions, BM25.

These run in the real-engine lanes only (``make os219 os38``): the emulator
makes writes visible at once, has no scripts, synonyms or snapshots, and
scores nothing like Lucene. Each test names the feature flag of
``djangoes.backends.features`` it checks against what the node really does.
Both opensearch-py transports (urllib3 and requests) run each test.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from djangoes import bulk, connections
from djangoes.backends.abstracts import Base
from djangoes.exceptions import ConflictError

pytestmark = pytest.mark.real_engine


@pytest.fixture
def blog(es_config: dict[str, Any]) -> Base:
    conn = connections["default"]
    conn.create_indices()
    return conn


def count(conn: Base) -> int:
    return int(conn.count(query={"match_all": {}})["count"])


def test_refresh_needed_writes_are_searchable_after_a_refresh(blog: Base) -> None:
    """``refresh_needed``: a written document is not found until the index refreshes."""
    assert blog.features.refresh_needed is True
    # no periodic refresh either: only the explicit one makes the write visible
    blog.meta.indices.put_settings(index="blog_v1", body={"index": {"refresh_interval": "-1"}})
    blog.index(id="1", document={"title": "unseen yet"})
    assert count(blog) == 0
    blog.refresh()
    assert count(blog) == 1


def test_supports_scripts_a_painless_update_runs(blog: Base) -> None:
    assert blog.features.supports_scripts is True
    blog.index(id="1", document={"title": "Hello", "views": 1})
    blog.update(id="1", script={"source": "ctx._source.views += params.n", "params": {"n": 41}})
    assert blog.get(id="1")["_source"]["views"] == 42


def test_point_in_time_api_is_opensearchs(blog: Base) -> None:
    """``point_in_time_api = "opensearch"``: ``/_search/point_in_time`` keeps a view."""
    assert blog.features.point_in_time_api == "opensearch"
    blog.index(id="1", document={"title": "before"}, refresh=True)
    pit = blog.client.create_pit(index="blog_v1", keep_alive="1m")["pit_id"]
    try:
        blog.index(id="2", document={"title": "after"}, refresh=True)
        seen = blog.client.search(body={"pit": {"id": pit, "keep_alive": "1m"}, "size": 10})
        assert [hit["_id"] for hit in seen["hits"]["hits"]] == ["1"]
        assert count(blog) == 2
    finally:
        blog.client.delete_pit(body={"pit_id": [pit]})


def test_supports_snapshots_a_snapshot_restores_a_deleted_index(
    blog: Base, real_node: Any, tmp_path: Path
) -> None:
    assert blog.features.supports_snapshots is True
    snapshots = blog.meta.snapshot
    location = Path(real_node.home) / "snapshots" / tmp_path.name  # under path.repo
    snapshots.create_repository(
        repository="tests", body={"type": "fs", "settings": {"location": str(location)}}
    )
    try:
        blog.index(id="1", document={"title": "kept"}, refresh=True)
        snapshots.create(
            repository="tests", snapshot="one", body={"indices": "blog_v1"},
            wait_for_completion=True,
        )  # fmt: skip
        blog.meta.indices.delete(index="blog_v1")
        snapshots.restore(repository="tests", snapshot="one", wait_for_completion=True)
        assert blog.get(id="1")["_source"] == {"title": "kept"}
    finally:
        snapshots.delete(repository="tests", snapshot="one")
        snapshots.delete_repository(repository="tests")


def test_external_versions_refuse_older_and_equal_versions_with_409(blog: Base) -> None:
    """``supports_external_versions``: what sync relies on (docs/sync.md, "versions")."""
    assert blog.features.supports_external_versions is True
    blog.index(id="1", document={"title": "v5"}, version=5, version_type="external")
    for stale in (5, 4):
        with pytest.raises(ConflictError) as info:
            blog.index(id="1", document={"title": "old"}, version=stale, version_type="external")
        assert info.value.status == 409
        assert info.value.error_type == "version_conflict_engine_exception"
    blog.index(id="1", document={"title": "v6"}, version=6, version_type="external")
    assert blog.get(id="1")["_source"]["title"] == "v6"


def test_a_delete_keeps_its_version_so_an_older_write_arriving_late_is_refused(
    blog: Base,
) -> None:
    """A real engine remembers a deleted document's version (``index.gc_deletes``, 60 s):
    a write of an older state that arrives after the delete does not bring it back."""
    blog.index(id="1", document={"title": "v1"}, version=1, version_type="external")
    blog.delete(id="1", version=10, version_type="external")
    with pytest.raises(ConflictError):
        blog.index(id="1", document={"title": "late"}, version=5, version_type="external")
    assert blog.exists(id="1") is False
    blog.index(id="1", document={"title": "v11"}, version=11, version_type="external")
    assert blog.get(id="1")["_source"]["title"] == "v11"


def test_a_bulk_write_refused_as_older_is_superseded_not_failed(blog: Base) -> None:
    """djangoes' bulk writer takes the 409 of an older version as superseded (djangoes.bulk)."""
    blog.index(id="1", document={"title": "newer"}, version=20, version_type="external")
    actions = [
        bulk.Action("index", "blog_v1", "1", source=b'{"title":"older"}', version=10),
        bulk.Action("index", "blog_v1", "2", source=b'{"title":"fresh"}', version=10),
    ]
    limits = bulk.Limits(max_bytes=0, max_actions=10, timeout=30, retry=bulk.Retry(budget=0))
    outcomes = {o.action.id: o.kind for o in bulk.write(blog, actions, limits)}
    assert outcomes == {"1": "superseded", "2": "done"}
    blog.refresh()
    assert blog.get(id="1")["_source"]["title"] == "newer"
    assert blog.get(id="2")["_source"]["title"] == "fresh"


# -- relevance: Lucene's BM25 -------------------------------------------------

#: Short documents: Lucene stores field lengths exactly up to 40 terms or so.
CORPUS = [
    "django search",
    "django django django search engine",
    "search engine ranking with many more words in it",
    "python web framework",
    "django",
    "the search for django documentation and more search words",
]


def bm25(query: list[str], docs: list[list[str]], k1: float = 1.2, b: float = 0.75) -> list[float]:
    """Lucene's BM25 (since Lucene 8: no (k1 + 1) factor) of each document."""
    n = len(docs)
    avgdl = sum(len(d) for d in docs) / n
    scores = []
    for doc in docs:
        score = 0.0
        for term in query:
            df = sum(1 for d in docs if term in d)
            tf = doc.count(term)
            if not tf:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            norm = k1 * (1 - b + b * len(doc) / avgdl)
            score += idf * tf / (tf + norm)
        scores.append(score)
    return scores


def test_exact_scores_are_lucenes_bm25(blog: Base, real_node: Any) -> None:
    """``exact_scores``: each ``_score`` is BM25 computed by hand (one shard), so the order
    is Lucene's (term frequency saturating, long documents normalised, rare terms weighing
    more). The emulator's scores are not BM25 (``EmbeddedFeatures.exact_scores`` is False)."""
    assert blog.features.exact_scores is True
    for i, text in enumerate(CORPUS):
        blog.index(id=str(i), document={"title": text})
    blog.refresh()
    query = ["django", "engine"]
    answer = blog.search(query={"match": {"title": " ".join(query)}}, size=len(CORPUS))
    got = {hit["_id"]: hit["_score"] for hit in answer["hits"]["hits"]}
    expected = bm25(query, [text.split() for text in CORPUS])
    wanted = {str(i): score for i, score in enumerate(expected) if score > 0}
    assert set(got) == set(wanted)
    # OpenSearch 2 multiplies by (k1 + 1) as Lucene 7 did (LegacyBM25Similarity)
    factor = {"2.19": 2.2}.get(real_node.release.name, 1.0)
    for doc_id, score in wanted.items():
        assert got[doc_id] == pytest.approx(factor * score, rel=1e-5), doc_id
    order = [hit["_id"] for hit in answer["hits"]["hits"]]
    assert order == sorted(wanted, key=lambda doc_id: -wanted[doc_id])


def test_a_synonym_analyzer_from_the_mapping_file_works(
    settings: Any, engine_url: str, engine: str, tmp_path: Path, db: None
) -> None:
    """``supports_synonyms``: the index made from MAPPINGS_DIR/blog.json has its analyzer."""
    from djangoes.indexing import create_index, update_index
    from djangoes.sync import disable_search_updates
    from tests.testapp.models import Author, Post

    mapping = {
        "settings": {
            "number_of_shards": 1,
            "analysis": {
                "filter": {
                    "vehicles": {"type": "synonym", "synonyms": ["car, automobile, motorcar"]}
                },
                "analyzer": {
                    "with_synonyms": {"tokenizer": "standard", "filter": ["lowercase", "vehicles"]}
                },
            },
        },
        "mappings": {"properties": {"title": {"type": "text", "analyzer": "with_synonyms"}}},
    }
    (tmp_path / "blog.json").write_text(json.dumps(mapping))
    settings.ES_SERVERS = {
        "default": {"HOSTS": [engine_url], "ENGINE": engine, "INDICES": ["blog"]}
    }
    settings.ES_INDICES = {"blog": {"MODELS": ["testapp.Post"]}}
    settings.DJANGOES = {"MAPPINGS_DIR": str(tmp_path), "AUTO_SYNC": False}
    with disable_search_updates():
        ada = Author.objects.create(name="Ada")
        car = Post.objects.create(title="A red car", author=ada)
        Post.objects.create(title="A red bicycle", author=ada)
    create_index("blog")
    update_index("blog")
    conn = connections["default"]
    assert conn.features.supports_synonyms is True
    conn.refresh()
    for word in ("automobile", "motorcar", "car"):
        hits = conn.search(query={"match": {"title": word}})["hits"]["hits"]
        assert [hit["_id"] for hit in hits] == [str(car.pk)], word
