"""The exercises' pages (issue 12): a ccTLD's contacts start and run an exercise to its report;
everyone else gets 404 on every page of it; a live DDoS incident's links are checked."""

from __future__ import annotations

import html
import re

import pytest
from django.utils import translation
from django.utils.translation import gettext

from tests.alerts.conftest import World, build_community, raise_as
from tests.playbooks.test_document import pdftotext
from tests.web.test_alert_pages import client_for
from tldops.directory.audit import Actor
from tldops.directory.models import Membership
from tldops.monitor.models import Incident
from tldops.playbooks import catalogs, content, exercises
from tldops.playbooks.models import NOTE_MAX, TEXT_MAX, Exercise, TimelineEntry


@pytest.fixture
def world(catalog, make_member, staff) -> World:
    return build_community(catalog, make_member, staff)


def _exercise(world: World, catalog, **fields) -> Exercise:
    fields.setdefault("kind", "exercise")
    fields.setdefault("playbook", "drbcp")
    fields.setdefault("scenario", "dnssec-failure")
    fields.setdefault("title", "Kilo-secret signer drill")
    return exercises.start(world.ana, catalog["fr"], actor=Actor.of(world.ana, "web"), **fields)


def test_every_page_is_the_cctlds_only(world, catalog):
    running = _exercise(world, catalog)
    ended = _exercise(world, catalog)
    exercises.end(ended, world.ana, exercises.ReportInput(went_well="Calm and quick."))
    step = running.steps.first().step_id
    gets = [f"/exercises/{running.pk}/", f"/exercises/{ended.pk}/report/",
            f"/exercises/{ended.pk}/report.pdf"]  # fmt: skip
    posts = [
        (f"/exercises/{running.pk}/steps/{step}/", {"done": "1"}),
        (f"/exercises/{running.pk}/timeline/", {"text": "Outsider"}),
        (f"/exercises/{running.pk}/inject/", {"title": "Outsider", "text": "An outsider's."}),
        (f"/exercises/{running.pk}/end/", {"went_well": "Outsider"}),
    ]
    for who in ("member", "secretariat", "committee"):
        client = client_for(world.readers()[who])  # jan (.nl), staff: not contacts of .fr
        for url in gets:
            assert client.get(url).status_code == 404, (who, url)
        for url, data in posts:
            assert client.post(url, data).status_code == 404, (who, url)
        listing = client.get("/exercises/")
        assert listing.status_code == 200 and running.title not in listing.content.decode()
    assert client_for(None).get(gets[0]).status_code == 302  # to the login page
    running.refresh_from_db()
    assert running.timeline.count() == 1 and not running.injects.filter(inject_id="").exists()
    colleague = client_for(world.marc)
    for url in gets:
        assert colleague.get(url).status_code == 200, url
    response = colleague.get(gets[0])
    assert (
        response["Cache-Control"].startswith("private") or "no-store" in response["Cache-Control"]
    )


def test_a_contact_runs_an_exercise_to_its_report(world, catalog, tmp_path):
    client = client_for(world.ana)
    page = client.get("/exercises/")
    assert 'id="start-form"' in page.content.decode()
    response = client.post(
        "/exercises/start/",
        {"tld": "fr", "kind": "exercise", "scenario": "drbcp/dnssec-failure", "language": "en",
         "title": "Signer drill"},
    )  # fmt: skip
    exercise = Exercise.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/exercises/{exercise.pk}/"
    step = exercise.steps.first()
    client.post(f"/exercises/{exercise.pk}/steps/{step.step_id}/",
                {"done": "1", "assignee_id": str(world.marc.pk), "note": "Signer restarted."})  # fmt: skip
    step.refresh_from_db()
    assert step.done_by == world.ana and step.assignee == world.marc
    refused = client.post(f"/exercises/{exercise.pk}/steps/{step.step_id}/",
                          {"assignee_id": str(world.jan.pk)})  # fmt: skip
    assert refused.status_code == 400 and "contact of .fr" in refused.content.decode()
    client.post(f"/exercises/{exercise.pk}/timeline/", {"kind": "decision", "text": "Go insecure."})
    client.post(
        f"/exercises/{exercise.pk}/inject/", {"title": "Power cut", "text": "The HSM room is dark."}
    )
    detail = client.get(f"/exercises/{exercise.pk}/").content.decode()
    for text in ("Signer restarted.", "Go insecure.", "Power cut", "Marc Dubois", "/plans/fr/"):
        assert text in detail, text
    assert client.get(f"/exercises/{exercise.pk}/report/").status_code == 404  # not ended yet

    empty = client.post(f"/exercises/{exercise.pk}/end/", {"went_well": "", "to_change": ""})
    assert empty.status_code == 400
    ended = client.post(
        f"/exercises/{exercise.pk}/end/",
        {"went_well": "The deputy knew the HSM.", "to_change": "A third smart card.",
         "action-0": "Order a third card", "owner-0": "Ana Lopez"},
    )  # fmt: skip
    assert ended["Location"] == f"/exercises/{exercise.pk}/report/"
    report = client.get(ended["Location"]).content.decode()
    for text in ("The deputy knew the HSM.", "A third smart card.", "Order a third card",
                 "Signer restarted.", "/plans/fr/"):  # fmt: skip
        assert text in report, text
    pdf = client.get(f"/exercises/{exercise.pk}/report.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = " ".join(pdftotext(pdf.content, tmp_path).split())
    assert "Order a third card" in text and "Signer drill" in text
    # Final: a change after the end is refused.
    late = client.post(f"/exercises/{exercise.pk}/timeline/", {"text": "Late note"})
    assert late.status_code == 400


def test_a_live_ddos_incident_links_only_what_its_contact_may_read(world, catalog):
    client = client_for(world.ana)
    red = raise_as(world.jan, "RED", recipients=[world.marc.email])
    nl = Incident.objects.create(tld=catalog["nl"], code="ALL_SERVERS_DOWN", server="", severity=50)
    refused = client.post("/exercises/start/", {"tld": "fr", "kind": "live", "scenario": "ddos",
                                                "language": "en", "alert_id": str(red.pk)})  # fmt: skip
    assert refused.status_code == 404 and not Exercise.objects.exists()
    live = _exercise(world, catalog, kind="live", playbook="ddos", scenario="")
    wrong = client.post(f"/exercises/{live.pk}/link/", {"monitor_incident_id": str(nl.pk)})
    assert wrong.status_code == 400 and "another ccTLD" in wrong.content.decode()
    green = raise_as(world.jan, "GREEN")
    fr = Incident.objects.create(tld=catalog["fr"], code="ALL_SERVERS_DOWN", server="", severity=50)
    client.post(f"/exercises/{live.pk}/link/",
                {"alert_id": str(green.pk), "monitor_incident_id": str(fr.pk)})  # fmt: skip
    page = client.get(f"/exercises/{live.pk}/").content.decode()
    assert f'href="/alerts/{green.pk}/"' in page
    assert f'href="/monitor/incidents/{fr.pk}/"' in page


def _linked_to_red(world: World, catalog) -> tuple[Exercise, object, Incident]:
    """A live DDoS incident of .fr that Marc linked to a RED alert naming him (not Ana), and to a
    monitor incident of .fr."""
    red = raise_as(world.jan, "RED", recipients=[world.marc.email])
    fr = Incident.objects.create(tld=catalog["fr"], code="ALL_SERVERS_DOWN", server="", severity=50)
    live = _exercise(world, catalog, kind="live", playbook="ddos", scenario="")
    client_for(world.marc).post(
        f"/exercises/{live.pk}/link/", {"alert_id": str(red.pk), "monitor_incident_id": str(fr.pk)}
    )
    live.refresh_from_db()
    assert live.alert_id == red.pk
    return live, red, fr


def test_a_red_alerts_number_is_shown_only_to_its_readers(world, catalog, tmp_path):
    live, red, fr = _linked_to_red(world, catalog)
    ana, marc = client_for(world.ana), client_for(world.marc)
    assert ana.get(f"/alerts/{red.pk}/").status_code == 404  # Ana may not read it
    alert_path = f"/alerts/{red.pk}/"

    page = ana.get(f"/exercises/{live.pk}/").content.decode()
    assert alert_path not in page and 'id="alert-link"' not in page
    assert f"Alert {red.pk}" not in page and f"alert {red.pk}" not in page
    assert "Linked to an alert" in page  # the timeline says that one is linked, not which
    assert f'href="/monitor/incidents/{fr.pk}/"' in page  # every member may read the monitor
    assert f'href="{alert_path}"' in marc.get(f"/exercises/{live.pk}/").content.decode()

    exercises.end(live, world.marc, exercises.ReportInput(went_well="Scrubbing held."))
    report = ana.get(f"/exercises/{live.pk}/report/").content.decode()
    assert alert_path not in report and f"Alert {red.pk}" not in report
    assert f'href="/monitor/incidents/{fr.pk}/"' in report
    assert f'href="{alert_path}"' in marc.get(f"/exercises/{live.pk}/report/").content.decode()
    pdf = " ".join(pdftotext(ana.get(f"/exercises/{live.pk}/report.pdf").content, tmp_path).split())
    assert "Scrubbing held." in pdf and alert_path not in pdf and f"Alert {red.pk}" not in pdf
    pdf = " ".join(
        pdftotext(marc.get(f"/exercises/{live.pk}/report.pdf").content, tmp_path).split()
    )
    assert f"Alert {red.pk}: {alert_path}" in pdf


def test_an_arabic_exercise_runs_right_to_left(world, catalog):
    arabic = _exercise(world, catalog, playbook="ddos", scenario="", language="ar")
    page = client_for(world.ana).get(f"/exercises/{arabic.pk}/").content.decode()
    for part in ("checklist", "injects", "timeline"):
        assert re.search(rf'id="{part}"[^>]* lang="ar" dir="rtl"', page), part
    english = _exercise(world, catalog)
    page = (
        client_for(world.ana)
        .get(f"/exercises/{english.pk}/", headers={"Accept-Language": "ar"})
        .content.decode()
    )
    assert '<html lang="ar" dir="rtl">' in page  # an English checklist inside an Arabic page
    assert re.search(r'id="checklist" lang="en" dir="ltr"', page)


def test_the_start_form_names_the_scenarios_in_the_readers_language(world, catalog):
    french = catalogs.localize("drbcp", "fr").book["scenarios"][0]
    english = content.load("drbcp")["scenarios"][0]
    assert french["title"] != english["title"]
    page = client_for(world.ana).get("/exercises/", headers={"Accept-Language": "fr"})
    assert html.escape(french["title"]) in page.content.decode()
    assert html.escape(english["title"]) not in page.content.decode()
    # The checklist's language is the reader's too, unless they choose another.
    assert re.search(r'<option value="fr"[^>]*selected', page.content.decode())


def _step_form(page: str, step_id: str) -> dict[str, str]:
    """The step's form as a browser would send it untouched (the box unticked if it is)."""
    part = page.split(f'id="step-{step_id}"', 1)[1].split("</form>", 1)[0]
    data = {}
    for tag in re.findall(r"<input [^>]*>", part):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name.group(1) == "csrfmiddlewaretoken":
            continue
        if 'type="checkbox"' in tag and "checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data[name.group(1)] = html.unescape(value.group(1)) if value else ""
    select = re.search(r'<select [^>]*name="assignee_id">(.*?)</select>', part, re.S)
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(1))
    data["assignee_id"] = chosen.group(1) if chosen else ""
    note = re.search(r'<textarea [^>]*name="note"[^>]*>(.*?)</textarea>', part, re.S)
    data["note"] = html.unescape(note.group(1))
    return data


def test_a_step_form_changes_only_what_its_sender_changed(world, catalog):
    exercise = _exercise(world, catalog)
    first, second = exercise.steps.all()[:2]
    ana = client_for(world.ana)
    exercises.update_step(exercise, world.ana, second.step_id, assignee_id=world.marc.pk)
    page = ana.get(f"/exercises/{exercise.pk}/").content.decode()
    stale_first, stale_second = _step_form(page, first.step_id), _step_form(page, second.step_id)

    # Meanwhile Marc closes the first step, and his membership of .fr ends.
    exercises.update_step(exercise, world.marc, first.step_id, done=True)
    Membership.objects.filter(person=world.marc).update(status=Membership.Status.LEFT)

    # Ana, from the page she loaded before, writes notes: the box she left unticked does not
    # reopen Marc's step, and the select Marc is no longer in does not unassign him.
    ana.post(f"/exercises/{exercise.pk}/steps/{first.step_id}/",
             {**stale_first, "note": "Called the NOC."})  # fmt: skip
    page = ana.get(f"/exercises/{exercise.pk}/").content.decode()
    ana.post(f"/exercises/{exercise.pk}/steps/{second.step_id}/",
             {**_step_form(page, second.step_id), "note": "Marc's deputy takes it."})  # fmt: skip
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.done_by, first.note) == (world.marc, "Called the NOC.")
    assert (second.assignee, second.note) == (world.marc, "Marc's deputy takes it.")
    assert stale_second["assignee_id"] == str(world.marc.pk)  # he was a contact then

    # What she does change is changed: unticking reopens, a name replaces the assignee.
    page = ana.get(f"/exercises/{exercise.pk}/").content.decode()
    form = _step_form(page, first.step_id)
    form.pop("done")
    ana.post(f"/exercises/{exercise.pk}/steps/{first.step_id}/", form)
    form = {**_step_form(page, second.step_id), "assignee": "The NOC on duty"}
    ana.post(f"/exercises/{exercise.pk}/steps/{second.step_id}/", form)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.done_at is None and first.note == "Called the NOC."
    assert (second.assignee, second.assignee_text) == (None, "The NOC on duty")


def test_an_inject_at_minute_zero_is_taken_as_by_the_api(world, catalog):
    exercise = _exercise(world, catalog)
    client = client_for(world.ana)
    zero = client.post(f"/exercises/{exercise.pk}/inject/",
                       {"title": "Kick-off", "text": "The fire alarm rings.", "at_minutes": "0"})  # fmt: skip
    assert zero.status_code == 302
    assert exercise.injects.get(inject_id="").at_minutes == 0
    late = client.post(f"/exercises/{exercise.pk}/inject/",
                       {"title": "Too late", "text": "Next week.", "at_minutes": "1441"})  # fmt: skip
    assert late.status_code == 400 and "0 to 1440 minutes" in late.content.decode()
    assert exercise.injects.filter(inject_id="").count() == 1


def test_texts_sent_with_crlf_line_breaks_are_kept_whole_or_refused_whole(world, catalog):
    """A browser sends each line break of a textarea as CR LF, two characters, where the
    textarea's maxlength counted one: the page must not cut such a text to the limit and store
    it shortened; the service measures it once normalised."""
    exercise = _exercise(world, catalog)
    client = client_for(world.ana)
    line = "x" * 39
    lines = (NOTE_MAX // 40) - 1  # fits once each CR LF is one line break
    note = "\r\n".join([line] * lines)
    assert len(note) > NOTE_MAX >= len(note.replace("\r\n", "\n"))
    response = client.post(f"/exercises/{exercise.pk}/timeline/", {"kind": "note", "text": note})
    assert response.status_code == 302
    stored = exercise.timeline.filter(kind="note").get().text
    assert stored == note.replace("\r\n", "\n")

    too_long = "\r\n".join([line] * (TEXT_MAX // 40 + 5))
    response = client.post(f"/exercises/{exercise.pk}/end/", {"went_well": too_long})
    assert response.status_code == 400  # refused whole, not cut and stored
    exercise.refresh_from_db()
    assert exercise.ended_at is None


def test_page_characters_other_than_line_breaks_are_refused_in_a_note(world, catalog):
    exercise = _exercise(world, catalog)
    client = client_for(world.ana)
    for bad in ("a\x0cb", "a\x1cb", "a\x85b"):  # str.splitlines() breaks at each of them
        response = client.post(f"/exercises/{exercise.pk}/timeline/", {"kind": "note", "text": bad})
        assert response.status_code == 400, repr(bad)
    assert not exercise.timeline.filter(kind="note").exists()


def test_an_arabic_exercise_names_its_entries_and_its_cctld_in_arabic(world, catalog):
    """The timeline's kinds, the injects' minutes and the report's timeline are in the page's
    (the report's: the exercise's) language, and ``.fr`` stays ``.fr`` in a right-to-left page."""
    arabic = _exercise(world, catalog, playbook="ddos", scenario="", language="ar")
    exercises.add_entry(arabic, world.ana, "نعيد تشغيل الموقّع", kind="decision")
    exercises.add_inject(arabic, world.ana, "Kick-off", "The fire alarm rings.", at_minutes=0)
    with translation.override("ar"):
        started = str(TimelineEntry.Kind.START.label)
        decision = str(TimelineEntry.Kind.DECISION.label)
        inject = str(TimelineEntry.Kind.INJECT.label)
        minutes = gettext("+%(n)s min") % {"n": 0}
    assert {started, decision, inject, minutes}.isdisjoint(
        {"Started", "Decision", "Inject", "+0 min"}
    )
    client = client_for(world.ana)
    page = html.unescape(
        client.get(f"/exercises/{arabic.pk}/", headers={"Accept-Language": "ar"}).content.decode()
    )
    timeline = page.split('id="timeline"', 1)[1].split("</ol>", 1)[0]
    for kind in (started, decision, inject):
        assert f"<strong>{kind}</strong>" in timeline, kind
    assert (
        "<strong>Started</strong>" not in timeline and "<strong>Decision</strong>" not in timeline
    )
    assert f'<span class="nowrap">{minutes}</span>' in page
    assert '<dd><bdi dir="ltr">.fr</bdi></dd>' in page
    listing = client.get("/exercises/", headers={"Accept-Language": "ar"}).content.decode()
    assert '<td><bdi dir="ltr">.fr</bdi></td>' in listing
    exercises.end(arabic, world.ana, exercises.ReportInput(went_well="هادئ وسريع."))
    report = html.unescape(client.get(f"/exercises/{arabic.pk}/report/").content.decode())
    assert f" · {decision} — {world.ana.name}: نعيد تشغيل الموقّع" in report  # an English reader
    assert f" · {started} — " in report and f"<h4>{minutes} · Kick-off</h4>" in report
    assert " · Decision — " not in report and " · Started — " not in report
