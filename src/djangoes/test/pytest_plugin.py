"""pytest fixtures for projects using djangoes (with pytest-django).

pytest loads this plugin automatically once djangoes is installed. When
plugin autoloading is disabled (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``), load it
with ``-p djangoes.test.pytest_plugin`` (and only then: with autoloading on,
``-p`` would register it twice, which pytest refuses).

Fixtures
--------

``djangoes_test_names`` (session, autouse)
    When Django's settings are configured (pytest-django does it) and
    ``djangoes`` is in ``INSTALLED_APPS``, every connection uses its test
    index names for the whole session, like under
    ``djangoes.test.runner.DiscoverRunner``: ``test_<name>`` by default,
    plus ``_gw0``, ``_gw1``... in pytest-xdist workers, and any request to a
    live index name raises
    :class:`~djangoes.exceptions.LiveIndexAccessError`. Returns the test
    names in effect (their ``suffix``), or ``None`` when the project does
    not use djangoes, in which case it does nothing at all. To turn the
    switch off, override the fixture in ``conftest.py``::

        @pytest.fixture(scope="session")
        def djangoes_test_names():
            return None

``es_indices``
    Creates the test indices of every connection, each with its
    ``SETTINGS`` and test ``ALIASES``, before the test, and deletes them after
    it (see :func:`djangoes.test.utils.temporary_test_indices`). Returns the
    list of index names created. Switches to test names for the test if they
    are not in use yet.

``es_connection``
    The ``default`` connection, with its test indices created (uses
    ``es_indices``).

To create the indices of some connections only, write a fixture of your own
with :func:`djangoes.test.utils.temporary_test_indices`::

    @pytest.fixture
    def blog_indices(djangoes_test_names):
        with ensure_test_names(), temporary_test_indices(["blog"]) as names:
            yield names

After each test, before pytest-django rolls back or flushes the database,
the query log rows of the test's searches still waiting for the log's thread
are written (:func:`djangoes.test.utils.write_pending_query_log`), so that
none lands in the next test's tables.

Nothing here runs at import: settings are read when the first fixture runs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from djangoes.backends.abstracts import Base
    from djangoes.handler import TestNames

__all__ = ["djangoes_test_names", "es_connection", "es_indices"]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Write the test's waiting query log rows before its fixtures (the database's) end."""
    if "djangoes.search.logwriter" in sys.modules:  # else no search was logged
        from djangoes.test.utils import write_pending_query_log

        write_pending_query_log()


def _project_uses_djangoes() -> bool:
    """Whether Django is set up with djangoes installed (without configuring anything)."""
    from django.apps import apps
    from django.conf import settings

    if not settings.configured:
        # Reading settings now would import a settings module on our own
        # initiative (or fail): not this plugin's business.
        return False
    if apps.ready:
        return apps.is_installed("djangoes")
    installed = getattr(settings, "INSTALLED_APPS", ())
    return any(entry == "djangoes" or entry.startswith("djangoes.") for entry in installed)


@pytest.fixture(scope="session", autouse=True)
def djangoes_test_names() -> Iterator[TestNames | None]:
    """Test index names for the whole session when the project uses djangoes (else no-op)."""
    if not _project_uses_djangoes():
        yield None
        return
    from djangoes import connections
    from djangoes.test.utils import setup_djangoes, teardown_djangoes

    previous = setup_djangoes()
    try:
        yield connections.test_names
    finally:
        teardown_djangoes(previous)


@pytest.fixture
def es_indices(djangoes_test_names: TestNames | None) -> Iterator[list[str]]:
    """The test indices of every connection, created for this test and deleted after it."""
    from djangoes.test.utils import ensure_test_names, temporary_test_indices

    with ensure_test_names(), temporary_test_indices() as names:
        yield names


@pytest.fixture
def es_connection(es_indices: list[str]) -> Base:
    """The ``default`` connection, its test indices created for this test."""
    from djangoes import DEFAULT_ES_ALIAS, connections

    return connections[DEFAULT_ES_ALIAS]
