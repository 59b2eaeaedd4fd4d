"""Settings of the example project: search on the embedded engine, no server needed."""

import os
from importlib.util import find_spec
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# What the demo builds (database, search data, the engine's runtime files);
# DEMO_VAR_DIR moves it, e.g. for a test run beside a running demo.
VAR_DIR = Path(os.environ.get("DEMO_VAR_DIR") or BASE_DIR / "var")

SECRET_KEY = "example-only-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "djangoes",
    "library",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "demo_site.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": VAR_DIR / "db.sqlite3"}}

# The search engine: the embedded one, keeping its data in var/search and
# its runtime files (address, lock, log) in var/run.
ES_SERVERS = {
    "default": {
        "ENGINE": "djangoes.backends.embedded.EmbeddedBackend",
        "INDICES": ["docs"],
        "PARAMS": {"data_dir": VAR_DIR / "search", "runtime_dir": VAR_DIR / "run"},
    }
}
# DEMO_SEARCH_URL points the demo at a running OpenSearch instead (the search
# quality figures of a real engine: manage.py search_quality).
if os.environ.get("DEMO_SEARCH_URL"):
    ES_SERVERS = {
        "default": {
            "ENGINE": "djangoes.backends.opensearch.SimpleHttpBackend",
            "HOSTS": [os.environ["DEMO_SEARCH_URL"]],
            "INDICES": ["docs"],
            "PARAMS": {"timeout": 120},  # a busy machine: loading takes its time
        }
    }
ES_INDICES = {
    "docs": {"MODELS": ["library.Entry"]},  # mapping: search/mappings/docs.json
}
DJANGOES = {"MAPPINGS_DIR": BASE_DIR / "search" / "mappings"}

# The Django Debug Toolbar, with djangoes' panel listing the search requests of
# each page, when it is installed: pip install 'djangoes[debug-toolbar]'
if DEBUG and find_spec("debug_toolbar"):
    INSTALLED_APPS += ["debug_toolbar"]
    MIDDLEWARE.insert(0, "debug_toolbar.middleware.DebugToolbarMiddleware")
    INTERNAL_IPS = ["127.0.0.1"]
    DEBUG_TOOLBAR_PANELS = [
        "debug_toolbar.panels.timer.TimerPanel",
        "debug_toolbar.panels.request.RequestPanel",
        "debug_toolbar.panels.sql.SQLPanel",
        "djangoes.contrib.debug_toolbar.SearchPanel",
        "debug_toolbar.panels.templates.TemplatesPanel",
        "debug_toolbar.panels.cache.CachePanel",
        "debug_toolbar.panels.signals.SignalsPanel",
    ]
    DEBUG_TOOLBAR_CONFIG = {"SHOW_COLLAPSED": True}
