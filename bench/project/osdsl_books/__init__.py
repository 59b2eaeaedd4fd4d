"""The book as django-opensearch-dsl indexes it: a proxy and a registered ``Document``."""
