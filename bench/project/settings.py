"""Settings of the benchmark project, for the library named by ``BENCH_LIBRARY``.

Environment (set by :mod:`bench.run` for each measurement):

* ``BENCH_LIBRARY``: ``djangoes``, ``esdjango`` (elasticsearch-django),
  ``dsl`` (django-elasticsearch-dsl), ``osdsl`` (django-opensearch-dsl),
  ``modelsearch`` (django-modelsearch) or ``none`` (the catalog alone);
* ``BENCH_ENGINE_KIND``: ``embedded`` (osmem-server, reached with
  elasticsearch-py as the emulator's peers are), ``opensearch`` (a real
  OpenSearch node, reached with opensearch-py) or ``cluster`` (three real
  nodes: djangoes alone, its index in three primary shards);
* ``BENCH_DB_VENDOR`` (``sqlite`` or ``postgresql``) and ``BENCH_DB_NAME``
  (a file, or a database on ``BENCH_PG_HOST``:``BENCH_PG_PORT`` as ``BENCH_PG_USER``);
* ``BENCH_ENGINE_URL``: the engine of this measurement (a cluster: every node's URL,
  comma-separated);
* ``BENCH_DJANGOES_ON_ERROR``: djangoes' ON_ERROR (unset: its default).
* ``BENCH_DJANGOES_QUEUE_SEND``: djangoes' QUEUE_SEND (unset: its default).

Each library gets its defaults except where the benchmark needs something:
the engine's address, the plain-JSON node class of the Elasticsearch client
(the embedded engine answers 406 to the Elasticsearch media types), a long
request timeout (a loaded machine must not turn into spurious failures), and
500 documents per bulk request for elasticsearch-django, which needs a chunk
size set (500 is also django-elasticsearch-dsl's and djangoes' default).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from djangoes.test.nodes import PlainJsonUrllib3Node

BASE_DIR = Path(__file__).resolve().parent
MAPPINGS_DIR = BASE_DIR / "mappings"

LIBRARY = os.environ.get("BENCH_LIBRARY", "none")
LIBRARY_APPS = {
    "none": [],
    "djangoes": ["djangoes", "bench.project.djangoes_books"],
    "esdjango": ["elasticsearch_django", "bench.project.esdjango_books"],
    "dsl": ["django_elasticsearch_dsl", "bench.project.dsl_books"],
    "osdsl": ["django_opensearch_dsl", "bench.project.osdsl_books"],
    "modelsearch": ["modelsearch", "bench.project.modelsearch_books"],
}
ENGINE_KIND = os.environ.get("BENCH_ENGINE_KIND", "embedded")
if ENGINE_KIND not in ("embedded", "opensearch", "cluster"):
    raise ImproperlyConfigured(
        f"BENCH_ENGINE_KIND={ENGINE_KIND!r}: expected 'embedded', 'opensearch' or 'cluster'."
    )
if LIBRARY not in LIBRARY_APPS:
    raise ImproperlyConfigured(
        f"BENCH_LIBRARY={LIBRARY!r}: expected one of {', '.join(LIBRARY_APPS)}."
    )

SECRET_KEY = "benchmark-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "bench.project.catalog",
    *LIBRARY_APPS[LIBRARY],
]


def _database() -> dict[str, Any]:
    vendor = os.environ.get("BENCH_DB_VENDOR", "sqlite")
    name = os.environ.get("BENCH_DB_NAME", "")
    if vendor == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": name or ":memory:"}
    if vendor == "postgresql":
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": os.environ.get("BENCH_PG_USER", "postgres"),
            "HOST": os.environ.get("BENCH_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("BENCH_PG_PORT", "5432"),
        }
    raise ImproperlyConfigured(f"BENCH_DB_VENDOR={vendor!r}: expected 'sqlite' or 'postgresql'.")


DATABASES = {"default": _database()}

ENGINE_URL = os.environ.get("BENCH_ENGINE_URL", "http://127.0.0.1:9")
#: Every node's URL (the cluster's three; a single node's one).
ENGINE_URLS = ENGINE_URL.split(",")
REQUEST_TIMEOUT = 600
CHUNK_SIZE = 500

if LIBRARY == "djangoes":
    # embedded: the Elasticsearch client over the plain-JSON node, like the peers;
    # OpenSearch: djangoes' OpenSearch backend (opensearch-py), like the peers
    ES_SERVERS = {
        "default": {
            "ENGINE": "djangoes.test.backends.SimpleHttpBackend"
            if ENGINE_KIND == "embedded"
            else "djangoes.backends.opensearch.SimpleHttpBackend",
            "HOSTS": ENGINE_URLS,
            "INDICES": ["books"],
            "PARAMS": {"request_timeout": REQUEST_TIMEOUT},
        }
    }
    ES_INDICES = {"books": {"NAME": "books", "MODELS": ["djangoes_books.Book"]}}
    if ENGINE_KIND == "cluster":  # one primary shard per node (merged over the mapping file)
        ES_INDICES["books"]["SETTINGS"] = {"number_of_shards": 3}
    DJANGOES: dict[str, Any] = {"MAPPINGS_DIR": MAPPINGS_DIR}  # its defaults otherwise
    if os.environ.get("BENCH_DJANGOES_ON_ERROR"):
        DJANGOES["ON_ERROR"] = os.environ["BENCH_DJANGOES_ON_ERROR"]
    if os.environ.get("BENCH_DJANGOES_QUEUE_SEND"):
        DJANGOES["QUEUE_SEND"] = os.environ["BENCH_DJANGOES_QUEUE_SEND"]
elif LIBRARY == "esdjango":
    SEARCH_SETTINGS = {
        "connections": {
            "default": {
                "hosts": ENGINE_URL,
                "node_class": PlainJsonUrllib3Node,
                "request_timeout": REQUEST_TIMEOUT,
            }
        },
        "indexes": {"books": {"models": ["esdjango_books.Book"]}},
        "settings": {
            "chunk_size": CHUNK_SIZE,
            "page_size": 25,
            "auto_sync": True,
            "never_auto_sync": [],
            "strict_validation": False,
            "mappings_dir": str(MAPPINGS_DIR),
        },
    }
elif LIBRARY == "dsl":
    ELASTICSEARCH_DSL = {
        "default": {
            "hosts": ENGINE_URL,
            "node_class": PlainJsonUrllib3Node,
            "request_timeout": REQUEST_TIMEOUT,
        }
    }

elif LIBRARY == "osdsl":
    # django-opensearch-dsl's defaults (no parallel indexing, no refresh per save)
    OPENSEARCH_DSL = {"default": {"hosts": ENGINE_URL, "timeout": REQUEST_TIMEOUT}}
elif LIBRARY == "modelsearch":
    # django-modelsearch's OpenSearch 3 backend, as its README configures it
    MODELSEARCH_BACKENDS = {
        "default": {
            "BACKEND": "modelsearch.backends.opensearch3",
            "URLS": [ENGINE_URL],
            "INDEX_PREFIX": "",
            "TIMEOUT": REQUEST_TIMEOUT,
            "OPTIONS": {},
            "INDEX_SETTINGS": {
                "settings": {"index": {"number_of_shards": 1, "number_of_replicas": 0}}
            },
        }
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    # elasticsearch-django logs (and swallows) failed syncs: show them on stderr
    "root": {"handlers": ["console"], "level": "WARNING"},
}
