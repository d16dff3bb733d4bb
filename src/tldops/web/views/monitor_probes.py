"""The page of a member's probes (issue 11, "Vantage points"): list, create, revoke, reset a key.

A thin door onto :mod:`tldops.monitor.probes`: who may create how many probes, and whose probe
one may revoke, are decided there. The new probe's token is shown once, in the answer to the
creation (never stored in clear, never in a redirect's URL), with the command line that runs it.
Never in the page cache, always ``Cache-Control: private, no-store``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods, require_POST

from tldops.directory import permissions
from tldops.directory.audit import Actor
from tldops.directory.models import Person
from tldops.kernel.errors import DirectoryError, NotFound
from tldops.monitor import probes
from tldops.monitor.models import NAME_MAX_LENGTH
from tldops.web.access import member_required

private = cache_control(private=True, no_store=True)


def _person(request: HttpRequest) -> Person:
    person = permissions.person_of(request.user)
    assert person is not None  # noqa: S101 - member_required let a signed-in person through
    return person


def _page(
    request: HttpRequest,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    created: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "web/monitor/probes.html",
        {
            "probes": probes.list_for(_person(request)),
            "values": values or {"name": "", "public_key": ""},
            "errors": errors or {},
            "created": created,
            "max_probes": probes.MAX_PROBES_PER_PERSON,
            "name_max": NAME_MAX_LENGTH,
        },
        status=status,
    )


@member_required
@private
@require_http_methods(["GET", "POST"])
def probe_list(request: HttpRequest) -> HttpResponse:
    """The signed-in member's probes, and the form to create one."""
    if request.method != "POST":
        return _page(request)
    values = {
        "name": request.POST.get("name", "")[: NAME_MAX_LENGTH + 1],
        "public_key": request.POST.get("public_key", "")[:65],
    }
    person = _person(request)
    try:
        probe, token = probes.create(
            person,
            values["name"],
            public_key=values["public_key"],
            actor=Actor.of(person, "web"),
        )
    except DirectoryError as exc:
        errors = {e.field if e.field in values else "general": e.message for e in exc.errors}
        return _page(request, values=values, errors=errors, status=exc.status)
    command = f"tldops probe --hub {settings.BASE_URL} --token {token}"
    return _page(request, created={"probe": probe, "token": token, "command": command})


def _act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    person = _person(request)
    actor = Actor.of(person, "web")
    try:
        if action == "revoke":
            probe = probes.revoke(pk, person, actor=actor)
            messages.success(request, _("Probe “%(name)s” revoked.") % {"name": probe.name})
        else:
            probe = probes.reset_key(pk, person, actor=actor)
            messages.success(
                request,
                _("The key of probe “%(name)s” is forgotten: its next report registers one.")
                % {"name": probe.name},
            )
    except NotFound:
        raise Http404(_("You have no such probe.")) from None
    except DirectoryError as exc:
        messages.error(request, exc.message)
    return redirect("web:monitor_probes")


@member_required
@private
@require_POST
def probe_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of the member's probes; another's is this portal's 404."""
    return _act(request, pk, "revoke")


@member_required
@private
@require_POST
def probe_reset_key(request: HttpRequest, pk: int) -> HttpResponse:
    """Forget one of the member's probes' key: its next report registers one."""
    return _act(request, pk, "reset")
