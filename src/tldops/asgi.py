"""ASGI entry point, for an ASGI server of your own; ``tldops run`` and ``tldops web`` serve
the WSGI application (:mod:`tldops.wsgi`) with gunicorn workers."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tldops.settings")
application = get_asgi_application()
