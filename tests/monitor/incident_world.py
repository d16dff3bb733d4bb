"""A small monitored world for the incident tests: .fr (two contacts), .nl (one), staff, three
probes (the hub's own and two members'), and sweep results built as data (no DNS here: the sweep
engine has its own tests against a simulated world)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from tldops.directory.models import Person
from tldops.monitor import ingest
from tldops.monitor.models import Probe
from tldops.monitor.results import Finding, Sample, Stats, Status, SweepResult

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FR_SERVERS = [("ns1.nic.fr", "192.0.2.1"), ("ns2.nic.fr", "192.0.2.2")]
NL_SERVERS = [("ns1.dns.nl", "192.0.2.11")]
_reports = count(1)


@dataclass
class World:
    ana: Person  # contact of .fr
    marc: Person  # contact of .fr
    jan: Person  # contact of .nl
    sec: Person  # secretariat, contact of nothing
    hub: Probe
    p1: Probe
    p2: Probe


@pytest.fixture
def world(catalog, make_member, staff) -> World:
    return build_world(catalog, make_member, staff)


def build_world(catalog, make_member, staff) -> World:
    ana = make_member(catalog["fr"], name="Ana Lopez")
    marc = make_member(catalog["fr"], name="Marc Dubois", email="marc@nic.fr")
    jan = make_member(catalog["nl"], name="Jan Jansen", email="jan@nic.nl")
    sec = staff("secretariat", email="sec@tldops.example")
    hub = ingest.builtin_probe()
    p1 = Probe.objects.create(name="probe-fr", owner=ana, token_prefix="p1")
    p2 = Probe.objects.create(name="probe-nl", owner=jan, token_prefix="p2")
    return World(ana=ana, marc=marc, jan=jan, sec=sec, hub=hub, p1=p1, p2=p2)


def result(
    at: datetime,
    *,
    down: set[str] = frozenset(),
    findings: list[Finding] | None = None,
    tlds: tuple[str, ...] = ("fr", "nl"),
    udp_ms: float = 12.0,
) -> SweepResult:
    """A sweep at ``at`` of ``tlds``: every server answers, except every server of the ccTLDs in
    ``down`` (timeouts, and ALL_SERVERS_DOWN), plus ``findings``."""
    servers = {"fr": FR_SERVERS, "nl": NL_SERVERS}
    samples, found = [], list(findings or [])
    for tld in tlds:
        for server, address in servers[tld]:
            if tld in down:
                samples.append(Sample(tld, server, address, Status.TIMEOUT))
                found.append(Finding(tld, server, address, "SERVER_NO_RESPONSE_UDP", "no answer"))
            else:
                samples.append(
                    Sample(tld, server, address, Status.OK, udp_ms, udp_ms * 2, 2026120101)
                )
        if tld in down:
            found.append(Finding(tld, "", "", "ALL_SERVERS_DOWN", "no server answered"))
    return SweepResult(started_at=at, findings=found, samples=samples, stats=Stats(zones=len(tlds)))


def report(probe: Probe, at: datetime, **kwargs: object):
    """Store a sweep of ``probe`` at ``at`` (see :func:`result`)."""
    return ingest.store(probe, result(at, **kwargs), f"r{next(_reports)}")


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
