"""elasticsearch-django 8's API, called as its users and its own tests call it.

The project is configured the elasticsearch-django way: ``SEARCH_SETTINGS``
with every key of the latest 8.x, a mapping file in ``mappings_dir``, the
Elasticsearch client (sending plain JSON, so that the test engine takes it).
The cases follow elasticsearch-django's ``tests/test_models.py``,
``test_settings.py``, ``test_index_functions.py`` and ``test_commands.py``
with a running engine instead of mocks of the client.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import override_settings

from djangoes import connections
from djangoes.elasticsearch_django import (
    auto_sync,
    bulk_actions,
    create_index,
    delete_index,
    disable_search_updates,
    get_client,
    get_connection_string,
    get_document_model,
    get_document_models,
    get_index_config,
    get_index_mapping,
    get_index_models,
    get_index_names,
    get_model_index_properties,
    get_model_indexes,
    get_setting,
    get_settings,
    prune_index,
    scan_index,
    set_setting,
    update_index,
)
from djangoes.exceptions import RemovedAPIError
from djangoes.indexing import IndexMissingError
from djangoes.management.commands import BaseSearchCommand
from djangoes.models import (
    UPDATE_STRATEGY_FULL,
    UPDATE_STRATEGY_PARTIAL,
    CountResponseParser,
    SearchQuery,
    SearchResponseParser,
    SearchResultsQuerySet,
    execute_search,
)
from djangoes.test.nodes import PlainJsonUrllib3Node
from tests.sync.conftest import BLOG_MAPPING
from tests.testapp.models import Author, Page, Post

pytestmark = pytest.mark.django_db(transaction=True)

#: Every key of SEARCH_SETTINGS['settings'] in elasticsearch-django 8.5.
ALL_SETTINGS = {
    "chunk_size": 200,
    "page_size": 3,
    "auto_sync": True,
    "never_auto_sync": [],
    "strict_validation": True,
    "mappings_dir": "mappings",
    "update_strategy": "full",
    "retry_on_conflict": 2,
    "cache_expiry": 0,
    "include_source": True,
    "in_search_queryset_db_alias": "default",
}


@pytest.fixture
def search_settings(settings: Any, engine_url: str, tmp_path: Path) -> Any:
    """SEARCH_SETTINGS as an elasticsearch-django project writes them, on a fresh engine."""
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "blog.json").write_text(json.dumps(BLOG_MAPPING))
    del settings.ES_SERVERS, settings.ES_INDICES
    settings.BASE_DIR = tmp_path
    settings.SEARCH_SETTINGS = {
        "connections": {
            # all Elasticsearch() keyword arguments may be given (elasticsearch-django 8.2+)
            "default": {"hosts": [engine_url], "node_class": PlainJsonUrllib3Node},
        },
        "indexes": {"blog": {"models": ["testapp.Post", "testapp.Page"]}},
        "settings": dict(ALL_SETTINGS),
    }
    return settings


@pytest.fixture
def blog(search_settings: Any) -> Any:
    create_index("blog")
    return connections["default"]


def _post(title: str, **fields: Any) -> Post:
    author, _ = Author.objects.get_or_create(name="Ada")
    return Post.objects.create(title=title, author=author, **fields)


# -- settings (test_settings.py) ------------------------------------------------


def test_every_setting_of_the_latest_8x_is_accepted_and_read(search_settings: Any) -> None:
    assert connections.settings.errors == []
    assert get_settings() == ALL_SETTINGS
    for key, value in ALL_SETTINGS.items():
        assert get_setting(key) == value
    assert get_setting("no_such_setting", "fallback") == "fallback"
    with pytest.raises(KeyError, match="Unknown search setting 'no_such_setting'"):
        get_setting("no_such_setting")


def test_settings_are_honoured(search_settings: Any) -> None:
    options = connections.options
    assert (options.CHUNK_SIZE, options.PAGE_SIZE, options.RETRY_ON_CONFLICT) == (200, 3, 2)
    assert options.IN_SEARCH_QUERYSET_DB_ALIAS == "default"
    assert Post.objects.search_queryset_for_check("blog").db == "default"
    search_settings.SEARCH_SETTINGS = {
        **search_settings.SEARCH_SETTINGS,
        "settings": {**ALL_SETTINGS, "in_search_queryset_db_alias": "replica"},
    }
    with pytest.raises(ImproperlyConfigured, match=r"in_search_queryset_db_alias.*'replica'"):
        connections["default"]


class WritesToAReplica:
    """A database router whose write database is not the one membership must be read from."""

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return "replica"


def test_in_search_queryset_db_alias_is_where_membership_is_read(search_settings: Any) -> None:
    post = _post("in the queryset")
    search_settings.DATABASE_ROUTERS = [f"{__name__}.WritesToAReplica"]
    search_settings.SEARCH_SETTINGS = {
        **search_settings.SEARCH_SETTINGS,
        "settings": {**ALL_SETTINGS, "in_search_queryset_db_alias": ""},  # 8.x's default
    }
    assert Post.objects.IN_SEARCH_QUERYSET_DB_ALIAS == ""
    assert Post.objects.search_queryset_for_check("blog").db == "replica"  # the router's
    search_settings.SEARCH_SETTINGS = {
        **search_settings.SEARCH_SETTINGS,
        "settings": {**ALL_SETTINGS, "in_search_queryset_db_alias": "default"},
    }
    assert Post.objects.IN_SEARCH_QUERYSET_DB_ALIAS == "default"
    assert Post.objects.search_queryset_for_check("blog").db == "default"
    assert Post.objects.in_search_queryset(post.pk, index="blog") is True


def test_the_readmes_connections_a_url_and_a_cloud_id(settings: Any) -> None:
    """``'default': getenv('ELASTICSEARCH_URL')`` and ``'backup': {'cloud_id': ...}`` (8.2+)."""
    import base64

    cloud_id = "backup:" + base64.b64encode(b"es.example.io$abc123$def456").decode()
    del settings.ES_SERVERS, settings.ES_INDICES
    settings.SEARCH_SETTINGS = {
        "connections": {
            "default": "http://search.example:9200",
            "backup": {"cloud_id": cloud_id, "api_key": "k"},
        },
        "indexes": {"blog": {"models": ["testapp.Post"]}},
        "settings": {"chunk_size": 500, "page_size": 25, "auto_sync": True},
    }
    assert connections.settings.errors == []
    assert connections["default"].server["HOSTS"] == ["http://search.example:9200"]
    assert get_connection_string("default") == "http://search.example:9200"
    node = next(iter(get_client("backup").transport.node_pool.all())).config
    assert (node.scheme, node.host, node.port) == ("https", "abc123.es.example.io", 443)


def test_retry_on_conflict_and_the_partial_strategy_reach_the_update(blog: Any) -> None:
    post = _post("partial", views=1)
    search_settings = dict(settings.SEARCH_SETTINGS)
    search_settings["settings"] = {**ALL_SETTINGS, "update_strategy": UPDATE_STRATEGY_PARTIAL}
    with override_settings(SEARCH_SETTINGS=search_settings, DEBUG=True):
        conn = connections["default"]
        conn.reset_queries()
        with disable_search_updates():
            Post.objects.filter(pk=post.pk).update(views=5)
        post.update_search_document("blog", update_fields=["views"])
        [bulk] = [q for q in conn.queries if q["path"].split("?")[0].endswith("/_bulk")]
    action, document = (json.loads(line) for line in bulk["body"].splitlines())
    assert action["update"]["retry_on_conflict"] == 2
    assert document == {"doc": {"views": 5}}


def test_chunk_size_is_the_size_of_the_bulk_requests(blog: Any) -> None:
    with disable_search_updates():
        for n in range(5):
            _post(f"post {n}")
    search_settings = dict(settings.SEARCH_SETTINGS)
    search_settings["settings"] = {**ALL_SETTINGS, "chunk_size": 2}
    with override_settings(SEARCH_SETTINGS=search_settings, DEBUG=True):
        conn = connections["default"]
        conn.reset_queries()
        assert update_index("blog").indexed == 5
        bulks = [q for q in conn.queries if q["path"].split("?")[0].endswith("/_bulk")]
    assert sorted(len(q["body"].splitlines()) // 2 for q in bulks) == [1, 2, 2]


def test_include_source_false_leaves_documents_out_of_hits(blog: Any) -> None:
    _post("Searching with Django")
    blog.refresh()
    hits = SearchQuery.do_search("blog", {"match_all": {}}).query_response["hits"]["hits"]
    assert hits[0]["_source"]["title"] == "Searching with Django"
    search_settings = dict(settings.SEARCH_SETTINGS)
    search_settings["settings"] = {**ALL_SETTINGS, "include_source": False}
    with override_settings(SEARCH_SETTINGS=search_settings):
        hits = SearchQuery.do_search("blog", {"match_all": {}}).query_response["hits"]["hits"]
    assert len(hits) == 1
    assert "_source" not in hits[0]


def test_helpers_about_indexes_and_models(search_settings: Any) -> None:
    assert get_index_names() == ["blog"]
    assert get_index_config("blog") == {"models": ["testapp.Post", "testapp.Page"]}
    assert get_index_models("blog") == [Post, Page]
    assert get_model_indexes(Post) == ["blog"]
    assert get_document_models() == {"blog.post": Post, "blog.page": Page}
    assert get_document_model("blog", "post") is Post
    assert get_document_model("blog", "nothing") is None
    assert get_index_mapping("blog") == BLOG_MAPPING
    assert get_model_index_properties(Post(), "blog") == sorted(
        BLOG_MAPPING["mappings"]["properties"]
    )
    assert get_connection_string().startswith("http://127.0.0.1:")
    assert get_client() is connections["default"].client


def test_set_setting_says_what_to_do_instead(search_settings: Any) -> None:
    with pytest.raises(RemovedAPIError, match="override_settings"):
        set_setting("auto_sync", False)


@pytest.mark.parametrize(
    ("name", "replacement"),
    [
        ("stopwatch", "SearchQuery.duration"),
        ("Search", "SearchQuery.do_search"),
        ("Count", "SearchQuery.do_count"),
    ],
)
def test_helpers_djangoes_does_not_provide_name_the_replacement(
    name: str, replacement: str
) -> None:
    """``context_managers.stopwatch`` and ``api.Search`` / ``api.Count``, imported from here."""
    with pytest.raises(RemovedAPIError) as raised:
        exec(f"from djangoes.elasticsearch_django import {name}", {})
    assert f"elasticsearch-django's {name} is not provided" in str(raised.value)
    assert replacement in str(raised.value)
    with pytest.raises(ImportError, match="cannot import name 'no_such_helper'"):
        exec("from djangoes.elasticsearch_django import no_such_helper", {})


def test_auto_sync_of_an_instance(search_settings: Any) -> None:
    post = Post(title="x")
    assert auto_sync(post) is True
    with disable_search_updates():
        assert auto_sync(post) is False
    search_settings.SEARCH_SETTINGS = {
        **search_settings.SEARCH_SETTINGS,
        "settings": {**ALL_SETTINGS, "never_auto_sync": ["testapp.Post"]},
    }
    assert auto_sync(post) is False
    assert auto_sync(Page(title="y")) is True


def test_update_strategy_constants() -> None:
    assert (UPDATE_STRATEGY_FULL, UPDATE_STRATEGY_PARTIAL) == ("full", "partial")


# -- searching (test_models.py: do_search, do_count, save, parsers) ---------------


def test_do_search_then_save_as_the_8_1_api(blog: Any) -> None:
    for title in ("Django search", "Django admin", "Cooking"):
        _post(title)
    blog.refresh()
    sq = SearchQuery.do_search(index="blog", query={"match": {"title": "django"}})
    assert sq.pk is None  # not saved until asked
    assert sq.total_hits == 2
    assert sq.total_hits_relation == SearchQuery.TotalHitsRelation.ACCURATE
    assert sq.query_type == SearchQuery.QueryType.SEARCH
    assert sq.query == {"query": {"match": {"title": "django"}}, "from": 0, "size": 3}
    assert sq.query_response["hits"]["total"]["value"] == 2
    assert [hit["index"] for hit in sq.hits] == [sq.query_response["hits"]["hits"][0]["_index"]] * 2
    user = get_user_model().objects.create_user(username="reader", password=None)
    saved = sq.save(user=user, search_terms="django", reference="bar")
    assert saved is sq
    stored = SearchQuery.objects.get(pk=sq.pk)
    assert (stored.user, stored.search_terms, stored.reference) == (user, "django", "bar")
    assert stored.duration > 0
    assert stored.query_response is None  # the response is never stored


def test_do_search_takes_the_search_keywords(blog: Any) -> None:
    for n in range(5):
        _post(f"post {n}", views=n)
    blog.refresh()
    sq = SearchQuery.do_search(
        "blog",
        {"match_all": {}},
        **{"from": 1},
        size=2,
        sort=[{"views": "desc"}],
        aggs={"views": {"max": {"field": "views"}}},
    )
    assert sq.query["from"] == 1
    assert [hit["score"] for hit in sq.hits] == [None, None]
    assert sq.page_slice == (1, 2)
    assert sq.aggregations["views"]["value"] == 4
    assert sq.has_aggs
    with pytest.raises(TypeError, match="client must be a djangoes connection"):
        SearchQuery.do_search("blog", {"match_all": {}}, client=object())
    via = SearchQuery.do_search("blog", {"match_all": {}}, client=connections["default"])
    assert via.total_hits == 5


def test_do_count(blog: Any) -> None:
    _post("one")
    _post("two")
    blog.refresh()
    count = SearchQuery.do_count(index="blog", query={"match_all": {}})
    assert count.total_hits == 2
    assert count.query_type == SearchQuery.QueryType.COUNT
    assert count.query == {"query": {"match_all": {}}}
    saved = count.save(search_terms="foo", user=None, reference="bar")
    saved.refresh_from_db()
    assert (saved.search_terms, saved.reference, saved.total_hits) == ("foo", "bar", 2)


def test_the_response_parsers() -> None:
    response = {
        "hits": {
            "total": {"value": 168, "relation": "gte"},
            "hits": [
                {"_id": "1", "_index": "foo", "_score": 1.1, "highlight": {"t": ["<em>x</em>"]}},
                {"_id": "2", "_index": "bar", "_score": None},
            ],
        },
        "aggregations": {"a": {"value": 1}},
    }
    parser = SearchResponseParser(response)
    assert parser.total_hits == 168
    assert parser.total_hits_relation == "gte"
    assert parser.aggregations == {"a": {"value": 1}}
    assert len(parser.raw_hits) == 2
    assert parser.hits[0]["highlight"] == {"t": ["<em>x</em>"]}
    assert [(h["id"], h["index"], h["score"]) for h in parser.hits] == [
        ("1", "foo", 1.1),
        ("2", "bar", None),
    ]
    count = CountResponseParser({"count": 562})
    assert (count.total_hits, count.total_hits_relation) == (562, "eq")


def test_search_query_properties_as_elasticsearch_django_says() -> None:
    sq = SearchQuery()
    assert sq.page_slice is None
    assert (sq.max_score, sq.min_score) == (0, 0)
    sq.query = {"from": 0, "size": 25}
    assert (sq.page_slice, sq.page_from, sq.page_to, sq.page_size) == ((0, 25), 0, 0, 0)
    sq.hits = [{"id": "1", "score": 1}, {"id": "2", "score": 2}, {"id": "3", "score": None}]
    assert (sq.page_from, sq.page_to, sq.page_size) == (1, 3, 3)
    assert (sq.max_score, sq.min_score) == (2, 1)
    assert sq.object_ids == ["1", "2", "3"]
    assert not sq.has_fields
    assert SearchQuery(query={"fields": ["title"]}).has_fields
    assert SearchQuery(query={"highlight": {}}).has_highlights
    with_highlight = SearchQuery(
        query={"highlight": {}}, hits=[{"id": "1", "highlight": {"f": ["b"]}}]
    )
    assert with_highlight.get_doc_highlights(1) == {"f": ["b"]}
    assert SearchQuery(query_response={"hits": {}}).query_response == {"hits": {}}


# -- hits back to objects (SearchResultsQuerySet) ----------------------------------


def test_search_results_queryset(blog: Any) -> None:
    first, second, third = _post("red apple"), _post("red car"), _post("green pear")
    blog.refresh()
    sq = SearchQuery.do_search(
        "blog",
        {"match": {"title": "red"}},
        highlight={"fields": {"title": {}}},
    )
    results = SearchResultsQuerySet(model=Post)
    ordered = list(results.from_search_results(sq))
    assert {p.pk for p in ordered} == {first.pk, second.pk}
    assert [p.search_rank for p in ordered] == [1, 2]
    assert all(p.search_score > 0 for p in ordered)
    assert ordered[0].search_highlights == {
        "title": ["<em>red</em> " + ordered[0].title.split()[1]]
    }
    assert {p.pk for p in results.filter_search_results(sq)} == {first.pk, second.pk}
    ranked = results.filter_search_results(sq).add_search_rank(sq).order_by("-search_rank")
    assert [p.search_rank for p in ranked] == [2, 1]
    scored = results.filter_search_results(sq).add_search_annotations(sq).order_by("search_rank")
    assert [p.pk for p in scored] == [p.pk for p in ordered]
    highlighted = results.filter_search_results(sq).add_search_highlights(sq)
    assert {p.pk: bool(p.search_highlights) for p in highlighted} == {
        first.pk: True,
        second.pk: True,
    }
    assert third.pk not in {p.pk for p in Post.objects.from_search_results(sq)}


def test_search_results_by_another_id_field(blog: Any) -> None:
    class ByUid(SearchResultsQuerySet[Page]):
        search_document_id_field = "uid"

    page = Page.objects.create(title="About django")
    blog.refresh()
    sq = SearchQuery.do_search("blog", {"match": {"title": "django"}})
    found = list(ByUid(model=Page).from_search_results(sq))
    assert [(p.pk, p.search_rank) for p in found] == [(page.pk, 1)]


# -- documents (test_models.py: SearchDocumentMixin) --------------------------------


def test_explicit_calls_send_the_object_even_outside_the_search_queryset(blog: Any) -> None:
    with disable_search_updates():
        hidden = _post("draft", published=False)
    hidden.index_search_document(index="blog")
    assert blog.get(id=str(hidden.pk))["_source"]["title"] == "draft"
    hidden.title = "draft 2"
    with disable_search_updates():  # documents are read from the committed row
        hidden.save(update_fields=["title"])
    hidden.update_search_document(index="blog", update_fields=["title"])
    assert hidden.fetch_search_document(index="blog")["_source"]["title"] == "draft 2"
    # automatic sync keeps the rule: an object outside the queryset leaves the index
    with transaction.atomic():
        hidden.save()
    assert not blog.exists(id=str(hidden.pk))


def test_fetch_search_document_of_an_unsaved_object(blog: Any) -> None:
    with pytest.raises(ValueError, match="has no primary key yet"):
        Post(title="unsaved").fetch_search_document(index="blog")


def test_bulk_actions_and_scan_index(blog: Any) -> None:
    with disable_search_updates():
        posts = [_post(f"post {n}") for n in range(3)]
    actions = list(bulk_actions(posts, index="blog", action="index"))
    assert [a["_op_type"] for a in actions] == ["index"] * 3
    assert actions[0]["_source"]["title"] == "post 0"
    with pytest.raises(ValueError, match="'_all' is reserved"):
        list(bulk_actions(posts, index="_all", action="index"))
    update_index("blog")
    blog.refresh()
    ids = {hit["_id"] for hit in scan_index("blog", Post)}
    assert ids == {str(p.pk) for p in posts}


def test_prune_index_deletes_what_left_the_search_queryset(blog: Any) -> None:
    kept, hidden = _post("kept"), _post("hidden")
    blog.refresh()
    with disable_search_updates():
        Post.objects.filter(pk=hidden.pk).update(published=False)
    result = prune_index("blog")
    assert (result.checked, result.deleted) == (2, 1)
    blog.refresh()
    assert {hit["_id"] for hit in scan_index("blog", Post)} == {str(kept.pk)}


def test_bulk_actions_of_an_object_that_cannot_be_an_action_raises(search_settings: Any) -> None:
    """elasticsearch-django logged and skipped it (migration guide: a document went missing)."""
    with disable_search_updates():
        post = _post("ok")
    actions = bulk_actions([post, "bad"], index="blog", action="index")
    assert next(actions)["_id"] == str(post.pk)
    with pytest.raises(TypeError, match=r"got 'bad' \(str\)\. Pass the objects of the index"):
        next(actions)


# -- commands and index functions (test_commands.py, test_index_functions.py) -------


def _run(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_commands_take_f_for_noinput(search_settings: Any) -> None:
    assert "Created index 'blog'" in _run("create_search_index", "blog", "-f")
    with disable_search_updates():
        _post("one")
    assert "Indexed 1 document(s)" in _run("update_search_index", "blog", "-f")
    assert "Pruned index 'blog'" in _run("prune_search_index", "blog", "-f")
    assert "Rebuilt index 'blog'" in _run("rebuild_search_index", "blog", "-f")
    assert "Deleted index 'blog'" in _run("delete_search_index", "blog", "-f")


def test_deleting_an_index_that_does_not_exist(search_settings: Any) -> None:
    """The function and the command agree: an error, unless told it may be missing."""
    with pytest.raises(IndexMissingError, match="does not exist"):
        delete_index("blog")
    assert delete_index("blog", missing_ok=True) == []
    with pytest.raises(CommandError, match="does not exist"):
        _run("delete_search_index", "blog", "-f")
    assert "nothing deleted" in _run("delete_search_index", "blog", "-f", "--missing-ok")
    # rebuilding a missing index creates it (elasticsearch-django's rebuild went on too)
    assert "Rebuilt index 'blog'" in _run("rebuild_search_index", "blog", "-f")
    assert connections["default"].meta.indices.exists_alias(name="blog") is True


class CountDocuments(BaseSearchCommand):
    """A project's own command, written against elasticsearch-django's base command."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def do_index_command(self, index: str, **options: Any) -> Any:
        self.calls.append((index, options))
        return connections["default"].count(index=index)["count"]


def test_a_command_written_on_base_search_command(blog: Any) -> None:
    command = CountDocuments()
    call_command(command, "blog", "-f", stdout=io.StringIO())
    [(index, options)] = command.calls
    assert index == "blog"
    assert options["interactive"] is False
    assert "indexes" not in options
    call_command(command, stdout=io.StringIO())  # no index names: every index
    assert [index for index, _ in command.calls] == ["blog", "blog"]
    with pytest.raises(CommandError, match="Unknown index 'nope'"):
        call_command(command, "nope", stdout=io.StringIO())
    with pytest.raises(NotImplementedError, match=r"must implement do_index_command\(index"):
        call_command(BaseSearchCommand(), "blog", stdout=io.StringIO())


# -- the rest of SearchDocumentMixin / SearchDocumentManagerMixin -------------------


def test_search_indexes_and_the_db_alias_attribute(search_settings: Any) -> None:
    assert Post(title="x").search_indexes == ["blog"]
    assert Post.objects.IN_SEARCH_QUERYSET_DB_ALIAS == "default"


def test_clean_update_fields_keeps_mapped_fields_and_refuses_mapped_relations(
    search_settings: Any,
) -> None:
    post = Post(title="x", views=3)
    assert post.clean_update_fields(index="blog", update_fields=["title", "published"]) == ["title"]
    with pytest.raises(ValueError, match="relational field 'author'"):
        post.clean_update_fields(index="blog", update_fields=["title", "author"])


def test_partial_update_strategy(search_settings: Any) -> None:
    search_settings.SEARCH_SETTINGS = {
        **search_settings.SEARCH_SETTINGS,
        "settings": {**ALL_SETTINGS, "update_strategy": UPDATE_STRATEGY_PARTIAL},
    }
    post = Post(title="x", views=3)
    assert post.as_search_document_update(index="blog", update_fields=["views", "published"]) == {
        "views": 3
    }


def test_the_document_cache_key_is_deprecated(search_settings: Any) -> None:
    with pytest.warns(DeprecationWarning, match="keeps no document cache") as record:
        key = Post(pk=4, title="x").search_document_cache_key
    assert key == "djangoes:testapp.post.4"
    assert record[0].filename == __file__


def test_module_constants_are_read_when_asked(search_settings: Any) -> None:
    import djangoes.models as models_module

    assert models_module.DEFAULT_PAGE_SIZE == 3
    assert models_module.UPDATE_STRATEGY == UPDATE_STRATEGY_FULL
    assert models_module.DEFAULT_INCLUDE_SOURCE is True
    assert models_module.DEFAULT_FROM == 0
    assert models_module.DEFAULT_CLIENT is get_client()


# -- the README's examples, as written there --------------------------------------


def test_the_readmes_search_and_objects_in_relevance_order(blog: Any) -> None:
    """``execute_search(index=..., query=...)`` then ``from_search_query(sq)``."""
    first, second = _post("Hello"), _post("Hello again")
    blog.refresh()
    sq = execute_search(index="blog", query={"match_all": {}})
    assert sq.total_hits == 2
    for obj in Post.objects.from_search_query(sq):
        assert obj.search_score > 0
    ranks = {obj.pk: obj.search_rank for obj in Post.objects.from_search_query(sq)}
    assert set(ranks) == {first.pk, second.pk}
    assert sorted(ranks.values()) == [1, 2]


def test_the_readmes_partial_update_with_the_index_first(blog: Any) -> None:
    """``obj.update_search_document(index, update_fields=['timestamp'])`` (index positional)."""
    obj = _post("before")
    with disable_search_updates():
        Post.objects.filter(pk=obj.pk).update(views=7)
    obj.refresh_from_db()
    obj.update_search_document("blog", update_fields=["views"])
    assert obj.fetch_search_document("blog")["_source"]["views"] == 7
    obj.index_search_document("blog")
    assert obj.as_search_action("blog", "delete")["_op_type"] == "delete"
    obj.delete_search_document("blog")
    assert not blog.exists(id=str(obj.pk))
    # elasticsearch-django 8's code took clean_update_fields(index, update_fields) positionally
    assert obj.clean_update_fields("blog", ["views", "published"]) == ["views"]


def test_update_search_index_without_update_fields_indexes(blog: Any) -> None:
    """README: 'update' without update_fields "will be changed to index"."""
    with disable_search_updates():
        obj = _post("whole document")
    obj.update_search_index("update", "blog")
    assert blog.get(id=str(obj.pk))["_source"]["title"] == "whole document"
    obj.update_search_index("delete")  # index='_all': every index of the model
    assert not blog.exists(id=str(obj.pk))


# -- what elasticsearch-django's own tests call directly ------------------------------


def test_a_projects_own_keys_in_settings_are_kept_and_read(search_settings: Any) -> None:
    """8.x's get_setting() read any key of the section; projects kept their own there."""
    search_settings.SEARCH_SETTINGS = {
        **search_settings.SEARCH_SETTINGS,
        "settings": {**ALL_SETTINGS, "support_email": "search@example.com"},
    }
    assert connections.settings.errors == []
    [warning] = [p for p in connections.settings.problems if p.id == "djangoes.W213"]
    assert "'support_email'" in warning.msg
    assert get_setting("support_email") == "search@example.com"
    assert get_settings() == {**ALL_SETTINGS, "support_email": "search@example.com"}
    # a key close to one of elasticsearch-django's is a typo, and stays an error
    search_settings.SEARCH_SETTINGS = {
        **search_settings.SEARCH_SETTINGS,
        "settings": {**ALL_SETTINGS, "page_sise": 10},
    }
    with pytest.raises(ImproperlyConfigured, match=r"'page_sise'\. Did you mean 'page_size'"):
        connections["default"]


def test_get_connection_string_is_the_url_as_written_without_credentials(settings: Any) -> None:
    del settings.ES_SERVERS, settings.ES_INDICES
    settings.SEARCH_SETTINGS = {
        "connections": {"default": "https://ada:secret@search.example", "backup": "http://b:9200"},
        "indexes": {"blog": {"models": ["testapp.Post"]}},
    }
    assert get_connection_string() == "https://search.example"
    assert get_connection_string("backup") == "http://b:9200"
    with pytest.raises(KeyError, match="nope"):
        get_connection_string("nope")


def test_get_model_indexes_of_something_that_is_not_a_model(search_settings: Any) -> None:
    assert get_model_indexes(object) == []
    assert get_model_indexes(Post) == ["blog"]


def test_the_manager_mixin_alone_has_no_search_queryset() -> None:
    from djangoes.models import SearchDocumentManagerMixin

    with pytest.raises(NotImplementedError, match=r"models\.Manager"):
        SearchDocumentManagerMixin().get_search_queryset()
    assert list(Post.objects.get_search_queryset()) == []  # a manager's default: every object


def test_handle_called_directly_as_elasticsearch_djangos_tests_do(blog: Any) -> None:
    command = CountDocuments()
    command.stdout = io.StringIO()  # as call_command() sets it
    command.handle(indexes=["blog"])
    assert command.calls == [("blog", {})]  # the options given, nothing added
    with pytest.raises(CommandError, match=r"Unknown index 'nope'\. ES_INDICES has 'blog'"):
        command.handle(indexes=["nope"])


def test_an_empty_connection_url_is_named_as_written(settings: Any) -> None:
    """``getenv("ELASTICSEARCH_URL")`` of a variable set but empty, as in 8.x's test settings."""
    del settings.ES_SERVERS, settings.ES_INDICES
    settings.SEARCH_SETTINGS = {"connections": {"default": ""}, "indexes": {}}
    with pytest.raises(
        ImproperlyConfigured, match=r"SEARCH_SETTINGS\['connections'\]\['default'\] is an empty"
    ):
        get_connection_string()
    settings.SEARCH_SETTINGS = {"connections": {"default": None}, "indexes": {}}
    assert connections["default"].server["HOSTS"] == ["http://localhost:9200"]


def test_the_app_config_under_elasticsearch_djangos_name() -> None:
    """INSTALLED_APPS' ``"elasticsearch_django.apps.ElasticAppConfig"``, import changed."""
    from django.apps import AppConfig, apps

    import djangoes
    from djangoes.apps import DjangoesConfig, ElasticAppConfig

    assert type(apps.get_app_config("djangoes")) is DjangoesConfig  # "djangoes" alone
    config = AppConfig.create("djangoes.apps.ElasticAppConfig")
    assert isinstance(config, ElasticAppConfig)
    assert (config.name, config.label) == ("djangoes", "djangoes")
    assert config.module is djangoes
