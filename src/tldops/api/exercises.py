"""Exercise endpoints (issue 12, exercises and live use): list, start, read, change a step, add
to the timeline, add an inject, link a live DDoS incident, end with the after-action report, read
the report. A thin door onto :mod:`tldops.playbooks.exercises` and, for the links,
:mod:`tldops.ops.playbook_links`.

An exercise is its ccTLD's: only that ccTLD's active contacts see or change it (staff included
only if they are contacts); everyone else gets 404, as if it did not exist.
"""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from tldops.api.auth import AUTH, actor, require_member
from tldops.api.schemas import AUTH_ERRORS, InputSchema, Pagination, Shaped, errors
from tldops.catalog.lookup import resolve_tld
from tldops.kernel.errors import NotFound
from tldops.ops import playbook_links
from tldops.playbooks import exercises, plans
from tldops.playbooks.models import (
    ACTION_MAX,
    ASSIGNEE_MAX,
    NOTE_MAX,
    TEXT_MAX,
    TITLE_MAX,
    Exercise,
)

router = Router(auth=AUTH, tags=["playbooks"])


class ExerciseOut(Schema):
    id: int
    tld: str = Field(description="A-label of the ccTLD it belongs to.")
    kind: str = Field(description="exercise (table-top) or live.")
    playbook: str = Field(description="ddos or drbcp.")
    scenario: str = Field(description='The DR/BCP scenario\'s id; "" for the DDoS playbook.')
    language: str
    title: str
    started_by: str | None
    started_at: datetime
    ended_at: datetime | None
    plan_version: int | None = Field(description="The ccTLD's plan version when it started.")
    plan: str = Field(description="The path of the ccTLD's plan page.")
    alert_id: int | None = Field(
        description="A live DDoS incident's alert; null when none, or when it is one you may not "
        "read (its TLP: a RED alert is for its author and named recipients only)."
    )
    monitor_incident_id: int | None = Field(description="A live DDoS incident's monitor incident.")


class StepOut(Schema):
    step_id: str
    stage: str = Field(description="first_hour, first_day, recovery, return_to_normal, or the "
                       "DDoS phase (prepare … learn).")  # fmt: skip
    title: str = Field(description="In the exercise's language, as it was at the start.")
    owner_role: str = Field(description="The role the playbook gives the step.")
    assignee: str = Field(description="Who it is assigned to (a contact's name, or free text).")
    assignee_id: int | None = Field(description="The contact it is assigned to, if one.")
    done_at: datetime | None
    done_by: str | None
    note: str


class EntryOut(Schema):
    at: datetime
    kind: str = Field(description="start, step, note, inject, decision, link or end.")
    person: str | None
    text: str


class InjectOut(Schema):
    at_minutes: int = Field(description="Minutes after the start.")
    title: str
    text: str
    released_at: datetime
    added: bool = Field(description="Added by the facilitator (not from the deck).")


class ExerciseDetailOut(ExerciseOut):
    steps: list[StepOut]
    timeline: list[EntryOut]
    injects: list[InjectOut] = Field(description="The injects released so far (their time come).")
    pending_injects: int = Field(description="Injects still to come (not shown before their time).")


def _exercise(e: Exercise, alert_ids: set[int]) -> dict[str, Any]:
    """One exercise; its alert only if it is among ``alert_ids``, those the reader may read."""
    return {
        "id": e.pk,
        "tld": e.tld.alabel,
        "kind": e.kind,
        "playbook": e.playbook,
        "scenario": e.scenario,
        "language": e.language,
        "title": e.title,
        "started_by": e.started_by.name if e.started_by else None,
        "started_at": e.started_at,
        "ended_at": e.ended_at,
        "plan_version": e.plan_version,
        "plan": plans.plan_url(e.tld),
        "alert_id": e.alert_id if e.alert_id in alert_ids else None,
        "monitor_incident_id": e.monitor_incident_id,
    }


def _detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    person = require_member(request)
    e = exercises.get(person, pk)
    return {
        **_exercise(e, playbook_links.readable_alert_ids(person, [e.alert_id])),
        "steps": [
            {
                "step_id": s.step_id,
                "stage": s.stage,
                "title": s.title,
                "owner_role": s.owner_role,
                "assignee": s.assigned_to,
                "assignee_id": s.assignee_id,
                "done_at": s.done_at,
                "done_by": s.done_by.name if s.done_by else None,
                "note": s.note,
            }
            for s in e.steps.select_related("assignee", "done_by")
        ],
        "timeline": [
            {
                "at": t.at,
                "kind": t.kind,
                "person": t.person.name if t.person else None,
                "text": t.text,
            }
            for t in e.timeline.select_related("person")
        ],  # fmt: skip
        "injects": [
            {
                "at_minutes": i.at_minutes,
                "title": i.title,
                "text": i.text,
                "released_at": i.released_at,
                "added": not i.inject_id,
            }
            for i in exercises.released_injects(e)
        ],  # fmt: skip
        "pending_injects": e.injects.filter(released_at__isnull=True).count(),
    }


class ExerciseFilters(Schema):
    tld: str = Field("", max_length=63, description="Only this ccTLD's (one you are a contact of).")


@router.get(
    "/exercises",
    response={200: list[ExerciseOut], **errors(400, *AUTH_ERRORS)},
    summary="Your ccTLDs' exercises",
)
@paginate(Pagination)
def list_exercises(request: HttpRequest, filters: Query[ExerciseFilters]) -> Shaped:
    """The exercises and live incidents of the ccTLDs you are an active contact of, newest first,
    `{"items", "count"}`, a page at a time."""
    person = require_member(request)
    tld = resolve_tld(filters.tld) if filters.tld else None
    return Shaped(
        exercises.for_person(person, tld).select_related("started_by"),
        lambda e: _exercise(e, playbook_links.readable_alert_ids(person, [e.alert_id])),
    )


class StartIn(InputSchema):
    tld: str = Field(max_length=63, description="A ccTLD you are an active contact of.")
    kind: str = Field("exercise", max_length=10, description="exercise (table-top) or live.")
    playbook: str = Field(max_length=10, description="ddos or drbcp.")
    scenario: str = Field("", max_length=41, description="For drbcp: the scenario's id.")
    language: str = Field("en", max_length=5, description="en, fr, es, ar, ru or zh.")
    title: str = Field("", max_length=TITLE_MAX, description="Default: the scenario's title.")
    alert_id: int | None = Field(None, ge=1, description="Live DDoS: an alert you may read.")
    monitor_incident_id: int | None = Field(
        None, ge=1, description="Live DDoS: a monitor incident of the same ccTLD."
    )


@router.post(
    "/exercises",
    response={201: ExerciseDetailOut, **errors(400, 404, *AUTH_ERRORS)},
    summary="Start an exercise or a live incident",
)
def start_exercise(request: HttpRequest, body: StartIn) -> tuple[int, dict[str, Any]]:
    """From a DR/BCP scenario or the DDoS playbook: its steps become the checklist; a table-top
    exercise gets the scenario's injects, released at their time. 404 if you are not a contact of
    the ccTLD, or if a linked alert is not one you may read."""
    person = require_member(request)
    exercise = playbook_links.start(
        person,
        resolve_tld(body.tld),
        kind=body.kind,
        playbook=body.playbook,
        scenario=body.scenario,
        language=body.language,
        title=body.title,
        alert_id=body.alert_id,
        monitor_incident_id=body.monitor_incident_id,
        actor=actor(request),
    )
    return 201, _detail(request, exercise.pk)


ONE_ERRORS = errors(404, *AUTH_ERRORS)
ACT_ERRORS = errors(400, 404, *AUTH_ERRORS)


@router.get(
    "/exercises/{exercise_id}",
    response={200: ExerciseDetailOut, **ONE_ERRORS},
    summary="One exercise: checklist, timeline, injects",
)
def get_exercise(request: HttpRequest, exercise_id: int) -> dict[str, Any]:
    """Releases the injects whose time has come first."""
    return _detail(request, exercise_id)


class StepIn(InputSchema):
    done: bool | None = Field(None, description="Done (who and when are kept) or not.")
    assignee: str | None = Field(None, max_length=ASSIGNEE_MAX, description="Anyone, by name.")
    assignee_id: int | None = Field(None, ge=1, description="A contact of the ccTLD.")
    note: str | None = Field(None, max_length=NOTE_MAX)


@router.patch(
    "/exercises/{exercise_id}/steps/{step_id}",
    response={200: ExerciseDetailOut, **ACT_ERRORS},
    summary="Change a step of the checklist",
)
def update_step(
    request: HttpRequest, exercise_id: int, step_id: str, body: StepIn
) -> dict[str, Any]:
    """Fields left out are not changed. 400 once the exercise has ended."""
    person = require_member(request)
    exercise = exercises.get(person, exercise_id)
    exercises.update_step(
        exercise,
        person,
        step_id[:60],
        done=body.done,
        assignee=body.assignee,
        assignee_id=body.assignee_id,
        note=body.note,
        actor=actor(request),
    )
    return _detail(request, exercise_id)


class EntryIn(InputSchema):
    kind: str = Field("note", max_length=10, description="note or decision.")
    text: str = Field(max_length=NOTE_MAX)


@router.post(
    "/exercises/{exercise_id}/timeline",
    response={201: ExerciseDetailOut, **ACT_ERRORS},
    summary="Add a note or a decision to the timeline",
)
def add_entry(request: HttpRequest, exercise_id: int, body: EntryIn) -> tuple[int, dict[str, Any]]:
    """A note or a decision, by you, now. 400 once the exercise has ended."""
    person = require_member(request)
    exercise = exercises.get(person, exercise_id)
    exercises.add_entry(exercise, person, body.text, kind=body.kind, actor=actor(request))
    return 201, _detail(request, exercise_id)


class InjectIn(InputSchema):
    title: str = Field(max_length=TITLE_MAX)
    text: str = Field(max_length=TEXT_MAX)
    at_minutes: int | None = Field(
        None,
        description=f"0 to {exercises.MAX_INJECT_MINUTES} minutes after the start (checked by "
        "the service, 400 otherwise, as on the page). Default: now.",
    )


@router.post(
    "/exercises/{exercise_id}/injects",
    response={201: ExerciseDetailOut, **ACT_ERRORS},
    summary="Add an inject to a table-top exercise",
)
def add_inject(
    request: HttpRequest, exercise_id: int, body: InjectIn
) -> tuple[int, dict[str, Any]]:
    """The facilitator's own surprise: released now, or at `at_minutes` after the start. 400 for a
    live incident."""
    person = require_member(request)
    exercise = exercises.get(person, exercise_id)
    exercises.add_inject(
        exercise, person, body.title, body.text, at_minutes=body.at_minutes, actor=actor(request)
    )
    return 201, _detail(request, exercise_id)


class LinkIn(InputSchema):
    alert_id: int | None = Field(None, ge=1, description="An alert you may read.")
    monitor_incident_id: int | None = Field(
        None, ge=1, description="A monitor incident of the same ccTLD."
    )


@router.post(
    "/exercises/{exercise_id}/links",
    response={200: ExerciseDetailOut, **ACT_ERRORS},
    summary="Link a live DDoS incident to an alert and a monitor incident",
)
def link(request: HttpRequest, exercise_id: int, body: LinkIn) -> dict[str, Any]:
    """404 for an alert you may not read (as for one that does not exist); 400 for a monitor
    incident of another ccTLD, or for anything but a live DDoS incident."""
    person = require_member(request)
    exercise = exercises.get(person, exercise_id)
    playbook_links.link(
        exercise,
        person,
        alert_id=body.alert_id,
        monitor_incident_id=body.monitor_incident_id,
        actor=actor(request),
    )
    return _detail(request, exercise_id)


class ActionIn(InputSchema):
    text: str = Field(max_length=ACTION_MAX)
    owner: str = Field("", max_length=ASSIGNEE_MAX)


class EndIn(InputSchema):
    went_well: str = Field("", max_length=TEXT_MAX)
    to_change: str = Field("", max_length=TEXT_MAX)
    actions: list[ActionIn] = Field(default_factory=list, max_length=exercises.MAX_ACTIONS)


class ReportOut(Schema):
    exercise: ExerciseOut
    went_well: str
    to_change: str
    actions: list[ActionIn]
    pdf: str = Field(description="The path of the report as a PDF (portal session).")


def _report(request: HttpRequest, exercise_id: int) -> dict[str, Any]:
    person = require_member(request)
    e = exercises.get(person, exercise_id)
    if e.running:
        raise NotFound(_("The exercise has not ended: no report yet."))
    return {
        "exercise": _exercise(e, playbook_links.readable_alert_ids(person, [e.alert_id])),
        "went_well": e.went_well,
        "to_change": e.to_change,
        "actions": [{"text": a.text, "owner": a.owner} for a in e.actions.all()],
        "pdf": reverse("web:exercise_report_pdf", args=[e.pk]),
    }


@router.post(
    "/exercises/{exercise_id}/end",
    response={200: ReportOut, **ACT_ERRORS},
    summary="End an exercise with its after-action report",
)
def end(request: HttpRequest, exercise_id: int, body: EndIn) -> dict[str, Any]:
    """What went well, what to change (one at least), actions with owners. The record is final
    after: 400 for any change."""
    person = require_member(request)
    exercise = exercises.get(person, exercise_id)
    exercises.end(
        exercise,
        person,
        exercises.ReportInput(
            went_well=body.went_well,
            to_change=body.to_change,
            actions=[(a.text, a.owner) for a in body.actions],
        ),
        actor=actor(request),
    )
    return _report(request, exercise_id)


@router.get(
    "/exercises/{exercise_id}/report",
    response={200: ReportOut, **ONE_ERRORS},
    summary="An exercise's after-action report",
)
def report(request: HttpRequest, exercise_id: int) -> dict[str, Any]:
    """404 until the exercise has ended."""
    return _report(request, exercise_id)
