"""Connection backends: one module per client library, each with the same class names.

* :mod:`djangoes.backends.abstracts` - the base classes, :class:`Base` and
  :class:`MetaClientBase` (also importable from here, as in djangoes 0.3);
* :mod:`djangoes.backends.elasticsearch` - elasticsearch-py 8/9;
* :mod:`djangoes.backends.opensearch` - opensearch-py 2/3;
* :mod:`djangoes.backends.embedded` - the embedded engine (osmem-server).
"""

from djangoes.backends.abstracts import Base, MetaClientBase

__all__ = ["Base", "MetaClientBase"]
