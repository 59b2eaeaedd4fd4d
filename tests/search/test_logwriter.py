"""The query log written off the request path: in batches, in transactions, none lost."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from djangoes.models import SearchQuery, execute_count, execute_search, flush_query_log
from djangoes.sync.queue import threads_share
from djangoes.test.utils import write_pending_query_log
from tests.databases import locked_elsewhere
from tests.queue.test_command import Project
from tests.testapp.models import Post

MATCH_DJANGO = {"query": {"match": {"body": "django"}}}


@pytest.fixture
def writer_thread() -> None:
    """Rows of searches in autocommit mode go to the writer thread (a database threads share)."""
    if not threads_share("default"):
        pytest.skip("an in-memory SQLite database gets its rows at once (see the postgres lane)")


@pytest.mark.django_db(transaction=True)
def test_an_in_memory_sqlite_database_gets_its_rows_at_once(posts: list[Post]) -> None:
    """Threads cannot share an in-memory SQLite database (another connection would lock its
    tables): the search writes its row itself, before it returns."""
    if threads_share("default"):
        pytest.skip("the database is shared between threads: the writer thread writes the rows")
    execute_search("blog", MATCH_DJANGO, search_terms="at once")
    assert SearchQuery.objects.filter(search_terms="at once").exists()  # no flush needed


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("writer_thread")
def test_searches_in_autocommit_are_all_written_by_the_thread(posts: list[Post], user: Any) -> None:
    """Three threads searching at once: every row is written, with its pk and its contents."""
    logged: list[SearchQuery] = []
    lock = threading.Lock()

    def search(worker: int) -> None:
        for i in range(10):
            sq = execute_search("blog", MATCH_DJANGO, user=user, search_terms=f"w{worker} {i}")
            count = execute_count("blog", MATCH_DJANGO, search_terms=f"count w{worker} {i}")
            with lock:
                logged.extend((sq, count))

    threads = [threading.Thread(target=search, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert flush_query_log(30)
    assert len(logged) == 60
    assert all(sq.pk is not None for sq in logged)  # bulk_create gave them their keys
    stored = {row.pk: row for row in SearchQuery.objects.all()}
    assert set(stored) == {sq.pk for sq in logged}
    for sq in logged:
        row = stored[sq.pk]
        assert (row.search_terms, row.total_hits, row.query_type, row.hits) == (
            sq.search_terms, sq.total_hits, sq.query_type, sq.hits,
        )  # fmt: skip
        assert row.user_id == (user.pk if sq.query_type == "SEARCH" else None)


@pytest.mark.django_db(transaction=True)
def test_a_search_in_a_transaction_is_written_in_it(posts: list[Post]) -> None:
    with transaction.atomic():
        sq = execute_search("blog", MATCH_DJANGO, search_terms="kept")
        assert sq.pk is not None  # saved at once, in this transaction
    assert SearchQuery.objects.filter(pk=sq.pk).exists()

    with pytest.raises(RuntimeError), transaction.atomic():
        rolled_back = execute_search("blog", MATCH_DJANGO, search_terms="rolled back")
        raise RuntimeError("the view failed")
    assert not SearchQuery.objects.filter(pk=rolled_back.pk).exists()  # with the rest


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("writer_thread")
def test_a_row_the_database_refuses_costs_only_itself(
    posts: list[Post], user: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A batch with a row that cannot be written (a user that does not exist) goes row by row."""
    ghost = type(user)(pk=user.pk + 1000, username="ghost")  # never saved: the key points nowhere
    before = execute_search("blog", MATCH_DJANGO, search_terms="before")
    refused = execute_search("blog", MATCH_DJANGO, user=ghost, search_terms="refused")
    after = execute_search("blog", MATCH_DJANGO, search_terms="after")
    assert flush_query_log(30)
    terms = set(SearchQuery.objects.values_list("search_terms", flat=True))
    assert terms == {"before", "after"}
    assert before.pk is not None
    assert after.pk is not None
    assert refused.pk is None
    assert "could not be written (search terms 'refused')" in caplog.text


PENDING_AT_EXIT = """
from djangoes.models import execute_search
for i in range(25):
    execute_search("blog", {"query": {"match_all": {}}}, search_terms=f"exit {i}")
"""

COUNT = """
from djangoes.models import SearchQuery
print(SearchQuery.objects.filter(search_terms__startswith="exit ").count())
"""


def test_rows_still_waiting_are_written_when_the_process_exits(
    tmp_path: Path, engine_url: str
) -> None:
    """A script that searches and ends at once (no flush) leaves every row in the log."""
    project = Project(tmp_path, engine_url)
    project.setup()
    done = project.run("shell", "-c", PENDING_AT_EXIT)
    assert done.returncode == 0, done.stderr
    counted = project.run("shell", "-c", COUNT)
    assert counted.returncode == 0, counted.stderr
    assert counted.stdout.split()[-1] == "25"  # after the shell's list of imported names


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_reading_pk_right_after_a_search_writes_the_row_first(posts: list[Post]) -> None:
    """elasticsearch-django's ``sq = execute_search(...); SearchQuery.objects.get(pk=sq.pk)``."""
    sq = execute_search("blog", MATCH_DJANGO, search_terms="at once")
    assert SearchQuery.objects.get(pk=sq.pk).search_terms == "at once"
    again = execute_search("blog", MATCH_DJANGO, search_terms="then saved")
    again.save(reference="page-2")  # not a second row: the waiting one, updated
    assert flush_query_log(30)
    rows = SearchQuery.objects.filter(search_terms="then saved")
    assert [(row.pk, row.reference) for row in rows] == [(again.pk, "page-2")]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("writer_thread")
def test_a_tests_rows_not_written_in_time_are_an_error(posts: list[Post]) -> None:
    """What a test's end does (``write_pending_query_log``) when the table stays locked.

    Another connection holds the log's table locked, so the thread's INSERT waits:
    the wait is refused with a message, and the row is written once the lock goes.
    """
    table = connection.ops.quote_name(SearchQuery._meta.db_table)

    def lock_the_table() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")

    with locked_elsewhere(lock_the_table, timeout=30):
        sq = execute_search("blog", MATCH_DJANGO, search_terms="locked out")
        with pytest.raises(RuntimeError, match=r"not written within 0\.5 s"):
            write_pending_query_log(timeout=0.5)
    assert flush_query_log(30)
    assert SearchQuery.objects.get(pk=sq.pk).search_terms == "locked out"
