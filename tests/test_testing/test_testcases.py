"""``djangoes.test.testcases``: Django test cases run in-process by unittest on a real engine.

Each test here builds a small test case class, runs it with unittest's own
machinery (class set-up, Django's per-test hooks, cleanups) and checks, over
plain HTTP, what the engine held during and after the run.
"""

from __future__ import annotations

import unittest
from typing import Any

import pytest

from djangoes import connection, connections
from djangoes.test import testcases
from djangoes.test.utils import ensure_test_names

from .conftest import RawEngine

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("blog_settings", "single_process")]

CASES = [testcases.SimpleTestCase, testcases.TransactionTestCase, testcases.TestCase]
ALL_TEST_INDICES = ["shop_under_test", "test_blog_v1"]


def run(case: type[unittest.TestCase]) -> unittest.TestResult:
    """Run every test of ``case`` as a runner would (class fixtures included)."""
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(case).run(result)
    return result


def problems(result: unittest.TestResult) -> str:
    return "\n".join(text for _, text in result.errors + result.failures)


@pytest.mark.parametrize("base", CASES, ids=lambda case: case.__name__)
def test_each_test_gets_fresh_test_indices_whatever_setup_does(
    base: type[Any], raw_engine: RawEngine
) -> None:
    seen: list[dict[str, Any]] = []

    class SearchTests(base):  # type: ignore[misc,valid-type]
        databases: set[str] = set()

        def setUp(self) -> None:
            # Deliberately no super().setUp(): the indices must not depend on it.
            self.in_setup = raw_engine.index_names()

        def look(self) -> None:
            seen.append(
                {
                    "in_setup": self.in_setup,
                    "in_test": raw_engine.index_names(),
                    "names": connection.index_names,
                    "documents": connection.count()["count"],
                }
            )
            connection.index(id="1", document={"title": "written by one test"})

        def test_one(self) -> None:
            self.look()

        def test_two(self) -> None:
            self.look()

    result = run(SearchTests)

    assert result.wasSuccessful(), problems(result)
    assert result.testsRun == 2
    expected = {
        "in_setup": ALL_TEST_INDICES,
        "in_test": ALL_TEST_INDICES,
        "names": ["test_blog_v1"],
        "documents": 0,  # the other test's document is gone
    }
    assert seen == [expected, expected]
    assert raw_engine.index_names() == []
    # The case switched to test names itself, and back.
    assert connections.test_names is None


@pytest.mark.parametrize("base", CASES, ids=lambda case: case.__name__)
def test_names_already_in_use_are_kept(base: type[Any], raw_engine: RawEngine) -> None:
    seen: list[list[str]] = []

    class SearchTests(base):  # type: ignore[misc,valid-type]
        databases: set[str] = set()

        def test_names(self) -> None:
            seen.append(raw_engine.index_names())

    with ensure_test_names("_outer"):
        result = run(SearchTests)
        assert result.wasSuccessful(), problems(result)
        assert connections.test_names is not None
        assert connections.test_names.suffix == "_outer"
    assert seen == [["shop_under_test_outer", "test_blog_v1_outer"]]
    assert raw_engine.index_names() == []


def test_es_connections_limits_the_indices_created(raw_engine: RawEngine) -> None:
    seen: list[list[str]] = []

    class SearchTests(testcases.SimpleTestCase):
        es_connections = ["default"]

        def test_names(self) -> None:
            seen.append(raw_engine.index_names())

    result = run(SearchTests)
    assert result.wasSuccessful(), problems(result)
    assert seen == [["test_blog_v1"]]


def test_indices_are_deleted_after_a_failing_test(raw_engine: RawEngine) -> None:
    class SearchTests(testcases.SimpleTestCase):
        def test_fails(self) -> None:
            connection.index(id="1", document={"title": "half-way"})
            self.fail("on purpose")

        def test_errors(self) -> None:
            raise RuntimeError("on purpose")

    result = run(SearchTests)
    assert len(result.failures) == 1
    assert len(result.errors) == 1
    assert raw_engine.index_names() == []
    assert connections.test_names is None


def test_indices_are_deleted_when_django_pre_setup_fails(raw_engine: RawEngine) -> None:
    ran: list[str] = []

    class SearchTests(testcases.TransactionTestCase):
        databases: set[str] = set()
        available_apps = ["no.such.app"]  # makes Django's own _pre_setup fail

        def test_never_runs(self) -> None:
            ran.append("test")

    result = run(SearchTests)
    assert ran == []
    assert "no.such.app" in problems(result)
    assert raw_engine.index_names() == []
    assert connections.test_names is None


@pytest.mark.parametrize("base", CASES, ids=lambda case: case.__name__)
def test_indices_are_deleted_when_every_test_is_skipped(
    base: type[Any], raw_engine: RawEngine
) -> None:
    class SearchTests(base):  # type: ignore[misc,valid-type]
        databases: set[str] = set()

        @unittest.skip("on purpose")
        def test_skipped(self) -> None:
            raise AssertionError("never runs")

    result = run(SearchTests)
    assert len(result.skipped) == 1
    assert result.wasSuccessful(), problems(result)
    assert raw_engine.index_names() == []
    assert connections.test_names is None
