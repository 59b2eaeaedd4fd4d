"""The book as django-modelsearch (Wagtail's search) indexes it: a proxy with ``index.Indexed``."""
