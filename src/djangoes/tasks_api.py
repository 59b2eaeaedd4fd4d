"""Django's tasks framework, from Django itself (6.0+) or the ``django-tasks`` backport (5.2).

The one place that knows where the framework lives. Importing this module
imports neither; :func:`tasks_api` does, when asked.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from django.core.exceptions import ImproperlyConfigured

__all__ = ["DISPATCH_PATH", "tasks_api", "worker_backend"]

#: The QUEUE_DISPATCH of the django.tasks integration (chosen by default, see worker_backend).
DISPATCH_PATH = "djangoes.django_tasks.dispatch"

#: Backends that run no task in a worker: "immediate" runs it in the process
#: that enqueues it, "dummy" never runs it.
_NO_WORKER = (("immediate", "ImmediateBackend"), ("dummy", "DummyBackend"))


def tasks_api() -> ModuleType | None:
    """``django.tasks`` (Django 6.0+), else ``django_tasks`` (the backport), else None."""
    for name in ("django.tasks", "django_tasks"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def worker_backend() -> str | None:
    """The default task backend's alias when it runs tasks in workers, else None.

    None when the tasks framework is not installed, when the default backend
    is the immediate one (Django's default: it would run the task inside the
    request, as sending inline does) or the dummy one (it never runs tasks),
    and when ``TASKS`` is invalid (Django's own checks report that).
    """
    api = tasks_api()
    if api is None:
        return None
    alias: str = api.DEFAULT_TASK_BACKEND_ALIAS
    try:
        backend = api.task_backends[alias]
    except ImproperlyConfigured:
        return None
    for module, name in _NO_WORKER:
        cls = getattr(importlib.import_module(f"{api.__name__}.backends.{module}"), name)
        if isinstance(backend, cls):
            return None
    return alias
