"""The monitor's pages for members and staff: the world overview and a page per ccTLD.

A thin door onto :mod:`tldops.monitor.status`. Both pages are kept whole in the page cache
(:func:`tldops.web.fragments.cached_page`) under :func:`tldops.monitor.status.version` — the sweeps
stored, the latest incident change, the revoked probes and the minute — so a page is rendered
once per change (or per minute, as the window moves) and not once per reader; they show nothing
that differs between two members.

The latency charts are inline SVG drawn here on the server (as the reachability report's): no
script, no library, colours from the static stylesheet (the Content-Security-Policy refuses style
attributes), each with a title and a summary in text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tldops.catalog.models import Tld
from tldops.kernel.errors import NotFound
from tldops.monitor import status
from tldops.web.access import member_required
from tldops.web.fragments import cached_page

#: Each level's words and sign: the tiles never speak by colour alone.
LEVEL_LABELS = {
    "critical": gettext_lazy("Critical"),
    "error": gettext_lazy("Error"),
    "warning": gettext_lazy("Warning"),
    "notice": gettext_lazy("Notice"),
    "ok": gettext_lazy("OK"),
    "unknown": gettext_lazy("Unknown"),
}
LEVEL_ICONS = {
    "critical": "‼",
    "error": "✖",
    "warning": "▲",
    "notice": "ℹ",
    "ok": "✔",
    "unknown": "?",
}
#: The filters' order (worst first), as the counts at the top list them.
LEVEL_ORDER = ("critical", "error", "warning", "notice", "ok", "unknown")
ORDERS = ("region", "worst")
RANGE_LABELS = {
    "24h": gettext_lazy("24 hours"),
    "7d": gettext_lazy("7 days"),
    "90d": gettext_lazy("90 days"),
    "1y": gettext_lazy("1 year"),
}
#: Lines of one chart have these classes, in turn (colours in monitor.css).
SERIES_CLASSES = 6


# --- The overview ------------------------------------------------------------------------------------


@dataclass
class Tile:
    alabel: str
    display: str
    country: str
    level: str
    label: str
    icon: str
    scope: str  # confirmed | local | ""
    code: str
    seen_by: int
    probes: int
    incident: int | None
    signed: bool | None


@dataclass
class Group:
    code: str
    name: str
    tiles: list[Tile] = field(default_factory=list)


def _tile(s: status.TldStatus) -> Tile:
    return Tile(
        alabel=s.alabel,
        display=s.display,
        country=s.country,
        level=s.level,
        label=str(LEVEL_LABELS[s.level]),
        icon=LEVEL_ICONS[s.level],
        scope=s.scope,
        code=s.code,
        seen_by=s.seen_by,
        probes=s.probes,
        incident=s.incident,
        signed=s.signed,
    )


def _overview_context(level: str, order: str) -> dict[str, Any]:
    statuses = status.overview()
    counts = status.counts(statuses)
    if order == "worst":
        statuses = status.worst_first(statuses)
    shown = [s for s in statuses if not level or s.level == level]
    if order == "worst":  # one list: what is broken now, whatever the region
        worst = Group("all", _("All ccTLDs, worst first"), [_tile(s) for s in shown])
        return {**_summary(counts, shown, level, order), "groups": [worst] if shown else []}
    names = dict(status.regions())
    groups: dict[str, Group] = {}
    for code in sorted(names):
        groups[code] = Group(code, names[code])
    other = Group("", _("No regional organisation"))
    for s in shown:
        tile = _tile(s)
        for code in s.regions or [""]:
            groups.get(code, other).tiles.append(tile)
    return {
        **_summary(counts, shown, level, order),
        "groups": [g for g in [*groups.values(), other] if g.tiles],
    }


def _summary(
    counts: dict[str, int], shown: list[status.TldStatus], level: str, order: str
) -> dict[str, Any]:
    return {
        "levels": [(lv, str(LEVEL_LABELS[lv]), LEVEL_ICONS[lv], counts[lv]) for lv in LEVEL_ORDER],
        "total": sum(counts.values()),
        "shown": len(shown),
        "level": level,
        "order": order,
        "agreement": status.agreement(),
    }


@member_required
def overview(request: HttpRequest) -> HttpResponse:
    """``/monitor/``: every delegated ccTLD as a tile, grouped by region, coloured and labelled by
    its status; ``?status=<level>`` shows one level, ``?order=worst`` the worst first."""
    level = request.GET.get("status", "")
    level = level if level in LEVEL_ORDER else ""
    order = request.GET.get("order", "")
    order = order if order in ORDERS else "region"
    return cached_page(
        request,
        "web/monitor/overview.html",
        lambda: _overview_context(level, order),
        name="monitor-overview",
        parts=(status.version(), level, order),
    )


# --- A ccTLD's page ----------------------------------------------------------------------------------


@dataclass
class Line:
    css: str  # series-N
    probe: str
    segments: list[str]  # "x,y x,y …" for each run of answered points
    lost: list[tuple[float, str]]  # x of points with unanswered samples, and their title
    summary: str


@dataclass
class Chart:
    id: str
    server: str
    address: str
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    lines: list[Line]
    grid: list[tuple[float, str]]  # y, label (ms)
    ticks: list[tuple[float, str]]  # x, label (time)


def _nice(value: float) -> float:
    """The smallest of 1, 2, 5 × 10ⁿ at or above ``value`` (the chart's top, in ms)."""
    scale = 1.0
    while True:
        for m in (1, 2, 5):
            if m * scale >= value:
                return m * scale
        scale *= 10


def latency_chart(
    index: int,
    series: list[status.Series],
    since: datetime,
    until: datetime,
    *,
    width: int = 720,
    height: int = 200,
) -> Chart:
    """One server address: a line per probe of the mean UDP round trip, broken where nothing
    answered, with a mark at the bottom for each step that had unanswered questions."""
    left, right, top, bottom = 56, 24, 10, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [p.udp_ms for s in series for p in s.points if p.udp_ms is not None]
    ceiling = _nice(max(values, default=1.0) * 1.1)
    span = (until - since).total_seconds() or 1.0

    def x(at: datetime) -> float:
        return round(left + plot_w * min(1.0, max(0.0, (at - since).total_seconds() / span)), 1)

    def y(ms: float) -> float:
        return round(top + plot_h * (1 - min(ms, ceiling) / ceiling), 1)

    lines = []
    for n, s in enumerate(series):
        segments, run, lost = [], [], []
        for p in s.points:
            if p.udp_ms is None:
                if run:
                    segments.append(" ".join(run))
                run = []
            else:
                run.append(f"{x(p.at)},{y(p.udp_ms)}")
            if p.answered < p.samples:
                lost.append(
                    (
                        x(p.at),
                        _("%(time)s: %(lost)d of %(samples)d unanswered")
                        % {
                            "time": timezone.localtime(p.at).strftime("%Y-%m-%d %H:%M"),
                            "lost": p.samples - p.answered,
                            "samples": p.samples,
                        },
                    )
                )
        if run:
            segments.append(" ".join(run))
        udp = [p.udp_ms for p in s.points if p.udp_ms is not None]
        summary = (
            _("%(probe)s: min %(min).1f ms, mean %(mean).1f ms, max %(max).1f ms")
            % {"probe": s.probe, "min": min(udp), "mean": sum(udp) / len(udp), "max": max(udp)}
            if udp
            else _("%(probe)s: no answer in this period") % {"probe": s.probe}
        )
        lines.append(Line(f"series-{n % SERIES_CLASSES}", s.probe, segments, lost, summary))
    grid = [(y(ceiling * f), f"{ceiling * f:g} ms") for f in (0, 0.25, 0.5, 0.75, 1)]
    fmt = "%H:%M" if span <= 86400 * 2 else "%m-%d" if span <= 86400 * 120 else "%Y-%m"
    ticks = [
        (
            x(since + timedelta(seconds=span * f)),
            timezone.localtime(since + timedelta(seconds=span * f)).strftime(fmt),
        )
        for f in (0, 0.25, 0.5, 0.75, 1)
    ]
    first = series[0]
    return Chart(
        id=f"chart-{index}",
        server=first.server,
        address=first.address,
        width=width,
        height=height,
        left=left,
        right=width - right,
        top=top,
        bottom=height - bottom,
        lines=lines,
        grid=grid,
        ticks=ticks,
    )


def _find(alabel: str) -> Tld:
    try:
        return status.find_tld(alabel)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _tld_context(tld: Tld, range_name: str) -> dict[str, Any]:
    detail = status.tld_detail(tld)
    since, until, step = status.range_bounds(range_name)
    by_address: dict[tuple[str, str], list[status.Series]] = {}
    for s in status.latency_series(tld, since, until, step):
        by_address.setdefault((s.server, s.address), []).append(s)
    charts = [
        latency_chart(i, series, since, until)
        for i, (_key, series) in enumerate(sorted(by_address.items()))
    ]
    tile = _tile(detail.status)
    return {
        "tld": tld,
        "detail": detail,
        "tile": tile,
        "findings": [
            {**f.__dict__, "label": str(LEVEL_LABELS[f.level]), "icon": LEVEL_ICONS[f.level]}
            for f in detail.findings
        ],
        "charts": charts,
        "range": range_name,
        "ranges": [(name, str(label)) for name, label in RANGE_LABELS.items()],
        "range_label": str(RANGE_LABELS[range_name]),
        "agreement": status.agreement(),
    }


@member_required
def tld_page(request: HttpRequest, alabel: str) -> HttpResponse:
    """``/monitor/<alabel>/``: the ccTLD's servers as each probe sees them, its findings with
    their explanations, its incidents and latency charts (``?range=24h|7d|90d|1y``)."""
    tld = _find(alabel)
    range_name = request.GET.get("range", status.DEFAULT_RANGE)
    if range_name not in status.RANGES:
        range_name = status.DEFAULT_RANGE
    return cached_page(
        request,
        "web/monitor/tld.html",
        lambda: _tld_context(tld, range_name),
        name="monitor-tld",
        parts=(status.version(), tld.alabel, range_name),
    )
