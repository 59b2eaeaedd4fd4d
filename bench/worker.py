"""One measurement in a fresh process: ``python -m bench.worker '<JSON task>'``.

The environment says which library, database and engine (see
:mod:`bench.project.settings`); the task says what to measure. The worker
sets Django up, migrates, prepares what the measurement needs (untimed),
measures, checks that the engine holds what it should (a library that
swallowed an error must not look fast), and prints one line
``BENCH_RESULT <json>``. Any failure ends it with a traceback and a non-zero
status, which the main process reports.

Only public APIs of the libraries are used: for djangoes
``djangoes.indexing.create_index`` / ``update_index``, model saves with
auto-sync, ``djangoes.models.execute_search`` and
``Model.objects.from_search_query``.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

RESULT_PREFIX = "BENCH_RESULT "


class CheckFailed(AssertionError):
    """The engine does not hold what the measured operation should have written."""


# -- plumbing -----------------------------------------------------------------


def setup_django() -> None:
    import django
    from django.core.management import call_command

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.project.settings")
    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def library() -> str:
    return os.environ["BENCH_LIBRARY"]


def engine_kind() -> str:
    return os.environ.get("BENCH_ENGINE_KIND", "embedded")


def raw_client() -> Any:
    """The engine's own client: opensearch-py for OpenSearch, else elasticsearch-py.

    elasticsearch-py reaches the embedded engine over the plain-JSON node (the
    engine answers 406 to Elasticsearch's media types), as its peers do.
    """
    url = os.environ["BENCH_ENGINE_URL"]
    if engine_kind() in ("opensearch", "cluster"):
        from opensearchpy import OpenSearch

        return OpenSearch(url.split(","), timeout=600)
    from elasticsearch import Elasticsearch

    from djangoes.test.nodes import PlainJsonUrllib3Node

    return Elasticsearch(url, node_class=PlainJsonUrllib3Node, request_timeout=600)


def bulk_helpers() -> Any:
    """``helpers`` of the engine's own client (``bulk``, ``parallel_bulk``)."""
    if engine_kind() in ("opensearch", "cluster"):
        from opensearchpy import helpers as os_helpers

        return os_helpers
    from elasticsearch import helpers as es_helpers

    return es_helpers


def search_hits(client: Any, index: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The hits of a search with ``body`` (the form both clients take)."""
    response = client.search(index=index, body=body)
    hits: list[dict[str, Any]] = response["hits"]["hits"]
    return hits


def book_model() -> Any:
    """The book model of the library in use (the catalog's own for ``none``)."""
    from django.apps import apps

    label = {
        "none": "catalog.Book",
        "djangoes": "djangoes_books.Book",
        "esdjango": "esdjango_books.Book",
        "dsl": "dsl_books.Book",
        "osdsl": "osdsl_books.Book",
        "modelsearch": "modelsearch_books.Book",
    }[library()]
    return apps.get_model(label)


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def engine_cpu() -> float:
    from bench.engine import cpu_seconds

    pids = os.environ.get("BENCH_ENGINE_PID")  # a cluster's: comma-separated
    return sum(cpu_seconds(int(pid)) for pid in pids.split(",")) if pids else 0.0


@contextmanager
def measured(into: dict[str, Any]) -> Iterator[None]:
    """Time the block: wall seconds, this process's and the engine's CPU seconds."""
    gc.collect()
    cpu, engine, started = process_cpu(), engine_cpu(), time.perf_counter()
    yield
    into["seconds"] = time.perf_counter() - started
    into["python_cpu"] = process_cpu() - cpu
    into["engine_cpu"] = engine_cpu() - engine


# -- creating an index and loading it, per library ---------------------------


def create_index() -> None:
    """Create the empty index ``books`` the way the library in use does."""
    name = library()
    if name == "djangoes":
        from djangoes.indexing import create_index as djangoes_create

        djangoes_create("books")
    elif name == "esdjango":
        from elasticsearch_django.index import create_index as esdjango_create

        esdjango_create("books")
    elif name == "dsl":
        from bench.project.dsl_books.documents import BookDocument, books

        mapping = BookDocument._doc_type.mapping.to_dict()
        expected = index_body()["mappings"]
        if mapping != expected:
            raise CheckFailed(
                f"django-elasticsearch-dsl's mapping differs: {mapping} != {expected}"
            )
        books.create()
    elif name == "osdsl":
        from django_opensearch_dsl.registries import registry

        from bench.project.osdsl_books.documents import BookDocument

        mapping = BookDocument._doc_type.mapping.to_dict()
        expected = index_body()["mappings"]
        if mapping != expected:
            raise CheckFailed(f"django-opensearch-dsl's mapping differs: {mapping} != {expected}")
        for index in registry.get_indices():
            index.create()
    elif name == "modelsearch":
        pass  # its rebuild_modelsearch_index command creates the index it fills
    else:
        body = index_body()
        raw_client().indices.create(index="books", body=body)


def index_body() -> dict[str, Any]:
    from bench.project.catalog.documents import index_body as body

    return body()


def load_index(expected: int, parallel: int = 1) -> dict[str, Any]:
    """(Re)index every book with the library in use; returns what it reported.

    ``parallel``: djangoes' worker processes (``update_search_index --parallel``).
    """
    name = library()
    if parallel != 1 and name != "djangoes":
        raise ValueError(f"only djangoes loads with parallel={parallel}, not {name!r}")
    if name == "djangoes":
        from djangoes.indexing import update_index

        result = update_index("books", parallel=parallel)
        if result.failures or result.objects.get("djangoes_books.Book") != expected:
            raise CheckFailed(
                f"djangoes read {result.objects} of {expected} books; failures: "
                f"{result.failures[:3]}"
            )
        # what the engine holds is counted and compared by check_index (a request
        # sent again after a timeout finds some documents there: not "indexed" twice)
        return {"indexed": result.indexed}
    if name == "esdjango":
        from elasticsearch_django.index import update_index

        responses = update_index("books")
        indexed = sum(int(count) for count, _ in responses)
        if indexed != expected:
            raise CheckFailed(f"elasticsearch-django indexed {indexed} of {expected}: {responses}")
        return {"indexed": indexed}
    if name == "dsl":
        from bench.project.dsl_books.documents import BookDocument

        document = BookDocument()
        count, errors = document.update(document.get_indexing_queryset())
        if count != expected or errors:
            raise CheckFailed(f"django-elasticsearch-dsl indexed {count} of {expected}: {errors}")
        return {"indexed": count}
    if name == "osdsl":
        from django_opensearch_dsl.enums import BulkAction

        from bench.project.osdsl_books.documents import BookDocument as OsBookDocument

        os_document = OsBookDocument()
        # as its ``opensearch document index`` command does
        count, errors = os_document.update(
            os_document.get_indexing_queryset(), action=BulkAction.INDEX, raise_on_error=False
        )
        if count != expected or errors:
            raise CheckFailed(f"django-opensearch-dsl indexed {count} of {expected}: {errors}")
        return {"indexed": count}
    if name == "modelsearch":
        from django.core.management import call_command

        call_command("rebuild_modelsearch_index", verbosity=0)
        return {"indexed": expected}  # counted and compared by check_index
    raise ValueError(f"no library loads the index with BENCH_LIBRARY={name!r}")


def index_name() -> str:
    """The index (or alias) the library in use writes to."""
    if library() == "modelsearch":
        from modelsearch.backends import get_search_backend

        return str(get_search_backend().get_index_for_model(book_model()).name)
    return "books"


def as_shared_document(source: dict[str, Any]) -> dict[str, Any]:
    """A library's document in the shared document's form (django-modelsearch has its own)."""
    if library() != "modelsearch":
        return source
    publisher = source.get("publisher") or {}
    return {
        "title": source.get("title"),
        "summary": source.get("summary"),
        **{
            name: source.get(f"{name}_filter")
            for name in ("sku", "category", "language", "published", "pages", "price", "stock")
        },
        "publisher": {
            "name": publisher.get("name_filter"),
            "country": publisher.get("country_filter"),
        },
    }


def fetch_documents(client: Any, pks: list[int]) -> dict[int, dict[str, Any]]:
    """The documents of ``pks`` as the engine holds them, in the shared form."""
    hits = search_hits(
        client, index_name(), {"query": {"ids": {"values": [str(pk) for pk in pks]}},
                               "size": len(pks)}
    )  # fmt: skip
    return {int(hit["_id"]): as_shared_document(hit["_source"]) for hit in hits}


def check_index(rows: int, sample: int = 200) -> None:
    """CheckFailed unless the engine holds ``rows`` documents, a sample equal to the database.

    The sample (``sample`` documents spread over the ids, the first and the
    last among them) is compared field by field with the rows read from the
    database now, so a library that wrote empty or wrong documents fails.
    """
    from bench.project.catalog.documents import render_document
    from bench.project.catalog.models import Book

    client = raw_client()
    client.indices.refresh(index=index_name())
    count = int(client.count(index=index_name())["count"])
    if count != rows:
        raise CheckFailed(f"the index holds {count} documents, not {rows}")
    step = max(1, rows // sample)
    pks = sorted({*range(1, rows + 1, step), rows})
    books = Book.objects.select_related("publisher").in_bulk(pks)
    found = fetch_documents(client, pks)
    for pk in pks:
        expected = json.loads(json.dumps(render_document(books[pk])))
        if found.get(pk) != expected:
            raise CheckFailed(f"document {pk} is {found.get(pk)!r}, expected {expected!r}")


# -- tasks --------------------------------------------------------------------


def task_prepare(task: dict[str, Any]) -> dict[str, Any]:
    """Load the data set of ``rows`` books unless the database holds it already."""
    from bench.data import ensure_dataset

    started = time.perf_counter()
    loaded = ensure_dataset(int(task["rows"]))
    return {"loaded": loaded, "seconds": time.perf_counter() - started}


def task_reindex(task: dict[str, Any]) -> dict[str, Any]:
    """Full reindex of every book: a library, the ORM alone, or the engine alone."""
    from bench.engine import current_rss, peak_rss
    from bench.project.catalog.documents import render_document

    rows = int(task["rows"])
    kind = task["kind"]  # "library", "orm" or "engine"
    result: dict[str, Any] = {"rows": rows}
    if kind == "orm":
        from bench.project.catalog.models import Book

        result["rss_start"] = current_rss()
        built = 0
        with measured(result):
            queryset = Book.objects.select_related("publisher").order_by("pk")
            for book in queryset.iterator(chunk_size=2_000):
                render_document(book)
                built += 1
        if built != rows:
            raise CheckFailed(f"the ORM read {built} books, not {rows}")
    elif kind == "engine":
        from bench.project.catalog.models import Book

        chunk, senders = int(task["chunk"]), int(task["senders"])
        result.update(chunk=chunk, senders=senders)
        create_index()
        queryset = Book.objects.select_related("publisher").order_by("pk")
        actions = [
            {"_index": "books", "_id": str(book.pk), "_source": render_document(book)}
            for book in queryset.iterator(chunk_size=2_000)
        ]
        client, helpers = raw_client(), bulk_helpers()
        result["rss_start"] = current_rss()
        with measured(result):
            if senders == 1:
                indexed, errors = helpers.bulk(client, actions, chunk_size=chunk)
            else:
                outcomes = list(
                    helpers.parallel_bulk(client, actions, thread_count=senders, chunk_size=chunk)
                )
                indexed = sum(1 for ok, _ in outcomes if ok)
                errors = [item for ok, item in outcomes if not ok]
        if indexed != rows or errors:
            raise CheckFailed(f"helpers indexed {indexed} of {rows}: {errors[:3]}")
        check_index(rows)
    else:
        parallel = int(task.get("parallel", 1))
        if parallel != 1:
            result["parallel"] = parallel
        create_index()
        result["rss_start"] = current_rss()
        with measured(result):
            load_index(rows, parallel)
        check_index(rows)
    result["peak_rss"] = peak_rss()
    result["docs_per_s"] = rows / result["seconds"]
    return result


def _save_all(books: list[Any], mode: str) -> None:
    from django.db import transaction

    if mode == "one":
        with transaction.atomic():
            for book in books:
                book.stock += 1
                book.save()
    else:
        for book in books:
            with transaction.atomic():
                book.stock += 1
                book.save()


def _wait_for_background() -> None:
    """With djangoes' QUEUE_SEND "background": let its thread finish before going on."""
    if library() == "djangoes":
        from djangoes.sync import wait_for_background

        if not wait_for_background(timeout=600):
            raise RuntimeError("djangoes' background sending did not finish in 10 minutes")


def task_autosync(task: dict[str, Any]) -> dict[str, Any]:
    """Saves of indexed books with auto-sync: ``saves`` in one transaction, ``each`` one each.

    Both are measured in one process (the order given by ``each_first``),
    after a warm-up; what djangoes' background sending does after the
    measured saves is waited for outside the measurement.
    """
    rows, saves, each = int(task["rows"]), int(task["saves"]), int(task["each"])
    model = book_model()
    if library() != "none":
        create_index()
        load_index(rows)
    books = list(model.objects.select_related("publisher").order_by("pk")[: max(saves, each)])
    _save_all(books[:20], "one")  # warm-up: first request, caches, prepared statements
    _save_all(books[20:40], "each")
    _wait_for_background()
    result: dict[str, Any] = {"saves": saves, "each": each}
    modes = [("one", books[:saves]), ("each", books[:each])]
    for mode, chosen in reversed(modes) if task.get("each_first") else modes:
        sample: dict[str, Any] = {}
        with measured(sample):
            _save_all(chosen, mode)
        _wait_for_background()  # what the request does not wait for is not its cost
        result[mode] = sample
    if library() != "none":
        _check_saved(books)
    return result


def _check_saved(books: list[Any]) -> None:
    """CheckFailed unless the engine's documents of the saved books equal their rows now."""
    from bench.project.catalog.documents import render_document

    client = raw_client()
    client.indices.refresh(index=index_name())
    found = fetch_documents(client, [book.pk for book in books])
    stale = [
        (book.pk, (found.get(book.pk) or {}).get("stock"), book.stock)
        for book in books
        if found.get(book.pk) != json.loads(json.dumps(render_document(book)))
    ]
    if stale:
        raise CheckFailed(
            f"{len(stale)} of {len(books)} saved books differ in the engine "
            f"(pk, engine's stock, database's): {stale[:5]}"
        )
    if library() == "djangoes":
        from djangoes.models import SyncQueueEntry

        left = SyncQueueEntry.objects.count()
        if left:
            raise CheckFailed(f"{left} operations are left in djangoes' sync queue")


def search_paths(rows: int) -> dict[str, Callable[[dict[str, Any]], list[int]]]:
    """Index the books with djangoes; the three ways of getting a page of 25 books."""
    from djangoes.models import execute_search

    model = book_model()
    create_index()
    load_index(rows)
    client = raw_client()

    def djangoes_path(body: dict[str, Any]) -> list[int]:
        search_query = execute_search("books", body, size=25)
        return [book.pk for book in model.objects.from_search_query(search_query)]

    def djangoes_nolog_path(body: dict[str, Any]) -> list[int]:
        search_query = execute_search("books", body, size=25, save=False)
        return [book.pk for book in model.objects.from_search_query(search_query)]

    def raw_path(body: dict[str, Any]) -> list[int]:
        hits = search_hits(client, "books", {"query": body["query"], "size": 25})
        ids = [int(hit["_id"]) for hit in hits]
        objects = model.objects.in_bulk(ids)  # one pk__in query
        return [objects[pk].pk for pk in ids if pk in objects]

    return {"djangoes": djangoes_path, "djangoes_nolog": djangoes_nolog_path, "raw": raw_path}


def search_bodies(count: int) -> list[dict[str, Any]]:
    from bench.data import search_terms

    return [
        {"query": {"multi_match": {"query": terms, "fields": ["title^2", "summary"]}}}
        for terms in search_terms(count)
    ]


def task_search(task: dict[str, Any]) -> dict[str, Any]:
    """A page of 25: djangoes' search path against the raw client and one ``pk__in`` query."""
    from djangoes.models import SearchQuery

    rows, count = int(task["rows"]), int(task["queries"])
    paths = search_paths(rows)
    bodies = search_bodies(count)
    logged_before = SearchQuery.objects.count()
    for body in bodies[:10]:  # warm-up
        for path in paths.values():
            path(body)
    times: dict[str, list[float]] = {name: [] for name in paths}
    hits = 0
    for i, body in enumerate(bodies):
        order = list(paths.items())
        order = order[i % len(order) :] + order[: i % len(order)]  # rotate who goes first
        answers: dict[str, list[int]] = {}
        for name, path in order:
            started = time.perf_counter()
            answers[name] = path(body)
            times[name].append(time.perf_counter() - started)
        if not (answers["djangoes"] == answers["raw"] == answers["djangoes_nolog"]):
            raise CheckFailed(f"the paths disagree for {body}: {answers}")
        hits += len(answers["raw"])
    if hits == 0:
        raise CheckFailed("no query found anything: the search scenario measures nothing")
    _check_logged(logged_before + 10 + count)
    return {"queries": count, "seconds": times, "mean_hits": hits / count}


def _check_logged(expected: int) -> None:
    """CheckFailed unless the query log holds a row for each logged search."""
    from djangoes.models import SearchQuery, flush_query_log

    if not flush_query_log(600):
        raise CheckFailed("the query log was not written within 10 minutes")
    logged = SearchQuery.objects.count()
    if logged != expected:
        raise CheckFailed(f"the query log holds {logged} rows, not {expected}")


def task_profile(task: dict[str, Any]) -> dict[str, Any]:
    """cProfile of djangoes' reindex or auto-sync; returns time by component."""
    import cProfile
    import pstats

    from bench.profiling import summarise

    rows, what = int(task["rows"]), task["what"]
    model = book_model()
    profiler = cProfile.Profile()
    result: dict[str, Any] = {"what": what, "rows": rows}
    if what == "search":
        paths = search_paths(rows)
        bodies = search_bodies(int(task["queries"]))
        for body in bodies[:10]:
            paths["djangoes"](body)
        with measured(result):
            profiler.enable()
            for body in bodies:
                paths["djangoes"](body)
            profiler.disable()
        result.update(summarise(pstats.Stats(profiler)))
        return result
    create_index()
    if what == "reindex":
        with measured(result):
            profiler.enable()
            load_index(rows)
            profiler.disable()
        check_index(rows)
    else:
        load_index(rows)
        books = list(model.objects.select_related("publisher").order_by("pk")[: task["saves"]])
        _save_all(books[:20], "one")
        _wait_for_background()
        with measured(result):
            profiler.enable()
            _save_all(books, task["mode"])
            profiler.disable()
        _wait_for_background()  # as the saves scenario: checked once sent
        _check_saved(books)
    result.update(summarise(pstats.Stats(profiler)))
    return result


TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "prepare": task_prepare,
    "reindex": task_reindex,
    "autosync": task_autosync,
    "search": task_search,
    "profile": task_profile,
}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    task = json.loads(argv[0])
    setup_django()
    result = TASKS[task["task"]](task)
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
