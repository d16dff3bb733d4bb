"""Storing sweeps: idempotent per report, one transaction, unknown ccTLDs skipped and counted,
unknown codes and statuses refused."""

from __future__ import annotations

import pytest

from tests.monitor.incident_world import T0, result
from tldops.kernel.errors import InvalidInput
from tldops.monitor import ingest
from tldops.monitor.models import Finding, Observation, Probe, Sweep
from tldops.monitor.results import Finding as F
from tldops.monitor.results import Sample, Status


def test_builtin_probe_is_made_once(db):
    first = ingest.builtin_probe()
    assert ingest.builtin_probe() == first
    assert first.name == "hub" and first.builtin
    assert Probe.objects.filter(builtin=True).count() == 1


def test_store_writes_the_sweep_and_is_idempotent(world):
    data = result(T0, down={"nl"})
    sweep = ingest.store(world.p1, data, "report-1")
    assert not sweep.duplicate and sweep.ignored == 0
    assert Observation.objects.filter(sweep=sweep).count() == 3
    codes = sorted(Finding.objects.filter(sweep=sweep).values_list("code", flat=True))
    assert codes == ["ALL_SERVERS_DOWN", "SERVER_NO_RESPONSE_UDP"]
    world.p1.refresh_from_db()
    assert world.p1.last_report_at is not None

    again = ingest.store(world.p1, data, "report-1")
    assert again.pk == sweep.pk and again.duplicate
    assert Sweep.objects.count() == 1 and Observation.objects.count() == 3
    # The same report id from another probe is another sweep.
    assert ingest.store(world.p2, data, "report-1").pk != sweep.pk


def test_names_outside_the_catalog_are_skipped_and_counted(world):
    data = result(T0)
    data.samples.append(Sample("example", "ns.example", "192.0.2.99", Status.OK, 1.0))
    data.findings.append(F("example", "", "", "ALL_SERVERS_DOWN"))
    sweep = ingest.store(world.p1, data, "r")
    assert sweep.ignored == 2
    assert Observation.objects.filter(sweep=sweep).count() == 3
    assert not Finding.objects.filter(sweep=sweep).exists()


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.findings.append(F("fr", "", "", "NO_SUCH_CODE")),
        lambda d: d.samples.append(Sample("fr", "ns1.nic.fr", "192.0.2.1", "weird")),
    ],
    ids=["code", "status"],
)
def test_unknown_codes_and_statuses_are_refused_and_nothing_stored(world, change):
    data = result(T0)
    change(data)
    with pytest.raises(InvalidInput):
        ingest.store(world.p1, data, "r")
    assert not Sweep.objects.exists() and not Observation.objects.exists()
