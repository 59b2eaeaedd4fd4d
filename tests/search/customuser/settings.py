"""Settings of ``check_admin``: the test settings with a custom user model."""

from tests.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.search.customuser"]  # noqa: F405
AUTH_USER_MODEL = "customuser.EmailUser"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, for tests only
