"""Integrations with other Django packages, each importing its package only in its own module.

* :mod:`djangoes.contrib.debug_toolbar` - a Django Debug Toolbar panel listing
  the search requests of a page (``pip install 'djangoes[debug-toolbar]'``).
"""
