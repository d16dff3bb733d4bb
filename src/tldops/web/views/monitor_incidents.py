"""The monitor's incident pages: the list (with filters) and an incident with its timeline and the
forms of the ccTLD's contacts (acknowledge, note, close, raise the draft alert).

A thin door onto :mod:`tldops.monitor.incidents` and :mod:`tldops.ops.incident_alerts`, which
decide who may act (the incident's ccTLD's contacts only). The overview pages of every ccTLD's
health are elsewhere (the monitor's read side).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from tldops.catalog.lookup import resolve_tld
from tldops.directory import permissions
from tldops.directory.audit import Actor
from tldops.directory.models import Person
from tldops.kernel.errors import DirectoryError, NotFound
from tldops.monitor import incidents
from tldops.monitor.codes import CODES, Severity
from tldops.monitor.models import NOTE_MAX_LENGTH, Incident
from tldops.ops import incident_alerts
from tldops.web.access import member_required

PER_PAGE = 50
private = cache_control(private=True, no_store=True)


def _person(request: HttpRequest) -> Person:
    person = permissions.person_of(request.user)
    assert person is not None  # noqa: S101 - member_required let a signed-in person through
    return person


def _get(pk: int) -> Incident:
    try:
        return incidents.get(pk)
    except NotFound:
        raise Http404(_("No such incident.")) from None


@member_required
@private
def incident_list(request: HttpRequest) -> HttpResponse:
    """Incidents, newest first; ``?tld=`` one ccTLD's, ``?open=1`` the open ones only."""
    raw_tld = request.GET.get("tld", "")[:63].strip()
    live = request.GET.get("open", "") == "1"
    error = ""
    tld = None
    if raw_tld:
        try:
            tld = resolve_tld(raw_tld)
        except DirectoryError as exc:
            error = exc.message
    rows = incidents.search(tld=tld, live=live) if not error else Incident.objects.none()
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/monitor/incidents.html",
        {
            "page": page,
            "rows": [(i, Severity(i.severity).name) for i in page],
            "values": {"tld": raw_tld, "open": live},
            "error": error,
        },
        status=400 if error else 200,
    )


def _detail(
    request: HttpRequest, incident: Incident, *, status: int = 200, errors: dict | None = None
) -> HttpResponse:
    person = _person(request)
    code = CODES.get(incident.code)
    return render(
        request,
        "web/monitor/incident.html",
        {
            "incident": incident,
            "code": code,
            "severity": Severity(incident.severity).name,
            "problems": incidents.problem_rows(incident),
            "events": incidents.timeline(incident),
            "may_act": incidents.may_act(incident, person),
            "note_max": NOTE_MAX_LENGTH,
            "errors": errors or {},
        },
        status=status,
    )


@member_required
@private
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _get(pk))


def _ack(incident: Incident, person: Person, request: HttpRequest) -> str:
    incidents.acknowledge(incident, person, actor=Actor.of(person, "web"))
    return _("The incident is acknowledged.")


def _note(incident: Incident, person: Person, request: HttpRequest) -> str:
    text = request.POST.get("text", "")[: NOTE_MAX_LENGTH + 1]
    incidents.add_note(incident, person, text, actor=Actor.of(person, "web"))
    return _("Your note is on the timeline.")


def _close(incident: Incident, person: Person, request: HttpRequest) -> str:
    text = request.POST.get("text", "")[: NOTE_MAX_LENGTH + 1]
    incidents.close(incident, person, text, actor=Actor.of(person, "web"))
    return _("The incident is closed.")


def _alert(incident: Incident, person: Person, request: HttpRequest) -> str:
    alert = incident_alerts.raise_for(incident, person, actor=Actor.of(person, "web"))
    return _("The alert is raised (alert %(id)d).") % {"id": alert.pk}


ACTIONS: dict[str, Callable[[Incident, Person, HttpRequest], str]] = {
    "acknowledge": _ack,
    "note": _note,
    "close": _close,
    "alert": _alert,
}


@member_required
@private
@require_POST
def incident_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One of the contacts' actions; a refusal is shown on the page, nothing changed."""
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404(_("No such action."))
    incident = _get(pk)
    try:
        done = handler(incident, _person(request), request)
    except DirectoryError as exc:
        return _detail(request, incident, status=exc.status, errors={action: exc.message})
    messages.success(request, done)
    return redirect("web:monitor_incident", pk=pk)
