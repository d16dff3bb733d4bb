"""The REST API (django-ninja) at /api/v1: a thin door onto the apps' services."""
