"""Exercises and live use of the playbooks (issue 12): the one place their rules live.

A ccTLD's team starts a **table-top exercise** or a **live incident** from a DR/BCP scenario or
from the DDoS playbook (its five phases). The steps become a checklist (owner role from the
playbook, an assignee, done at/by, a note); a timeline keeps who did what when; an exercise gets
the scenario's **injects** (``content/injects.yaml``), released when their time has come, and
the facilitator may add more; at the end an **after-action report** (what went well, what to
change, actions with owners) is written, printed with :mod:`tldops.playbooks.document` and linked
to the ccTLD's plan (its version at the start, and the plan's page).

Everything is the ccTLD's: only its active contacts read or change it
(:mod:`tldops.playbooks.access`), and everyone else is told there is no such exercise
(:class:`~tldops.kernel.errors.NotFound`), so its existence does not leak. Every door (pages,
API) calls these functions; a live DDoS incident's links to an alert and a monitor incident are
checked by the bridge :mod:`tldops.ops.playbook_links` before :func:`link` stores them.

Time is an argument (``now``) wherever it matters, so that tests move the clock instead of
sleeping, and injects are released idempotently whoever looks first: a read (:func:`get`) or the
worker (:func:`release_all_due`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tldops.catalog.models import Tld
from tldops.directory.audit import Actor
from tldops.directory.models import Person
from tldops.directory.validation import clean_text
from tldops.kernel.audit import record
from tldops.kernel.errors import InvalidInput, NotFound, raise_all
from tldops.playbooks import access, catalogs, content, document, plans
from tldops.playbooks.models import (
    ACTION_MAX,
    ASSIGNEE_MAX,
    NOTE_MAX,
    TEXT_MAX,
    TITLE_MAX,
    Exercise,
    ExerciseStep,
    Inject,
    Plan,
    ReportAction,
    TimelineEntry,
)

#: Bounds: what one exercise may gather, so that nobody fills the database through it.
MAX_ADDED_INJECTS = 50
MAX_TIMELINE = 1000
MAX_ACTIONS = 20
MAX_INJECT_MINUTES = 24 * 60
#: Entries a person may add to the timeline (the others are written by tldops).
PERSON_ENTRIES = (TimelineEntry.Kind.NOTE, TimelineEntry.Kind.DECISION)


def plan_version(tld: Tld) -> int | None:
    """The version of ``tld``'s own plan now (its last save), or ``None`` when it has none: an
    exercise links to its plan by the ccTLD and remembers the version it was run against."""
    version = Plan.objects.filter(tld=tld).values_list("version", flat=True).first()
    return version or None


# --- Choosing what to run ------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """Something an exercise can be started from: a DR/BCP scenario, or the DDoS playbook."""

    playbook: str
    scenario: str
    title: str

    @property
    def key(self) -> str:
        """How forms name it: ``ddos`` or ``drbcp/<scenario>``."""
        return self.playbook if not self.scenario else f"{self.playbook}/{self.scenario}"


def scenarios(language: str = "en") -> list[Scenario]:
    """Every scenario an exercise can be started from, titles in ``language``."""
    ddos = catalogs.localize("ddos", language).book
    drbcp = catalogs.localize("drbcp", language).book
    return [Scenario("ddos", "", ddos["title"])] + [
        Scenario("drbcp", s["id"], s["title"]) for s in drbcp["scenarios"]
    ]


def parse_key(key: str) -> tuple[str, str]:
    """``ddos`` or ``drbcp/<scenario>`` as (playbook, scenario); checked by :func:`start`."""
    playbook, _sep, scenario = (key or "").strip()[:60].partition("/")
    return playbook, scenario


def _values(tld: Tld, language: str) -> Mapping[str, str]:
    """What placeholders in steps and injects become for ``tld`` (the others stay ``[name]``);
    in a right-to-left language each in a bidi isolate, as in the printed playbook, so that
    ``.example`` keeps its dot in front inside Arabic text."""
    return document.values_for(language, {"tld": f".{tld.ulabel}", "registry": tld.manager})


def _steps(playbook: str, scenario: str, language: str) -> list[tuple[str, dict[str, Any]]]:
    """(stage or phase, step) in order, in ``language``."""
    book = catalogs.localize(playbook, language).book
    if playbook == Exercise.Playbook.DDOS:
        return [(phase["id"], step) for phase in book["phases"] for step in phase["steps"]]
    found = next(s for s in book["scenarios"] if s["id"] == scenario)
    return [(stage, step) for stage in content.STAGES for step in found[stage]]


def stage_title(exercise: Exercise, stage: str) -> str:
    """A stage's (first_hour …) or a DDoS phase's title in the exercise's language."""
    if exercise.playbook == Exercise.Playbook.DDOS:
        book = catalogs.localize("ddos", exercise.language).book
        return next((p["title"] for p in book["phases"] if p["id"] == stage), stage)
    return catalogs.label(stage, exercise.language)


def scenario_title(exercise: Exercise) -> str:
    for s in scenarios(exercise.language):
        if (s.playbook, s.scenario) == (exercise.playbook, exercise.scenario):
            return s.title
    return exercise.scenario


# --- Validation ----------------------------------------------------------------------------------


#: What each field is called in a refusal ("Note may be at most 2000 characters; shorten it.").
_FIELD_NAMES = {
    "title": gettext_lazy("Title"),
    "assignee": gettext_lazy("Assigned to"),
    "note": gettext_lazy("Note"),
    "text": gettext_lazy("Text"),
    "went_well": gettext_lazy("What went well"),
    "to_change": gettext_lazy("What to change"),
    "action": gettext_lazy("Action"),
    "owner": gettext_lazy("Owner"),
}


def _line(value: str | None, name: str, *, limit: int, required: bool) -> str:
    """One line of free text (the directory's rule: :func:`clean_text`)."""
    return clean_text(
        value, field_name=name, max_length=limit, required=required, what=str(_FIELD_NAMES[name])
    )


def _text(value: str | None, name: str, *, limit: int, required: bool) -> str:
    """A text of several lines (the same rule, line breaks kept)."""
    return clean_text(
        value,
        field_name=name,
        max_length=limit,
        required=required,
        what=str(_FIELD_NAMES[name]),
        lines=True,
    )


def _audit_started(exercise: Exercise) -> str:
    """The audit summary of a start: ids and kinds only, in English. Staff read the audit log
    and are not the ccTLD's contacts, so the exercise's title (free text) stays out of it."""
    what = "Live incident" if exercise.kind == Exercise.Kind.LIVE else "Exercise"
    source = exercise.playbook + (f"/{exercise.scenario}" if exercise.scenario else "")
    return f"{what} {exercise.pk} started ({source})"


def _not_found() -> NotFound:
    return NotFound(_("No such exercise."))


def _require_own(person: Person | None, tld: Tld) -> None:
    if not access.is_own(person, tld):
        raise _not_found()


def _locked(exercise: Exercise, person: Person | None) -> Exercise:
    """The exercise, locked for the change, checked again: its ccTLD's contact, still running."""
    current = Exercise.objects.select_for_update().select_related("tld").get(pk=exercise.pk)
    _require_own(person, current.tld)
    if not current.running:
        raise InvalidInput(_("The exercise has ended: its record is final."), field="exercise")
    return current


def _entry(
    exercise: Exercise, kind: str, text: str, *, at: datetime, person: Person | None = None
) -> TimelineEntry:
    if exercise.timeline.count() >= MAX_TIMELINE:
        raise InvalidInput(
            _("The timeline is full (%(n)d entries).") % {"n": MAX_TIMELINE}, field="timeline"
        )
    return TimelineEntry.objects.create(
        exercise=exercise, kind=kind, text=text, at=at, person=person
    )


# --- Starting and reading ------------------------------------------------------------------------


def start(
    person: Person,
    tld: Tld,
    *,
    kind: str,
    playbook: str,
    scenario: str = "",
    language: str = "en",
    title: str = "",
    now: datetime | None = None,
    actor: Actor | None = None,
) -> Exercise:
    """Start an exercise (or a live incident) of ``tld`` from a scenario: its steps become the
    checklist, and an exercise gets the scenario's injects, to be released at their time."""
    _require_own(person, tld)
    errors: list[InvalidInput] = []
    if kind not in Exercise.Kind.values:
        errors.append(
            InvalidInput(_("Choose a table-top exercise or a live incident."), field="kind")
        )
    if playbook not in Exercise.Playbook.values:
        errors.append(
            InvalidInput(_("Choose the DDoS playbook or a DR/BCP scenario."), field="playbook")
        )
    elif playbook == Exercise.Playbook.DRBCP:
        known = {s["id"] for s in content.load("drbcp")["scenarios"]}
        if scenario not in known:
            errors.append(InvalidInput(_("Choose one of the DR/BCP scenarios."), field="scenario"))
    elif scenario:
        errors.append(
            InvalidInput(_("The DDoS playbook has no scenarios: leave it empty."), field="scenario")
        )
    if language not in catalogs.LANGUAGES:
        errors.append(InvalidInput(_("Choose one of the playbooks' languages."), field="language"))
    try:
        clean_title = _line(title, "title", limit=TITLE_MAX, required=False)
    except InvalidInput as exc:
        errors.append(exc)
    raise_all(errors)
    now = now or timezone.now()
    actor = actor or Actor.of(person, "system")
    values = _values(tld, language)
    with transaction.atomic():
        exercise = Exercise.objects.create(
            tld=tld,
            kind=kind,
            playbook=playbook,
            scenario=scenario if playbook == Exercise.Playbook.DRBCP else "",
            language=language,
            title="",
            started_by=person,
            started_at=now,
            plan_version=plan_version(tld),
        )
        exercise.title = clean_title or scenario_title(exercise)[:TITLE_MAX]
        exercise.save(update_fields=["title"])
        ExerciseStep.objects.bulk_create(
            ExerciseStep(
                exercise=exercise,
                position=n,
                step_id=step["id"],
                stage=stage,
                title=document.fill(step["title"], values)[:TITLE_MAX],
                owner_role=step.get("owner", ""),
            )
            for n, (stage, step) in enumerate(_steps(playbook, scenario, language))
        )
        if kind == Exercise.Kind.EXERCISE:
            book, _english = catalogs.localized_injects(language)
            Inject.objects.bulk_create(
                Inject(
                    exercise=exercise,
                    inject_id=i["id"],
                    at_minutes=i["at"],
                    title=document.fill(i["title"], values)[:TITLE_MAX],
                    text="\n\n".join(
                        document.fill(p, values) for p in i["text"].split("\n\n") if p.strip()
                    ),
                )
                for i in content.deck(playbook, exercise.scenario, source=book)
            )
        _entry(exercise, TimelineEntry.Kind.START, exercise.title, at=now, person=person)
        record(actor, "exercise-started", _audit_started(exercise), tld=tld)
    return exercise


def for_person(person: Person | None, tld: Tld | None = None) -> QuerySet[Exercise]:
    """The exercises ``person`` may read (their ccTLDs'), newest first; of one ccTLD with ``tld``."""
    qs = Exercise.objects.select_related("tld").filter(tld__in=access.own_tlds(person))
    if tld is not None:
        qs = qs.filter(tld=tld)
    return qs


def get(person: Person | None, pk: int, *, now: datetime | None = None) -> Exercise:
    """One exercise, for one of its ccTLD's contacts (anyone else: :class:`NotFound`); the
    injects whose time has come are released first."""
    exercise = Exercise.objects.select_related("tld").filter(pk=pk).first()
    if exercise is None or not access.is_own(person, exercise.tld):
        raise _not_found()
    release_due(exercise, now=now)
    return exercise


def release_due(exercise: Exercise, *, now: datetime | None = None) -> int:
    """Release the exercise's injects whose time has come (each once, whoever asks first: the
    conditional update is the claim); each goes on the timeline at its time."""
    if exercise.kind != Exercise.Kind.EXERCISE or not exercise.running:
        return 0
    now = now or timezone.now()
    released = 0
    pending = exercise.injects.filter(released_at__isnull=True).order_by("at_minutes", "pk")
    for inject in pending:
        due = exercise.started_at + timedelta(minutes=inject.at_minutes)
        if due > now:
            break
        with transaction.atomic():
            claimed = Inject.objects.filter(pk=inject.pk, released_at__isnull=True).update(
                released_at=due
            )
            if claimed:
                TimelineEntry.objects.create(
                    exercise=exercise, kind=TimelineEntry.Kind.INJECT, text=inject.title, at=due
                )
                released += 1
    return released


def release_all_due(now: datetime | None = None) -> int:
    """The worker's job: release the due injects of every running exercise (idempotent)."""
    now = now or timezone.now()
    running = Exercise.objects.filter(
        kind=Exercise.Kind.EXERCISE, ended_at__isnull=True, injects__released_at__isnull=True
    ).distinct()
    return sum(release_due(exercise, now=now) for exercise in running)


def contacts(exercise: Exercise) -> QuerySet[Person]:
    """Whom a step may be assigned to by name: the ccTLD's active contacts."""
    return access.contacts(exercise.tld).order_by("name")


def released_injects(exercise: Exercise) -> QuerySet[Inject]:
    return exercise.injects.filter(released_at__isnull=False).order_by("released_at", "pk")


# --- The checklist, the timeline, the injects ----------------------------------------------------


def update_step(
    exercise: Exercise,
    person: Person,
    step_id: str,
    *,
    done: bool | None = None,
    assignee: str | None = None,
    assignee_id: int | None = None,
    note: str | None = None,
    now: datetime | None = None,
    actor: Actor | None = None,
) -> ExerciseStep:
    """Change one item of the checklist: done or not (who and when are kept), who it is assigned
    to (a contact of the ccTLD by ``assignee_id``, or anyone by name in ``assignee``), its note.
    Arguments left ``None`` are not changed."""
    _require_own(person, exercise.tld)
    errors: list[InvalidInput] = []
    clean_assignee = clean_note = None
    try:
        if assignee is not None:
            clean_assignee = _line(assignee, "assignee", limit=ASSIGNEE_MAX, required=False)
    except InvalidInput as exc:
        errors.append(exc)
    try:
        if note is not None:
            clean_note = _text(note, "note", limit=NOTE_MAX, required=False)
    except InvalidInput as exc:
        errors.append(exc)
    contact = None
    if assignee_id is not None:
        contact = contacts(exercise).filter(pk=assignee_id).first()
        if contact is None:
            errors.append(
                InvalidInput(
                    _(
                        "A step is assigned by name to a contact of .%(tld)s only; write other "
                        "names as text."
                    )
                    % {"tld": exercise.tld.alabel},
                    field="assignee_id",
                )
            )
    raise_all(errors)
    now = now or timezone.now()
    actor = actor or Actor.of(person, "system")
    with transaction.atomic(), translation.override(catalogs.django_language(exercise.language)):
        current = _locked(exercise, person)
        step = (
            ExerciseStep.objects.select_for_update()
            .filter(exercise=current, step_id=step_id)
            .first()
        )
        if step is None:
            raise NotFound(_("No step %(id)s in this exercise.") % {"id": step_id[:60]})
        changed = []
        if done is True and step.done_at is None:
            step.done_at, step.done_by = now, person
            changed += ["done_at", "done_by"]
            _entry(
                current,
                TimelineEntry.Kind.STEP,
                _("Done: %(step)s") % {"step": step.title},
                at=now,
                person=person,
            )
        elif done is False and step.done_at is not None:
            step.done_at, step.done_by = None, None
            changed += ["done_at", "done_by"]
            _entry(
                current,
                TimelineEntry.Kind.STEP,
                _("Reopened: %(step)s") % {"step": step.title},
                at=now,
                person=person,
            )
        if contact is not None and step.assignee_id != contact.pk:
            step.assignee, step.assignee_text = contact, ""
            changed += ["assignee", "assignee_text"]
        elif (
            clean_assignee is not None
            and contact is None
            and (clean_assignee != step.assignee_text or step.assignee_id)
        ):
            step.assignee, step.assignee_text = None, clean_assignee
            changed += ["assignee", "assignee_text"]
        if clean_note is not None and clean_note != step.note:
            step.note = clean_note
            changed.append("note")
            if clean_note:
                _entry(
                    current,
                    TimelineEntry.Kind.NOTE,
                    f"{step.title}: {clean_note}",
                    at=now,
                    person=person,
                )
        if changed:
            step.save(update_fields=changed)
            record(
                actor,
                "exercise-step",
                f"Exercise {current.pk} step {step.step_id} changed",
                tld=current.tld,
            )
    return step


def add_entry(
    exercise: Exercise,
    person: Person,
    text: str,
    *,
    kind: str = TimelineEntry.Kind.NOTE,
    now: datetime | None = None,
    actor: Actor | None = None,
) -> TimelineEntry:
    """A note or a decision on the timeline."""
    _require_own(person, exercise.tld)
    if kind not in PERSON_ENTRIES:
        raise InvalidInput(_("A timeline entry is a note or a decision."), field="kind")
    clean = _text(text, "text", limit=NOTE_MAX, required=True)
    now = now or timezone.now()
    actor = actor or Actor.of(person, "system")
    with transaction.atomic():
        current = _locked(exercise, person)
        entry = _entry(current, kind, clean, at=now, person=person)
        record(actor, "exercise-timeline", f"Exercise {current.pk}: {kind} added", tld=current.tld)
    return entry


def add_inject(
    exercise: Exercise,
    person: Person,
    title: str,
    text: str,
    *,
    at_minutes: int | None = None,
    now: datetime | None = None,
    actor: Actor | None = None,
) -> Inject:
    """The facilitator's own inject: released now, or at ``at_minutes`` after the start."""
    _require_own(person, exercise.tld)
    if exercise.kind != Exercise.Kind.EXERCISE:
        raise InvalidInput(
            _("Injects are for table-top exercises, not live incidents."), field="kind"
        )
    errors: list[InvalidInput] = []
    for check in (
        lambda: _line(title, "title", limit=TITLE_MAX, required=True),
        lambda: _text(text, "text", limit=TEXT_MAX, required=True),
    ):
        try:
            check()
        except InvalidInput as exc:
            errors.append(exc)
    if at_minutes is not None and not 0 <= at_minutes <= MAX_INJECT_MINUTES:
        errors.append(
            InvalidInput(
                _("An inject's time is 0 to %(n)d minutes after the start.")
                % {"n": MAX_INJECT_MINUTES},
                field="at_minutes",
            )
        )
    raise_all(errors)
    now = now or timezone.now()
    actor = actor or Actor.of(person, "system")
    with transaction.atomic():
        current = _locked(exercise, person)
        if current.injects.filter(inject_id="").count() >= MAX_ADDED_INJECTS:
            raise InvalidInput(
                _("An exercise takes at most %(n)d injects of your own.")
                % {"n": MAX_ADDED_INJECTS},
                field="injects",
            )
        elapsed = int((now - current.started_at).total_seconds() // 60)
        minutes = elapsed if at_minutes is None else at_minutes
        inject = Inject.objects.create(
            exercise=current,
            at_minutes=max(minutes, 0),
            title=title.strip(),
            text=text.strip(),
            added_by=person,
        )
        record(actor, "exercise-inject", f"Exercise {current.pk}: inject added", tld=current.tld)
    release_due(current, now=now)
    inject.refresh_from_db()
    return inject


def link(
    exercise: Exercise,
    person: Person,
    *,
    alert_id: int | None = None,
    monitor_incident_id: int | None = None,
    now: datetime | None = None,
    actor: Actor | None = None,
) -> Exercise:
    """Store a live DDoS incident's alert and monitor incident. The ids are checked (the alert
    readable by ``person``, the monitor incident about the same ccTLD) by
    :mod:`tldops.ops.playbook_links`, which every door calls instead of this."""
    _require_own(person, exercise.tld)
    if (exercise.kind, exercise.playbook) != (Exercise.Kind.LIVE, Exercise.Playbook.DDOS):
        raise InvalidInput(
            _("Only a live DDoS incident is linked to an alert and a monitor incident."),
            field="kind",
        )
    if alert_id is None and monitor_incident_id is None:
        raise InvalidInput(_("Give an alert or a monitor incident to link."), field="alert_id")
    now = now or timezone.now()
    actor = actor or Actor.of(person, "system")
    with transaction.atomic(), translation.override(catalogs.django_language(exercise.language)):
        current = _locked(exercise, person)
        # Every contact of the ccTLD reads the timeline, not all of them the alert (a RED one
        # names its readers): the timeline says that an alert is linked, never which. The doors
        # show its number only to those who may read it (tldops.ops.playbook_links).
        said, audited = [], []
        if alert_id is not None:
            current.alert_id = alert_id
            said.append(_("an alert"))
            audited.append(f"alert {alert_id}")
        if monitor_incident_id is not None:
            current.monitor_incident_id = monitor_incident_id
            said.append(_("monitor incident %(id)d") % {"id": monitor_incident_id})
            audited.append(f"monitor incident {monitor_incident_id}")
        current.save(update_fields=["alert_id", "monitor_incident_id"])
        _entry(
            current,
            TimelineEntry.Kind.LINK,
            _("Linked to %(what)s") % {"what": ", ".join(said)},
            at=now,
            person=person,
        )
        # Ids only, in English (the audit log numbers alerts too: "Alert 5 raised (TLP:RED)").
        record(
            actor,
            "exercise-link",
            f"Exercise {current.pk} linked: {', '.join(audited)}",
            tld=current.tld,
        )
    return current


# --- The end and the after-action report ---------------------------------------------------------


@dataclass
class ReportInput:
    """What the team writes at the end."""

    went_well: str = ""
    to_change: str = ""
    #: (action, owner) pairs; an empty action is left out.
    actions: list[tuple[str, str]] = field(default_factory=list)


def end(
    exercise: Exercise,
    person: Person,
    report: ReportInput,
    *,
    now: datetime | None = None,
    actor: Actor | None = None,
) -> Exercise:
    """End the exercise with its after-action report; nothing changes after."""
    _require_own(person, exercise.tld)
    errors: list[InvalidInput] = []
    went_well = to_change = ""
    try:
        went_well = _text(report.went_well, "went_well", limit=TEXT_MAX, required=False)
    except InvalidInput as exc:
        errors.append(exc)
    try:
        to_change = _text(report.to_change, "to_change", limit=TEXT_MAX, required=False)
    except InvalidInput as exc:
        errors.append(exc)
    actions = [
        (a or "", o or "") for a, o in report.actions if (a or "").strip() or (o or "").strip()
    ]
    if len(actions) > MAX_ACTIONS:
        errors.append(
            InvalidInput(_("At most %(n)d actions.") % {"n": MAX_ACTIONS}, field="actions")
        )
        actions = []
    clean_actions = []
    for n, (text, owner) in enumerate(actions):
        try:
            clean_actions.append(
                (
                    _line(text, "action", limit=ACTION_MAX, required=True),
                    _line(owner, "owner", limit=ASSIGNEE_MAX, required=False),
                )
            )
        except InvalidInput as exc:
            errors.append(exc.at(n))
    if not errors and not (went_well or to_change):
        errors.append(
            InvalidInput(
                _("Write what went well or what to change: the report is the point of it."),
                field="went_well",
            )
        )
    raise_all(errors)
    now = now or timezone.now()
    actor = actor or Actor.of(person, "system")
    release_due(exercise, now=now)
    with transaction.atomic():
        current = _locked(exercise, person)
        current.went_well, current.to_change = went_well, to_change
        current.ended_at, current.ended_by = now, person
        current.save(update_fields=["went_well", "to_change", "ended_at", "ended_by"])
        ReportAction.objects.bulk_create(
            ReportAction(exercise=current, position=n, text=text, owner=owner)
            for n, (text, owner) in enumerate(clean_actions)
        )
        _entry(current, TimelineEntry.Kind.END, current.title, at=now, person=person)
        record(
            actor, "exercise-ended", f"Exercise {current.pk} ended with its report", tld=current.tld
        )
    return current


def _when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "—"


def report_blocks(exercise: Exercise, *, alert_id: int | None = None) -> list[document.Block]:
    """The after-action report as blocks (printed by :func:`report_pdf`, shown by the page):
    the team's words, the actions, the checklist as it ended, the injects and the timeline,
    linked to the ccTLD's plan.

    ``alert_id`` is the linked alert *as the reader may see it*: the door passes
    ``exercise.alert_id`` only to someone who may read that alert
    (:func:`tldops.ops.playbook_links.readable_alert_id`), since a RED alert's number is not
    for every contact of the ccTLD; by default the report names no alert."""
    words = catalogs.labels(exercise.language)
    tld = exercise.tld
    with translation.override(catalogs.django_language(exercise.language)):
        kind = (
            _("Table-top exercise")
            if exercise.kind == Exercise.Kind.EXERCISE
            else _("Live incident")
        )
        out = [
            document.Block(
                "title", _("After-action report: %(title)s") % {"title": exercise.title}
            ),
            document.Block("subtitle", f".{tld.ulabel} · {kind} · {scenario_title(exercise)}"),
            document.Block(
                "meta",
                _("Started %(start)s by %(who)s; ended %(end)s.")
                % {
                    "start": _when(exercise.started_at),
                    "who": exercise.started_by.name if exercise.started_by else "—",
                    "end": _when(exercise.ended_at),
                },
            ),
        ]
        plan = (
            _("Plan version %(n)d: %(path)s")
            % {"n": exercise.plan_version, "path": plans.plan_url(tld)}
            if exercise.plan_version
            else _("The ccTLD's plan (no version yet when it started): %(path)s")
            % {"path": plans.plan_url(tld)}
        )
        out.append(document.Block("meta", plan))
        if alert_id:
            out.append(
                document.Block(
                    "meta",
                    _("Alert %(id)d: %(path)s")
                    % {"id": alert_id, "path": reverse("web:alert", args=[alert_id])},
                )
            )
        if exercise.monitor_incident_id:
            path = reverse("web:monitor_incident", args=[exercise.monitor_incident_id])
            out.append(
                document.Block(
                    "meta",
                    _("Monitor incident %(id)d: %(path)s")
                    % {"id": exercise.monitor_incident_id, "path": path},
                )
            )
        out.append(document.Block("h1", _("What went well")))
        out += document.text_blocks(exercise.went_well) or [document.Block("p", "—")]
        out.append(document.Block("h1", _("What to change")))
        out += document.text_blocks(exercise.to_change) or [document.Block("p", "—")]
        actions = list(exercise.actions.all())
        if actions:
            out.append(document.Block("h2", _("Actions")))
            out.append(
                document.Block(
                    "table",
                    columns=(_("Action"), words["owner"]),
                    rows=tuple((a.text, a.owner or "—") for a in actions),
                )
            )
        out.append(document.Block("h1", words["checklist"]))
        steps = list(exercise.steps.select_related("assignee", "done_by"))
        done = _("Done")
        out.append(
            document.Block(
                "table",
                columns=(_("Step"), words["owner"], _("Assigned to"), done, _("Note")),
                rows=tuple(
                    (
                        s.title,
                        words.get(s.owner_role, s.owner_role) if s.owner_role else "—",
                        s.assigned_to or "—",
                        f"{_when(s.done_at)} ({s.done_by.name})" if s.done_by else _when(s.done_at),
                        s.note or "",
                    )
                    for s in steps
                ),
            )
        )
        injects = list(released_injects(exercise))
        if injects:
            out.append(document.Block("h1", _("Injects")))
            for i in injects:
                at = _("+%(n)s min") % {"n": i.at_minutes}
                out.append(document.Block("h3", f"{at} · {i.title}"))
                out += document.text_blocks(i.text)
        out.append(document.Block("h1", _("Timeline")))
        for e in exercise.timeline.select_related("person"):
            who = f" — {e.person.name}" if e.person else ""
            out.append(
                document.Block("item", f"{_when(e.at)} · {e.get_kind_display()}{who}: {e.text}")
            )
    return out


def report_pdf(exercise: Exercise, *, alert_id: int | None = None) -> bytes:
    """The after-action report as an A4 PDF (printed: a disaster can take the screens away);
    ``alert_id`` as for :func:`report_blocks`."""
    with translation.override(catalogs.django_language(exercise.language)):
        title = _("After-action report: %(title)s") % {"title": exercise.title}
    return document.pdf(
        report_blocks(exercise, alert_id=alert_id), title=title, language=exercise.language
    )
