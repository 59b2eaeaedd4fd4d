"""Django test cases that run each test on freshly created test indices.

Instead of::

    from django.test import TestCase

write::

    from djangoes.test.testcases import TestCase

and the same for ``SimpleTestCase`` and ``TransactionTestCase``. Before each
test, the test indices of every connection are created with their
``SETTINGS`` and test ``ALIASES``; after it, they are deleted, so each test
starts from empty indices. This happens in Django's own per-test hooks, not in
``setUp``/``tearDown``: a ``setUp`` that does not call ``super()`` changes
nothing.

The test cases switch the connections to their test names for the class when
no one has done it yet (a project whose ``TEST_RUNNER`` is not djangoes', a
test run by pytest without the plugin), and switch back afterwards. Under
``manage.py test --parallel`` they then use the worker's own names too.

``es_connections`` limits which connections get indices (default: all)::

    class SearchTests(TestCase):
        es_connections = ["default"]

Documents indexed in ``setUpTestData`` do not survive: the indices are
recreated for every test. Index them in ``setUp`` (or in the test).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any, ClassVar

from django.test import testcases as django_testcases

from djangoes.test.utils import (
    AllConnections,
    create_test_indices,
    delete_test_indices,
    ensure_test_names,
)

__all__ = ["DjangoesTestMixin", "SimpleTestCase", "TestCase", "TransactionTestCase"]

if TYPE_CHECKING:
    _MixinBase = django_testcases.SimpleTestCase
else:
    _MixinBase = object


def _create_indices_then_pre_setup(target: Any) -> None:
    """Create the test indices, then run Django's pre-setup (``target``: class or instance)."""
    cls: type[DjangoesTestMixin] = target if isinstance(target, type) else type(target)
    create_test_indices(cls.es_connections)
    try:
        super(DjangoesTestMixin, target)._pre_setup()
    except BaseException:
        # Django skips _post_teardown when _pre_setup fails: clean up here.
        delete_test_indices(cls.es_connections)
        raise


class DjangoesTestMixin(_MixinBase):
    """Test indices around each test of a Django test case (put it first in the bases).

    ``es_connections`` names the connections whose test indices are created,
    or ``"__all__"`` (the default) for every configured connection.
    """

    es_connections: ClassVar[Collection[str] | AllConnections] = "__all__"

    @classmethod
    def setUpClass(cls) -> None:
        """Switch to test names if nobody has (undone after the class), then Django's set-up."""
        names = ensure_test_names()
        names.__enter__()
        # Class cleanups run last-in first-out, also when setUpClass fails half-way.
        cls.addClassCleanup(names.__exit__, None, None, None)
        # Django 5.2 runs a TransactionTestCase's first _pre_setup in
        # setUpClass; when that test is then skipped, or setUpClass fails
        # after it, no _post_teardown deletes what it created.
        cls.addClassCleanup(delete_test_indices, cls.es_connections)
        super().setUpClass()

    # A classmethod like Django's (TransactionTestCase also calls it from setUpClass).
    _pre_setup: Any = classmethod(_create_indices_then_pre_setup)

    def _post_teardown(self) -> None:
        """Django's post-teardown, then delete the test indices (whatever happened)."""
        # Not in django-stubs (a private hook), hence the untyped access.
        django_post_teardown: Any = super()._post_teardown  # type: ignore[misc]
        try:
            django_post_teardown()
        finally:
            delete_test_indices(self.es_connections)


class SimpleTestCase(DjangoesTestMixin, django_testcases.SimpleTestCase):
    """Django's ``SimpleTestCase`` with fresh test indices for each test."""


class TransactionTestCase(DjangoesTestMixin, django_testcases.TransactionTestCase):
    """Django's ``TransactionTestCase`` with fresh test indices for each test."""


class TestCase(DjangoesTestMixin, django_testcases.TestCase):
    """Django's ``TestCase`` with fresh test indices for each test."""
