"""SearchQuery helpers: scores, ids, pages, hits, facets; and the migration."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from djangoes.search.execute import execute_search
from djangoes.search.models import SearchQuery
from tests.testapp.models import Post

pytestmark = pytest.mark.django_db


def test_max_and_min_score_of_a_relevance_search(posts: list[Post]) -> None:
    sq = execute_search("blog", {"query": {"match": {"body": "search django"}}})
    scores = [hit["score"] for hit in sq.hits]
    assert sq.scores == scores
    assert sq.max_score == max(scores)
    assert sq.min_score == min(scores)
    assert isinstance(sq.max_score, float)  # not cut to an int


def test_max_and_min_score_cope_with_null_scores(posts: list[Post]) -> None:
    """Regression: elasticsearch-django's max_score/min_score crashed on a custom sort."""
    sq = execute_search("blog", {"query": {"match_all": {}}, "sort": [{"views": "asc"}]})
    assert all(hit["score"] is None for hit in sq.hits)
    assert sq.max_score is None
    assert sq.min_score is None
    assert sq.get_doc_score(sq.object_ids[0]) is None
    stored = SearchQuery.objects.get(pk=sq.pk)
    assert (stored.max_score, stored.min_score) == (None, None)


def test_empty_and_count_queries_have_zero_scores(posts: list[Post]) -> None:
    """0.0 without hits, as elasticsearch-django says (None is for hits without scores)."""
    sq = execute_search("blog", {"query": {"match": {"title": "nothing-matches-this"}}})
    assert (sq.max_score, sq.min_score, sq.page_from, sq.page_to, sq.page_size) == (
        0.0,
        0.0,
        0,
        0,
        0,
    )


def test_ids_pages_and_single_hits(posts: list[Post]) -> None:
    sq = execute_search(
        "blog", {"query": {"match_all": {}}, "sort": [{"views": "desc"}]}, size=2, from_=1
    )
    by_views = sorted(posts, key=lambda p: -p.views)
    assert sq.object_ids == [str(by_views[1].pk), str(by_views[2].pk)]
    assert sq.page_slice == (1, 2)
    assert (sq.page_from, sq.page_to, sq.page_size) == (2, 3, 2)
    assert sq.get_doc_rank(by_views[2].pk) == 3
    assert sq.get_hit(str(by_views[1].pk))["sort"] == [by_views[1].views]
    assert sq.get_doc_highlights(by_views[1].pk) == {}
    with pytest.raises(KeyError, match="No hit with document id"):
        sq.get_hit(by_views[0].pk)


def test_str_and_repr(posts: list[Post]) -> None:
    sq = execute_search("blog", search_terms="pasta")
    assert str(sq) == "Search of 'blog' for 'pasta'"
    assert repr(sq).startswith(f"<SearchQuery id={sq.pk} index='blog' type=SEARCH total_hits=5")


def test_facets_flatten_list_and_keyed_buckets(posts: list[Post]) -> None:
    sq = execute_search(
        "blog",
        {
            "size": 0,
            "aggs": {
                "authors": {"terms": {"field": "author", "order": {"_key": "asc"}}},
                "popularity": {
                    "range": {
                        "field": "views",
                        "keyed": True,
                        "ranges": [{"key": "few", "to": 20}, {"key": "many", "from": 20}],
                    }
                },
                "most_views": {"max": {"field": "views"}},
            },
        },
    )
    facets = sq.facets
    assert set(facets) == {"authors", "popularity"}  # 'max' has no buckets
    assert [(b["key"], b["doc_count"]) for b in facets["authors"]] == [
        ("Ada", 2),
        ("Bob", 2),
        ("Cy", 1),
    ]
    assert [(b["key"], b["doc_count"]) for b in facets["popularity"]] == [("few", 2), ("many", 3)]
    assert sq.aggregations["most_views"]["value"] == 50


def test_the_migration_matches_the_model() -> None:
    out = StringIO()
    call_command("makemigrations", "djangoes", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
