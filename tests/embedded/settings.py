"""Settings of the small Django processes the embedded-engine tests start.

Where the engine keeps its files comes from the environment, so that every
test gives its processes directories of its own (under ``tmp_path``) and
never touches the engine of a real project.
"""

import os

SECRET_KEY = "djangoes-embedded-tests"
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "djangoes"]
BASE_DIR = os.environ["DJANGOES_TEST_BASE_DIR"]

_PARAMS: dict[str, object] = {"runtime_dir": os.environ["DJANGOES_TEST_RUNTIME_DIR"]}
if os.environ.get("DJANGOES_TEST_DATA_DIR"):
    _PARAMS["data_dir"] = os.environ["DJANGOES_TEST_DATA_DIR"]

ES_SERVERS = {
    "default": {
        "ENGINE": "djangoes.backends.embedded.EmbeddedBackend",
        "INDICES": ["blog"],
        "PARAMS": _PARAMS,
    },
    "remote": {
        "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
        "HOSTS": ["127.0.0.1:9"],
    },
}
ES_INDICES = {
    "blog": {
        "NAME": "blog_v1",
        "ALIASES": ["blog"],
        "SETTINGS": {
            "settings": {"number_of_shards": 1},
            "mappings": {"properties": {"title": {"type": "text"}, "tag": {"type": "keyword"}}},
        },
    }
}
