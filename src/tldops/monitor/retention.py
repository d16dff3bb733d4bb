"""Retention: the raw time series downsampled to hourly, then daily, rollups; old rows deleted.

- Observations of sweeps older than ``MONITOR_RAW_DAYS`` (whole hours only) become one hourly
  :class:`~tldops.monitor.models.Rollup` per (probe, ccTLD, server, address): samples, answered
  (status ok), mean and maximum UDP round trip, mean TCP round trip (means over the samples that
  have one). The observations are then deleted and their sweeps marked ``rolled_up``; of the
  hour's findings, the first of each (probe, ccTLD, server, address, code) is kept, the repeats
  deleted.
- Hourly rollups older than ``MONITOR_HOURLY_DAYS`` (whole days) become daily ones (sums; means
  weighted by the hour's samples; the maximum of the maxima), and are deleted.
- Sweeps older than ``MONITOR_FINDINGS_DAYS`` are deleted with their findings (the findings'
  history is kept that long; incidents and their timelines are kept for ever).

Each hour (or day) is one transaction: its rollups are written (merged into rollups already there,
e.g. from a report a probe sent late) and its rows deleted together, so a crash leaves either
all of it done or none, and running again carries on. Running twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Avg, Count, F, Max, Min, Q, Subquery, Sum
from django.utils import timezone

from tldops.monitor.models import Finding, Observation, Rollup, Sweep
from tldops.monitor.results import Status

BATCH_SIZE = 500
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
#: At most this many sweeps deleted per transaction.
DELETE_BATCH = 200


@dataclass
class Counts:
    hours: int = 0  # hours of observations rolled up
    observations: int = 0  # observations deleted
    days: int = 0  # days of hourly rollups rolled up
    hourly: int = 0  # hourly rollups deleted
    sweeps: int = 0  # sweeps deleted (with their findings)
    findings: int = 0  # findings thinned out of rolled-up hours (repeats within the hour)


def _floor_hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _floor_day(at: datetime) -> datetime:
    return _floor_hour(at).replace(hour=0)


def run(now: datetime | None = None) -> Counts:
    """Roll up and delete what is past its period; see the module's text."""
    now = now or timezone.now()
    counts = Counts()
    _raw_to_hourly(_floor_hour(now - timedelta(days=settings.MONITOR_RAW_DAYS)), counts)
    _hourly_to_daily(_floor_day(now - timedelta(days=settings.MONITOR_HOURLY_DAYS)), counts)
    _old_sweeps(now - timedelta(days=settings.MONITOR_FINDINGS_DAYS), counts)
    return counts


def _raw_to_hourly(cut: datetime, counts: Counts) -> None:
    pending = Sweep.objects.filter(rolled_up=False, started_at__lt=cut)
    while True:
        first = pending.order_by("started_at").values_list("started_at", flat=True).first()
        if first is None:
            return
        hour = _floor_hour(first)
        with transaction.atomic():
            ids = list(
                pending.filter(started_at__gte=hour, started_at__lt=hour + HOUR).values_list(
                    "id", flat=True
                )
            )
            rows = Observation.objects.filter(sweep_id__in=ids)
            groups = rows.values("sweep__probe_id", "tld_id", "server", "address").annotate(
                n=Count("id"),
                ok=Count("id", filter=Q(status=Status.OK)),
                udp_avg=Avg("udp_ms"),
                udp_max=Max("udp_ms"),
                tcp_avg=Avg("tcp_ms"),
            )
            _upsert(
                Rollup.Span.HOUR,
                hour,
                [
                    {
                        "key": (g["sweep__probe_id"], g["tld_id"], g["server"], g["address"]),
                        "samples": g["n"],
                        "answered": g["ok"],
                        "udp_ms_avg": g["udp_avg"],
                        "udp_ms_max": g["udp_max"],
                        "tcp_ms_avg": g["tcp_avg"],
                    }
                    for g in groups
                ],
            )
            deleted, _by_model = rows.delete()
            counts.findings += _thin_findings(ids)
            Sweep.objects.filter(pk__in=ids).update(rolled_up=True)
        counts.hours += 1
        counts.observations += deleted


def _thin_findings(sweep_ids: list[int]) -> int:
    """Of an hour's findings, keep the first of each (probe, ccTLD, server, address, code): the
    hour still says what each vantage point saw, at a twelfth of the rows (docs/monitor.md)."""
    hour = Finding.objects.filter(sweep_id__in=sweep_ids)
    first = (
        hour.values("sweep__probe_id", "tld_id", "server", "address", "code")
        .annotate(first=Min("id"))
        .values("first")
    )
    deleted, _by_model = hour.exclude(pk__in=Subquery(first)).delete()
    return deleted


def _hourly_to_daily(cut: datetime, counts: Counts) -> None:
    hourly = Rollup.objects.filter(span=Rollup.Span.HOUR, start__lt=cut)
    while True:
        first = hourly.order_by("start").values_list("start", flat=True).first()
        if first is None:
            return
        day = _floor_day(first)
        with transaction.atomic():
            rows = hourly.filter(start__gte=day, start__lt=day + DAY)
            groups = rows.values("probe_id", "tld_id", "server", "address").annotate(
                n=Sum("samples"),
                ok=Sum("answered"),
                udp_w=Sum(F("udp_ms_avg") * F("samples")),
                udp_n=Sum("samples", filter=Q(udp_ms_avg__isnull=False)),
                udp_max=Max("udp_ms_max"),
                tcp_w=Sum(F("tcp_ms_avg") * F("samples")),
                tcp_n=Sum("samples", filter=Q(tcp_ms_avg__isnull=False)),
            )
            _upsert(
                Rollup.Span.DAY,
                day,
                [
                    {
                        "key": (g["probe_id"], g["tld_id"], g["server"], g["address"]),
                        "samples": g["n"],
                        "answered": g["ok"],
                        "udp_ms_avg": g["udp_w"] / g["udp_n"] if g["udp_n"] else None,
                        "udp_ms_max": g["udp_max"],
                        "tcp_ms_avg": g["tcp_w"] / g["tcp_n"] if g["tcp_n"] else None,
                    }
                    for g in groups
                ],
            )
            deleted, _by_model = rows.delete()
        counts.days += 1
        counts.hourly += deleted


def _mean(a: float | None, na: int, b: float | None, nb: int) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return (a * na + b * nb) / (na + nb)


def _upsert(span: str, start: datetime, groups: list[dict[str, Any]]) -> None:
    """Write the rollups of one period, merged into those already there (a late report)."""
    existing = {
        (r.probe_id, r.tld_id, r.server, r.address): r
        for r in Rollup.objects.filter(span=span, start=start)
    }
    new, changed = [], []
    for g in groups:
        key = g["key"]
        old = existing.get(key)
        if old is None:
            probe, tld, server, address = key
            new.append(
                Rollup(
                    probe_id=probe,
                    tld_id=tld,
                    server=server,
                    address=address,
                    span=span,
                    start=start,
                    samples=g["samples"],
                    answered=g["answered"],
                    udp_ms_avg=g["udp_ms_avg"],
                    udp_ms_max=g["udp_ms_max"],
                    tcp_ms_avg=g["tcp_ms_avg"],
                )
            )
            continue
        n_old, n_new = old.samples, g["samples"]
        old.udp_ms_avg = _mean(old.udp_ms_avg, n_old, g["udp_ms_avg"], n_new)
        old.tcp_ms_avg = _mean(old.tcp_ms_avg, n_old, g["tcp_ms_avg"], n_new)
        maxima = [m for m in (old.udp_ms_max, g["udp_ms_max"]) if m is not None]
        old.udp_ms_max = max(maxima) if maxima else None
        old.samples = n_old + n_new
        old.answered += g["answered"]
        changed.append(old)
    Rollup.objects.bulk_create(new, batch_size=BATCH_SIZE)
    Rollup.objects.bulk_update(
        changed,
        ["samples", "answered", "udp_ms_avg", "udp_ms_max", "tcp_ms_avg"],
        batch_size=BATCH_SIZE,
    )


def _old_sweeps(cut: datetime, counts: Counts) -> None:
    while True:
        ids = list(
            Sweep.objects.filter(started_at__lt=cut, rolled_up=True).values_list("id", flat=True)[
                :DELETE_BATCH
            ]
        )
        if not ids:
            return
        with transaction.atomic():
            Sweep.objects.filter(pk__in=ids).delete()
        counts.sweeps += len(ids)
