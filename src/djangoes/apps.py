"""Django application config: system checks and request hooks, wired in ``ready()``."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class DjangoesConfig(AppConfig):
    name = "djangoes"
    verbose_name = "Search (djangoes)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core.signals import request_started

        from djangoes import checks
        from djangoes.indexing import dualwrite
        from djangoes.sync import receivers

        checks.register_checks()
        receivers.connect()
        dualwrite.install()
        request_started.connect(_reset_queries, dispatch_uid="djangoes-reset-queries")


class ElasticAppConfig(DjangoesConfig):
    """elasticsearch-django's name of the app config (``"djangoes.apps.ElasticAppConfig"``).

    The same application: ``"djangoes"`` in ``INSTALLED_APPS`` picks
    :class:`DjangoesConfig`; this name is for projects that listed the config
    class itself.
    """

    default = False  # "djangoes" alone keeps DjangoesConfig


def _reset_queries(**kwargs: Any) -> None:
    from djangoes import connections

    connections.reset_queries()
