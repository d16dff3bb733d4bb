"""Retention: raw observations become hourly rollups, hourly ones daily; old rows go; idempotent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.monitor.incident_world import T0, minutes, report, result
from tldops.monitor import ingest, retention
from tldops.monitor.models import Finding, Observation, Rollup, Sweep
from tldops.monitor.results import Sample, Status


@pytest.fixture
def short(settings):
    settings.MONITOR_RAW_DAYS = 2
    settings.MONITOR_HOURLY_DAYS = 10
    settings.MONITOR_FINDINGS_DAYS = 30


def test_raw_observations_become_hourly_rollups(world, short):
    # Two sweeps in the 12:00 hour: ns1.nic.fr answers at 10 ms and 30 ms; one at 13:00.
    report(world.hub, T0, udp_ms=10.0)
    report(world.hub, T0 + minutes(30), udp_ms=30.0)
    report(world.p1, T0 + minutes(5), down={"fr"})
    report(world.hub, T0 + minutes(60), udp_ms=50.0)
    now = T0 + timedelta(days=2, hours=1, minutes=30)  # raw cut: 13:00 two days later
    counts = retention.run(now)
    assert counts.hours == 1 and counts.observations == 2 * 3 + 3
    hub = Rollup.objects.get(probe=world.hub, server="ns1.nic.fr", span="hour")
    assert hub.start == T0
    assert (hub.samples, hub.answered) == (2, 2)
    assert (hub.udp_ms_avg, hub.udp_ms_max, hub.tcp_ms_avg) == (20.0, 30.0, 40.0)
    down = Rollup.objects.get(probe=world.p1, server="ns1.nic.fr", span="hour")
    assert (down.samples, down.answered, down.udp_ms_avg) == (1, 0, None)
    # The 13:00 sweep is not past the period yet: still raw.
    assert Observation.objects.count() == 3
    assert Sweep.objects.filter(rolled_up=False).count() == 1
    # Findings stay (their history is kept longer than the raw series).
    assert Finding.objects.filter(sweep__probe=world.p1).exists()
    # Again: nothing changes.
    before = list(Rollup.objects.order_by("pk").values())
    assert retention.run(now) == retention.Counts()
    assert list(Rollup.objects.order_by("pk").values()) == before


def test_a_late_report_is_merged_into_its_hour(world, short):
    report(world.hub, T0, udp_ms=10.0)
    now = T0 + timedelta(days=3)
    retention.run(now)
    ingest.store(world.hub, result(T0 + minutes(10), udp_ms=40.0), "late")
    retention.run(now)
    hub = Rollup.objects.get(probe=world.hub, server="ns1.nic.fr", span="hour")
    assert (hub.samples, hub.udp_ms_avg, hub.udp_ms_max) == (2, 25.0, 40.0)
    assert not Observation.objects.exists()


def test_hourly_rollups_become_daily_and_old_sweeps_go(world, short):
    for hour in range(3):
        report(world.hub, T0 + timedelta(hours=hour), udp_ms=10.0 * (hour + 1))
    retention.run(T0 + timedelta(days=3))
    assert Rollup.objects.filter(span="hour", server="ns1.nic.fr").count() == 3
    counts = retention.run(T0 + timedelta(days=12))
    assert counts.days == 1 and counts.hourly == 9
    day = Rollup.objects.get(span="day", server="ns1.nic.fr")
    assert day.start == T0.replace(hour=0)
    assert (day.samples, day.answered, day.udp_ms_avg, day.udp_ms_max) == (3, 3, 20.0, 30.0)
    assert not Rollup.objects.filter(span="hour").exists()
    assert Sweep.objects.count() == 3
    counts = retention.run(T0 + timedelta(days=31))
    assert counts.sweeps == 3 and not Sweep.objects.exists() and not Finding.objects.exists()
    assert Rollup.objects.filter(span="day").count() == 3  # daily rollups are kept
    assert retention.run(T0 + timedelta(days=31)) == retention.Counts()


def test_a_sample_without_times_is_counted_but_not_averaged(world, short):
    data = result(T0, tlds=("nl",))
    data.samples[:] = [Sample("nl", "ns1.dns.nl", "192.0.2.11", Status.REFUSED)]
    ingest.store(world.hub, data, "refused")
    report(world.hub, T0 + minutes(5), tlds=("nl",), udp_ms=8.0)
    retention.run(T0 + timedelta(days=3))
    r = Rollup.objects.get(server="ns1.dns.nl")
    assert (r.samples, r.answered, r.udp_ms_avg, r.udp_ms_max) == (2, 1, 8.0, 8.0)


def test_findings_are_thinned_to_one_per_hour_and_problem(world, short):
    for n in range(3):  # the same problem three times in the 12:00 hour, and once at 13:00
        report(world.hub, T0 + minutes(5 * n), down={"nl"})
    report(world.hub, T0 + minutes(60), down={"nl"})
    report(world.p1, T0, down={"nl"})
    counts = retention.run(T0 + timedelta(days=3))
    assert counts.findings == 2 * 2  # the hub's 2nd and 3rd ALL_SERVERS_DOWN + NO_RESPONSE
    kept = Finding.objects.filter(sweep__probe=world.hub).order_by("at", "code")
    assert [(f.at, f.code) for f in kept] == [
        (T0, "ALL_SERVERS_DOWN"),
        (T0, "SERVER_NO_RESPONSE_UDP"),
        (T0 + minutes(60), "ALL_SERVERS_DOWN"),
        (T0 + minutes(60), "SERVER_NO_RESPONSE_UDP"),
    ]
    assert Finding.objects.filter(sweep__probe=world.p1).count() == 2
    assert retention.run(T0 + timedelta(days=3)) == retention.Counts()
