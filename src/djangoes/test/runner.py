"""A test runner for Django projects using djangoes.

In the project's settings::

    TEST_RUNNER = "djangoes.test.runner.DiscoverRunner"

For the whole run, every connection uses the ``TEST`` names of its indices
(see :func:`djangoes.test.utils.setup_djangoes`) and refuses requests to live
index names. With ``manage.py test --parallel N`` each worker process gets its
own names (``test_blog_1``, ``test_blog_2``...), the way Django gives each
worker its own database.

The runner does not create indices: the test cases of
:mod:`djangoes.test.testcases` create them around each test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.test import runner as django_runner

from djangoes.test.utils import setup_djangoes, teardown_djangoes, worker_suffix

if TYPE_CHECKING:
    from djangoes.handler import TestNames

__all__ = ["DiscoverRunner", "ParallelTestSuite"]


def _init_worker(*args: Any, **kwargs: Any) -> None:
    """Set up one ``--parallel`` worker process: Django's set-up, then its own test names.

    A module-level function because multiprocessing pickles the initializer
    by reference. Arguments are passed through untouched: they are Django's
    own and differ between its versions.
    """
    django_runner.ParallelTestSuite.init_worker(*args, **kwargs)
    # A forked worker inherited the parent's names, a spawned one has none:
    # the names of this worker (worker_suffix() numbers the worker processes).
    setup_djangoes(worker_suffix())


class ParallelTestSuite(django_runner.ParallelTestSuite):
    """Django's parallel suite, with test index names of their own in each worker.

    ``init_worker`` is the worker initializer Django's ``ParallelTestSuite``
    keeps as a class attribute for subclasses to replace.
    """

    init_worker = _init_worker


class DiscoverRunner(django_runner.DiscoverRunner):
    """Django's ``DiscoverRunner`` that runs the tests on the test indices.

    Switches all connections to their test names in
    :meth:`setup_test_environment` and back to the live names in
    :meth:`teardown_test_environment`.
    """

    parallel_test_suite = ParallelTestSuite

    #: The names in use before :meth:`setup_test_environment`, while it is in effect.
    _djangoes_previous: tuple[TestNames | None] | None = None

    def setup_test_environment(self, **kwargs: Any) -> None:
        """Django's test environment, then test index names for every connection."""
        super().setup_test_environment(**kwargs)
        self._djangoes_previous = (setup_djangoes(),)

    def teardown_test_environment(self, **kwargs: Any) -> None:
        """Back to the names in use before the run, then Django's teardown."""
        try:
            if self._djangoes_previous is not None:
                teardown_djangoes(self._djangoes_previous[0])
                self._djangoes_previous = None
        finally:
            super().teardown_test_environment(**kwargs)
