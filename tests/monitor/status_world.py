"""Rows of the monitor made directly, as the ingest would store them: probes, sweeps with their
observations and findings, rollups, incidents. Shared by the status, page, API and browser tests."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from django.utils import timezone

from tldops.catalog.models import Tld
from tldops.monitor.codes import CODES
from tldops.monitor.models import Finding, Incident, Observation, Probe, Rollup, Sweep

_reports = itertools.count(1)


def probe(name: str, *, builtin: bool = False, revoked: bool = False) -> Probe:
    return Probe.objects.create(
        name=name,
        builtin=builtin,
        token_prefix=None if builtin else f"p{next(_reports)}",
        revoked_at=timezone.now() if revoked else None,
    )


def sweep(
    by: Probe,
    *,
    at: datetime | None = None,
    ok: list[Tld] = (),
    findings: list[tuple[Tld, str, str, str]] = (),
    samples: list[tuple[Tld, str, str, str, float | None]] = (),
) -> Sweep:
    """A sweep of ``by`` at ``at``: each ccTLD of ``ok`` answered on one healthy address, each
    ``(tld, server, address, status, udp_ms)`` of ``samples`` observed, each
    ``(tld, code, server, address)`` of ``findings`` found."""
    at = at or timezone.now() - timedelta(seconds=30)
    s = Sweep.objects.create(probe=by, report_id=f"r{next(_reports)}", started_at=at)
    rows = [
        Observation(sweep=s, tld=t, at=at, server=f"a.nic.{t.alabel}", address="192.0.2.1",
                    status="ok", udp_ms=12.5, tcp_ms=25.0, serial=2026120501)
        for t in ok
    ]  # fmt: skip
    rows += [
        Observation(sweep=s, tld=t, at=at, server=server, address=address, status=st,
                    udp_ms=udp, tcp_ms=udp * 2 if udp else None,
                    serial=2026120501 if st == "ok" else None)
        for t, server, address, st, udp in samples
    ]  # fmt: skip
    Observation.objects.bulk_create(rows)
    Finding.objects.bulk_create(
        Finding(sweep=s, tld=t, at=at, server=server, address=address, code=code,
                severity=int(CODES[code].severity), detail=f"{code} seen")
        for t, code, server, address in findings
    )  # fmt: skip
    return s


def incident(tld: Tld, code: str, *, server: str = "", status: str = "open", **fields) -> Incident:
    return Incident.objects.create(
        tld=tld, code=code, server=server, severity=int(CODES[code].severity), status=status,
        **fields,
    )  # fmt: skip


def rollup(by: Probe, tld: Tld, span: str, start: datetime, udp: float, *, server: str = "a.nic",
           address: str = "192.0.2.1", samples: int = 12) -> Rollup:  # fmt: skip
    return Rollup.objects.create(
        probe=by, tld=tld, server=f"{server}.{tld.alabel}", address=address, span=span,
        start=start, samples=samples, answered=samples, udp_ms_avg=udp, udp_ms_max=udp,
        tcp_ms_avg=udp * 2,
    )  # fmt: skip
