"""djangoes 0.3's test case mixin: create and delete the test indices by hand.

djangoes' test cases (:mod:`djangoes.test.testcases`) do this around each
test; the mixin is for a test class of your own that calls it itself::

    class SearchTests(ElasticSearchTestMixin, LiveServerTestCase):
        def setUp(self):
            self.create_connections_indices()

        def tearDown(self):
            self.delete_connections_indices()

Indices are created and deleted as :func:`djangoes.test.utils.create_test_indices`
and :func:`~djangoes.test.utils.delete_test_indices` do it: only under test
names (``TestModeRequired`` otherwise, where 0.3 acted on whatever names the
connections had, live ones included), with their mapping files, SETTINGS
and test ALIASES, an index shared by several connections once.
"""

from __future__ import annotations

from djangoes.backends.abstracts import Base
from djangoes.test.utils import create_test_indices, delete_test_indices

__all__ = ["ElasticSearchTestMixin"]


class ElasticSearchTestMixin:
    """Methods creating and deleting the test indices of the connections."""

    @classmethod
    def create_connections_indices(cls) -> list[str]:
        """Create the test indices of every configured connection; their names."""
        return create_test_indices()

    @classmethod
    def delete_connections_indices(cls) -> list[str]:
        """Delete the test indices of every configured connection; the physical names."""
        return delete_test_indices()

    @classmethod
    def create_connection_indices(cls, conn: Base) -> list[str]:
        """Create the test indices of ``conn`` (a connection of ``djangoes.connections``)."""
        return create_test_indices([conn.alias])

    @classmethod
    def delete_connection_indices(cls, conn: Base) -> list[str]:
        """Delete the test indices of ``conn``; the physical names deleted."""
        return delete_test_indices([conn.alias])
