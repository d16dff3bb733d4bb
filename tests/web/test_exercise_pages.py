"""The exercises' pages (issue 12): a ccTLD's contacts start and run an exercise to its report;
everyone else gets 404 on every page of it; a live DDoS incident's links are checked."""

from __future__ import annotations

import pytest

from tests.alerts.conftest import World, build_community, raise_as
from tests.playbooks.test_document import pdftotext
from tests.web.test_alert_pages import client_for
from tldops.directory.audit import Actor
from tldops.monitor.models import Incident
from tldops.playbooks import exercises
from tldops.playbooks.models import Exercise


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
