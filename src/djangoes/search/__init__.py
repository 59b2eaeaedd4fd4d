"""Searching: the query log, running searches, and hits back to Django objects.

* :mod:`djangoes.search.models` - :class:`~djangoes.search.models.SearchQuery`,
  the query log (re-exported by :mod:`djangoes.models`);
* :mod:`djangoes.search.execute` - :func:`~djangoes.search.execute.execute_search`
  and :func:`~djangoes.search.execute.execute_count`;
* :mod:`djangoes.search.results` - hits to an ordered queryset, and
  :class:`~djangoes.search.results.SearchResults` for Django's ``Paginator``.

Import from the submodules (or :mod:`djangoes.models`): importing this package
loads no model, so it is safe before Django's app registry is ready.
"""
