"""Agreement between vantage points, incidents, notification, and the members' actions."""

from __future__ import annotations

from datetime import timedelta

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


def problems(incident: Incident) -> list[tuple[str, str, bool]]:
    return sorted((p.code, p.server, p.cleared_at is None) for p in incident.problems.all())


def test_two_probes_agreeing_open_one_incident_with_a_timeline(world, catalog):
    report(world.hub, T0, down={"fr"})
    report(world.p1, T0 + minutes(1), down={"fr"})
    changes = incidents.evaluate(T0 + minutes(2))
    (down,) = changes.opened  # one outage, one incident, whatever the number of servers
    assert problems(down) == [
        ("ALL_SERVERS_DOWN", "", True),
        ("SERVER_NO_RESPONSE_UDP", "ns1.nic.fr", True),
        ("SERVER_NO_RESPONSE_UDP", "ns2.nic.fr", True),
    ]
    assert (down.code, down.server, down.severity) == ("ALL_SERVERS_DOWN", "", 50)  # the worst
    assert down.tld == catalog["fr"] and down.status == Incident.Status.OPEN
    assert kinds(down) == ["opened", "seen", "seen", "notified"]
    assert {e.probe_id for e in down.events.filter(kind="seen")} == {world.hub.pk, world.p1.pk}
    assert down.draft_category == "outage"
    assert ".fr" in down.draft_title and "ALL_SERVERS_DOWN" in down.draft_body
    assert "ns2.nic.fr" in down.draft_body and "hub, probe-fr" in down.draft_body
    assert incidents.local_problems(catalog["fr"], T0 + minutes(2)) == []
    # Running again changes nothing; a third probe agreeing adds its SEEN event once.
    assert not incidents.evaluate(T0 + minutes(2))
    report(world.p2, T0 + minutes(3), down={"fr"})
    assert incidents.evaluate(T0 + minutes(4)).seen == 1
    assert not incidents.evaluate(T0 + minutes(4))
    assert Incident.objects.count() == 1
    assert kinds(down).count("seen") == 3


def test_one_outage_of_many_servers_is_one_mail_per_contact(world):
    servers = [f"ns{n}.nic.fr" for n in range(1, 7)]
    lost = [incidents_finding("fr", s, "SERVER_NO_RESPONSE_UDP") for s in servers] + [
        incidents_finding("fr", s, "SERVER_NO_RESPONSE_TCP") for s in servers
    ]
    report(world.hub, T0, findings=lost, tlds=("nl",))
    report(world.p1, T0, findings=lost, tlds=("nl",))
    (incident,) = incidents.evaluate(T0 + minutes(1)).opened
    assert incident.problems.count() == 12
    mails = outbox_messages(incidents.PURPOSE)
    assert sorted(to for to, _m in mails) == ["ana@nic.fr", "marc@nic.fr"]
    text = body_of(mails[0][1])
    assert "ns6.nic.fr" in text and "SERVER_NO_RESPONSE_TCP" in text
    assert "TLP:AMBER" in text


def test_the_contacts_of_the_cctld_only_are_mailed(world):
    report(world.hub, T0, down={"fr"})
    report(world.p1, T0, down={"fr"})
    incidents.evaluate(T0 + minutes(1))
    mails = outbox_messages(incidents.PURPOSE)
    assert sorted(to for to, _m in mails) == ["ana@nic.fr", "marc@nic.fr"]
    to, msg = mails[0]
    assert msg["Subject"].startswith("[TLD-OPS] Monitor: .fr ALL_SERVERS_DOWN")
    assert "/monitor/incidents/" in body_of(msg)
    assert len(msg["To"].addresses) == 1  # each their own copy


def test_the_mail_says_the_configured_tlp(world, settings):
    settings.MONITOR_ALERT_TLP = "green"
    report(world.hub, T0, down={"fr"})
    report(world.p1, T0, down={"fr"})
    incidents.evaluate(T0 + minutes(1))
    text = body_of(outbox_messages(incidents.PURPOSE)[0][1])
    assert "TLP:GREEN" in text and "AMBER" not in text


def test_a_later_problem_joins_the_incident_without_a_mail(world):
    lame = [incidents_finding("fr", "ns1.nic.fr", "LAME_REFUSED")]
    report(world.hub, T0, findings=lame)
    report(world.p1, T0, findings=lame)
    (incident,) = incidents.evaluate(T0 + minutes(1)).opened
    assert incident.severity == 40 and len(outbox_messages(incidents.PURPOSE)) == 2
    more = [*lame, incidents_finding("fr", "ns2.nic.fr", "LAME_REFUSED")]
    report(world.hub, T0 + minutes(5), findings=more)
    report(world.p1, T0 + minutes(5), findings=more)
    changes = incidents.evaluate(T0 + minutes(6))
    assert not changes.opened and changes.problems == 1
    assert Incident.objects.count() == 1 and incident.problems.count() == 2
    assert kinds(incident)[-1] == "problem"
    assert incident.events.get(kind="problem").text == "LAME_REFUSED ns2.nic.fr"
    assert len(outbox_messages(incidents.PURPOSE)) == 2  # no new mail
    incident.refresh_from_db()
    assert "ns2.nic.fr" in incident.draft_body
    assert not incidents.evaluate(T0 + minutes(6))
    # The whole ccTLD goes down: CRITICAL from below, the contacts are told once more.
    report(world.hub, T0 + minutes(10), down={"fr"})
    report(world.p1, T0 + minutes(10), down={"fr"})
    changes = incidents.evaluate(T0 + minutes(11))
    assert changes.worsened == [incident] and not changes.opened
    incident.refresh_from_db()
    assert (incident.code, incident.severity) == ("ALL_SERVERS_DOWN", 50)
    mails = outbox_messages(incidents.PURPOSE)
    assert len(mails) == 4 and "worse" in mails[-1][1]["Subject"]
    assert "worsened" in kinds(incident)
    assert not incidents.evaluate(T0 + minutes(11))


def test_problems_clear_one_by_one_then_the_incident_recovers(world):
    report(world.hub, T0, down={"fr"})
    report(world.p1, T0, down={"fr"})
    (incident,) = incidents.evaluate(T0 + minutes(1)).opened
    # ns1 answers again, ns2 still not: the ccTLD is no longer all down.
    ns2 = [incidents_finding("fr", "ns2.nic.fr", "SERVER_NO_RESPONSE_UDP")]
    report(world.hub, T0 + minutes(5), findings=ns2)
    report(world.p1, T0 + minutes(5), findings=ns2)
    changes = incidents.evaluate(T0 + minutes(6))
    assert changes.cleared == 2 and not changes.recovered
    assert problems(incident) == [
        ("ALL_SERVERS_DOWN", "", False),
        ("SERVER_NO_RESPONSE_UDP", "ns1.nic.fr", False),
        ("SERVER_NO_RESPONSE_UDP", "ns2.nic.fr", True),
    ]
    incident.refresh_from_db()
    assert incident.status == "open" and (incident.code, incident.server) == (
        "SERVER_NO_RESPONSE_UDP",
        "ns2.nic.fr",
    )
    assert kinds(incident).count("cleared") == 2
    assert not incidents.evaluate(T0 + minutes(6))
    report(world.hub, T0 + minutes(10))
    report(world.p1, T0 + minutes(10))
    assert incidents.evaluate(T0 + minutes(11)).recovered == [incident]
    incident.refresh_from_db()
    assert incident.status == "closed" and incident.recovered_at == T0 + minutes(11)
    assert kinds(incident)[-2:] == ["cleared", "recovered"]


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


def incidents_finding(tld: str, server: str, code: str, detail: str = "seen"):
    from tldops.monitor.results import Finding

    return Finding(tld, server, "192.0.2.9", code, detail)


def test_drafts_and_mails_never_carry_what_a_probe_wrote(world):
    evil = "\x1b[31mEVIL http://x"
    found = [incidents_finding("fr", "ns1.nic.fr", "LAME_REFUSED", evil)]
    report(world.hub, T0, findings=found)
    report(world.p1, T0, findings=found)
    (incident,) = incidents.evaluate(T0 + minutes(1)).opened
    assert "EVIL" not in incident.draft_body and "\x1b" not in incident.draft_body
    assert "LAME_REFUSED" in incident.draft_body and "RFC" in incident.draft_body
    assert all(
        "EVIL" not in body_of(m) and "http://x" not in body_of(m)
        for _to, m in outbox_messages(incidents.PURPOSE)
    )
    assert not incident.events.filter(text__contains="EVIL").exists()


def test_recovery_seen_by_k_probes_closes_it(world):
    report(world.hub, T0, down={"fr"})
    report(world.p1, T0, down={"fr"})
    incidents.evaluate(T0 + minutes(1))
    # One probe sees it recover: not enough.
    report(world.hub, T0 + minutes(5))
    assert not incidents.evaluate(T0 + minutes(6)).recovered
    assert Incident.objects.filter(status="open").count() == 1
    # The second agrees: recovered and closed, once.
    report(world.p1, T0 + minutes(6))
    changes = incidents.evaluate(T0 + minutes(7))
    (down,) = changes.recovered
    assert down.status == "closed" and down.recovered_at == T0 + minutes(7)
    assert kinds(down)[-1] == "recovered"
    assert not incidents.evaluate(T0 + minutes(7))
    # It comes back: a new incident.
    report(world.hub, T0 + minutes(10), down={"fr"})
    report(world.p1, T0 + minutes(10), down={"fr"})
    assert len(incidents.evaluate(T0 + minutes(11)).opened) == 1
    assert Incident.objects.filter(tld__alabel="fr").count() == 2


def test_an_incident_nobody_confirms_any_more_is_closed_as_stale(world, settings):
    settings.MONITOR_STALE_HOURS = 24
    report(world.hub, T0, down={"fr"})
    report(world.p1, T0, down={"fr"})
    (incident,) = incidents.evaluate(T0 + minutes(1)).opened
    # The member's probe stops reporting; the hub alone still sees it: no agreement either way.
    later = T0 + minutes(1)
    for hours in (1, 12, 23):
        at = T0 + timedelta(hours=hours)
        report(world.hub, at, down={"fr"})
        assert not incidents.evaluate(at + minutes(1))
    incident.refresh_from_db()
    assert incident.status == "open" and incident.confirmed_at == later
    at = T0 + timedelta(hours=25)
    report(world.hub, at, down={"fr"})
    changes = incidents.evaluate(at + minutes(1))
    assert changes.stale == [incident]
    incident.refresh_from_db()
    assert incident.status == "closed" and incident.recovered_at is None
    assert incident.closed_by is None and kinds(incident)[-1] == "stale"
    assert not incidents.evaluate(at + minutes(1))
    # When two vantage points agree again, a new incident opens (stale is not closed by hand).
    report(world.p1, at + minutes(2), down={"fr"})
    assert len(incidents.evaluate(at + minutes(3)).opened) == 1


def test_after_the_stale_time_the_hub_alone_seeing_it_clear_clears_it(world, settings):
    settings.MONITOR_STALE_HOURS = 24
    report(world.hub, T0, down={"fr"})
    report(world.p1, T0, down={"fr"})
    (incident,) = incidents.evaluate(T0 + minutes(1)).opened
    report(world.hub, T0 + timedelta(hours=2))  # the hub alone sees it fine: not enough yet
    assert not incidents.evaluate(T0 + timedelta(hours=2, minutes=1)).recovered
    at = T0 + timedelta(hours=25)
    report(world.hub, at)
    changes = incidents.evaluate(at + minutes(1))
    assert changes.recovered == [incident] and not changes.stale
    incident.refresh_from_db()
    assert incident.status == "closed" and incident.recovered_at is not None


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


def test_one_live_incident_per_cctld(world, catalog):
    Incident.objects.create(
        tld=catalog["fr"], code="LAME_REFUSED", server="ns1.nic.fr", severity=40
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.create(tld=catalog["fr"], code="ALL_SERVERS_DOWN", server="", severity=50)
    # evaluate keeps the one there (another process opened it) rather than failing or opening
    # another: the problems join it.
    report(world.hub, T0, down={"fr"})
    report(world.p1, T0, down={"fr"})
    changes = incidents.evaluate(T0 + minutes(1))
    assert not changes.opened and changes.problems == 3
    (incident,) = Incident.objects.filter(tld=catalog["fr"])
    assert incident.problems.count() == 3 and incident.code == "ALL_SERVERS_DOWN"


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


def test_a_note_cannot_carry_terminal_escapes(world, catalog):
    report(world.hub, T0, down={"fr"})
    report(world.p2, T0 + minutes(1), down={"fr"})
    incident = incidents.evaluate(T0 + minutes(2)).opened[0]
    with pytest.raises(InvalidInput, match="control characters"):
        incidents.add_note(incident, world.ana, "fine\x1b]52;c;ZXZpbA==\x07")
    with pytest.raises(InvalidInput, match="control characters"):  # a bidi override reorders
        incidents.add_note(incident, world.ana, "closed \u202efor good")
    assert not incident.events.filter(kind="note").exists()
    incidents.add_note(incident, world.ana, "Upstream filtering.\nWatching.")
    assert incident.events.filter(kind="note").count() == 1
