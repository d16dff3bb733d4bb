"""Agreement between vantage points, incidents, notification, and the members' actions."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tests.conftest import body_of, outbox_messages
from tests.monitor.incident_world import T0, minutes, report
from tldops.directory.models import AuditEntry
from tldops.kernel.errors import InvalidInput, NotAuthorised
from tldops.monitor import incidents
from tldops.monitor.models import Incident, IncidentEvent, Probe


def kinds(incident: Incident) -> list[str]:
    return [e.kind for e in incident.events.all()]


def test_one_probe_alone_does_not_open_an_incident_it_stays_local(world, catalog):
    report(world.hub, T0, down={"fr"})
    report(world.p1, T0 + minutes(1))  # sees .fr fine
    changes = incidents.evaluate(T0 + minutes(2))
    assert not changes and not Incident.objects.exists()
    local = incidents.local_problems(catalog["fr"], T0 + minutes(2))
    assert {(p.code, p.server) for p in local} == {
        ("ALL_SERVERS_DOWN", ""),
        ("SERVER_NO_RESPONSE_UDP", "ns1.nic.fr"),
        ("SERVER_NO_RESPONSE_UDP", "ns2.nic.fr"),
    }
    assert all(p.probes == ["hub"] for p in local)
    assert incidents.local_problems(catalog["nl"], T0 + minutes(2)) == []
    assert outbox_messages(incidents.PURPOSE) == []


def test_two_probes_agreeing_open_one_incident_with_a_timeline(world, catalog):
    report(world.hub, T0, down={"fr"})
    report(world.p1, T0 + minutes(1), down={"fr"})
    changes = incidents.evaluate(T0 + minutes(2))
    keys = sorted((i.code, i.server) for i in changes.opened)
    assert keys == [
        ("ALL_SERVERS_DOWN", ""),
        ("SERVER_NO_RESPONSE_UDP", "ns1.nic.fr"),
        ("SERVER_NO_RESPONSE_UDP", "ns2.nic.fr"),
    ]
    down = Incident.objects.get(code="ALL_SERVERS_DOWN")
    assert down.tld == catalog["fr"] and down.status == Incident.Status.OPEN
    assert kinds(down) == ["opened", "seen", "seen", "notified"]
    assert {e.probe_id for e in down.events.filter(kind="seen")} == {world.hub.pk, world.p1.pk}
    assert down.draft_category == "outage"
    assert ".fr" in down.draft_title and "ALL_SERVERS_DOWN" in down.draft_body
    assert incidents.local_problems(catalog["fr"], T0 + minutes(2)) == []
    # Running again changes nothing; a third probe agreeing adds its SEEN event once.
    assert not incidents.evaluate(T0 + minutes(2))
    report(world.p2, T0 + minutes(3), down={"fr"})
    assert incidents.evaluate(T0 + minutes(4)).seen == 3
    assert not incidents.evaluate(T0 + minutes(4))
    assert Incident.objects.count() == 3
    assert kinds(down).count("seen") == 3


def test_the_contacts_of_the_cctld_only_are_mailed(world):
    report(world.hub, T0, down={"fr"})
    report(world.p1, T0, down={"fr"})
    incidents.evaluate(T0 + minutes(1))
    mails = outbox_messages(incidents.PURPOSE)
    assert sorted(to for to, _m in mails) == sorted(["ana@nic.fr", "marc@nic.fr"] * 3)
    to, msg = mails[0]
    assert msg["Subject"].startswith("[TLD-OPS] Monitor: .fr")
    assert "/monitor/incidents/" in body_of(msg)
    assert len(msg["To"].addresses) == 1  # each their own copy


def test_ddos_draft_when_packets_are_lost_and_answers_slow(world):
    slow = [
        incidents_finding("fr", "ns2.nic.fr", "SLOW_RESPONSE"),
        incidents_finding("fr", "ns1.nic.fr", "SERVER_NO_RESPONSE_UDP"),
    ]
    report(world.hub, T0, findings=slow)
    report(world.p1, T0, findings=slow)
    (opened,) = incidents.evaluate(T0 + minutes(1)).opened
    assert opened.code == "SERVER_NO_RESPONSE_UDP" and opened.draft_category == "ddos"
    assert "DDoS" in opened.draft_title
    assert incidents.draft_category("LAME_REFUSED", slow=True) == "outage"


def incidents_finding(tld: str, server: str, code: str):
    from tldops.monitor.results import Finding

    return Finding(tld, server, "192.0.2.9", code, "seen")


def test_recovery_seen_by_k_probes_closes_it(world):
    report(world.hub, T0, down={"fr"})
    report(world.p1, T0, down={"fr"})
    incidents.evaluate(T0 + minutes(1))
    # One probe sees it recover: not enough.
    report(world.hub, T0 + minutes(5))
    assert not incidents.evaluate(T0 + minutes(6)).recovered
    assert Incident.objects.filter(status="open").count() == 3
    # The second agrees: recovered and closed, once.
    report(world.p1, T0 + minutes(6))
    changes = incidents.evaluate(T0 + minutes(7))
    assert len(changes.recovered) == 3
    down = Incident.objects.get(code="ALL_SERVERS_DOWN")
    assert down.status == "closed" and down.recovered_at == T0 + minutes(7)
    assert kinds(down)[-1] == "recovered"
    assert not incidents.evaluate(T0 + minutes(7))
    # It comes back: a new incident.
    report(world.hub, T0 + minutes(10), down={"fr"})
    report(world.p1, T0 + minutes(10), down={"fr"})
    assert len(incidents.evaluate(T0 + minutes(11)).opened) == 3
    assert Incident.objects.filter(code="ALL_SERVERS_DOWN").count() == 2


def test_sweeps_outside_the_window_do_not_count(world, settings):
    settings.MONITOR_WINDOW = 900
    report(world.hub, T0, down={"fr"})
    report(world.p1, T0 + minutes(16), down={"fr"})
    assert not incidents.evaluate(T0 + minutes(16)).opened  # the hub's sweep is 16 min old
    report(world.hub, T0 + minutes(17), down={"fr"})
    assert incidents.evaluate(T0 + minutes(18)).opened


def test_the_latest_sweep_of_each_probe_counts(world):
    report(world.hub, T0, down={"fr"})
    report(world.hub, T0 + minutes(5))  # the hub sees it fine now
    report(world.p1, T0 + minutes(6), down={"fr"})
    assert not incidents.evaluate(T0 + minutes(7)).opened


def test_a_sweep_that_does_not_cover_the_cctld_leaves_the_older_one(world):
    report(world.hub, T0, down={"fr"})
    report(world.hub, T0 + minutes(5), tlds=("nl",))  # .fr not swept this time
    report(world.p1, T0 + minutes(6), down={"fr"})
    assert incidents.evaluate(T0 + minutes(7)).opened


def test_revoked_probes_do_not_count(world):
    world.p1.revoked_at = T0
    world.p1.save()
    report(world.hub, T0, down={"fr"})
    report(world.p1, T0, down={"fr"})
    assert not incidents.evaluate(T0 + minutes(1)).opened


def test_one_live_incident_per_problem(world, catalog):
    Incident.objects.create(tld=catalog["fr"], code="ALL_SERVERS_DOWN", server="", severity=50)
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.create(tld=catalog["fr"], code="ALL_SERVERS_DOWN", server="", severity=50)
    # evaluate keeps the one there rather than failing or opening another.
    report(world.hub, T0, down={"fr"})
    report(world.p1, T0, down={"fr"})
    opened = incidents.evaluate(T0 + minutes(1)).opened
    assert "ALL_SERVERS_DOWN" not in {i.code for i in opened}
    assert Incident.objects.filter(code="ALL_SERVERS_DOWN").count() == 1


def _open_incident(world) -> Incident:
    report(world.hub, T0, down={"fr"})
    report(world.p1, T0, down={"fr"})
    incidents.evaluate(T0 + minutes(1))
    return Incident.objects.get(code="ALL_SERVERS_DOWN")


def test_contacts_acknowledge_note_and_close(world):
    incident = _open_incident(world)
    incidents.acknowledge(incident, world.ana)
    incident.refresh_from_db()
    assert incident.status == "acknowledged" and incident.acknowledged_by == world.ana
    incidents.acknowledge(incident, world.marc)  # already: nothing more
    incidents.add_note(incident, world.marc, "  Upstream provider is on it.  ")
    incidents.close(incident, world.marc, "Fixed by the provider.")
    incident.refresh_from_db()
    assert incident.status == "closed" and incident.closed_by == world.marc
    events = list(incident.events.filter(person__isnull=False))
    assert [(e.kind, e.text) for e in events] == [
        ("acknowledged", ""),
        ("note", "Upstream provider is on it."),
        ("closed", "Fixed by the provider."),
    ]
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"incident-acknowledged", "incident-note", "incident-closed"} <= actions
    with pytest.raises(InvalidInput):
        incidents.close(incident, world.ana)
    with pytest.raises(InvalidInput):
        incidents.acknowledge(incident, world.ana)


@pytest.mark.parametrize("who", ["jan", "sec"])
def test_other_cctlds_contacts_and_staff_cannot_act(world, who):
    incident = _open_incident(world)
    person = getattr(world, who)
    for act in (
        lambda: incidents.acknowledge(incident, person),
        lambda: incidents.add_note(incident, person, "hello"),
        lambda: incidents.close(incident, person),
    ):
        with pytest.raises(NotAuthorised):
            act()
    incident.refresh_from_db()
    assert incident.status == "open"
    assert not incident.events.filter(person__isnull=False).exists()


def test_notes_are_bounded_and_not_empty(world):
    incident = _open_incident(world)
    with pytest.raises(InvalidInput):
        incidents.add_note(incident, world.ana, "x" * 5001)
    with pytest.raises(InvalidInput):
        incidents.add_note(incident, world.ana, "   ")
    assert not incident.events.filter(kind=IncidentEvent.Kind.NOTE).exists()


def test_closed_by_hand_is_not_reopened_until_recovered(world):
    incident = _open_incident(world)
    incidents.close(incident, world.ana, "Planned maintenance.")
    report(world.hub, T0 + minutes(5), down={"fr"})
    report(world.p1, T0 + minutes(5), down={"fr"})
    changes = incidents.evaluate(T0 + minutes(6))
    assert not changes.opened and changes.suppressed == 1
    report(world.hub, T0 + minutes(10))
    report(world.p1, T0 + minutes(10))
    incidents.evaluate(T0 + minutes(11))
    incident.refresh_from_db()
    assert incident.recovered_at is not None and incident.closed_by == world.ana
    report(world.hub, T0 + minutes(15), down={"fr"})
    report(world.p1, T0 + minutes(15), down={"fr"})
    opened = incidents.evaluate(T0 + minutes(16)).opened
    assert "ALL_SERVERS_DOWN" in {i.code for i in opened}


def test_one_members_probes_are_one_vantage_point(world, catalog):
    """A member running a second probe (one machine, one network) cannot confirm a problem alone,
    open an incident and mail another ccTLD's contacts: agreement counts people and the hub, not
    probes. With the hub seeing it too, it opens."""
    twin = Probe.objects.create(name="probe-fr-2", owner=world.ana, token_prefix="p3")
    report(world.p1, T0, down={"nl"})
    report(twin, T0 + minutes(1), down={"nl"})
    assert not incidents.evaluate(T0 + minutes(2)) and not Incident.objects.exists()
    local = incidents.local_problems(catalog["nl"], T0 + minutes(2))
    assert ("ALL_SERVERS_DOWN", "") in {(p.code, p.server) for p in local}
    assert outbox_messages(incidents.PURPOSE) == []
    report(world.hub, T0 + minutes(3), down={"nl"})
    opened = incidents.evaluate(T0 + minutes(4)).opened
    assert ("ALL_SERVERS_DOWN", "") in {(i.code, i.server) for i in opened}
