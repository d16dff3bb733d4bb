"""The REST API (django-ninja) at /api/v1: a thin door onto the apps' services.

The OpenAPI document is at /api/v1/openapi.json, interactive docs at /api/v1/docs. Each app has its
router module here; this one assembles them and turns every error into the same JSON shape,
``{"detail": "...", "field": "..."}`` (see docs/api.md).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from tldops.api import catalog, directory, lists, me, own_settings, vetting
from tldops.api.auth import CsrfFailed, Unauthenticated
from tldops.kernel.errors import DirectoryError

api = NinjaAPI(
    title="tldops API",
    version="1",
    urls_namespace="api",
    description=(
        "The REST API of tldops, the platform of the TLD-OPS community of ccTLD operators. "
        "Authenticate with a personal token (`Authorization: Bearer tldops_…`, created in the "
        "portal) or with the portal's session (CSRF token required on unsafe methods). Errors are "
        '`{"detail": "…", "field": "…"}` with the HTTP status.'
    ),
)

api.add_router("", directory.router)
api.add_router("", catalog.router)
api.add_router("", me.router)
api.add_router("", own_settings.router)
api.add_router("", vetting.router)
api.add_router("", lists.router)
api.add_router("", "tldops.api.reachability.router")
api.add_router("", "tldops.api.repository.router")
api.add_router("", "tldops.api.staff.router")
api.add_router("", "tldops.api.alerts.router")
api.add_router("", "tldops.api.monitor_status.router")
api.add_router("", "tldops.api.monitor_probes.router")
api.add_router("", "tldops.api.monitor_incidents.router")
api.add_router("", "tldops.api.exercises.router")
api.add_router("", "tldops.api.plans.router")


def _error(
    request: HttpRequest, status: int, detail: str, field: str | None = None, **extra: Any
) -> HttpResponse:
    return api.create_response(
        request, {"detail": str(detail), "field": field, **extra}, status=status
    )


@api.exception_handler(DirectoryError)
def directory_error(request: HttpRequest, exc: DirectoryError) -> HttpResponse:
    """``detail``/``field`` as always (the first problem's field); ``errors`` lists every problem
    when the input had several, or when one is about an item of a list (``index``: which
    contact, from 0), so a client can show them all at once."""
    problems = exc.errors
    if len(problems) == 1 and problems[0].index is None:
        return _error(request, exc.status, exc.message, exc.field)
    errors = [{"detail": e.message, "field": e.field, "index": e.index} for e in problems]
    return _error(request, exc.status, exc.message, exc.field, errors=errors)


@api.exception_handler(Unauthenticated)
def unauthenticated(request: HttpRequest, exc: Unauthenticated) -> HttpResponse:
    response = _error(request, 401, exc.message)
    response["WWW-Authenticate"] = 'Bearer realm="tldops"'
    return response


@api.exception_handler(AuthenticationError)
def authentication_required(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(
        request,
        401,
        _(
            "Authentication required: send “Authorization: Bearer tldops_…” with a personal token, "
            "or log in to the portal."
        ),
    )
    response["WWW-Authenticate"] = 'Bearer realm="tldops"'
    return response


@api.exception_handler(CsrfFailed)
def csrf_failed(request: HttpRequest, exc: CsrfFailed) -> HttpResponse:
    return _error(
        request,
        403,
        _(
            "CSRF check failed: with the portal session, send the csrftoken cookie's value in the "
            "X-CSRFToken header, or use a personal token instead."
        ),
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, exc.message)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    where = ".".join(loc) or None
    message = first.get("msg", _("Invalid input."))
    detail = f"{where}: {message}" if where else str(message)
    return _error(request, 422, detail, where, errors=exc.errors)


@csrf_exempt  # nothing is done: the CSRF check would answer an unknown POST with the portal's 403
def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Any path under /api/ that no operation serves, for any method: the API's JSON 404, not the
    portal's HTML page (``tldops.urls`` routes everything under /api/ left over here)."""
    return _error(
        request,
        404,
        _("Not Found: no API operation at this path. See /api/v1/docs for the operations."),
    )
