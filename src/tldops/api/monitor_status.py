"""The monitor as it is now, for members and staff: the overview, one ccTLD, latency over time,
and the table of finding codes. A thin door onto :mod:`tldops.monitor.status` (the same reads as
the portal's /monitor/ pages); incidents and probes have their own routers.
"""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from tldops.api.auth import AUTH, require_member
from tldops.api.schemas import AUTH_ERRORS, errors
from tldops.monitor import status
from tldops.monitor.codes import CODES

router = Router(auth=AUTH, tags=["monitor"])

LEVEL_DESCRIPTION = (
    "ok, notice, warning, error, critical, or unknown (no recent sweep covered the ccTLD). "
    "INFO findings (e.g. UNSIGNED) leave a ccTLD ok."
)


class TldStatusOut(Schema):
    alabel: str = Field(description="A-label of the ccTLD.")
    ulabel: str
    country: str
    regions: list[str] = Field(description="Regional organisations' codes (centr, lactld …).")
    level: str = Field(description=LEVEL_DESCRIPTION)
    code: str = Field(description="The finding behind the level; empty when ok or unknown.")
    scope: str = Field(
        description="confirmed (seen by at least MONITOR_AGREEMENT vantage points, or an "
        "incident is open), local (seen by fewer: not alarmed), or empty when ok or unknown."
    )
    seen_by: int = Field(description="Vantage points that see that finding now.")
    probes: int = Field(description="Vantage points whose latest sweep covered the ccTLD.")
    incident: int | None = Field(description="The open incident's id, if any.")
    signed: bool | None = Field(description="DNSSEC: a DS at the parent; null when unknown.")
    last_sweep: datetime | None


class OverviewOut(Schema):
    items: list[TldStatusOut]
    count: int
    counts: dict[str, int] = Field(description="ccTLDs per level, over the whole catalog.")
    agreement: int = Field(description="Vantage points that must agree (MONITOR_AGREEMENT).")


class OverviewQuery(Schema):
    level: Literal["ok", "notice", "warning", "error", "critical", "unknown"] | None = Field(
        None, description="Only the ccTLDs at this level."
    )
    order: Literal["alabel", "worst"] = Field("alabel", description="alabel, or worst first.")


def _status(s: status.TldStatus) -> dict[str, Any]:
    return {
        "alabel": s.alabel,
        "ulabel": s.ulabel,
        "country": s.country,
        "regions": s.regions,
        "level": s.level,
        "code": s.code,
        "scope": s.scope,
        "seen_by": s.seen_by,
        "probes": s.probes,
        "incident": s.incident,
        "signed": s.signed,
        "last_sweep": s.last_sweep,
    }


@router.get(
    "/monitor/overview",
    response={200: OverviewOut, **errors(*AUTH_ERRORS)},
    summary="Every ccTLD's status now",
)
def overview(request: HttpRequest, query: Query[OverviewQuery]) -> dict[str, Any]:
    """Every delegated ccTLD as the latest sweep of each vantage point within the window sees it,
    `{"items", "count", "counts", "agreement"}`. Members and staff."""
    require_member(request)
    statuses = status.overview()
    counts = status.counts(statuses)
    if query.order == "worst":
        statuses = status.worst_first(statuses)
    items = [_status(s) for s in statuses if not query.level or s.level == query.level]
    return {"items": items, "count": len(items), "counts": counts, "agreement": status.agreement()}


class ProbeViewOut(Schema):
    probe: str = Field(description="The vantage point's name.")
    status: str = Field(
        description="ok, timeout, unreachable, refused, servfail, not_authoritative or no_soa."
    )
    udp_ms: float | None
    tcp_ms: float | None
    serial: int | None
    at: datetime


class AddressOut(Schema):
    server: str
    address: str
    family: str = Field(description="IPv4 or IPv6.")
    views: list[ProbeViewOut] = Field(
        description="Each recent vantage point's answer; empty: no data yet."
    )


class FindingOut(Schema):
    code: str
    severity: str = Field(description="INFO, NOTICE, WARNING, ERROR or CRITICAL.")
    text: str = Field(description="The code's one-line explanation (in the request's language).")
    rfc: str
    server: str
    address: str
    detail: str = Field(description="What was seen, as the latest vantage point put it.")
    probes: list[str] = Field(description="The vantage points that see it now.")
    confirmed: bool = Field(description="Seen by at least MONITOR_AGREEMENT vantage points.")
    at: datetime


class IncidentRefOut(Schema):
    id: int
    code: str
    server: str
    severity: str
    status: str = Field(description="open, acknowledged or closed.")
    opened_at: datetime
    recovered_at: datetime | None
    closed_at: datetime | None


class VantageOut(Schema):
    probe: str
    started_at: datetime = Field(description="Its latest sweep within the window.")


class TldDetailOut(Schema):
    status: TldStatusOut
    probes: list[VantageOut]
    addresses: list[AddressOut]
    findings: list[FindingOut]
    incidents: list[IncidentRefOut] = Field(
        description=f"Open ones, and those closed in the last {status.RECENT_CLOSED_DAYS} days."
    )


@router.get(
    "/monitor/tlds/{alabel}",
    response={200: TldDetailOut, **errors(404, *AUTH_ERRORS)},
    summary="One ccTLD's servers, findings and incidents now",
)
def tld_detail(request: HttpRequest, alabel: str) -> dict[str, Any]:
    """The ccTLD (A-label or U-label): each name server address with each vantage point's latest
    answer, the current findings with who sees them, its incidents. Members and staff."""
    require_member(request)
    detail = status.tld_detail(status.find_tld(alabel))
    return {
        "status": _status(detail.status),
        "probes": [{"probe": p.probe, "started_at": p.started_at} for p in detail.probes],
        "addresses": [
            {
                "server": a.server,
                "address": a.address,
                "family": a.family,
                "views": [v.__dict__ for v in a.views],
            }
            for a in detail.addresses
        ],
        "findings": [f.__dict__ for f in detail.findings],
        "incidents": [i.__dict__ for i in detail.incidents],
    }


class PointOut(Schema):
    at: datetime = Field(description="The start of the point's step.")
    udp_ms: float | None = Field(description="Mean UDP round trip of the answers; null: none.")
    tcp_ms: float | None
    samples: int = Field(description="Questions asked in the step.")
    answered: int = Field(description="Of which answered (status ok).")


class SeriesOut(Schema):
    server: str
    address: str
    probe: str = Field(description="The vantage point.")
    points: list[PointOut]


class LatencyOut(Schema):
    items: list[SeriesOut] = Field(description="One series per server address and vantage point.")
    count: int
    since: datetime
    until: datetime
    step_s: int = Field(description="Seconds between points.")


class LatencyQuery(Schema):
    range: Literal["24h", "7d", "90d", "1y"] = Field(
        "24h", description="24h (5-minute points), 7d (hourly), 90d (6-hourly) or 1y (daily)."
    )


@router.get(
    "/monitor/tlds/{alabel}/latency",
    response={200: LatencyOut, **errors(404, *AUTH_ERRORS)},
    summary="One ccTLD's response times over time",
)
def latency(request: HttpRequest, alabel: str, query: Query[LatencyQuery]) -> dict[str, Any]:
    """Per server address and vantage point, the round trips over the range, from the raw
    observations where they are still kept and from the hourly and daily rollups beyond
    (docs/monitor.md). Members and staff."""
    require_member(request)
    tld = status.find_tld(alabel)
    since, until, step = status.range_bounds(query.range)
    series = status.latency_series(tld, since, until, step)
    items = [
        {
            "server": s.server,
            "address": s.address,
            "probe": s.probe,
            "points": [p.__dict__ for p in s.points],
        }
        for s in series
    ]
    return {
        "items": items,
        "count": len(items),
        "since": since,
        "until": until,
        "step_s": int(step.total_seconds()),
    }


class CodeOut(Schema):
    code: str = Field(description="Stable: never changes meaning once published.")
    severity: str = Field(description="INFO, NOTICE, WARNING, ERROR or CRITICAL.")
    text: str = Field(description="One line, in the request's language.")
    rfc: str


class CodesOut(Schema):
    items: list[CodeOut]
    count: int


@router.get(
    "/monitor/codes",
    response={200: CodesOut, **errors(*AUTH_ERRORS)},
    summary="Every finding code",
)
def codes(request: HttpRequest) -> dict[str, Any]:
    """Every code a sweep can report, with its severity, explanation and RFC (the table of
    docs/monitor.md). Members and staff."""
    require_member(request)
    items = [
        {"code": c.code, "severity": c.severity.name, "text": str(c.text), "rfc": c.rfc}
        for c in CODES.values()
    ]
    return {"items": items, "count": len(items)}
