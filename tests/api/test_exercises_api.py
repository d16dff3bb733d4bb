"""The exercise endpoints (/api/v1/exercises): a run from start to report, 404 for everyone but
the ccTLD's contacts (staff included), and a live DDoS incident's links checked by the bridge."""

from __future__ import annotations

import pytest

from tests.alerts.conftest import World, build_community, raise_as
from tests.api.conftest import ApiClient, token_for
from tldops.monitor.models import Incident
from tldops.playbooks.models import Exercise


@pytest.fixture
def community(catalog, make_member, staff) -> World:
    return build_community(catalog, make_member, staff)


def client(person) -> ApiClient:
    return ApiClient(token=token_for(person))


def test_a_run_from_start_to_report(community):
    ana = client(community.ana)
    started = ana.post("/exercises", {"tld": "fr", "playbook": "drbcp", "scenario": "site-loss",
                                      "language": "fr", "title": "Exercice incendie"})  # fmt: skip
    assert started.status_code == 201, started.data
    data = started.data
    pk, step = data["id"], data["steps"][0]
    assert data["plan"] == "/plans/fr/" and data["pending_injects"] == 4 and data["injects"] == []
    assert step["owner_role"] and step["stage"] == "first_hour"

    changed = ana.patch(f"/exercises/{pk}/steps/{step['step_id']}",
                        {"done": True, "assignee_id": community.marc.pk, "note": "Tous joints."})  # fmt: skip
    assert changed.status_code == 200
    got = changed.data["steps"][0]
    assert got["done_by"] == "Ana Lopez" and got["assignee"] == "Marc Dubois" and got["done_at"]
    assert ana.patch(f"/exercises/{pk}/steps/nope", {"done": True}).status_code == 404
    too_long = ana.patch(f"/exercises/{pk}/steps/{step['step_id']}", {"note": "x" * 2001})
    assert too_long.status_code == 422

    assert (
        ana.post(f"/exercises/{pk}/timeline", {"kind": "decision", "text": "Site B."}).status_code
        == 201
    )
    assert ana.post(f"/exercises/{pk}/timeline", {"kind": "end", "text": "No."}).status_code == 400
    added = ana.post(f"/exercises/{pk}/injects", {"title": "Panne", "text": "Plus de courant."})
    assert added.status_code == 201 and added.data["injects"][-1]["added"] is True
    assert ana.get(f"/exercises/{pk}/report").status_code == 404  # not ended

    ended = ana.post(f"/exercises/{pk}/end", {"went_well": "Calme.", "to_change": "Jetons.",
                                              "actions": [{"text": "Coffre", "owner": "Marc"}]})  # fmt: skip
    assert ended.status_code == 200
    assert ended.data["actions"] == [{"text": "Coffre", "owner": "Marc"}]
    assert ended.data["pdf"] == f"/exercises/{pk}/report.pdf"
    assert ana.get(f"/exercises/{pk}/report").data["went_well"] == "Calme."
    assert ana.post(f"/exercises/{pk}/timeline", {"text": "Late"}).status_code == 400
    listing = client(community.marc).get("/exercises", tld="fr")
    assert [e["id"] for e in listing.data["items"]] == [pk]


def test_everyone_but_the_cctlds_contacts_gets_404(community):
    pk = client(community.ana).post("/exercises", {"tld": "fr", "playbook": "ddos"}).data["id"]
    for outsider in (community.jan, community.sec, community.chair):
        api = client(outsider)
        assert api.get(f"/exercises/{pk}").status_code == 404
        assert api.post(f"/exercises/{pk}/timeline", {"text": "Hi"}).status_code == 404
        assert api.post(f"/exercises/{pk}/end", {"went_well": "x"}).status_code == 404
        assert api.get(f"/exercises/{pk}/report").status_code == 404
        assert api.get("/exercises").data["items"] == []
        assert api.post("/exercises", {"tld": "fr", "playbook": "ddos"}).status_code == 404
    assert Exercise.objects.count() == 1
    assert Exercise.objects.get().timeline.count() == 1


def test_a_live_ddos_incidents_links(community, catalog):
    ana = client(community.ana)
    red = raise_as(community.jan, "RED", recipients=[community.marc.email])
    nl = Incident.objects.create(tld=catalog["nl"], code="ALL_SERVERS_DOWN", server="", severity=50)
    refused = ana.post("/exercises", {"tld": "fr", "kind": "live", "playbook": "ddos",
                                      "alert_id": red.pk})  # fmt: skip
    assert refused.status_code == 404 and refused.data["field"] == "alert_id"
    pk = ana.post("/exercises", {"tld": "fr", "kind": "live", "playbook": "ddos"}).data["id"]
    wrong = ana.post(f"/exercises/{pk}/links", {"monitor_incident_id": nl.pk})
    assert wrong.status_code == 400 and wrong.data["field"] == "monitor_incident_id"
    assert ana.post(f"/exercises/{pk}/links", {"alert_id": red.pk}).status_code == 404
    assert ana.get(f"/exercises/{pk}").data["alert_id"] is None
    # Marc was named on the RED alert: he may link it.
    linked = client(community.marc).post(f"/exercises/{pk}/links", {"alert_id": red.pk})
    assert linked.status_code == 200 and linked.data["alert_id"] == red.pk


def test_a_red_alerts_number_only_for_its_readers(community, catalog):
    red = raise_as(community.jan, "RED", recipients=[community.marc.email])
    fr = Incident.objects.create(tld=catalog["fr"], code="ALL_SERVERS_DOWN", server="", severity=50)
    ana, marc = client(community.ana), client(community.marc)
    pk = ana.post("/exercises", {"tld": "fr", "kind": "live", "playbook": "ddos"}).data["id"]
    linked = marc.post(f"/exercises/{pk}/links", {"alert_id": red.pk, "monitor_incident_id": fr.pk})
    assert linked.status_code == 200 and linked.data["alert_id"] == red.pk

    detail = ana.get(f"/exercises/{pk}").data
    assert detail["alert_id"] is None and detail["monitor_incident_id"] == fr.pk
    assert [e["text"] for e in detail["timeline"] if e["kind"] == "link"] == [
        f"Linked to an alert, monitor incident {fr.pk}"
    ]
    assert ana.get("/exercises").data["items"][0]["alert_id"] is None
    assert marc.get("/exercises").data["items"][0]["alert_id"] == red.pk
    ana.post(f"/exercises/{pk}/end", {"went_well": "Scrubbing held."})
    assert ana.get(f"/exercises/{pk}/report").data["exercise"]["alert_id"] is None
    assert marc.get(f"/exercises/{pk}/report").data["exercise"]["alert_id"] == red.pk


def test_an_injects_time_is_the_services_rule(community):
    ana = client(community.ana)
    pk = ana.post("/exercises", {"tld": "fr", "playbook": "ddos"}).data["id"]
    zero = ana.post(
        f"/exercises/{pk}/injects", {"title": "Kick-off", "text": "Go.", "at_minutes": 0}
    )
    assert zero.status_code == 201 and zero.data["injects"][-1]["at_minutes"] == 0
    for wrong in (-1, 1441):
        refused = ana.post(f"/exercises/{pk}/injects",
                           {"title": "Odd", "text": "Odd.", "at_minutes": wrong})  # fmt: skip
        assert refused.status_code == 400 and refused.data["field"] == "at_minutes", wrong
