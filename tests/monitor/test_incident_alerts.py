"""The draft alert raised through the door (ops.incident_alerts): author, TLP, affected ccTLD,
once per incident; automatically only with a named author."""

from __future__ import annotations

import logging

import pytest
from django.utils import timezone

from tests.monitor.incident_world import T0, minutes, report, result
from tldops.alerts.models import Alert
from tldops.kernel.errors import InvalidInput, NotAuthorised
from tldops.monitor import incidents
from tldops.monitor.models import Incident
from tldops.ops import incident_alerts


def _open(world) -> Incident:
    report(world.hub, T0, down={"fr"})
    report(world.p1, T0, down={"fr"})
    incidents.evaluate(T0 + minutes(1))
    return Incident.objects.get(code="ALL_SERVERS_DOWN")


def test_a_contact_raises_the_draft_alert(world, settings):
    settings.MONITOR_ALERT_TLP = "AMBER"
    incident = _open(world)
    alert = incident_alerts.raise_for(incident, world.marc)
    assert alert.tlp == "AMBER" and alert.category == "outage" and alert.author == world.marc
    assert alert.title == incident.draft_title and "ALL_SERVERS_DOWN" in alert.body
    assert [t.alabel for t in alert.affected.all()] == ["fr"]
    assert alert.severity == "critical"
    incident.refresh_from_db()
    assert incident.alert_id == alert.pk
    assert incident.events.filter(kind="alert", person=world.marc).exists()
    with pytest.raises(InvalidInput):
        incident_alerts.raise_for(incident, world.ana)  # once
    assert Alert.objects.count() == 1


def test_the_tlp_comes_from_the_setting(world, settings):
    settings.MONITOR_ALERT_TLP = "GREEN"
    alert = incident_alerts.raise_for(_open(world), world.ana)
    assert alert.tlp == "GREEN"


@pytest.mark.parametrize("label", ["RED", "TLP:RED", "PURPLE", ""])
def test_red_or_unknown_tlp_is_refused_when_raising(world, settings, label):
    """A RED alert is read only by the readers its author names; a monitor draft names none."""
    settings.MONITOR_ALERT_TLP = label
    incident = _open(world)
    with pytest.raises(InvalidInput, match="MONITOR_ALERT_TLP"):
        incident_alerts.raise_for(incident, world.ana)
    assert not Alert.objects.exists()
    incident.refresh_from_db()
    assert incident.alert_id is None


def test_automatic_alert_with_red_is_skipped(world, settings, caplog):
    settings.MONITOR_AUTO_ALERT = True
    settings.MONITOR_ALERT_AUTHOR = "sec@tldops.example"
    settings.MONITOR_ALERT_TLP = "RED"
    incident_alerts.store_and_evaluate(world.hub, result(timezone.now(), down={"fr"}), "a")
    with caplog.at_level(logging.WARNING, logger="tldops.ops.incident_alerts"):
        _sweep, changes = incident_alerts.store_and_evaluate(
            world.p1, result(timezone.now(), down={"fr"}), "b"
        )
    assert changes.opened and not Alert.objects.exists()
    assert "RED" in caplog.text


@pytest.mark.parametrize("who", ["jan", "sec"])
def test_only_the_cctlds_contacts_raise_it(world, who):
    incident = _open(world)
    with pytest.raises(NotAuthorised):
        incident_alerts.raise_for(incident, getattr(world, who))
    assert not Alert.objects.exists()


def test_automatic_alert_needs_an_author(world, settings, caplog):
    settings.MONITOR_AUTO_ALERT = True
    settings.MONITOR_ALERT_AUTHOR = ""
    incident_alerts.store_and_evaluate(world.hub, result(timezone.now(), down={"fr"}), "a")
    with caplog.at_level(logging.WARNING, logger="tldops.ops.incident_alerts"):
        _sweep, changes = incident_alerts.store_and_evaluate(
            world.p1, result(timezone.now(), down={"fr"}), "b"
        )
    assert changes.opened and not Alert.objects.exists()
    assert "MONITOR_ALERT_AUTHOR" in caplog.text


def test_automatic_alert_in_the_named_authors_name(world, settings):
    settings.MONITOR_AUTO_ALERT = True
    settings.MONITOR_ALERT_AUTHOR = "SEC@tldops.example"
    incident_alerts.store_and_evaluate(world.hub, result(timezone.now(), down={"fr"}), "a")
    incident_alerts.store_and_evaluate(world.p1, result(timezone.now(), down={"fr"}), "b")
    alerts = Alert.objects.all()
    assert alerts.count() == 1  # one incident for the ccTLD's outage, one alert
    assert {a.author for a in alerts} == {world.sec}
    assert all(i.alert_id for i in Incident.objects.all())
    # The same report again changes nothing.
    again = result(timezone.now(), down={"fr"})
    _sweep, changes = incident_alerts.store_and_evaluate(world.p1, again, "b")
    assert not changes and Alert.objects.count() == 1
