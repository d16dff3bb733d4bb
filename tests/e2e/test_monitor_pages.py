"""The monitor's pages in a real browser: a member opens the world overview from the menu, filters
it by status, orders it worst first, opens a ccTLD's page and switches the latency chart's range.
The page fixture fails the test on any Content-Security-Policy violation (SVG included)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.monitor.status_world import incident, probe, rollup, sweep


def test_member_reads_the_overview_filters_and_opens_a_cctld(page, catalog, make_member):
    member = make_member(catalog["fr"], name="Ana Lopez")
    hub, ams = probe("hub", builtin=True), probe("ams")
    fr, nl, br = catalog["fr"], catalog["nl"], catalog["br"]
    now = timezone.now()
    for p, udp in ((hub, 11.0), (ams, 24.0)):
        for minutes in (45, 30, 15, 1):
            sweep(
                p,
                at=now - timedelta(minutes=minutes),
                ok=[nl, br],
                samples=[(fr, "a.nic.fr", "192.0.2.1", "ok", udp + minutes / 5)],
                findings=[(fr, "LAME_REFUSED", "b.nic.fr", "192.0.2.2")],
            )
    rollup(hub, fr, "hour", now - timedelta(days=4), 60.0, server="a.nic")
    opened = incident(fr, "LAME_REFUSED", server="b.nic.fr")

    page.goto("/login/")
    sign_in(page, member.email, PASSWORD)
    page.wait_for_url("**/home/")
    page.locator("#nav-monitor").click()
    page.wait_for_url("**/monitor/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Monitor")
    expect(page.locator("#filter-error .count")).to_have_text("1")
    expect(page.locator("#filter-unknown .count")).to_have_text("3")
    fr_tile = page.locator('.tile[data-level="error"]')
    expect(fr_tile).to_have_count(1)
    expect(fr_tile).to_contain_text(".fr")
    expect(fr_tile).to_contain_text("Error")  # a word, not colour alone

    page.locator("#filter-ok").click()
    page.wait_for_url("**/monitor/?status=ok*")
    expect(page.locator(".tile")).to_have_count(2)
    expect(page.locator("#filter-ok")).to_have_attribute("aria-current", "true")
    page.locator("#filter-all").click()
    page.locator("#order-worst").click()
    page.wait_for_url("**order=worst")
    expect(page.locator(".tile").first).to_contain_text(".fr")

    page.locator(".tile a", has_text=".fr").click()
    page.wait_for_url("**/monitor/fr/")
    expect(page.locator("#tld-status")).to_contain_text("confirmed")
    expect(page.locator("#findings-list")).to_contain_text("LAME_REFUSED")
    expect(page.locator("#findings-list")).to_contain_text("RFC 1912 §2.8")
    expect(page.locator("#incidents-table")).to_contain_text(f"#{opened.pk}")
    expect(page.locator("#servers-table")).to_contain_text("192.0.2.1")
    chart = page.get_by_role("img", name="a.nic.fr 192.0.2.1: response time over 24 hours")
    expect(chart).to_be_visible()
    expect(chart.locator("polyline")).to_have_count(2)  # a line per vantage point
    assert chart.bounding_box()["height"] > 50  # sized by the stylesheet, not collapsed

    page.locator("#range-7d").click()
    page.wait_for_url("**/monitor/fr/?range=7d")
    expect(page.locator("#range-7d")).to_have_attribute("aria-current", "true")
    week = page.get_by_role("img", name="a.nic.fr 192.0.2.1: response time over 7 days")
    expect(week).to_be_visible()
    expect(page.locator("figure.latency figcaption").first).to_contain_text("max 60.0 ms")

    page.goto("/monitor/ua/")
    expect(page.locator("#no-latency")).to_contain_text("No data yet")
