"""The book as django-elasticsearch-dsl indexes it: a proxy and a registered ``Document``."""
