"""The Celery app of the queue tests' processes, configured as a project would configure it.

``-A tests.queue.celery_app`` for the worker; the processes that save import
it too (a project imports its app in its package's ``__init__``).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.queue.settings")

app = Celery("djangoes_tests")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
