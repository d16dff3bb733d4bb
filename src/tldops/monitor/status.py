"""What the monitor sees now, read for the doors: the world overview, one ccTLD, latency series.

Every reader here starts from the same notion of *now*: the latest sweep of each probe that is not
revoked, if it started within ``MONITOR_WINDOW`` seconds (:func:`recent_sweeps`). A ccTLD no such
sweep covered is ``unknown``; a problem seen by at least ``MONITOR_AGREEMENT`` of those probes is
*confirmed*, one seen by fewer is *local* (a single vantage point's view, shown but not alarmed);
an open incident (:mod:`tldops.monitor.incidents` opens them) confirms it too.

The overview reads a constant number of queries whatever the number of ccTLDs (the counts are
aggregated by the database, per ccTLD and code), so the portal's grid of ~309 tiles and the API
answer in a few milliseconds. Nothing here writes.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import idna
from django.conf import settings
from django.db import connection
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops.catalog.models import NameServer, Region, Tld
from tldops.kernel.errors import NotFound
from tldops.monitor import vantage
from tldops.monitor.codes import CODES, Severity
from tldops.monitor.models import (
    Finding,
    Incident,
    IncidentEvent,
    Observation,
    Probe,
    Rollup,
    Sweep,
)
from tldops.monitor.results import Status

#: The levels of a ccTLD, best first; ``unknown``: no recent sweep covered it.
LEVELS = ("ok", "notice", "warning", "error", "critical", "unknown")
#: How a finding's severity shows as a level (INFO is worth knowing, not a problem: ``ok``).
LEVEL_OF = {
    Severity.INFO: "ok",
    Severity.NOTICE: "notice",
    Severity.WARNING: "warning",
    Severity.ERROR: "error",
    Severity.CRITICAL: "critical",
}
#: Worst first, for sorting: critical, error, warning, unknown, notice, ok. An unknown ccTLD is
#: shown before the merely unusual ones: nobody knows it is fine.
WORST_FIRST = {"critical": 0, "error": 1, "warning": 2, "unknown": 3, "notice": 4, "ok": 5}
#: The finding that says a ccTLD is not signed (docs/monitor.md).
UNSIGNED = "UNSIGNED"
#: Closed incidents shown on a ccTLD's page: those closed within this many days, at most this many.
RECENT_CLOSED_DAYS = 30
RECENT_CLOSED_MAX = 20
#: The ranges a latency chart offers: name -> (span, step between points).
RANGES: dict[str, tuple[timedelta, timedelta]] = {
    "24h": (timedelta(hours=24), timedelta(minutes=5)),
    "7d": (timedelta(days=7), timedelta(hours=1)),
    "90d": (timedelta(days=90), timedelta(hours=6)),
    "1y": (timedelta(days=365), timedelta(days=1)),
}
DEFAULT_RANGE = "24h"


# --- The vantage points of now --------------------------------------------------------------------


@dataclass(frozen=True)
class RecentSweep:
    id: int
    probe_id: int
    probe: str  # the probe's name
    started_at: datetime


def recent_sweeps(now: datetime | None = None) -> dict[int, RecentSweep]:
    """The latest sweep of each probe that is not revoked, started within ``MONITOR_WINDOW``
    seconds before ``now``, by sweep id. One query (a few sweeps per probe within the window)."""
    now = now or timezone.now()
    since = now - timedelta(seconds=settings.MONITOR_WINDOW)
    rows = (
        Sweep.objects.filter(
            probe__revoked_at__isnull=True, started_at__gte=since, started_at__lte=now
        )
        .order_by("probe_id", "-started_at", "-id")
        .values_list("id", "probe_id", "probe__name", "started_at")
    )
    latest: dict[int, RecentSweep] = {}
    for sweep_id, probe_id, name, started in rows:
        if probe_id not in latest:
            latest[probe_id] = RecentSweep(sweep_id, probe_id, name, started)
    return {s.id: s for s in latest.values()}


def agreement() -> int:
    return max(1, int(settings.MONITOR_AGREEMENT))


# --- The overview ------------------------------------------------------------------------------------


@dataclass
class TldStatus:
    """One ccTLD's tile: how it is now, as the recent sweeps saw it."""

    alabel: str
    ulabel: str
    country: str
    regions: list[str]  # region codes, e.g. ["centr"]
    level: str = "unknown"  # one of LEVELS: the worst problem any recent probe sees
    code: str = ""  # the finding behind the level ("" when ok or unknown)
    seen_by: int = 0  # probes that see that finding
    probes: int = 0  # probes whose latest sweep covered the ccTLD
    confirmed: bool = False  # the worst problem is agreed on (>= MONITOR_AGREEMENT) or an incident
    incident: int | None = None  # the open incident's id (the most severe, newest), if any
    signed: bool | None = None  # None: unknown (no recent sweep)
    last_sweep: datetime | None = None

    @property
    def display(self) -> str:
        return (
            f".{self.ulabel} ({self.alabel})" if self.ulabel != self.alabel else f".{self.alabel}"
        )

    @property
    def local(self) -> bool:
        """A problem seen by fewer vantage points than the agreement asks, and no incident."""
        return self.level not in ("ok", "unknown") and not self.confirmed

    @property
    def scope(self) -> str:
        """``confirmed``, ``local`` or "" (nothing wrong, or not known)."""
        if self.level in ("ok", "unknown"):
            return ""
        return "confirmed" if self.confirmed else "local"


def overview(now: datetime | None = None) -> list[TldStatus]:
    """Every delegated ccTLD of the catalog with its status now, in A-label order.

    Six queries whatever the number of ccTLDs, probes and findings: the sweeps of now, the
    ccTLDs, their regions, the findings counted per (ccTLD, code) by the database, the ccTLDs
    each probe covered, the open incidents.
    """
    sweeps = recent_sweeps(now)
    ids = list(sweeps)
    k = agreement()
    tlds = list(Tld.objects.delegated().values_list("id", "alabel", "ulabel", "country_name"))
    regions: dict[int, list[str]] = defaultdict(list)
    for tld_id, code in (
        Tld.regions.through.objects.filter(tld__delegated=True)
        .order_by("region__code")
        .values_list("tld_id", "region__code")
    ):
        regions[tld_id].append(code)
    findings: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
    covered: dict[int, tuple[int, datetime | None]] = {}
    if ids:
        for tld_id, code, severity, probes in (
            Finding.objects.filter(sweep_id__in=ids)
            .values("tld_id", "code")
            .annotate(
                sev=Max("severity"),
                probes=Count(vantage.expression("sweep__probe__"), distinct=True),
            )
            .values_list("tld_id", "code", "sev", "probes")
        ):
            findings[tld_id].append((code, severity, probes))
        for tld_id, probes, last in (
            Observation.objects.filter(sweep_id__in=ids)
            .values("tld_id")
            .annotate(
                probes=Count(vantage.expression("sweep__probe__"), distinct=True), last=Max("at")
            )
            .values_list("tld_id", "probes", "last")
        ):
            covered[tld_id] = (probes, last)
    incidents: dict[int, tuple[int, int]] = {}  # tld -> (severity, id) of the worst open one
    for incident_id, tld_id, severity in (
        Incident.objects.exclude(status=Incident.Status.CLOSED)
        .order_by("severity", "id")
        .values_list("id", "tld_id", "severity")
    ):
        incidents[tld_id] = (severity, incident_id)  # the last wins: most severe, newest
    last_sweep = max((s.started_at for s in sweeps.values()), default=None)
    out = []
    for tld_id, alabel, ulabel, country in tlds:
        status = TldStatus(alabel, ulabel, country, regions.get(tld_id, []))
        _judge(status, findings.get(tld_id, []), covered.get(tld_id), incidents.get(tld_id), k)
        if status.level != "unknown" and status.last_sweep is None:
            status.last_sweep = last_sweep  # only findings (no address answered): the sweep's time
        out.append(status)
    return out


def _judge(
    status: TldStatus,
    findings: list[tuple[str, int, int]],
    covered: tuple[int, datetime | None] | None,
    incident: tuple[int, int] | None,
    k: int,
) -> None:
    """Fill ``status`` from its findings (code, severity, probes that see it) and coverage."""
    if incident:
        status.incident = incident[1]
    if not findings and not covered:
        return  # no recent sweep saw it: unknown (an open incident still shows)
    probes, last = covered or (0, None)
    status.probes = max([probes, *(p for _c, _s, p in findings)])
    status.last_sweep = last
    status.signed = not any(code == UNSIGNED for code, _s, _p in findings)
    worst = max(findings, key=lambda f: (f[1], f[2], f[0]), default=None)
    if worst is None or worst[1] < Severity.NOTICE:
        status.level = "ok"
        return
    status.code, severity, status.seen_by = worst
    status.level = LEVEL_OF[Severity(severity)]
    agreed = max((s for _c, s, p in findings if p >= k), default=0)
    status.confirmed = agreed >= severity or (incident is not None and incident[0] >= severity)


def counts(statuses: Iterable[TldStatus]) -> dict[str, int]:
    """How many ccTLDs are at each level (every level present, zero or not)."""
    out = dict.fromkeys(LEVELS, 0)
    for s in statuses:
        out[s.level] += 1
    return out


def worst_first(statuses: Iterable[TldStatus]) -> list[TldStatus]:
    """Worst first; confirmed before local at the same level; then by A-label."""
    return sorted(statuses, key=lambda s: (WORST_FIRST[s.level], not s.confirmed, s.alabel))


def version(now: datetime | None = None) -> tuple[object, ...]:
    """What the monitor's pages depend on besides the catalog, for a page cache's key: the latest
    sweep stored, the latest incident change (every change writes an event), the incidents and
    probes (revoked or deleted), and the minute (the window moves with the clock). One query of
    indexed maxima and small counts."""
    now = now or timezone.now()
    sql = (
        f"SELECT (SELECT MAX(id) FROM {Sweep._meta.db_table}),"
        f" (SELECT MAX(id) FROM {IncidentEvent._meta.db_table}),"
        f" (SELECT COUNT(*) FROM {Incident._meta.db_table}),"
        f" (SELECT COUNT(*) FROM {Probe._meta.db_table}),"
        f" (SELECT COUNT(*) FROM {Probe._meta.db_table} WHERE revoked_at IS NOT NULL)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return (*row, int(now.timestamp() // 60))


def regions() -> list[tuple[str, str]]:
    """Every region as (code, name), for the overview's groups."""
    return list(Region.objects.values_list("code", "name"))


def find_tld(label: str) -> Tld:
    """The ccTLD of the catalog named ``label`` (A-label or U-label, any case, a dot or not),
    retired ones included (their history stays readable); :class:`NotFound` otherwise."""
    text = (label or "").strip().strip(".")[:253]
    try:
        alabel = idna.encode(text, uts46=True).decode("ascii").lower() if text else ""
    except idna.IDNAError:
        alabel = ""
    tld = Tld.objects.filter(alabel=alabel).first() if alabel else None
    if tld is None:
        raise NotFound(_("No such ccTLD."), field="tld")
    return tld


# --- One ccTLD -------------------------------------------------------------------------------------------


@dataclass
class ProbeView:
    """One probe's latest view of one server address."""

    probe: str
    status: str
    udp_ms: float | None
    tcp_ms: float | None
    serial: int | None
    at: datetime


@dataclass
class AddressView:
    server: str
    address: str
    family: str  # "IPv4" | "IPv6"
    views: list[ProbeView] = field(default_factory=list)  # one per recent probe that asked it

    @property
    def ok(self) -> bool:
        return bool(self.views) and all(v.status == Status.OK for v in self.views)


@dataclass
class FindingView:
    code: str
    severity: str  # the Severity's name
    level: str  # its level (LEVEL_OF)
    text: str
    rfc: str
    server: str
    address: str
    detail: str
    probes: list[str]  # names of the probes that see it
    confirmed: bool
    at: datetime


@dataclass
class IncidentView:
    id: int
    code: str
    server: str
    severity: str
    status: str
    opened_at: datetime
    recovered_at: datetime | None
    closed_at: datetime | None


@dataclass
class TldDetail:
    status: TldStatus
    probes: list[RecentSweep]
    addresses: list[AddressView]
    findings: list[FindingView]
    incidents: list[IncidentView]


def family(address: str) -> str:
    try:
        return "IPv6" if ipaddress.ip_address(address).version == 6 else "IPv4"
    except ValueError:
        return ""


def tld_detail(tld: Tld, now: datetime | None = None) -> TldDetail:
    """One ccTLD now: each name server address with each recent probe's latest answer, the
    current findings with who sees them, and the incidents (open, and recently closed).

    A name server of the catalog that no probe asked yet is listed with no views ("no data").
    """
    now = now or timezone.now()
    sweeps = recent_sweeps(now)
    ids = list(sweeps)
    k = agreement()
    addresses: dict[tuple[str, str], AddressView] = {}
    for ns in NameServer.objects.filter(tld=tld).values_list("hostname", "ipv4", "ipv6"):
        for address in [*(ns[1] or []), *(ns[2] or [])]:
            addresses[(ns[0], address)] = AddressView(ns[0], address, family(address))
    for sweep_id, server, address, st, udp, tcp, serial, at in (
        Observation.objects.filter(sweep_id__in=ids, tld=tld)
        .order_by("server", "address", "sweep_id")
        .values_list("sweep_id", "server", "address", "status", "udp_ms", "tcp_ms", "serial", "at")
    ):
        view = addresses.setdefault(
            (server, address), AddressView(server, address, family(address))
        )
        view.views.append(ProbeView(sweeps[sweep_id].probe, st, udp, tcp, serial, at))
    grouped: dict[tuple[str, str, str], list[tuple[int, str, int, datetime]]] = defaultdict(list)
    for sweep_id, server, address, code, detail, severity, at in (
        Finding.objects.filter(sweep_id__in=ids, tld=tld)
        .order_by("at", "id")
        .values_list("sweep_id", "server", "address", "code", "detail", "severity", "at")
    ):
        grouped[(code, server, address)].append((sweep_id, detail, severity, at))
    findings = []
    points = vantage.of_probes(s.probe_id for s in sweeps.values())
    for (code, server, address), seen in grouped.items():
        known = CODES.get(code)
        severity = Severity(known.severity if known else max(s for _i, _d, s, _a in seen))
        probes = sorted({sweeps[i].probe for i, _d, _s, _a in seen})
        findings.append(
            FindingView(
                code=code,
                severity=severity.name,
                level=LEVEL_OF[severity],
                text=str(known.text) if known else "",
                rfc=known.rfc if known else "",
                server=server,
                address=address,
                detail=seen[-1][1],
                probes=probes,
                confirmed=vantage.count({sweeps[i].probe_id for i, _d, _s, _a in seen}, points)
                >= k,
                at=seen[-1][3],
            )
        )
    findings.sort(key=lambda f: (-Severity[f.severity], f.code, f.server, f.address))
    closed_since = now - timedelta(days=RECENT_CLOSED_DAYS)
    live = Incident.objects.filter(tld=tld).exclude(status=Incident.Status.CLOSED)
    closed = Incident.objects.filter(
        tld=tld, status=Incident.Status.CLOSED, closed_at__gte=closed_since
    ).order_by("-closed_at")[:RECENT_CLOSED_MAX]
    incidents = [
        IncidentView(
            i.pk,
            i.code,
            i.server,
            Severity(i.severity).name if i.severity in Severity._value2member_map_ else "",
            i.status,
            i.opened_at,
            i.recovered_at,
            i.closed_at,
        )
        for i in [*live.order_by("-opened_at"), *closed]
    ]
    status = _status_of(tld, sweeps, k)
    return TldDetail(
        status=status,
        probes=sorted(sweeps.values(), key=lambda s: s.probe),
        addresses=sorted(addresses.values(), key=lambda a: (a.server, a.family, a.address)),
        findings=findings,
        incidents=incidents,
    )


def _status_of(tld: Tld, sweeps: dict[int, RecentSweep], k: int) -> TldStatus:
    """The overview's tile for one ccTLD (the same rule, for its page)."""
    ids = list(sweeps)
    status = TldStatus(
        tld.alabel,
        tld.ulabel,
        tld.country_name,
        list(tld.regions.order_by("code").values_list("code", flat=True)),
    )
    findings = list(
        Finding.objects.filter(sweep_id__in=ids, tld=tld)
        .values("code")
        .annotate(
            sev=Max("severity"), probes=Count(vantage.expression("sweep__probe__"), distinct=True)
        )
        .values_list("code", "sev", "probes")
    )
    seen = (
        Observation.objects.filter(sweep_id__in=ids, tld=tld).aggregate(
            probes=Count(vantage.expression("sweep__probe__"), distinct=True), last=Max("at")
        )
        if ids
        else {"probes": 0, "last": None}
    )
    covered = (seen["probes"], seen["last"]) if seen["probes"] else None
    worst = (
        Incident.objects.filter(tld=tld)
        .exclude(status=Incident.Status.CLOSED)
        .order_by("-severity", "-id")
        .values_list("severity", "id")
        .first()
    )
    _judge(status, findings, covered, worst, k)
    if status.level != "unknown" and status.last_sweep is None:
        status.last_sweep = max((s.started_at for s in sweeps.values()), default=None)
    return status


# --- Latency over time ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    at: datetime  # the start of the point's step
    udp_ms: float | None  # mean round trip over UDP of the answers in the step
    tcp_ms: float | None
    samples: int  # observations in the step
    answered: int  # of which answered (status ok)


@dataclass
class Series:
    server: str
    address: str
    probe: str
    points: list[Point] = field(default_factory=list)


@dataclass
class _Bucket:
    samples: int = 0
    answered: int = 0
    udp_sum: float = 0.0
    udp_n: int = 0
    tcp_sum: float = 0.0
    tcp_n: int = 0

    def add(self, samples: int, answered: int, udp: float | None, tcp: float | None) -> None:
        self.samples += samples
        self.answered += answered
        weight = max(1, answered or samples)
        if udp is not None:
            self.udp_sum += udp * weight
            self.udp_n += weight
        if tcp is not None:
            self.tcp_sum += tcp * weight
            self.tcp_n += weight


def sources(
    since: datetime, until: datetime, now: datetime
) -> list[tuple[str, datetime, datetime]]:
    """Which store holds which part of [since, until): raw observations for the last
    ``MONITOR_RAW_DAYS`` days, hourly rollups back to ``MONITOR_HOURLY_DAYS``, daily ones before.
    Empty parts are left out."""
    raw_from = now - timedelta(days=settings.MONITOR_RAW_DAYS)
    hour_from = now - timedelta(days=settings.MONITOR_HOURLY_DAYS)
    parts = [
        ("day", since, min(until, hour_from)),
        ("hour", max(since, hour_from), min(until, raw_from)),
        ("raw", max(since, raw_from), until),
    ]
    return [(name, a, b) for name, a, b in parts if a < b]


def latency_series(
    tld: Tld,
    since: datetime,
    until: datetime,
    step: timedelta,
    *,
    now: datetime | None = None,
) -> list[Series]:
    """Per server address and probe, the round trips over [since, until) in points ``step``
    apart, whatever store the time lies in (:func:`sources`): raw observations where they are
    still kept, hourly then daily rollups beyond. The caller never needs to know which.

    Revoked probes are kept: their past measurements were true. One query per store touched.
    """
    now = now or timezone.now()
    step = max(step, timedelta(minutes=1))
    buckets: dict[tuple[str, str, str], dict[int, _Bucket]] = defaultdict(
        lambda: defaultdict(_Bucket)
    )

    def bucket(key: tuple[str, str, str], at: datetime) -> _Bucket:
        return buckets[key][int((at - since) / step)]

    names = dict(Probe.objects.values_list("id", "name"))
    for store, start, end in sources(since, until, now):
        if store == "raw":
            rows = Observation.objects.filter(tld=tld, at__gte=start, at__lt=end).values_list(
                "sweep__probe_id", "server", "address", "at", "status", "udp_ms", "tcp_ms"
            )
            for probe_id, server, address, at, st, udp, tcp in rows:
                ok = st == Status.OK
                bucket((server, address, names.get(probe_id, "")), at).add(
                    1, int(ok), udp if ok else None, tcp if ok else None
                )
        else:
            rows = Rollup.objects.filter(
                tld=tld, span=store, start__gte=start, start__lt=end
            ).values_list(
                "probe_id", "server", "address", "start", "samples", "answered", "udp_ms_avg",
                "tcp_ms_avg",
            )  # fmt: skip
            for probe_id, server, address, start_at, samples, answered, udp, tcp in rows:
                bucket((server, address, names.get(probe_id, "")), start_at).add(
                    samples, answered, udp, tcp
                )
    out = []
    for (server, address, probe), steps in sorted(buckets.items()):
        series = Series(server, address, probe)
        for index in sorted(steps):
            b = steps[index]
            series.points.append(
                Point(
                    at=since + index * step,
                    udp_ms=round(b.udp_sum / b.udp_n, 2) if b.udp_n else None,
                    tcp_ms=round(b.tcp_sum / b.tcp_n, 2) if b.tcp_n else None,
                    samples=b.samples,
                    answered=b.answered,
                )
            )
        out.append(series)
    return out


def range_bounds(name: str, now: datetime | None = None) -> tuple[datetime, datetime, timedelta]:
    """``(since, until, step)`` of a named range (:data:`RANGES`); ``KeyError`` for another."""
    span, step = RANGES[name]
    now = now or timezone.now()
    return now - span, now, step
