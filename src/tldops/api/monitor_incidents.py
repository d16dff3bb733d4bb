"""Monitor incident endpoints: list, read with the timeline, acknowledge, note, close, raise the
draft alert. A thin door onto :mod:`tldops.monitor.incidents` and
:mod:`tldops.ops.incident_alerts`.

Members and staff read every incident (the community watches together); only the contacts of the
incident's ccTLD act on it (staff too only if they are its contacts): 403 otherwise.
"""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from tldops.api.auth import AUTH, actor, require_member
from tldops.api.schemas import AUTH_ERRORS, InputSchema, Pagination, Shaped, errors
from tldops.catalog.lookup import resolve_tld
from tldops.monitor import incidents
from tldops.monitor.codes import Severity
from tldops.monitor.models import NOTE_MAX_LENGTH, Incident
from tldops.ops import incident_alerts

router = Router(auth=AUTH, tags=["monitor"])


class ProblemOut(Schema):
    code: str = Field(description="The finding the vantage points agree on (docs/monitor.md).")
    server: str = Field(description='The name server; "" for the whole ccTLD.')
    severity: str = Field(description="ERROR or CRITICAL.")
    first_seen: datetime
    cleared_at: datetime | None = Field(description="When the vantage points agreed it was gone.")


class IncidentOut(Schema):
    id: int
    tld: str = Field(description="A-label of the ccTLD.")
    code: str = Field(description="Its worst problem not cleared (one incident per ccTLD).")
    server: str = Field(description='That problem\'s name server; "" for the whole ccTLD.')
    severity: str = Field(description="ERROR or CRITICAL: its worst problem's.")
    status: str = Field(description="open, acknowledged or closed.")
    opened_at: datetime
    recovered_at: datetime | None = Field(description="When the vantage points agreed it was gone.")
    closed_at: datetime | None
    alert_id: int | None = Field(description="The alert raised for it, if any.")
    problems: list[ProblemOut] = Field(
        description="What the vantage points agreed on, worst first; cleared ones too."
    )


class EventOut(Schema):
    at: datetime
    kind: str = Field(
        description="opened, seen, problem, cleared, worsened, notified, acknowledged, note, "
        "alert, recovered, stale or closed."
    )
    person: str | None = Field(description="Who acted (members' actions).")
    probe: str | None = Field(description="The vantage point (seen).")
    text: str


class DraftOut(Schema):
    title: str
    category: str = Field(description="outage or ddos (docs/monitor.md).")
    body: str


class IncidentDetailOut(IncidentOut):
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    closed_by: str | None
    draft: DraftOut = Field(
        description="The alert prepared for the community: visible to all members and staff "
        "until raised (and after), like the notes."
    )
    may_act: bool = Field(description="Whether you may act on it (a contact of its ccTLD).")
    timeline: list[EventOut]


def _incident(i: Incident) -> dict[str, Any]:
    return {
        "id": i.pk,
        "tld": i.tld.alabel,
        "code": i.code,
        "server": i.server,
        "severity": Severity(i.severity).name,
        "status": i.status,
        "opened_at": i.opened_at,
        "recovered_at": i.recovered_at,
        "closed_at": i.closed_at,
        "alert_id": i.alert_id,
        "problems": [
            {
                "code": p.code,
                "server": p.server,
                "severity": Severity(p.severity).name,
                "first_seen": p.first_seen,
                "cleared_at": p.cleared_at,
            }
            for p in i.problems.all()
        ],
    }


def _detail(i: Incident, person: Any) -> dict[str, Any]:
    i = incidents.get(i.pk)  # fresh, after an action
    return {
        **_incident(i),
        "acknowledged_by": i.acknowledged_by.name if i.acknowledged_by else None,
        "acknowledged_at": i.acknowledged_at,
        "closed_by": i.closed_by.name if i.closed_by else None,
        "draft": {"title": i.draft_title, "category": i.draft_category, "body": i.draft_body},
        "may_act": incidents.may_act(i, person),
        "timeline": [
            {
                "at": e.at,
                "kind": e.kind,
                "person": e.person.name if e.person else None,
                "probe": e.probe.name if e.probe else None,
                "text": e.text,
            }
            for e in incidents.timeline(i)
        ],
    }


class IncidentFilters(Schema):
    tld: str = Field("", max_length=63, description="Only this ccTLD's (fr, рф, xn--p1ai).")
    open: bool = Field(False, description="Only open and acknowledged incidents.")


@router.get(
    "/monitor/incidents",
    response={200: list[IncidentOut], **errors(400, *AUTH_ERRORS)},
    summary="Monitor incidents",
)
@paginate(Pagination)
def list_incidents(request: HttpRequest, filters: Query[IncidentFilters]) -> Shaped:
    """Incidents, newest first, `{"items", "count"}`, a page at a time: one per ccTLD at a time,
    with the problems at least `TLDOPS_MONITOR_AGREEMENT` vantage points agreed on. Members and
    staff."""
    require_member(request)
    tld = resolve_tld(filters.tld) if filters.tld else None
    return Shaped(
        incidents.search(tld=tld, live=filters.open).prefetch_related("problems"), _incident
    )


@router.get(
    "/monitor/incidents/{incident_id}",
    response={200: IncidentDetailOut, **errors(404, *AUTH_ERRORS)},
    summary="One incident with its timeline",
)
def get_incident(request: HttpRequest, incident_id: int) -> dict[str, Any]:
    """An incident, its timeline (opened, seen by each vantage point, contacts notified, members'
    acknowledgement and notes, alert, recovery, closing) and its draft alert."""
    person = require_member(request)
    return _detail(incidents.get(incident_id), person)


ACT_ERRORS = errors(400, 404, *AUTH_ERRORS)


@router.post(
    "/monitor/incidents/{incident_id}/acknowledge",
    response={200: IncidentDetailOut, **ACT_ERRORS},
    summary="Acknowledge an incident",
)
def acknowledge(request: HttpRequest, incident_id: int) -> dict[str, Any]:
    """ "We know, we are on it": a contact of the incident's ccTLD. 400 once it is closed."""
    person = require_member(request)
    incident = incidents.get(incident_id)
    incidents.acknowledge(incident, person, actor=actor(request))
    return _detail(incident, person)


class NoteIn(InputSchema):
    text: str = Field(max_length=NOTE_MAX_LENGTH)


@router.post(
    "/monitor/incidents/{incident_id}/notes",
    response={201: IncidentDetailOut, **ACT_ERRORS},
    summary="Add a note to an incident",
)
def add_note(request: HttpRequest, incident_id: int, body: NoteIn) -> tuple[int, dict[str, Any]]:
    """A note on the timeline, by a contact of the incident's ccTLD."""
    person = require_member(request)
    incident = incidents.get(incident_id)
    incidents.add_note(incident, person, body.text, actor=actor(request))
    return 201, _detail(incident, person)


class CloseIn(InputSchema):
    text: str = Field("", max_length=NOTE_MAX_LENGTH, description="Why (optional).")


@router.post(
    "/monitor/incidents/{incident_id}/close",
    response={200: IncidentDetailOut, **ACT_ERRORS},
    summary="Close an incident",
)
def close(request: HttpRequest, incident_id: int, body: CloseIn) -> dict[str, Any]:
    """Close it, by a contact of the incident's ccTLD. It is not opened again until the vantage
    points have seen the problem go."""
    person = require_member(request)
    incident = incidents.get(incident_id)
    incidents.close(incident, person, body.text, actor=actor(request))
    return _detail(incident, person)


class RaisedOut(Schema):
    alert_id: int
    tlp: str = Field(description="The alert's TLP label (TLDOPS_MONITOR_ALERT_TLP).")
    incident: IncidentDetailOut


@router.post(
    "/monitor/incidents/{incident_id}/alert",
    response={201: RaisedOut, **ACT_ERRORS},
    summary="Raise an incident's draft alert",
)
def raise_alert(request: HttpRequest, incident_id: int) -> tuple[int, dict[str, Any]]:
    """Raise the draft alert to the community, with you as its author (a contact of the
    incident's ccTLD); once per incident (400 after). Read it at `/alerts/{alert_id}`."""
    person = require_member(request)
    incident = incidents.get(incident_id)
    alert = incident_alerts.raise_for(incident, person, actor=actor(request))
    return 201, {"alert_id": alert.pk, "tlp": alert.tlp, "incident": _detail(incident, person)}
