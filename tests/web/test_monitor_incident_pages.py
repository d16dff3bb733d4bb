"""The incident pages: every member reads; the forms are for the ccTLD's contacts, and a POST by
anyone else changes nothing."""

from __future__ import annotations

import pytest

from tests.api.conftest import logged_in
from tests.monitor.incident_world import T0, World, build_world, minutes, report
from tldops.alerts.models import Alert
from tldops.monitor import incidents
from tldops.monitor.models import Incident


@pytest.fixture
def monitored(catalog, make_member, staff) -> World:
    return build_world(catalog, make_member, staff)


@pytest.fixture
def incident(monitored) -> Incident:
    report(monitored.hub, T0, down={"fr"})
    report(monitored.p1, T0, down={"fr"})
    incidents.evaluate(T0 + minutes(1))
    return Incident.objects.get(code="ALL_SERVERS_DOWN")


def test_list_and_detail(incident, monitored, client):
    assert client.get("/monitor/incidents/").status_code == 302  # to the login page
    page = logged_in(monitored.jan).get("/monitor/incidents/?tld=fr&open=1")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    text = page.content.decode()
    assert f"/monitor/incidents/{incident.pk}/" in text and "ALL_SERVERS_DOWN" in text
    assert '<td class="problems">3</td>' in text  # one incident, its three problems
    assert (
        "No incident."
        in logged_in(monitored.jan).get("/monitor/incidents/?tld=nl").content.decode()
    )
    assert logged_in(monitored.jan).get("/monitor/incidents/?tld=zz").status_code == 400
    detail = logged_in(monitored.jan).get(f"/monitor/incidents/{incident.pk}/").content.decode()
    assert 'id="timeline"' in detail and 'id="draft-alert"' in detail
    assert 'id="problems"' in detail and "ns2.nic.fr" in detail  # every problem listed
    assert 'id="draft-visibility"' in detail
    assert 'id="contacts-only"' in detail and 'id="ack-form"' not in detail
    mine = logged_in(monitored.ana).get(f"/monitor/incidents/{incident.pk}/").content.decode()
    assert 'id="ack-form"' in mine and 'id="alert-form"' in mine and 'id="close-form"' in mine
    assert logged_in(monitored.ana).get("/monitor/incidents/999999/").status_code == 404


@pytest.mark.parametrize("who", ["jan", "sec"])
def test_others_cannot_act(incident, monitored, who):
    session = logged_in(getattr(monitored, who))
    for action, data in (
        ("acknowledge", {}),
        ("note", {"text": "x"}),
        ("close", {}),
        ("alert", {}),
    ):
        response = session.post(f"/monitor/incidents/{incident.pk}/{action}/", data)
        assert response.status_code == 403, action
    incident.refresh_from_db()
    assert incident.status == "open" and not Alert.objects.exists()
    assert not incident.events.filter(person__isnull=False).exists()


def test_contacts_act(incident, monitored):
    session = logged_in(monitored.ana)
    base = f"/monitor/incidents/{incident.pk}"
    assert session.post(base + "/acknowledge/").status_code == 302
    assert session.post(base + "/note/", {"text": "Our upstream is on it."}).status_code == 302
    refused = session.post(base + "/note/", {"text": "  "})
    assert refused.status_code == 400 and "cannot be empty" in refused.content.decode()
    assert session.post(base + "/alert/").status_code == 302
    alert = Alert.objects.get()
    assert alert.tlp == "AMBER" and alert.author == monitored.ana
    again = session.post(base + "/alert/")
    assert again.status_code == 400 and Alert.objects.count() == 1
    assert session.post(base + "/close/", {"text": "Fixed."}).status_code == 302
    assert session.post(base + "/nonsense/").status_code == 404
    incident.refresh_from_db()
    assert incident.status == "closed" and incident.alert_id == alert.pk
    page = session.get(base + "/").content.decode()
    assert "Our upstream is on it." in page and f"/alerts/{alert.pk}/" in page
