"""Settings of the Django processes of the cluster tests (``tests/cluster``).

Like ``tests/rebuild/settings.py`` (the SQLite file and the mapping directory
from the environment), but HOSTS names every node of the cluster
(``REBUILD_TEST_ENGINE_URL`` holds their URLs separated by commas) and the
client keeps its default retries: a request that cannot connect to one node
is sent to another. ``CLUSTER_TEST_ON_ERROR``, ``CLUSTER_TEST_BULK_TIMEOUT``
and ``CLUSTER_TEST_RETRY_BUDGET`` choose ON_ERROR, BULK_TIMEOUT and RETRY_BUDGET.
"""

import os

from tests.process_settings import INSTALLED_APPS, sqlite_file

SECRET_KEY = "djangoes-cluster-tests"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = list(INSTALLED_APPS)
DATABASES = sqlite_file(os.environ["REBUILD_TEST_DB"])
ES_SERVERS = {
    "default": {
        "HOSTS": os.environ["REBUILD_TEST_ENGINE_URL"].split(","),
        "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
        "INDICES": ["blog"],
        "PARAMS": {"timeout": 30},
    }
}
ES_INDICES = {"blog": {"ALIASES": ["blog_public"], "MODELS": ["testapp.Post", "testapp.Page"]}}
DJANGOES = {
    "MAPPINGS_DIR": os.environ["REBUILD_TEST_MAPPINGS"],
    "CHUNK_SIZE": 5,
    "ON_ERROR": os.environ.get("CLUSTER_TEST_ON_ERROR", "raise"),
    # The commit sends (production's default is a thread, which would keep retrying while
    # a node is down instead of leaving the changes in the queue, as test_saves expects).
    "QUEUE_SEND": "commit",
    "BULK_TIMEOUT": float(os.environ.get("CLUSTER_TEST_BULK_TIMEOUT", "60")),
    "RETRY_BUDGET": float(os.environ.get("CLUSTER_TEST_RETRY_BUDGET", "180")),
}
