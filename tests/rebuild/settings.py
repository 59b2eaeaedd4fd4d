"""Settings of the Django processes started by the rebuild tests.

The engine URL, the SQLite file and the mapping directory come from the
environment, so that every test gives its processes their own. Auto-sync is
on and REBUILD_POLL_SECONDS keeps its default: these processes are the
"other processes" whose cached view of the rebuild table a rebuild must wait
out.
"""

import os

from tests.process_settings import INSTALLED_APPS, engine_servers, sqlite_file

SECRET_KEY = "djangoes-rebuild-tests"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = list(INSTALLED_APPS)
DATABASES = sqlite_file(os.environ["REBUILD_TEST_DB"])
ES_SERVERS = engine_servers(os.environ["REBUILD_TEST_ENGINE_URL"])
ES_INDICES = {"blog": {"ALIASES": ["blog_public"], "MODELS": ["testapp.Post", "testapp.Page"]}}
DJANGOES = {
    "MAPPINGS_DIR": os.environ["REBUILD_TEST_MAPPINGS"],
    "CHUNK_SIZE": 5,
    "ON_ERROR": "raise",
}
