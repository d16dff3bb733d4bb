"""The exercises' pages (issue 12, exercises and live use): a member's ccTLDs' exercises and the
form to start one, the running exercise (checklist, timeline, injects, links, the end with its
report form), and the after-action report as HTML and PDF.

A thin door onto :mod:`tldops.playbooks.exercises` and :mod:`tldops.ops.playbook_links`: an
exercise is its ccTLD's, and anyone but that ccTLD's active contacts gets 404 on every page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from tldops.directory import permissions
from tldops.directory.audit import Actor
from tldops.directory.models import Person
from tldops.kernel.errors import DirectoryError, InvalidInput, NotFound
from tldops.ops import playbook_links
from tldops.playbooks import access, catalogs, exercises, plans
from tldops.playbooks.models import (
    ACTION_MAX,
    ASSIGNEE_MAX,
    NOTE_MAX,
    TEXT_MAX,
    TITLE_MAX,
    Exercise,
)
from tldops.web.access import member_required

private = cache_control(private=True, no_store=True)
#: Action rows the end form offers (the service takes up to ``exercises.MAX_ACTIONS``).
ACTION_ROWS = 5


def _person(request: HttpRequest) -> Person:
    person = permissions.person_of(request.user)
    assert person is not None  # noqa: S101 - member_required let a signed-in person through
    return person


def _get(request: HttpRequest, pk: int) -> Exercise:
    try:
        return exercises.get(_person(request), pk)
    except NotFound:
        raise Http404(_("No such exercise.")) from None


def _optional_number(request: HttpRequest, name: str) -> int | None:
    """A whole number from the form, or ``None`` when empty; its range is the service's rule."""
    raw = request.POST.get(name, "")[:20].strip()
    if not raw:
        return None
    if not raw.removeprefix("-").isdigit():
        raise InvalidInput(_("A number, please."), field=name)
    return int(raw)


def _optional_id(request: HttpRequest, name: str) -> int | None:
    number = _optional_number(request, name)
    if number is not None and number < 1:
        raise InvalidInput(_("A number, please."), field=name)
    return number


def _list(
    request: HttpRequest,
    *,
    status: int = 200,
    errors: dict | None = None,
    values: dict | None = None,
) -> HttpResponse:
    person = _person(request)
    reader_language = catalogs.from_django(get_language())  # the checklist's, by default
    return render(
        request,
        "web/exercises/list.html",
        {
            "rows": exercises.for_person(person).select_related("started_by"),
            "tlds": access.own_tlds(person).order_by("alabel"),
            "scenarios": exercises.scenarios(reader_language),
            "playbook_languages": catalogs.LANGUAGES.items(),
            "title_max": TITLE_MAX,
            "errors": errors or {},
            "values": values or {"kind": "exercise", "language": reader_language},
        },
        status=status,
    )


@member_required
@private
def exercise_list(request: HttpRequest) -> HttpResponse:
    """The exercises of the person's ccTLDs, and the form to start one."""
    return _list(request)


@member_required
@private
@require_POST
def exercise_start(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    values = {
        name: request.POST.get(name, "")[:200].strip()
        for name in ("tld", "kind", "scenario", "language", "title", "alert_id",
                     "monitor_incident_id")
    }  # fmt: skip
    tld = access.own_tlds(person).filter(alabel=values["tld"][:63]).first()
    try:
        if tld is None:
            raise InvalidInput(_("Choose one of your ccTLDs."), field="tld")
        playbook, scenario = exercises.parse_key(values["scenario"])
        exercise = playbook_links.start(
            person,
            tld,
            kind=values["kind"],
            playbook=playbook,
            scenario=scenario,
            language=values["language"],
            title=_posted(request, "title", TITLE_MAX),
            alert_id=_optional_id(request, "alert_id"),
            monitor_incident_id=_optional_id(request, "monitor_incident_id"),
            actor=Actor.of(person, "web"),
        )
    except DirectoryError as exc:
        problems = {e.field or "form": e.message for e in exc.errors}
        return _list(request, status=exc.status, errors=problems, values=values)
    messages.success(request, _("The exercise has started."))
    return redirect("web:exercise", pk=exercise.pk)


def _detail(
    request: HttpRequest, exercise: Exercise, *, status: int = 200, errors: dict | None = None
) -> HttpResponse:
    steps = list(exercise.steps.select_related("assignee", "done_by"))
    stages: list[tuple[str, list]] = []
    for step in steps:
        if not stages or stages[-1][0] != step.stage:
            stages.append((step.stage, []))
        stages[-1][1].append(step)
    words = catalogs.labels(exercise.language)
    contacts = list(exercises.contacts(exercise))
    return render(
        request,
        "web/exercises/exercise.html",
        {
            "exercise": exercise,
            "scenario_title": exercises.scenario_title(exercise),
            "stages": [
                (
                    exercises.stage_title(exercise, stage),
                    [(s, words.get(s.owner_role, "")) for s in items],
                )
                for stage, items in stages
            ],
            "timeline": exercise.timeline.select_related("person"),
            "injects": exercises.released_injects(exercise),
            "pending_injects": exercise.injects.filter(released_at__isnull=True).count(),
            "contacts": contacts,
            "contact_ids": {c.pk for c in contacts},
            "plan_path": plans.plan_url(exercise.tld),
            "alert_id": playbook_links.readable_alert_id(_person(request), exercise),
            "rtl": exercise.language in catalogs.RTL,
            "is_live_ddos": exercise.kind == Exercise.Kind.LIVE
            and exercise.playbook == Exercise.Playbook.DDOS,
            "note_max": NOTE_MAX,
            "text_max": TEXT_MAX,
            "title_max": TITLE_MAX,
            "assignee_max": ASSIGNEE_MAX,
            "action_max": ACTION_MAX,
            "action_rows": range(ACTION_ROWS),
            "errors": errors or {},
        },
        status=status,
    )


@member_required
@private
def exercise_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _get(request, pk))


@member_required
@private
@require_POST
def exercise_step(request: HttpRequest, pk: int, step_id: str) -> HttpResponse:
    """Save one item of the checklist (done, assignee, note) from its form.

    The form is one of several people's: it carries what it was rendered with (``done_was``,
    ``assignee_id_was``, ``assignee_was``, ``note_was``), and only what the person changed in it
    is passed on. An unticked box would otherwise reopen a step a colleague closed meanwhile,
    and a select without a former contact in it would unassign them on every save."""
    exercise = _get(request, pk)
    person = _person(request)
    try:
        exercises.update_step(
            exercise, person, step_id[:60], **_step_changes(request), actor=Actor.of(person, "web")
        )
    except DirectoryError as exc:
        return _detail(
            request, exercise, status=exc.status, errors={f"step-{step_id[:60]}": exc.message}
        )
    return redirect(reverse("web:exercise", args=[pk]) + f"#step-{step_id[:60]}")


def _posted(request: HttpRequest, name: str, limit: int) -> str:
    """A posted text, cut only far beyond its limit: the service measures it once its line
    breaks are normalised (a browser sends each one as CR LF, two characters, where the
    textarea's maxlength counted one), and refuses it whole when it is too long. Cutting at the
    limit here would store a shortened text without a word."""
    return request.POST.get(name, "")[: 4 * limit + 1]


def _changed(request: HttpRequest, name: str, limit: int) -> str | None:
    """The field's value if the person changed it from what the form was rendered with (its
    ``<name>_was`` twin), else ``None``; a form without the twin is taken as changed."""
    value = _posted(request, name, limit)
    was = request.POST.get(f"{name}_was")
    if was is not None and _same(value) == _same(was[: 4 * limit + 1]):
        return None
    return value


def _same(text: str) -> str:
    """A form value as compared with its twin: a hidden field and a textarea may send the same
    text with different line ends."""
    return text.replace("\r\n", "\n").strip()


def _step_changes(request: HttpRequest) -> dict[str, Any]:
    """What a step form asks to change, as :func:`exercises.update_step` arguments."""
    changes: dict[str, Any] = {}
    done = "1" if request.POST.get("done") == "1" else "0"
    if done != request.POST.get("done_was", "0"):  # without it, only a tick is a change
        changes["done"] = done == "1"
    contact = _changed(request, "assignee_id", 20)
    text = _changed(request, "assignee", ASSIGNEE_MAX)
    if contact is not None and _optional_id(request, "assignee_id") is not None:
        changes["assignee_id"] = _optional_id(request, "assignee_id")
    elif contact is not None or text is not None:  # unassigned, or given to someone by name
        changes["assignee"] = _posted(request, "assignee", ASSIGNEE_MAX)
    note = _changed(request, "note", NOTE_MAX)
    if note is not None:
        changes["note"] = note
    return changes


def _entry(exercise: Exercise, person: Person, request: HttpRequest) -> str:
    kind = request.POST.get("kind", "note")[:10]
    text = _posted(request, "text", NOTE_MAX)
    exercises.add_entry(exercise, person, text, kind=kind, actor=Actor.of(person, "web"))
    return _("It is on the timeline.")


def _inject(exercise: Exercise, person: Person, request: HttpRequest) -> str:
    exercises.add_inject(
        exercise,
        person,
        _posted(request, "title", TITLE_MAX),
        _posted(request, "text", TEXT_MAX),
        at_minutes=_optional_number(request, "at_minutes"),
        actor=Actor.of(person, "web"),
    )
    return _("The inject is added.")


def _link(exercise: Exercise, person: Person, request: HttpRequest) -> str:
    playbook_links.link(
        exercise,
        person,
        alert_id=_optional_id(request, "alert_id"),
        monitor_incident_id=_optional_id(request, "monitor_incident_id"),
        actor=Actor.of(person, "web"),
    )
    return _("The links are saved.")


def _end(exercise: Exercise, person: Person, request: HttpRequest) -> str:
    actions = [
        (
            _posted(request, f"action-{n}", ACTION_MAX),
            _posted(request, f"owner-{n}", ASSIGNEE_MAX),
        )
        for n in range(ACTION_ROWS)
    ]
    exercises.end(
        exercise,
        person,
        exercises.ReportInput(
            went_well=_posted(request, "went_well", TEXT_MAX),
            to_change=_posted(request, "to_change", TEXT_MAX),
            actions=actions,
        ),
        actor=Actor.of(person, "web"),
    )
    return _("The exercise has ended; here is its report.")


ACTIONS: dict[str, Callable[[Exercise, Person, HttpRequest], str]] = {
    "timeline": _entry,
    "inject": _inject,
    "link": _link,
    "end": _end,
}


@member_required
@private
@require_POST
def exercise_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One of the team's actions; a refusal is shown on the page, nothing changed."""
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404(_("No such action."))
    exercise = _get(request, pk)
    try:
        done = handler(exercise, _person(request), request)
    except DirectoryError as exc:
        return _detail(request, exercise, status=exc.status, errors={action: exc.message})
    messages.success(request, done)
    if action == "end":
        return redirect("web:exercise_report", pk=pk)
    return redirect("web:exercise", pk=pk)


def _ended(request: HttpRequest, pk: int) -> Exercise:
    exercise = _get(request, pk)
    if exercise.running:
        raise Http404(_("The exercise has not ended: no report yet."))
    return exercise


@member_required
@private
def exercise_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The after-action report: the same blocks the PDF prints."""
    exercise = _ended(request, pk)
    alert_id = playbook_links.readable_alert_id(_person(request), exercise)
    return render(
        request,
        "web/exercises/report.html",
        {
            "exercise": exercise,
            "alert_id": alert_id,
            "blocks": exercises.report_blocks(exercise, alert_id=alert_id),
            "rtl": exercise.language in catalogs.RTL,
            "plan_path": plans.plan_url(exercise.tld),
        },
    )


@member_required
@private
def exercise_report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _ended(request, pk)
    alert_id = playbook_links.readable_alert_id(_person(request), exercise)
    response = HttpResponse(
        exercises.report_pdf(exercise, alert_id=alert_id), content_type="application/pdf"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="after-action-{exercise.tld.alabel}-{exercise.pk}.pdf"'
    )
    return response
