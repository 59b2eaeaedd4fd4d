"""Django test cases that run each test on freshly created test indices.

Instead of::

    from django.test import TestCase

write::

    from djangoes.test.testcases import TestCase

and the same for ``SimpleTestCase`` and ``TransactionTestCase``. Before each
test, the test indices of every connection are created with their
``SETTINGS`` and test ``ALIASES``; after it, they are deleted, so each test
starts from empty indices. They are created before Django sets up the
database for the test (fixtures, ``available_apps``, ``setUpTestData``) and
deleted after Django's teardown: for the first test of a class in
``setUpClass``, before Django's class set-up (which may already set up that
test's database), for the others when the test is called, before Django's own
set-up. A ``setUp`` that does not call ``super()`` changes nothing.

The test cases switch the connections to their test names for the class when
no one has done it yet (a project whose ``TEST_RUNNER`` is not djangoes', a
test run by pytest without the plugin), and switch back afterwards. Under
``manage.py test --parallel`` they then use the worker's own names too.

``es_connections`` limits which connections get indices (default: all)::

    class SearchTests(TestCase):
        es_connections = ["default"]

Documents indexed in ``setUpTestData`` do not survive the first test: the
indices are recreated for every test. Index them in ``setUp`` (or in the test).
"""

from __future__ import annotations

import sys
import unittest
import weakref
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, ClassVar

from django.test import testcases as django_testcases

from djangoes.test.utils import (
    AllConnections,
    create_test_indices,
    delete_test_indices,
    ensure_test_names,
    write_pending_query_log,
)

__all__ = ["DjangoesTestMixin", "SimpleTestCase", "TestCase", "TransactionTestCase"]

if TYPE_CHECKING:
    _MixinBase = django_testcases.SimpleTestCase
else:
    _MixinBase = object

#: Test case classes whose set-up created the indices for their next test.
_INDICES_READY: weakref.WeakSet[type] = weakref.WeakSet()


class DjangoesTestMixin(_MixinBase):
    """Test indices around each test of a Django test case (put it first in the bases).

    ``es_connections`` names the connections whose test indices are created,
    or ``"__all__"`` (the default) for every configured connection.
    """

    es_connections: ClassVar[Collection[str] | AllConnections] = "__all__"

    @classmethod
    def setUpClass(cls) -> None:
        """Test names if nobody switched, the first test's indices, then Django's set-up."""
        names = ensure_test_names()
        names.__enter__()
        # Class cleanups run last-in first-out, also when setUpClass fails half-way.
        cls.addClassCleanup(names.__exit__, None, None, None)
        # Whatever happens to the tests (all skipped, a failing class set-up).
        cls.addClassCleanup(delete_test_indices, cls.es_connections)
        cls.addClassCleanup(_INDICES_READY.discard, cls)
        # Django's class set-up may set up the database of the first test
        # (TransactionTestCase does; setUpTestData may index): its indices first.
        _INDICES_READY.discard(cls)
        create_test_indices(cls.es_connections)
        _INDICES_READY.add(cls)
        super().setUpClass()

    def __call__(self, result: unittest.TestResult | None = None) -> None:
        """Fresh test indices around the whole test, Django's set-up and teardown included."""
        self._djangoes_around(lambda: super(DjangoesTestMixin, self).__call__(result), result)

    def debug(self) -> None:
        """As :meth:`__call__`, without catching the errors (unittest's ``debug()``)."""
        self._djangoes_around(super().debug, None)

    def _djangoes_around(self, run: Callable[[], None], result: unittest.TestResult | None) -> None:
        """``run()`` the test on fresh indices; errors of ours go to ``result`` as Django's do."""
        aliases = self.es_connections

        # The class's names when setUpClass ran; else (a skipped class, a test
        # called on its own) test names for this test.
        def prepare() -> None:
            if type(self) in _INDICES_READY:
                _INDICES_READY.discard(type(self))
            else:
                create_test_indices(aliases)  # undoes a partial set when it fails

        with ensure_test_names():
            if not self._djangoes_reported(prepare, result):
                return
            # runs with the test's own cleanups: before Django rolls back or flushes the database
            self.addCleanup(write_pending_query_log)
            try:
                run()
            finally:
                self._djangoes_reported(lambda: delete_test_indices(aliases), result)

    def _djangoes_reported(
        self, step: Callable[[], object], result: unittest.TestResult | None
    ) -> bool:
        """Run ``step``; its error goes to ``result`` (raised without one). False if it failed."""
        try:
            step()
        except Exception:
            if result is None:
                raise
            result.addError(self, sys.exc_info())
            return False
        return True


class SimpleTestCase(DjangoesTestMixin, django_testcases.SimpleTestCase):
    """Django's ``SimpleTestCase`` with fresh test indices for each test."""


class TransactionTestCase(DjangoesTestMixin, django_testcases.TransactionTestCase):
    """Django's ``TransactionTestCase`` with fresh test indices for each test."""


class TestCase(DjangoesTestMixin, django_testcases.TestCase):
    """Django's ``TestCase`` with fresh test indices for each test."""
