"""The monitor's pages: the world overview (tiles by region, counts, filters, worst first) and a
ccTLD's page (servers, findings, incidents, SVG latency charts), for members and staff only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.monitor.status_world import incident, probe, rollup, sweep
from tests.web.test_headers import _assert_strict


@pytest.fixture
def world(catalog):
    """.fr is fine, .nl lame on one server for two probes (confirmed), .br slow for one (local),
    .ca has an open incident; the rest unknown."""
    hub, ams = probe("hub", builtin=True), probe("ams")
    fr, nl, br = catalog["fr"], catalog["nl"], catalog["br"]
    fr.nameservers.create(hostname="a.nic.fr", ipv4=["192.0.2.1"], ipv6=["2001:db8::1"])
    fr.nameservers.create(hostname="z.nic.fr", ipv4=["192.0.2.9"])
    lame = (nl, "LAME_REFUSED", "b.nic.nl", "192.0.2.7")
    now = timezone.now()
    for p, udp in ((hub, 12.0), (ams, 30.0)):
        for minutes in (90, 60, 30, 1):
            sweep(
                p,
                at=now - timedelta(minutes=minutes),
                ok=[fr, nl, br],
                samples=[(fr, "a.nic.fr", "2001:db8::1", "ok", udp + minutes / 10)],
                findings=[lame],
            )
    sweep(probe("gru"), ok=[br], findings=[(br, "SLOW_RESPONSE", "a.nic.br", "192.0.2.1")])
    rollup(hub, fr, "hour", now - timedelta(days=20), 50.0)
    incident(catalog["ca"], "ALL_SERVERS_DOWN")
    return catalog


def test_anonymous_people_are_sent_to_sign_in(client, world):
    for url in ("/monitor/", "/monitor/fr/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


def test_people_without_a_membership_are_refused(client, world, make_member):
    from tests.web.conftest import sign_in
    from tldops.directory.models import Membership

    person = make_member(world["ua"], name="Olena Ivanova")
    Membership.objects.filter(person=person).update(status="removed")
    sign_in(client, person)
    assert client.get("/monitor/").status_code == 403


def test_the_overview_shows_every_cctld_by_region_with_words_and_signs(member_client, world):
    response = member_client.get("/monitor/")
    assert response.status_code == 200
    _assert_strict(response)
    html = response.content.decode()
    assert 'id="nav-monitor"' in html and "monitor.css" in html
    tiles = re.findall(
        r'<li class="tile ([^"]+)" data-level="(\w+)"><a href="/monitor/([^/]+)/"', html
    )
    by = {alabel: (classes, level) for classes, level, alabel in tiles}
    assert set(by) == {"fr", "nl", "br", "ca", "xn--p1ai", "ua"}
    assert by["fr"][1] == "ok" and by["nl"] == ("lvl-error confirmed", "error")
    assert by["br"] == ("lvl-notice local", "notice") and by["ua"][1] == "unknown"
    # Not colour alone: each tile says its level in words and a sign.
    assert "✖</span> Error" in html and "· local" in html and "· incident" in html
    # Regions as groups; the ccTLDs of none together.
    assert (
        'id="region-centr"' in html and 'id="region-lactld"' in html and 'id="region-none"' in html
    )
    counts = dict(re.findall(r'id="filter-(\w+)"[^>]*>.*?<span class="count">(\d+)</span>', html))
    assert counts == {
        "all": "6",
        "critical": "0",
        "error": "1",
        "warning": "0",
        "notice": "1",
        "ok": "1",
        "unknown": "3",
    }


def test_filters_and_worst_first(member_client, world):
    html = member_client.get("/monitor/?status=error").content.decode()
    assert re.findall(r'href="/monitor/([^/]+)/"', html) == ["nl"]
    assert "1 ccTLD shown" in html
    html = member_client.get("/monitor/?status=critical").content.decode()
    assert 'id="no-tiles"' in html
    html = member_client.get("/monitor/?order=worst").content.decode()
    order = re.findall(r'class="tile [^"]*" data-level="\w+"><a href="/monitor/([^/]+)/"', html)
    assert order == ["nl", "ca", "ua", "xn--p1ai", "br", "fr"]  # one list, not by region
    assert 'id="region-all"' in html and 'id="region-centr"' not in html
    # A bad filter is the whole overview, not an error.
    assert member_client.get("/monitor/?status=<script>").status_code == 200


def test_a_new_sweep_shows_at_once_despite_the_page_cache(member_client, world):
    assert (
        'data-level="unknown"><a href="/monitor/ua/"'
        in member_client.get("/monitor/").content.decode()
    )
    sweep(probe("lis"), findings=[(world["ua"], "DELEGATION_MISSING", "", "")])
    html = member_client.get("/monitor/").content.decode()
    assert 'data-level="critical"><a href="/monitor/ua/"' in html


def test_a_cctld_page_has_servers_findings_incidents_and_charts(member_client, world):
    response = member_client.get("/monitor/fr/")
    assert response.status_code == 200
    _assert_strict(response)
    html = response.content.decode()
    assert "a.nic.fr" in html and "2001:db8::1" in html and "IPv6" in html
    assert "no data yet" in html  # z.nic.fr: in the catalog, asked by nobody
    assert "2026120501" in html and "ms" in html
    assert 'id="no-findings"' in html and 'id="no-incidents"' in html
    # One chart per server address that has measurements, a line per probe, with points.
    charts = re.findall(r"<svg id=\"(chart-\d+)\"", html)
    assert charts == ["chart-0", "chart-1"]
    lines = re.findall(r'<polyline points="([^"]+)"', html)
    assert lines and all(re.fullmatch(r"[\d.]+,[\d.]+( [\d.]+,[\d.]+)*", p) for p in lines)
    assert max(len(p.split()) for p in lines) >= 4  # four sweeps in the last 24 hours
    assert 'aria-current="true">24 hours' in html


def test_findings_show_severity_explanation_rfc_and_who_sees_them(member_client, world):
    html = member_client.get("/monitor/nl/").content.decode()
    assert 'class="badge lvl-error"' in html and "LAME_REFUSED" in html
    assert "Lame delegation: the server refuses to answer for the ccTLD (REFUSED)." in html
    assert "RFC 1912 §2.8" in html and "Confirmed" in html and "seen by ams, hub" in html
    html = member_client.get("/monitor/br/").content.decode()
    assert "Local" in html and "seen by gru" in html
    html = member_client.get("/monitor/ca/").content.decode()
    assert re.search(r'href="/monitor/incidents/\d+/">#\d+ ALL_SERVERS_DOWN', html)


def test_ranges_switch_between_raw_and_rollups(member_client, world, settings):
    settings.MONITOR_HOURLY_DAYS = 90  # hourly rollups twenty days back are read as such
    html = member_client.get("/monitor/fr/?range=90d").content.decode()
    assert 'aria-current="true">90 days' in html
    assert "50.0 ms" in html  # the hourly rollup of twenty days ago is in the summary
    html = member_client.get("/monitor/fr/?range=24h").content.decode()
    assert "50.0 ms" not in html
    assert member_client.get("/monitor/fr/?range=forever").status_code == 200


def test_no_data_yet_is_said_clearly(member_client, world):
    html = member_client.get("/monitor/ua/").content.decode()
    assert 'id="no-servers"' in html and 'id="no-latency"' in html and "No data yet" in html
    assert "No recent sweep has covered this ccTLD yet." in html


def test_unknown_cctld_is_404_and_ulabels_are_found(member_client, world):
    assert member_client.get("/monitor/zz/").status_code == 404
    assert member_client.get("/monitor/рф/").status_code == 200


def test_staff_see_the_monitor(staff_client, world):
    client = staff_client()
    html = client.get("/home/").content.decode()
    assert 'id="nav-monitor"' in html
    assert client.get("/monitor/").status_code == 200
    assert client.get("/monitor/nl/").status_code == 200


def test_the_overview_reads_a_bounded_number_of_queries(
    member_client, make_tld, django_assert_max_num_queries
):
    hub = probe("hub", builtin=True)
    tlds = [make_tld(f"t{i:03d}") for i in range(150)]
    sweep(
        hub,
        ok=tlds,
        findings=[(t, "AXFR_OPEN", f"a.nic.{t.alabel}", "192.0.2.1") for t in tlds[::2]],
    )
    member_client.get("/monitor/")  # the session, the person, the menu's flags: warmed
    with django_assert_max_num_queries(12) as queries:
        response = member_client.get("/monitor/?order=worst")
    assert response.content.decode().count('class="tile ') == 150 + 6  # and the catalog's
    assert len(queries.captured_queries) <= 12
    with django_assert_max_num_queries(6):  # once rendered: the key's and the session's only
        again = member_client.get("/monitor/?order=worst")
    assert again.content.decode().count('class="tile ') == 156
