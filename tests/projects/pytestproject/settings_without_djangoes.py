"""A Django project that has djangoes installed in its environment but does not use it."""

SECRET_KEY = "pytestproject"
INSTALLED_APPS = ["django.contrib.contenttypes"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
