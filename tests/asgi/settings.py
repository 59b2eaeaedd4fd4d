"""Settings of the ASGI server the async tests start (uvicorn, in a process of its own).

The database (a SQLite file, or with ``ASGI_TEST_PG_NAME`` a PostgreSQL database
of the test's own), the engine URL and the mapping directory come from the
environment.
"""

import os

SECRET_KEY = "djangoes-asgi-tests"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "djangoes",
    "tests.testapp",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tests.asgi.views"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]

if os.environ.get("ASGI_TEST_PG_NAME"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ["ASGI_TEST_PG_NAME"],
            "USER": os.environ.get("DJANGOES_PG_USER", "postgres"),
            "HOST": os.environ.get("DJANGOES_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("DJANGOES_PG_PORT", "5432"),
        }
    }
else:
    # requests write at the same time: a writer waits for the other's lock
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ["ASGI_TEST_DB"],
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
        }
    }

ES_SERVERS = {
    "default": {
        "HOSTS": [os.environ["ASGI_TEST_ENGINE_URL"]],
        "ENGINE": os.environ.get(
            "ASGI_TEST_ENGINE", "djangoes.backends.opensearch.SimpleHttpBackend"
        ),
        "INDICES": ["blog"],
    }
}
ES_INDICES = {"blog": {"MODELS": ["testapp.Post", "testapp.Page"]}}
# The commit sends (production's default is a thread): the test searches right after saves.
DJANGOES = {
    "MAPPINGS_DIR": os.environ["ASGI_TEST_MAPPINGS"],
    "ON_ERROR": "queue",
    "QUEUE_SEND": "commit",
}

# errors of the views on the server's output, where the test looks for them
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["console"], "level": "ERROR"}},
}
