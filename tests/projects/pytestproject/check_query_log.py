"""Query log rows of a test's searches never land in the next test's tables.

Run with ``PYTESTPROJECT_DB`` naming an SQLite file, which the query log's
thread shares (an in-memory database gets its rows written at once). Each
first test leaves its row to the thread a second late; each second test
waits that second out and expects empty tables: the plugin and the test
cases must have written the row before the database was flushed.
"""

# ruff: noqa: PT009  (Django test cases: unittest assertions)

import time

import pytest

from djangoes.models import SearchQuery, execute_search
from djangoes.search import logwriter
from djangoes.test.testcases import TransactionTestCase

#: Longer than a transactional test's flush: a row left to the thread is written after it.
LATE = 1.0


def search_logged_late():
    logwriter.GATHER_SECONDS = LATE
    execute_search("articles", {"query": {"match_all": {}}}, search_terms="late")


@pytest.mark.django_db(transaction=True)
def test_1_a_search_in_a_transactional_test(es_indices):
    search_logged_late()


@pytest.mark.django_db(transaction=True)
def test_2_the_next_test_starts_with_empty_tables():
    time.sleep(LATE + 0.5)
    assert list(SearchQuery.objects.values_list("search_terms", flat=True)) == []


class QueryLogTests(TransactionTestCase):
    es_connections = ["default"]

    def test_1_a_search_in_a_transaction_test_case(self):
        search_logged_late()

    def test_2_the_next_test_starts_with_empty_tables(self):
        time.sleep(LATE + 0.5)
        self.assertEqual(list(SearchQuery.objects.values_list("search_terms", flat=True)), [])
