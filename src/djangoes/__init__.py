"""djangoes: Elasticsearch and OpenSearch as a first-class part of a Django project.

>>> from djangoes import connection, connections
>>> connection == connections['default']
True

Importing this package reads no settings and opens no connection: the
handler reads ``ES_SERVERS`` / ``ES_INDICES`` on first use.
"""

from djangoes.exceptions import ConnectionDoesNotExist, IndexDoesNotExist
from djangoes.handler import DEFAULT_ES_ALIAS, ConnectionHandler, ConnectionProxy, load_backend

__all__ = [
    "DEFAULT_ES_ALIAS",
    "ConnectionDoesNotExist",
    "ConnectionHandler",
    "ConnectionProxy",
    "IndexDoesNotExist",
    "connection",
    "connections",
    "load_backend",
]

#: The connections configured by ES_SERVERS and ES_INDICES.
connections = ConnectionHandler()

#: The 'default' connection (a proxy: it follows settings changes and forks).
connection = ConnectionProxy(connections, DEFAULT_ES_ALIAS)
