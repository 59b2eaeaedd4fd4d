"""``djangoes.test.testcases``: Django test cases run in-process by unittest on a real engine.

Each test here builds a small test case class, runs it with unittest's own
machinery (class set-up, Django's per-test hooks, cleanups) and checks, over
plain HTTP, what the engine held during and after the run.
"""

from __future__ import annotations

import unittest
from collections.abc import Iterator
from typing import Any

import pytest
from django.test.signals import setting_changed

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


@pytest.mark.parametrize("base", CASES, ids=lambda case: case.__name__)
def test_a_skipped_class_leaves_nothing_behind(base: type[Any], raw_engine: RawEngine) -> None:
    """unittest runs no setUpClass for a skipped class, but still calls its tests."""

    @unittest.skip("on purpose")
    class SearchTests(base):  # type: ignore[misc,valid-type]
        databases: set[str] = set()

        def test_skipped(self) -> None:
            raise AssertionError("never runs")

    result = run(SearchTests)
    assert len(result.skipped) == 1
    assert result.wasSuccessful(), problems(result)
    assert raw_engine.index_names() == []
    assert connections.test_names is None


# -- before Django's database set-up, after its teardown ---------------------------


@pytest.fixture
def indices_at_django_setup(raw_engine: RawEngine) -> Iterator[list[tuple[str, list[str]]]]:
    """What the engine held each time Django set up or tore down a test's ``available_apps``.

    TransactionTestCase's per-test database set-up (``available_apps``) sends
    ``setting_changed`` for INSTALLED_APPS on entering and on leaving.
    """
    seen: list[tuple[str, list[str]]] = []

    def receiver(*, setting: str, enter: bool, **kwargs: Any) -> None:
        if setting == "INSTALLED_APPS":
            seen.append(("set-up" if enter else "teardown", raw_engine.index_names()))

    setting_changed.connect(receiver)
    try:
        yield seen
    finally:
        setting_changed.disconnect(receiver)


def test_indices_exist_during_django_database_setup_and_teardown_of_each_test(
    indices_at_django_setup: list[tuple[str, list[str]]], raw_engine: RawEngine
) -> None:
    """Django sets up the first test's database in setUpClass, the others' per test."""

    class SearchTests(testcases.TransactionTestCase):
        databases: set[str] = set()
        available_apps = ["djangoes", "tests.testapp"]

        def test_one(self) -> None:
            pass

        def test_two(self) -> None:
            pass

    result = run(SearchTests)

    assert result.wasSuccessful(), problems(result)
    phases = ["set-up", "teardown", "set-up", "teardown"]
    assert indices_at_django_setup == [(phase, ALL_TEST_INDICES) for phase in phases]
    assert raw_engine.index_names() == []


def test_set_up_test_data_runs_on_the_first_tests_indices(raw_engine: RawEngine) -> None:
    seen: list[tuple[list[str], int]] = []

    class SearchTests(testcases.TestCase):
        databases: set[str] = set()

        @classmethod
        def setUpTestData(cls) -> None:
            seen.append((raw_engine.index_names(), -1))
            connection.index(id="1", document={"title": "indexed in setUpTestData"})
            connection.refresh()

        def test_one(self) -> None:
            seen.append((raw_engine.index_names(), connection.count()["count"]))

        def test_two(self) -> None:
            seen.append((raw_engine.index_names(), connection.count()["count"]))

    result = run(SearchTests)

    assert result.wasSuccessful(), problems(result)
    # As docs/testing.md says: the document is there for the first test only.
    assert seen == [(ALL_TEST_INDICES, -1), (ALL_TEST_INDICES, 1), (ALL_TEST_INDICES, 0)]
    assert raw_engine.index_names() == []


# -- errors of the indices ---------------------------------------------------------

#: 'shop' of conftest.configure (same names) with a mapping the engine rejects.
BROKEN_SHOP = {
    "ALIASES": ["shop_public"],
    "TEST": {"NAME": "shop_under_test", "ALIASES": ["shop_test_alias"]},
    "SETTINGS": {"mappings": {"properties": {"x": {"type": "no_such_type"}}}},
}


def test_indices_that_cannot_be_created_fail_the_class(
    settings: Any, raw_engine: RawEngine
) -> None:
    ran: list[str] = []
    settings.ES_INDICES = {**settings.ES_INDICES, "shop": BROKEN_SHOP}

    class SearchTests(testcases.SimpleTestCase):
        def test_never_runs(self) -> None:
            ran.append("test")

    result = run(SearchTests)

    assert ran == []
    assert "no_such_type" in problems(result)
    assert raw_engine.index_names() == []
    assert connections.test_names is None


def test_indices_that_cannot_be_created_for_a_later_test_fail_that_test(
    settings: Any, raw_engine: RawEngine
) -> None:
    ran: list[str] = []

    class SearchTests(testcases.SimpleTestCase):
        def test_1_breaks_the_settings(self) -> None:
            ran.append("first")
            settings.ES_INDICES = {**settings.ES_INDICES, "shop": BROKEN_SHOP}

        def test_2_never_runs(self) -> None:
            ran.append("second")

    result = run(SearchTests)

    assert ran == ["first"]
    assert result.testsRun == 1  # the second test was reported, never started
    [(test, text)] = result.errors
    assert test.id().endswith("test_2_never_runs")
    assert "no_such_type" in text
    assert raw_engine.index_names() == []
    assert connections.test_names is None


def test_debug_runs_a_test_on_fresh_indices_and_raises(raw_engine: RawEngine) -> None:
    seen: list[list[str]] = []

    class SearchTests(testcases.SimpleTestCase):
        def test_fails(self) -> None:
            seen.append(raw_engine.index_names())
            raise RuntimeError("on purpose")

    test = SearchTests("test_fails")
    with pytest.raises(RuntimeError, match="on purpose"):
        test.debug()

    assert seen == [ALL_TEST_INDICES]
    assert raw_engine.index_names() == []
    assert connections.test_names is None
