"""The ASGI application of the test server (``uvicorn tests.asgi.asgi:application``)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.asgi.settings")

from djangoes.asgi import get_asgi_application

application = get_asgi_application()
