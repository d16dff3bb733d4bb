"""ASGI entry point, served by uvicorn in ``tldops run`` and ``tldops web``."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tldops.settings")
application = get_asgi_application()
