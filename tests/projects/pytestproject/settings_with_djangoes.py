"""A project using djangoes; the engine URL comes from ``DJANGOES_ENGINE_URL``."""

import os

SECRET_KEY = "pytestproject"
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "djangoes"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
if os.environ.get("PYTESTPROJECT_DB"):  # a file: the query log's thread shares it
    DATABASES["default"]["TEST"] = {"NAME": os.environ["PYTESTPROJECT_DB"]}
ES_SERVERS = {
    "default": {
        "HOSTS": [os.environ["DJANGOES_ENGINE_URL"]],
        "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
        "INDICES": ["articles"],
    },
    "archive": {
        "HOSTS": [os.environ["DJANGOES_ENGINE_URL"]],
        "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
        "INDICES": ["articles", "authors"],
    },
}
ES_INDICES = {
    "articles": {
        "ALIASES": ["articles_public"],
        "SETTINGS": {"mappings": {"properties": {"title": {"type": "text"}}}},
    },
    "authors": {"TEST": {"NAME": "authors_under_test"}},
}
