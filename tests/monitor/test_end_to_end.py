"""The whole chain against the simulated world, nothing replaced: the hub's own sweep and a member's
probe (``tldops probe`` over HTTP to a live hub, signed) see the same stopped server; one vantage
point alone keeps it local, the second opens the incident and mails the ccTLD's contacts, and when
the server answers again both see it recover and the incident closes."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tldops.directory.audit import Actor
from tldops.mail.models import Delivery, OutboundMessage
from tldops.monitor import incidents, probes
from tldops.monitor.incidents import PURPOSE
from tldops.monitor.models import Incident, Sweep
from tldops.ops import monitor_process


@pytest.fixture
def hub(settings, dns_world, world_tlds):
    settings.MONITOR_ROOT_HINTS = dns_world.root_hints_path
    settings.MONITOR_TRUST_ANCHOR = dns_world.trust_anchor_path
    settings.MONITOR_PORT = dns_world.port
    settings.MONITOR_TIMEOUT = 0.3
    settings.MONITOR_TRIES = 1
    settings.MONITOR_AGREEMENT = 2
    settings.MONITOR_INTERVAL = 1  # sweeps seconds apart (a probe's reports closer than half: 409)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return world_tlds


def probe_sweep(url: str, token: str, state, world) -> None:
    call_command(
        "probe", "--hub", url, "--token", token, "--state", str(state), "--once",
        "--root-hints", world.root_hints_path, "--trust-anchor", world.trust_anchor_path,
        "--port", str(world.port), "--timeout", "0.3", "--tries", "1",
    )  # fmt: skip


def stopped_incident() -> Incident | None:
    return Incident.objects.filter(tld__alabel="at", problems__code="SERVER_UNREACHABLE").first()


def test_two_vantage_points_open_an_incident_and_see_it_recover(
    hub, dns_world, make_member, live_server, tmp_path
):
    contact = make_member(hub["at"], "Anna Gruber")
    make_member(hub["nl"], "Jan de Vries")
    row, token = probes.create(contact, "Vienna office", actor=Actor.system())
    state = tmp_path / "probe"
    mailed_before = set(OutboundMessage.objects.values_list("pk", flat=True))

    # The hub alone: seen, kept local, no incident.
    changes = monitor_process.sweep_once()
    assert not changes.opened and stopped_incident() is None
    assert ("SERVER_UNREACHABLE", "ns2.at") in {
        (p.code, p.server) for p in incidents.local_problems(hub["at"])
    }

    # The member's probe agrees: the incident opens, the contacts of .at are mailed.
    probe_sweep(live_server.url, token, state, dns_world)
    assert Sweep.objects.filter(probe=row).count() == 1
    incident = stopped_incident()
    assert incident is not None and incident.status == Incident.Status.OPEN
    assert incident.server == "ns2.at"
    assert incident.problems.get(code="SERVER_UNREACHABLE").server == "ns2.at"
    assert Incident.objects.filter(tld__alabel="at").count() == 1  # one per ccTLD
    recipients = set(
        Delivery.objects.exclude(message__pk__in=mailed_before)
        .filter(message__purpose=PURPOSE)
        .values_list("recipient", flat=True)
    )
    assert recipients == {contact.email}
    assert (
        Delivery.objects.exclude(message__pk__in=mailed_before)
        .filter(message__purpose=PURPOSE)
        .count()
        == 1
    )  # one mail, however many problems
    # Healthy ccTLDs have no incident.
    assert not Incident.objects.filter(tld__alabel__in=["nl", "be", "de", "xn--p1ai"]).exists()

    # The server answers again: both vantage points see it, the incident closes by itself.
    server = dns_world.repair("at")
    try:
        monitor_process.sweep_once()
        probe_sweep(live_server.url, token, state, dns_world)
    finally:
        server.stop()
    incident.refresh_from_db()
    assert incident.status == Incident.Status.CLOSED
    assert incident.recovered_at is not None
    assert incident.events.filter(kind="recovered").exists()
