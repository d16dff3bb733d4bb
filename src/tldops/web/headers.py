"""Security headers on every answer of the portal and the API (``MIDDLEWARE``).

* ``Content-Security-Policy``: scripts, styles, fonts and connections from this site only, no
  inline script or style attribute, no framing, forms posted to this site only. The portal's one
  script is htmx, loaded from our static files; the templates carry no inline script or
  ``style=""`` attribute, and htmx is told (``<meta name="htmx-config">`` in ``base.html``) not to
  inject its indicator ``<style>``, not to evaluate code, and to keep no copy of pages in the
  browser's local storage. A template that breaks this fails in the browser tests (tests/e2e).
* ``Strict-Transport-Security`` when the public address (``TLDOPS_BASE_URL``) is https, on every
  answer: TLS usually ends at the reverse proxy, so Django never sees a secure request itself, and
  browsers ignore the header on plain http anyway. ``TLDOPS_HSTS_SECONDS`` (0: none).
* ``Cache-Control: no-store`` (Django's ``never_cache``) on everything a signed-in person or an API
  caller gets, and on the pages opened with a signed link (they show a ccTLD's contacts): member
  data must not stay in a shared proxy or on the disk of a shared computer.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

#: Pages anyone holding a signed link may open (web/urls.py names): they show member data.
SIGNED_LINK_PAGES = frozenset({"authorise", "confirm", "reachable"})


def _carries_member_data(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    if "HTTP_AUTHORIZATION" in request.META or getattr(request, "auth", None) is not None:
        return True
    match = request.resolver_match
    return match is not None and match.namespace == "web" and match.url_name in SIGNED_LINK_PAGES


class SecurityHeadersMiddleware:
    """Adds the headers above to every response (static files are served before it, by WhiteNoise)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if settings.SECURE_HSTS_SECONDS and settings.BASE_URL.startswith("https://"):
            response.headers.setdefault(
                "Strict-Transport-Security", f"max-age={settings.SECURE_HSTS_SECONDS}"
            )
        if _carries_member_data(request):
            add_never_cache_headers(response)
        return response
