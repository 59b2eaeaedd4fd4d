"""Hits back to objects: order, rank, score, highlights, one SQL query per page."""

from __future__ import annotations

import math
from typing import Any

import pytest
from django.db import models, transaction

from djangoes.backends.abstracts import Base
from djangoes.exceptions import ConfigurationError
from djangoes.search.execute import execute_search
from djangoes.search.models import SearchQuery
from djangoes.search.results import hits_of, queryset_from_search_query
from djangoes.search.sql import HitLookup
from tests.search.conftest import index_documents
from tests.testapp.models import Author, Page, Post

pytestmark = pytest.mark.django_db

BY_VIEWS = {"query": {"match_all": {}}, "sort": [{"views": "desc"}]}


@pytest.mark.postgres
def test_objects_come_in_hit_order_with_rank_and_score(posts: list[Post]) -> None:
    sq = execute_search("blog", {"query": {"match": {"body": "search django"}}})
    objects = list(Post.objects.from_search_query(sq))
    assert [str(obj.pk) for obj in objects] == sq.object_ids
    assert [obj.search_rank for obj in objects] == list(range(1, len(objects) + 1))
    assert [obj.search_score for obj in objects] == pytest.approx(sq.scores)
    assert all(isinstance(obj.search_score, float) for obj in objects)
    assert objects[0].search_score == pytest.approx(sq.max_score)
    assert not any(hasattr(obj, "search_highlights") for obj in objects)


@pytest.mark.postgres
def test_a_custom_sort_gives_null_scores_without_an_error(posts: list[Post]) -> None:
    """Regression: elasticsearch-django raised FieldError when every score was null."""
    sq = execute_search("blog", BY_VIEWS)
    assert sq.scores == []
    objects = list(Post.objects.from_search_query(sq))
    assert [obj.views for obj in objects] == [50, 30, 20, 10, 5]
    assert [obj.search_rank for obj in objects] == [1, 2, 3, 4, 5]
    assert [obj.search_score for obj in objects] == [None] * 5


@pytest.mark.postgres
def test_some_null_scores_among_real_ones(posts: list[Post]) -> None:
    sq = execute_search("blog", {"query": {"match": {"body": "django"}}})
    sq.hits[1]["score"] = None  # as a rescored or partly sorted page may have
    objects = list(Post.objects.from_search_query(sq))
    assert objects[1].search_score is None
    assert objects[0].search_score == pytest.approx(sq.hits[0]["score"])
    assert objects[2].search_score == pytest.approx(sq.hits[2]["score"])


@pytest.mark.postgres
def test_one_sql_query_per_page_whatever_its_size(
    blog_index: Base, django_assert_num_queries: Any
) -> None:
    """Up to 10,000 hits, the largest page engines give (SQLite allows 32,766 parameters)."""
    author = Author.objects.create(name="Ada")
    Post.objects.bulk_create(
        [Post(title=f"post {i}", author=author, views=i) for i in range(10_000)], batch_size=500
    )
    index_documents(blog_index, Post.objects.select_related("author"))
    for size in (1, 25, 10_000):
        sq = execute_search("blog", BY_VIEWS, size=size, save=False)
        with django_assert_num_queries(1):
            objects = list(Post.objects.from_search_query(sq))
        assert len(objects) == size
        assert [obj.views for obj in objects] == list(range(9_999, 9_999 - size, -1))
        assert objects[-1].search_rank == size
    relevance = execute_search("blog", {"query": {"match": {"title": "post"}}}, size=10_000)
    with django_assert_num_queries(1):
        scored = list(Post.objects.from_search_query(relevance))
    assert len(scored) == 10_000
    assert all(isinstance(obj.search_score, float) for obj in scored)


@pytest.mark.postgres
def test_the_ranks_of_a_later_page_go_on_from_the_earlier_ones(posts: list[Post]) -> None:
    sq = execute_search("blog", BY_VIEWS, size=2, from_=2)
    objects = list(Post.objects.from_search_query(sq))
    assert [(obj.search_rank, obj.views) for obj in objects] == [(3, 20), (4, 10)]


@pytest.mark.postgres
def test_the_result_is_a_queryset_that_can_be_chained(
    posts: list[Post], django_assert_num_queries: Any
) -> None:
    sq = execute_search("blog", BY_VIEWS)
    chained = Post.objects.from_search_query(sq).filter(views__gte=10).select_related("author")
    with django_assert_num_queries(1):
        pairs = [(obj.search_rank, obj.author.name) for obj in chained]
    assert pairs == [(1, "Ada"), (2, "Ada"), (3, "Bob"), (4, "Bob")]
    assert list(Post.objects.from_search_query(sq).values_list("search_rank", flat=True)) == [
        1,
        2,
        3,
        4,
        5,
    ]


@pytest.mark.postgres
def test_highlights_are_set_on_each_object_and_survive_chaining(posts: list[Post]) -> None:
    sq = execute_search(
        "blog",
        {
            "query": {"match": {"title": "django"}},
            "highlight": {"fields": {"title": {}}, "encoder": "html"},
        },
    )
    objects = list(Post.objects.from_search_query(sq).select_related("author"))
    assert len(objects) == 3
    for obj in objects:
        assert obj.search_highlights == sq.get_doc_highlights(obj.pk)
        assert "<em>django</em>" in obj.search_highlights["title"][0].lower()
    # A query read back from the log gives the same highlights.
    stored = SearchQuery.objects.get(pk=sq.pk)
    again = {obj.pk: obj.search_highlights for obj in Post.objects.from_search_query(stored)}
    assert again == {obj.pk: obj.search_highlights for obj in objects}


def test_an_object_without_highlights_gets_an_empty_dict(posts: list[Post]) -> None:
    sq = execute_search(
        "blog", {"query": {"match": {"body": "django"}}, "highlight": {"fields": {"author": {}}}}
    )
    objects = list(Post.objects.from_search_query(sq))
    assert [obj.search_highlights for obj in objects] == [{}, {}, {}]


@pytest.mark.postgres
def test_each_model_of_a_shared_index_gets_its_own_hits(
    posts: list[Post], pages: list[Page]
) -> None:
    """Pages are indexed under their UUID (search_document_id_field = 'uid')."""
    sq = execute_search("blog", {"query": {"match": {"title": "django"}}})
    assert sq.total_hits == 4
    found_posts = list(Post.objects.from_search_query(sq))
    found_pages = list(Page.objects.from_search_query(sq))
    assert {p.title for p in found_posts} == {p.title for p in posts if "Django" in p.title}
    assert [p.uid for p in found_pages] == [pages[0].uid]
    assert found_pages[0].search_rank == sq.get_doc_rank(pages[0].uid)
    all_pages = execute_search("blog", {"query": {"match_all": {}}, "sort": ["_doc"]}, size=10)
    assert {p.pk for p in Page.objects.from_search_query(all_pages)} == {p.pk for p in pages}
    assert {p.pk for p in Post.objects.from_search_query(all_pages)} == {p.pk for p in posts}


@pytest.mark.postgres
def test_many_uuid_ids_keep_the_hit_order(blog_index: Base) -> None:
    """More hits than one leaf of the lookup tree: ids compared in the database's order."""
    pages = [Page.objects.create(title=f"page {i}") for i in range(100)]
    index_documents(blog_index, pages)
    sq = execute_search("blog", {"query": {"match_all": {}}, "sort": ["_doc"]}, size=100)
    found = list(Page.objects.from_search_query(sq))
    assert [str(page.uid) for page in found] == sq.object_ids
    assert [page.search_rank for page in found] == list(range(1, 101))
    assert sorted(sq.object_ids) != sq.object_ids  # the hit order is not the id order


@pytest.mark.postgres
def test_text_ids_keep_the_hit_order(blog_index: Base, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Page, "search_document_id_field", "title")
    pages = [Page.objects.create(title=f"page-{i:03}") for i in range(60)]
    index_documents(blog_index, reversed(pages))
    sq = execute_search("blog", {"query": {"match_all": {}}, "sort": ["_doc"]}, size=60, save=False)
    found = list(Page.objects.from_search_query(sq))
    assert [page.title for page in found] == sq.object_ids
    assert len(found) == 60


@pytest.mark.postgres
def test_objects_gone_from_the_database_or_filtered_out_are_left_out(posts: list[Post]) -> None:
    sq = execute_search("blog", BY_VIEWS)
    Post.objects.filter(pk=posts[2].pk).delete()  # 50 views, still in the index
    objects = list(queryset_from_search_query(Post.objects.filter(views__lt=30), sq))
    assert [(obj.search_rank, obj.views) for obj in objects] == [(3, 20), (4, 10), (5, 5)]


def test_no_hits_give_an_empty_queryset_without_a_query(
    posts: list[Post], django_assert_num_queries: Any
) -> None:
    sq = execute_search("blog", {"query": {"match": {"title": "nothing-matches-this"}}})
    assert sq.hits == []
    with django_assert_num_queries(0):
        assert list(Post.objects.from_search_query(sq)) == []
        assert list(Post.objects.from_search_query(sq).order_by("-search_score")) == []


def test_a_bad_document_id_field_is_named(
    pages: list[Page], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Page, "search_document_id_field", "slug")
    sq = execute_search("blog")
    with pytest.raises(ConfigurationError, match=r"testapp.Page.search_document_id_field = 'slug'"):
        Page.objects.from_search_query(sq)


def test_hits_of_gives_template_friendly_hits(posts: list[Post]) -> None:
    sq = execute_search(
        "blog", {"query": {"match": {"title": "django"}}, "highlight": {"fields": {"title": {}}}}
    )
    hits = hits_of(sq)
    assert [hit.id for hit in hits] == sq.object_ids
    assert [hit.rank for hit in hits] == [1, 2, 3]
    assert all(hit.source and "django" in hit.source["title"].lower() for hit in hits)
    assert all("title" in hit.highlights for hit in hits)
    # From the log: metadata without documents.
    stored = hits_of(SearchQuery.objects.get(pk=sq.pk))
    assert [(h.id, h.rank, h.source) for h in stored] == [(h.id, h.rank, None) for h in hits]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_from_a_save_to_a_search_to_the_objects(blog_index: Base, settings: Any) -> None:
    """The whole path: saving posts indexes them (after commit), the search finds them.

    ``REFRESH = "wait_for"``: the documented way to make a commit's documents
    searchable when it returns (a real engine refreshes about once a second).
    """
    settings.DJANGOES = {**settings.DJANGOES, "REFRESH": "wait_for"}
    author = Author.objects.create(name="Ada")
    with transaction.atomic():
        first = Post.objects.create(title="Django and search", author=author, views=1)
        second = Post.objects.create(title="More django", author=author, views=2)
        Post.objects.create(title="Unpublished django", author=author, published=False)
    body = {"query": {"match": {"title": "django"}}, "sort": [{"views": "desc"}]}
    sq = execute_search("blog", body)
    assert [obj.pk for obj in Post.objects.from_search_query(sq)] == [second.pk, first.pk]


@pytest.mark.postgres
def test_a_page_reads_its_ranks_from_one_json_parameter(posts: list[Post]) -> None:
    """On SQLite and PostgreSQL a page of integer ids looks each row's rank and score up
    in a JSON parameter (no ``CASE`` text); chained onto, the answers stay the same."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sq = execute_search("blog", {"query": {"match": {"body": "search django"}}})
    with CaptureQueriesContext(connection) as page:
        objects = list(Post.objects.from_search_query(sq))
    assert "CASE" not in page.captured_queries[0]["sql"].upper()
    expected = [(str(obj.pk), obj.search_rank, obj.search_score) for obj in objects]
    assert [rank for _, rank, _ in expected] == list(range(1, len(objects) + 1))
    assert [pk for pk, _, _ in expected] == sq.object_ids
    assert [score for _, _, score in expected] == pytest.approx(sq.scores)

    def seen(queryset: Any) -> list[tuple[str, int, float]]:
        return [(str(obj.pk), obj.search_rank, obj.search_score) for obj in queryset]

    result = Post.objects.from_search_query(sq)
    assert seen(result[:2]) == expected[:2]
    assert seen(result.filter(search_rank__gte=2)) == expected[1:]
    assert seen(result.order_by("-search_rank")) == expected[::-1]
    assert seen(result.annotate(twice=models.F("search_rank") * 2)) == expected


def test_a_database_without_json_functions_gets_the_case_text(
    posts: list[Post], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite built without JSON1 has no ``json_extract``: the page takes the ``CASE`` text.

    No SQLite here lacks JSON1, so the connection's feature flag is set to say it does."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sq = execute_search("blog", {"query": {"match": {"body": "search django"}}})
    expected = [(obj.pk, obj.search_rank) for obj in Post.objects.from_search_query(sq)]
    monkeypatch.setattr(connection.features, "supports_json_field", False)
    with CaptureQueriesContext(connection) as captured:
        assert [(o.pk, o.search_rank) for o in Post.objects.from_search_query(sq)] == expected
    assert "CASE" in captured.captured_queries[0]["sql"].upper()


@pytest.mark.postgres
def test_a_value_json_cannot_hold_takes_the_case_text(posts: list[Post]) -> None:
    """An infinite score (no engine sends one; JSON cannot hold it) is written in the
    ``CASE`` text instead of the JSON parameter, and read back as it was."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    post = posts[0]
    lookup = HitLookup("pk", Post._meta.pk, {post.pk: math.inf}, models.FloatField())
    with CaptureQueriesContext(connection) as captured:
        values = list(Post.objects.filter(pk=post.pk).annotate(x=lookup).values_list("x"))
    assert values == [(math.inf,)]
    assert "CASE" in captured.captured_queries[0]["sql"].upper()
