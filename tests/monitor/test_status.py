"""The monitor's read side (tldops.monitor.status): levels, confirmed or local, the window, revoked
probes, a ccTLD's page data, and latency series that switch from raw observations to rollups."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.monitor.status_world import incident, probe, rollup, sweep
from tldops.monitor import status
from tldops.monitor.models import Observation

pytestmark = pytest.mark.django_db


def by_alabel(now=None) -> dict[str, status.TldStatus]:
    return {s.alabel: s for s in status.overview(now)}


@pytest.fixture
def probes():
    return probe("hub", builtin=True), probe("ams"), probe("gru")


def test_every_delegated_cctld_is_unknown_before_any_sweep(catalog):
    tiles = by_alabel()
    assert set(tiles) == {"fr", "nl", "br", "ca", "xn--p1ai", "ua"}  # .an is retired
    assert {t.level for t in tiles.values()} == {"unknown"}
    assert tiles["fr"].signed is None and tiles["fr"].last_sweep is None
    assert tiles["fr"].regions == ["centr"] and tiles["xn--p1ai"].display == ".рф (xn--p1ai)"


def test_levels_codes_and_signed(catalog, probes):
    hub, ams, _gru = probes
    fr, nl, br, ca = (catalog[a] for a in ("fr", "nl", "br", "ca"))
    for p in (hub, ams):
        sweep(
            p,
            ok=[fr, nl, br],
            findings=[
                (nl, "UNSIGNED", "", ""),
                (br, "SERIAL_BEHIND", "b.nic.br", "192.0.2.2"),
                (ca, "ALL_SERVERS_DOWN", "", ""),
            ],
        )
    tiles = by_alabel()
    assert (tiles["fr"].level, tiles["fr"].signed, tiles["fr"].probes) == ("ok", True, 2)
    assert (tiles["nl"].level, tiles["nl"].signed, tiles["nl"].code) == ("ok", False, "")
    assert (tiles["br"].level, tiles["br"].code, tiles["br"].seen_by) == (
        "warning",
        "SERIAL_BEHIND",
        2,
    )
    assert tiles["br"].scope == "confirmed"
    # No address answered at all (only a finding): known, critical, with the sweep's time.
    assert (tiles["ca"].level, tiles["ca"].code) == ("critical", "ALL_SERVERS_DOWN")
    assert tiles["ca"].last_sweep is not None
    assert tiles["ua"].level == "unknown"
    assert status.counts(tiles.values()) == {
        "ok": 2, "notice": 0, "warning": 1, "error": 0, "critical": 1, "unknown": 2,
    }  # fmt: skip
    assert [t.alabel for t in status.worst_first(tiles.values())][:4] == [
        "ca",
        "br",
        "ua",
        "xn--p1ai",
    ]


def test_one_probe_alone_is_local_two_agree_and_an_incident_confirms(catalog, probes, settings):
    settings.MONITOR_AGREEMENT = 2
    hub, ams, gru = probes
    fr, nl = catalog["fr"], catalog["nl"]
    lame = (fr, "LAME_REFUSED", "a.nic.fr", "192.0.2.1")
    sweep(hub, ok=[fr, nl], findings=[lame, (nl, "LAME_REFUSED", "a.nic.nl", "192.0.2.1")])
    sweep(ams, ok=[fr, nl])
    tiles = by_alabel()
    assert (tiles["fr"].level, tiles["fr"].seen_by, tiles["fr"].probes) == ("error", 1, 2)
    assert tiles["fr"].local and not tiles["fr"].confirmed and tiles["fr"].scope == "local"
    # An incident the agreement opened earlier confirms what is seen now.
    opened = incident(nl, "LAME_REFUSED", server="a.nic.nl")
    assert by_alabel()["nl"].confirmed and by_alabel()["nl"].incident == opened.pk
    # A second probe sees the ccTLD's problem too: confirmed without an incident.
    sweep(gru, ok=[fr], findings=[lame])
    tiles = by_alabel()
    assert tiles["fr"].confirmed and tiles["fr"].seen_by == 2 and tiles["fr"].probes == 3
    assert tiles["fr"].incident is None


def test_a_closed_incident_is_not_shown_as_open(catalog, probes):
    incident(catalog["fr"], "ALL_SERVERS_DOWN", status="closed", closed_at=timezone.now())
    assert by_alabel()["fr"].incident is None


def test_only_the_latest_sweep_of_each_probe_within_the_window_counts(catalog, probes, settings):
    settings.MONITOR_WINDOW = 900
    hub, ams, _gru = probes
    fr = catalog["fr"]
    now = timezone.now()
    sweep(
        hub,
        at=now - timedelta(minutes=10),
        ok=[fr],
        findings=[(fr, "AXFR_OPEN", "a.nic.fr", "192.0.2.1")],
    )
    sweep(hub, at=now - timedelta(minutes=5), ok=[fr])  # the problem is gone in the latest
    assert by_alabel(now)["fr"].level == "ok"
    # Twenty minutes later no sweep is within the window: unknown again.
    assert by_alabel(now + timedelta(minutes=20))["fr"].level == "unknown"
    # A probe's old sweep outside the window does not count either.
    sweep(
        ams, at=now - timedelta(minutes=16), findings=[(fr, "AXFR_OPEN", "a.nic.fr", "192.0.2.1")]
    )
    assert by_alabel(now)["fr"].level == "ok" and by_alabel(now)["fr"].probes == 1


def test_revoked_probes_are_ignored(catalog, probes):
    hub, _ams, _gru = probes
    rogue = probe("rogue", revoked=True)
    fr = catalog["fr"]
    sweep(hub, ok=[fr])
    sweep(rogue, ok=[fr], findings=[(fr, "ALL_SERVERS_DOWN", "", "")])
    tile = by_alabel()["fr"]
    assert (tile.level, tile.probes) == ("ok", 1)
    assert [p.probe for p in status.tld_detail(fr).probes] == ["hub"]


def test_overview_queries_do_not_grow_with_the_catalog(
    make_tld, probes, django_assert_max_num_queries
):
    hub, ams, gru = probes
    tlds = [make_tld(f"t{i:03d}") for i in range(120)]
    for p in (hub, ams, gru):
        sweep(
            p,
            ok=tlds,
            findings=[(t, "SERIAL_BEHIND", f"b.nic.{t.alabel}", "192.0.2.2") for t in tlds[::3]],
        )
    incident(tlds[0], "ALL_SERVERS_DOWN")
    with django_assert_max_num_queries(6):
        tiles = status.overview()
    assert len(tiles) == 120 and sum(t.level == "warning" for t in tiles) == 40


def test_tld_detail_lists_addresses_findings_and_incidents(catalog, probes, settings):
    settings.MONITOR_AGREEMENT = 2
    hub, ams, _gru = probes
    fr = catalog["fr"]
    fr.nameservers.create(hostname="a.nic.fr", ipv4=["192.0.2.1"], ipv6=["2001:db8::1"])
    fr.nameservers.create(hostname="z.nic.fr", ipv4=["192.0.2.9"])
    sample = (fr, "a.nic.fr", "2001:db8::1", "timeout", None)
    slow = (fr, "SLOW_RESPONSE", "a.nic.fr", "192.0.2.1")
    sweep(
        hub,
        ok=[fr],
        samples=[sample],
        findings=[(fr, "SERVER_NO_RESPONSE_UDP", "a.nic.fr", "2001:db8::1"), slow],
    )
    sweep(ams, ok=[fr], samples=[sample], findings=[slow])
    old = incident(
        fr,
        "AXFR_OPEN",
        server="a.nic.fr",
        status="closed",
        closed_at=timezone.now() - timedelta(days=2),
    )
    live = incident(fr, "SERVER_NO_RESPONSE_UDP", server="a.nic.fr")
    detail = status.tld_detail(fr)
    rows = {(a.server, a.address): a for a in detail.addresses}
    assert set(rows) == {
        ("a.nic.fr", "192.0.2.1"),
        ("a.nic.fr", "2001:db8::1"),
        ("z.nic.fr", "192.0.2.9"),
    }
    v6 = rows[("a.nic.fr", "2001:db8::1")]
    assert v6.family == "IPv6" and [v.status for v in v6.views] == ["timeout", "timeout"]
    assert rows[("z.nic.fr", "192.0.2.9")].views == []  # in the catalog, not asked: no data
    assert rows[("a.nic.fr", "192.0.2.1")].views[0].serial == 2026120501
    first, second = detail.findings
    assert (first.code, first.severity, first.probes, first.confirmed) == (
        "SERVER_NO_RESPONSE_UDP", "ERROR", ["hub"], False,
    )  # fmt: skip
    assert first.rfc == "RFC 1035 §4.2.1" and "UDP" in first.text
    assert (second.code, second.probes, second.confirmed) == ("SLOW_RESPONSE", ["ams", "hub"], True)
    assert [i.id for i in detail.incidents] == [live.pk, old.pk]
    assert detail.status.level == "error" and detail.status.confirmed  # the open incident


def test_latency_series_switches_from_raw_observations_to_rollups(catalog, probes, settings):
    settings.MONITOR_RAW_DAYS = 2
    settings.MONITOR_HOURLY_DAYS = 90
    hub = probes[0]
    fr = catalog["fr"]
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    # Raw: two sweeps an hour ago; hourly rollups five days ago; a daily one 200 days ago.
    for minutes, udp in ((60, 10.0), (55, 20.0)):
        sweep(
            hub,
            at=now - timedelta(minutes=minutes),
            samples=[(fr, "a.nic.fr", "192.0.2.1", "ok", udp)],
        )
    sweep(
        hub,
        at=now - timedelta(minutes=50),
        samples=[(fr, "a.nic.fr", "192.0.2.1", "timeout", None)],
    )
    rollup(hub, fr, "hour", now - timedelta(days=5), 40.0)
    rollup(hub, fr, "hour", now - timedelta(days=5, hours=-1), 42.0)
    rollup(hub, fr, "day", now - timedelta(days=200), 80.0)
    # A rollup of the raw period (the downsampler's lag) is not counted twice.
    rollup(hub, fr, "hour", now - timedelta(hours=1), 999.0)

    (day,) = status.latency_series(fr, now - timedelta(hours=2), now, timedelta(hours=1), now=now)
    assert (day.server, day.address, day.probe) == ("a.nic.fr", "192.0.2.1", "hub")
    (point,) = day.points
    assert (point.udp_ms, point.samples, point.answered) == (15.0, 3, 2)
    assert point.at == now - timedelta(hours=1)

    (week,) = status.latency_series(fr, now - timedelta(days=7), now, timedelta(hours=1), now=now)
    assert [p.udp_ms for p in week.points] == [40.0, 42.0, 15.0]
    (year,) = status.latency_series(fr, now - timedelta(days=365), now, timedelta(days=1), now=now)
    assert [p.udp_ms for p in year.points] == [80.0, 41.0, 15.0]
    assert [p.samples for p in year.points] == [12, 24, 3]
    assert (
        status.latency_series(catalog["nl"], now - timedelta(days=7), now, timedelta(hours=1)) == []
    )


def test_latency_series_weighs_rollups_by_their_answers(catalog, probes):
    hub = probes[0]
    fr = catalog["fr"]
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    rollup(hub, fr, "hour", now - timedelta(days=10), 10.0, samples=1)
    rollup(hub, fr, "hour", now - timedelta(days=10, hours=-1), 40.0, samples=3)
    (s,) = status.latency_series(fr, now - timedelta(days=11), now, timedelta(days=1), now=now)
    assert [p.udp_ms for p in s.points] == [32.5]
    assert Observation.objects.count() == 0
