"""Settings of the djangoes test suite.

The database is SQLite unless ``DJANGOES_TEST_DB=postgres`` (the PostgreSQL
lane of ``make test``). ES_SERVERS points nowhere on purpose: tests that need
an engine get one from the fixtures in ``tests/conftest.py``.
"""

import os

SECRET_KEY = "djangoes-tests"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "djangoes",
    "tests.testapp",
]

if os.environ.get("DJANGOES_TEST_DB") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("DJANGOES_PG_NAME", "test"),
            "USER": os.environ.get("DJANGOES_PG_USER", "postgres"),
            "HOST": os.environ.get("DJANGOES_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("DJANGOES_PG_PORT", "5432"),
        }
    }
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

ES_SERVERS = {"default": {"HOSTS": ["127.0.0.1:9"], "INDICES": []}}
ES_INDICES: dict[str, dict[str, object]] = {}

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "tests.urls"
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
