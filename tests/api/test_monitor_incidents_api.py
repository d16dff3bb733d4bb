"""/api/v1/monitor/incidents: reading for members and staff, acting for the ccTLD's contacts only,
and the draft alert raised through the API."""

from __future__ import annotations

import pytest

from tests.api.conftest import ApiClient, token_for
from tests.monitor.incident_world import T0, World, build_world, minutes, report
from tldops.alerts.models import Alert
from tldops.monitor import incidents
from tldops.monitor.models import Incident


@pytest.fixture
def monitored(catalog, make_member, staff) -> World:
    return build_world(catalog, make_member, staff)


@pytest.fixture
def incident(monitored) -> Incident:
    world = monitored
    report(world.hub, T0, down={"fr"})
    report(world.p1, T0, down={"fr"})
    incidents.evaluate(T0 + minutes(1))
    return Incident.objects.get(code="ALL_SERVERS_DOWN")


@pytest.fixture
def clients(monitored) -> dict[str, ApiClient]:
    return {
        who: ApiClient(token=token_for(getattr(monitored, who)))
        for who in ("ana", "marc", "jan", "sec")
    }


def test_everyone_in_the_community_reads(incident, clients):
    for client in clients.values():
        listing = client.get("/monitor/incidents", tld="fr", open="true")
        assert listing.status_code == 200 and listing.data["count"] == 1
        (item,) = listing.data["items"]
        assert [(p["code"], p["server"], p["cleared_at"]) for p in item["problems"]] == [
            ("ALL_SERVERS_DOWN", "", None),
            ("SERVER_NO_RESPONSE_UDP", "ns1.nic.fr", None),
            ("SERVER_NO_RESPONSE_UDP", "ns2.nic.fr", None),
        ]
        detail = client.get(f"/monitor/incidents/{incident.pk}")
        assert detail.status_code == 200 and len(detail.data["problems"]) == 3
        assert [e["kind"] for e in detail.data["timeline"]] == [
            "opened",
            "seen",
            "seen",
            "notified",
        ]
    assert clients["ana"].get(f"/monitor/incidents/{incident.pk}").data["may_act"] is True
    assert clients["sec"].get(f"/monitor/incidents/{incident.pk}").data["may_act"] is False
    assert clients["ana"].get("/monitor/incidents", tld="nl").data["count"] == 0
    assert clients["ana"].get("/monitor/incidents", tld="zz").status_code == 400
    assert ApiClient().get("/monitor/incidents").status_code == 401


def test_contacts_act_others_get_403(incident, clients):
    base = f"/monitor/incidents/{incident.pk}"
    for who in ("jan", "sec"):
        for path, body in (
            ("/acknowledge", {}),
            ("/notes", {"text": "x"}),
            ("/close", {}),
            ("/alert", {}),
        ):
            response = clients[who].post(base + path, body)
            assert response.status_code == 403, (who, path)
            assert ".fr" in response.data["detail"]
    incident.refresh_from_db()
    assert incident.status == "open" and not Alert.objects.exists()

    assert clients["ana"].post(base + "/acknowledge", {}).data["status"] == "acknowledged"
    assert clients["marc"].post(base + "/notes", {"text": "Upstream is on it."}).status_code == 201
    assert clients["marc"].post(base + "/notes", {"text": "x" * 5001}).status_code == 422
    raised = clients["marc"].post(base + "/alert", {})
    assert raised.status_code == 201 and raised.data["tlp"] == "AMBER"
    alert = Alert.objects.get(pk=raised.data["alert_id"])
    assert alert.author.email == "marc@nic.fr"
    assert [t.alabel for t in alert.affected.all()] == ["fr"]
    assert clients["ana"].post(base + "/alert", {}).status_code == 400  # once
    closed = clients["ana"].post(base + "/close", {"text": "Fixed."})
    assert closed.status_code == 200 and closed.data["status"] == "closed"
    assert clients["ana"].post(base + "/close", {}).status_code == 400
    kinds = [e["kind"] for e in closed.data["timeline"] if e["person"]]
    assert kinds == ["acknowledged", "note", "alert", "closed"]
    assert clients["ana"].get("/monitor/incidents/999999").status_code == 404
