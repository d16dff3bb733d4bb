"""A bound on the query string of every request, portal and API (``MIDDLEWARE``).

No page or operation of ours takes more than a few hundred characters of query string (the
longest field, the archive search, takes 200), so a longer one is a mistake or an attack. It is
refused with ``414 URI Too Long`` before any view runs: a small page in the portal's look, or the
API's JSON error under ``/api/``. gunicorn lets request lines through up to its own maximum
(``tldops.ops.supervisor.LIMIT_REQUEST_LINE``, 8,190 bytes), well above this bound, so what lies
between reaches this answer instead of gunicorn's bare "Request Line is too large".
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

#: Characters of query string (as sent, percent-encoded) a request may carry.
MAX_QUERY_STRING = 2048


class QueryStringLimitMiddleware:
    """Refuse a query string longer than :data:`MAX_QUERY_STRING` with a 414."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if len(request.META.get("QUERY_STRING", "")) <= MAX_QUERY_STRING:
            return self.get_response(request)
        # The page must not repeat the refused address (the language form's "next" would).
        request.META["QUERY_STRING"] = ""
        message = _(
            "The address is too long: its query (after “?”) may have at most %(n)d characters. "
            "Shorten the search or the filters and try again."
        ) % {"n": MAX_QUERY_STRING}
        if request.path == "/api" or request.path.startswith("/api/"):
            return JsonResponse({"detail": message, "field": None}, status=414)
        return render(request, "web/too_long.html", {"message": message}, status=414)
