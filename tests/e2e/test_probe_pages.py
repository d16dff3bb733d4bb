"""The probe page in Chromium: create a probe (token and command line shown once), revoke it;
no CSP violation (the ``page`` fixture fails on any)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tldops.monitor import probes
from tldops.monitor.models import Probe


def test_member_creates_and_revokes_a_probe(page, catalog, make_member, live_server, settings):
    settings.BASE_URL = live_server.url  # the hub the command line names
    member = make_member(catalog["fr"], name="Ana Lopez")
    page.goto("/login/")
    sign_in(page, member.email, PASSWORD)
    page.wait_for_url("**/home/")
    page.goto("/profile/tokens/")
    page.locator("#probes-link a").click()
    page.wait_for_url("**/monitor/probes/")
    expect(page.locator("#probes-table")).to_contain_text("No probe yet.")

    page.locator("#probe-name").fill("Paris office")
    page.locator("#probe-form button[type=submit]").click()
    expect(page.locator("#probe-created")).to_be_visible()
    token = page.locator("#probe-token").inner_text()
    expect(page.locator("#probe-command")).to_have_text(
        f"tldops probe --hub {live_server.url} --token {token}"
    )
    assert probes.authenticate(token).owner == member

    page.goto("/monitor/probes/")
    row = page.locator("#probes-table tbody tr")
    expect(row).to_contain_text("Paris office")
    expect(row).to_contain_text("not yet")
    row.get_by_role("button", name="Revoke Paris office").click()
    page.wait_for_url("**/monitor/probes/")
    expect(page.locator("#probes-table tbody tr")).to_contain_text("revoked")
    assert Probe.objects.get().revoked_at is not None
    assert probes.authenticate(token) is None
