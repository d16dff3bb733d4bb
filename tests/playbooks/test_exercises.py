"""Exercises and live use (playbooks.exercises, ops.playbook_links): an exercise from its start to
its after-action report, the clock moved with ``now``; who may see and change it; the links of a
live DDoS incident to an alert and a monitor incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.alerts.conftest import build_community, raise_as
from tests.playbooks.test_document import pdftotext
from tldops.directory.audit import Actor
from tldops.directory.models import AuditEntry
from tldops.kernel.errors import InvalidInput, NotFound
from tldops.kernel.typeset import FSI, PDI
from tldops.monitor.models import Incident
from tldops.ops import playbook_links
from tldops.ops.worker import Worker
from tldops.playbooks import catalogs, content, exercises, plans
from tldops.playbooks.models import Exercise, Inject, TimelineEntry

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def community(catalog, make_member, staff):
    return build_community(catalog, make_member, staff)


def start(person, tld, **fields):
    fields.setdefault("kind", "exercise")
    fields.setdefault("playbook", "drbcp")
    fields.setdefault("scenario", "site-loss")
    return exercises.start(person, tld, now=T0, actor=Actor.of(person, "web"), **fields)


def incident(tld):
    return Incident.objects.create(tld=tld, code="ALL_SERVERS_DOWN", server="", severity=50)


def test_an_exercise_from_start_to_after_action_report(community, catalog, tmp_path):
    ana, marc = community.ana, community.marc
    exercise = start(ana, catalog["fr"], title="Fire drill 2026")
    scenario = next(s for s in content.load("drbcp")["scenarios"] if s["id"] == "site-loss")
    expected = [step for stage in content.STAGES for step in scenario[stage]]
    steps = list(exercise.steps.all())
    assert [s.step_id for s in steps] == [s["id"] for s in expected]
    assert [s.owner_role for s in steps] == [s.get("owner", "") for s in expected]
    assert exercise.plan_version is None  # no plan yet: linked by the ccTLD, version unknown
    deck = content.deck("drbcp", "site-loss")
    assert exercise.injects.count() == len(deck) and not exercises.released_injects(exercise)

    # Injects come out at their time, each once, however often the exercise is read.
    first, second = deck[0]["at"], deck[1]["at"]
    exercises.get(ana, exercise.pk, now=at(first - 1))
    assert not exercises.released_injects(exercise).exists()
    exercises.get(ana, exercise.pk, now=at(first))
    exercises.get(marc, exercise.pk, now=at(first))
    assert [i.inject_id for i in exercises.released_injects(exercise)] == [deck[0]["id"]]
    exercises.get(ana, exercise.pk, now=at(second + 1))
    released = list(exercises.released_injects(exercise))
    assert [i.released_at for i in released] == [at(first), at(second)]
    assert exercise.timeline.filter(kind="inject").count() == 2

    # The checklist: done with who and when, assigned to a contact or by name, a note.
    step = steps[0]
    exercises.update_step(exercise, ana, step.step_id, done=True, assignee_id=marc.pk,
                          note="Roll call done by phone.", now=at(6))  # fmt: skip
    step.refresh_from_db()
    assert (step.done_at, step.done_by, step.assignee) == (at(6), ana, marc)
    assert step.note == "Roll call done by phone."
    exercises.update_step(exercise, marc, steps[1].step_id, assignee="Site security guard")
    with pytest.raises(InvalidInput) as refused:
        exercises.update_step(exercise, ana, steps[1].step_id, assignee_id=community.jan.pk)
    assert refused.value.field == "assignee_id"
    with pytest.raises(InvalidInput):
        exercises.update_step(exercise, ana, steps[1].step_id, note="x" * 2001)
    with pytest.raises(NotFound):
        exercises.update_step(exercise, ana, "no-such-step", done=True)

    exercises.add_entry(exercise, marc, "We move to the backup site.", kind="decision", now=at(20))
    with pytest.raises(InvalidInput):
        exercises.add_entry(exercise, marc, "   ", now=at(21))
    with pytest.raises(InvalidInput):
        exercises.add_entry(exercise, marc, "Started", kind="start", now=at(21))
    own = exercises.add_inject(exercise, ana, "The lift is out", "Carry the spare server.",
                               now=at(25))  # fmt: skip
    assert own.released_at == at(25) and own.at_minutes == 25

    # The worker releases what is due without anyone looking; a second round releases nothing.
    assert exercises.release_all_due(now=at(60)) == len(deck) - 2
    assert exercises.release_all_due(now=at(60)) == 0

    report = exercises.ReportInput(
        went_well="Everyone was reached within ten minutes.",
        to_change="Keep the backup tokens off site.",
        actions=[("Move the tokens to the bank safe", "Marc Dubois"), ("", "")],
    )
    ended = exercises.end(exercise, ana, report, now=at(90))
    assert ended.ended_at == at(90) and [a.text for a in ended.actions.all()] == [
        "Move the tokens to the bank safe"
    ]
    kinds = list(ended.timeline.values_list("kind", flat=True))
    assert kinds[0] == "start" and kinds[-1] == "end" and "decision" in kinds
    with pytest.raises(InvalidInput):  # the record is final
        exercises.update_step(ended, ana, steps[2].step_id, done=True)
    with pytest.raises(InvalidInput):
        exercises.end(ended, ana, report)

    text = " ".join(pdftotext(exercises.report_pdf(ended), tmp_path).split())
    for expected_text in (
        "After-action report: Fire drill 2026",
        "Everyone was reached within ten minutes.",
        "Keep the backup tokens off site.",
        "Move the tokens to the bank safe",
        "Marc Dubois",
        "/plans/fr/",
        steps[0].title,
        deck[0]["title"],
        "We move to the backup site.",
    ):
        assert expected_text in text, expected_text
    actions = set(AuditEntry.objects.filter(tld=catalog["fr"]).values_list("action", flat=True))
    assert {"exercise-started", "exercise-step", "exercise-timeline", "exercise-inject",
            "exercise-ended"} <= actions  # fmt: skip


def test_an_exercise_is_its_cctlds_only(community, catalog):
    exercise = start(community.ana, catalog["fr"])
    for outsider in (community.jan, community.sec, community.chair, community.pending, None):
        with pytest.raises(NotFound):
            exercises.get(outsider, exercise.pk)
        assert not exercises.for_person(outsider).exists()
    with pytest.raises(NotFound):
        exercises.update_step(exercise, community.jan, exercise.steps.first().step_id, done=True)
    with pytest.raises(NotFound):
        exercises.add_entry(exercise, community.sec, "Staff note")
    with pytest.raises(NotFound):
        exercises.end(exercise, community.chair, exercises.ReportInput(went_well="x"))
    with pytest.raises(NotFound):
        start(community.jan, catalog["fr"])
    assert exercises.get(community.marc, exercise.pk) == exercise
    assert list(exercises.for_person(community.marc)) == [exercise]
    assert Exercise.objects.count() == 1


def test_bad_input_is_refused_whole_and_nothing_is_started(community, catalog):
    with pytest.raises(InvalidInput) as refused:
        start(community.ana, catalog["fr"], kind="drill", scenario="no-such", language="xx",
              title="t" * 161)  # fmt: skip
    assert {e.field for e in refused.value.errors} == {"kind", "scenario", "language", "title"}
    with pytest.raises(InvalidInput):
        start(community.ana, catalog["fr"], playbook="ddos", scenario="site-loss")
    assert not Exercise.objects.exists()


def test_a_ddos_exercise_has_the_five_phases_and_five_injects_in_its_language(community, catalog):
    exercise = start(community.ana, catalog["fr"], playbook="ddos", scenario="", language="fr")
    assert list(dict.fromkeys(exercise.steps.values_list("stage", flat=True))) == [
        "prepare", "detect", "respond", "recover", "learn"
    ]  # fmt: skip
    book = catalogs.localize("ddos", "fr").book
    assert exercise.steps.first().title == book["phases"][0]["steps"][0]["title"]
    assert exercise.injects.count() == 5
    assert ".fr" in exercise.injects.first().text  # {{ tld }} filled in


def test_a_live_incident_has_no_injects(community, catalog):
    live = start(community.ana, catalog["fr"], kind="live", playbook="ddos", scenario="")
    assert not live.injects.exists()
    with pytest.raises(InvalidInput):
        exercises.add_inject(live, community.ana, "Surprise", "Not in a live incident.")
    assert exercises.get(community.ana, live.pk, now=at(600)) == live


def test_linking_a_live_ddos_incident(community, catalog):
    ana = community.ana
    live = start(ana, catalog["fr"], kind="live", playbook="ddos", scenario="")
    green = raise_as(community.jan, "GREEN")
    red_not_for_ana = raise_as(community.jan, "RED", recipients=[community.marc.email])
    fr_incident, nl_incident = incident(catalog["fr"]), incident(catalog["nl"])

    with pytest.raises(NotFound) as refused:
        playbook_links.link(live, ana, alert_id=red_not_for_ana.pk)
    assert refused.value.field == "alert_id"
    with pytest.raises(NotFound):
        playbook_links.link(live, ana, alert_id=10**9)
    with pytest.raises(InvalidInput) as refused:
        playbook_links.link(live, ana, monitor_incident_id=nl_incident.pk)
    assert refused.value.field == "monitor_incident_id"
    live.refresh_from_db()
    assert (live.alert_id, live.monitor_incident_id) == (None, None)

    # Marc was named on the RED alert: he may link it.
    playbook_links.link(live, community.marc, alert_id=red_not_for_ana.pk)
    linked = playbook_links.link(live, ana, alert_id=green.pk, monitor_incident_id=fr_incident.pk)
    assert (linked.alert_id, linked.monitor_incident_id) == (green.pk, fr_incident.pk)
    assert live.timeline.filter(kind=TimelineEntry.Kind.LINK).count() == 2
    with pytest.raises(NotFound):  # not a contact of .fr: no such exercise, whatever the ids
        playbook_links.link(live, community.jan, alert_id=green.pk)

    drill = start(ana, catalog["fr"])
    with pytest.raises(InvalidInput):  # only a live DDoS incident has links
        playbook_links.link(drill, ana, alert_id=green.pk)


def test_starting_a_live_incident_with_links_checks_them_first(community, catalog):
    nl_incident = incident(catalog["nl"])
    with pytest.raises(InvalidInput):
        playbook_links.start(community.ana, catalog["fr"], kind="live", playbook="ddos",
                             monitor_incident_id=nl_incident.pk)  # fmt: skip
    with pytest.raises(InvalidInput):  # a drill has no links: rolled back whole
        playbook_links.start(community.ana, catalog["fr"], kind="exercise", playbook="ddos",
                             monitor_incident_id=incident(catalog["fr"]).pk)  # fmt: skip
    assert not Exercise.objects.exists()
    live = playbook_links.start(community.ana, catalog["fr"], kind="live", playbook="ddos",
                                monitor_incident_id=Incident.objects.get(tld=catalog["fr"]).pk)  # fmt: skip
    assert live.monitor_incident_id


def test_the_worker_releases_due_injects(community, catalog, monkeypatch):
    exercise = exercises.start(community.ana, catalog["fr"], kind="exercise", playbook="ddos")
    Exercise.objects.filter(pk=exercise.pk).update(started_at=at(0))
    report = Worker().run_once()
    assert "exercise-injects" not in report.errors
    assert Inject.objects.filter(exercise=exercise, released_at__isnull=False).count() == 5


def test_an_exercise_remembers_the_version_of_its_ccTLDs_plan(community, catalog):
    ana = community.ana
    plans.save(ana, catalog["fr"], {}, actor=Actor.of(ana, "web"))
    plans.save(ana, catalog["fr"], {"registry": "Registre FR"}, actor=Actor.of(ana, "web"))
    exercise = start(ana, catalog["fr"])
    assert exercise.plan_version == 2
    assert plans.plan_url(catalog["fr"]) == "/plans/fr/"
    # Another ccTLD's plan is not this one's.
    assert start(community.jan, catalog["nl"]).plan_version is None


def test_the_audit_log_has_ids_and_kinds_not_the_teams_words(community, catalog):
    """Staff read the audit log; an exercise's title is its ccTLD's."""
    ana = community.ana
    drill = start(ana, catalog["fr"], title="Kilo-secret signer drill")
    live = start(ana, catalog["fr"], kind="live", playbook="ddos", scenario="", title="Real one")
    summaries = list(
        AuditEntry.objects.filter(action="exercise-started")
        .order_by("pk")
        .values_list("summary", "before", "after")
    )
    assert summaries == [
        (f"Exercise {drill.pk} started (drbcp/site-loss)", None, None),
        (f"Live incident {live.pk} started (ddos)", None, None),
    ]
    red = raise_as(community.jan, "RED", recipients=[community.marc.email])
    playbook_links.link(live, community.marc, alert_id=red.pk, now=at(5))
    entry = AuditEntry.objects.get(action="exercise-link")
    assert entry.summary == f"Exercise {live.pk} linked: alert {red.pk}"  # ids, as alerts' own
    # The timeline, read by every contact of .fr (not all of whom may read the alert), says
    # that an alert is linked, not which.
    assert live.timeline.get(kind="link").text == "Linked to an alert"


def test_an_arabic_exercise_isolates_the_cctlds_name(community, catalog):
    arabic = start(community.ana, catalog["fr"], playbook="ddos", scenario="", language="ar")
    texts = [i.text for i in arabic.injects.all()] + [s.title for s in arabic.steps.all()]
    assert any(f"{FSI}.fr{PDI}" in t for t in texts)
    assert not any(".fr" in t.replace(f"{FSI}.fr{PDI}", "") for t in texts)
    french = start(community.ana, catalog["fr"], playbook="ddos", scenario="", language="fr")
    assert not any(FSI in i.text for i in french.injects.all())
