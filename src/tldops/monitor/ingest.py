"""Storing a sweep: the hub's own probe's and every member probe's reports land here alike.

:func:`store` is the one way a :class:`~tldops.monitor.results.SweepResult` enters the database.
It is idempotent on the probe's report id (a probe that could not reach the hub sends its report
again later; the hub stores it once) and writes a whole sweep in one transaction, so a sweep is
either entirely there or not at all. A sweep of every ccTLD is about 2,600 samples: they are
written with ``bulk_create`` in batches, the ccTLDs mapped to their ids in one query.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops.catalog.models import Tld
from tldops.kernel.errors import InvalidInput, shown
from tldops.monitor.codes import CODES
from tldops.monitor.models import DETAIL_MAX_LENGTH, Finding, Observation, Probe, Sweep
from tldops.monitor.results import Status, SweepResult

#: Rows per INSERT: large enough to be few statements, small enough for SQLite's variable limit.
BATCH_SIZE = 500
BUILTIN_NAME = "hub"


def builtin_probe() -> Probe:
    """The hub's own vantage point (created the first time it is asked for; exactly one)."""
    probe = Probe.objects.filter(builtin=True).first()
    if probe is not None:
        return probe
    try:
        with transaction.atomic():
            return Probe.objects.create(name=BUILTIN_NAME, builtin=True)
    except IntegrityError:  # another process created it first (one_builtin_probe)
        return Probe.objects.get(builtin=True)


def _check(result: SweepResult) -> None:
    """Refuse codes and statuses this hub does not know: a probe of a newer version reporting a
    check the hub cannot rank would otherwise be stored with a made-up severity."""
    for f in result.findings:
        if f.code not in CODES:
            raise InvalidInput(
                _("Unknown finding code %(c)s.") % {"c": shown(f.code)}, field="findings"
            )
    for s in result.samples:
        if s.status not in Status.ALL:
            raise InvalidInput(
                _("Unknown sample status %(s)s.") % {"s": shown(s.status)}, field="samples"
            )


def store(probe: Probe, result: SweepResult, report_id: str) -> Sweep:
    """Store ``result`` as ``probe``'s sweep ``report_id`` and return it; the sweep already stored
    when the same report comes again (nothing written twice). Findings and samples of names that
    are not ccTLDs of the catalog are skipped and counted in ``sweep.ignored`` (not stored)."""
    _check(result)
    existing = Sweep.objects.filter(probe=probe, report_id=report_id).first()
    if existing is not None:
        existing.ignored = 0
        existing.duplicate = True
        return existing
    names = {f.tld for f in result.findings} | {s.tld for s in result.samples}
    ids = dict(Tld.objects.filter(alabel__in=names).values_list("alabel", "id"))
    at = result.started_at
    stats = result.stats
    observations = [
        Observation(
            tld_id=ids[s.tld],
            at=at,
            server=s.server,
            address=s.address,
            status=s.status,
            udp_ms=s.udp_ms,
            tcp_ms=s.tcp_ms,
            serial=s.serial,
        )
        for s in result.samples
        if s.tld in ids
    ]
    findings = [
        Finding(
            tld_id=ids[f.tld],
            at=at,
            server=f.server,
            address=f.address,
            code=f.code,
            severity=int(CODES[f.code].severity),
            detail=f.detail[:DETAIL_MAX_LENGTH],
        )
        for f in result.findings
        if f.tld in ids
    ]
    ignored = len(result.samples) + len(result.findings) - len(observations) - len(findings)
    try:
        with transaction.atomic():
            sweep = Sweep.objects.create(
                probe=probe,
                report_id=report_id,
                started_at=at,
                zones=stats.zones,
                servers=stats.servers,
                queries=stats.queries,
                wall_s=stats.wall_s,
                cpu_s=stats.cpu_s,
            )
            for row in observations:
                row.sweep = sweep
            for row in findings:
                row.sweep = sweep
            Observation.objects.bulk_create(observations, batch_size=BATCH_SIZE)
            Finding.objects.bulk_create(findings, batch_size=BATCH_SIZE)
            now = timezone.now()
            Probe.objects.filter(pk=probe.pk).update(last_report_at=now)
            probe.last_report_at = now
    except IntegrityError:
        # The same report stored meanwhile by another request (uniq_sweep_report): that one wins.
        sweep = Sweep.objects.get(probe=probe, report_id=report_id)
        sweep.ignored = 0
        sweep.duplicate = True
        return sweep
    sweep.ignored = ignored
    sweep.duplicate = False
    return sweep
