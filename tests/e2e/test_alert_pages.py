"""The alert pages in a real browser (issue 10): a member raises an alert through the form, a
first time with a mistake, and sees it with its TLP banner and in the list with its badge."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.alerts.conftest import raise_as
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tldops.alerts.models import Alert, AlertFilter


def test_member_raises_an_amber_alert_and_sees_its_tlp_banner(page, catalog, make_member):
    member = make_member(catalog["fr"], name="Ana Lopez")
    page.goto("/login/")
    sign_in(page, member.email, PASSWORD)
    page.wait_for_url("**/home/")
    page.locator("#nav-alerts").click()
    page.wait_for_url("**/alerts/")
    page.locator("#raise-alert").click()
    page.wait_for_url("**/alerts/new/")

    page.locator("#alert-title").fill("Phishing kit on registrar look-alikes")
    page.locator("#alert-category").select_option("phishing")
    page.locator("#alert-affected").fill("fr, nowhere")
    page.locator("#alert-body").fill("Seen **since Monday**.")
    page.locator("#alert-indicators").fill("login-nic-fr.example\nnot an indicator")
    page.locator("#alert-submit").click()
    # No label, an unknown ccTLD: both said at once, what was typed kept, nothing stored.
    expect(page.locator("#form-errors")).to_be_visible()
    expect(page.locator("#tlp-field")).to_contain_text("A TLP label is required")
    expect(page.locator("#alert-title")).to_have_value("Phishing kit on registrar look-alikes")
    assert not Alert.objects.exists()

    page.locator("#alert-tlp").select_option("AMBER")
    page.locator("#alert-affected").fill("fr")
    page.locator("#alert-submit").click()
    page.wait_for_url("**/alerts/*/")
    banner = page.locator("#tlp-banner")
    expect(banner).to_contain_text("TLP:AMBER")
    expect(
        page.get_by_role("heading", name="Phishing kit on registrar look-alikes")
    ).to_be_visible()
    expect(page.locator("#alert-body strong")).to_have_text("since Monday")
    expect(page.get_by_role("status")).to_contain_text("Your alert is raised as TLP:AMBER.")
    expect(page.get_by_role("status")).to_contain_text("line 2:")
    expect(page.locator("#indicators")).to_contain_text("login-nic-fr.example")

    page.get_by_role("link", name="All alerts").click()
    page.wait_for_url("**/alerts/")
    row = page.locator("#alerts tr", has_text="Phishing kit on registrar look-alikes")
    expect(row.locator(".tlp-amber")).to_have_text("TLP:AMBER")


def test_public_alerts_render_for_a_stranger_without_csp_violation(page, catalog, make_member):
    """The public list and a public alert in a real browser, nobody signed in: the TLP:CLEAR
    badge, the title, the author's ccTLD and not their name; the page fixture fails on any
    Content-Security-Policy violation."""
    member = make_member(catalog["fr"], name="Ana Lopez")
    raise_as(
        member, "CLEAR", title="Open resolver flood", body="Seen **since Monday**.", public=True
    )
    raise_as(member, "GREEN", title="Members-only sinkhole")
    page.goto("/")
    page.locator("#nav-public-alerts").click()
    page.wait_for_url("**/public/alerts/")
    row = page.locator("#public-alerts tr", has_text="Open resolver flood")
    expect(row.locator(".tlp-clear")).to_have_text("TLP:CLEAR")
    expect(page.locator("#public-alerts")).not_to_contain_text("Members-only sinkhole")
    row.get_by_role("link", name="Open resolver flood").click()
    page.wait_for_url("**/public/alerts/*/")
    expect(page.locator("#tlp-banner")).to_contain_text("TLP:CLEAR")
    expect(page.locator("#alert-body strong")).to_have_text("since Monday")
    expect(page.locator("#alert-from")).to_contain_text(".fr")
    expect(page.locator("main")).not_to_contain_text("Ana Lopez")


def test_member_adds_and_deletes_an_alert_filter(page, catalog, make_member):
    member = make_member(catalog["fr"], name="Ana Lopez")
    page.goto("/login/")
    sign_in(page, member.email, PASSWORD)
    page.wait_for_url("**/home/")
    page.goto("/alerts/")
    page.locator("#alert-filters-link").click()
    page.wait_for_url("**/alerts/filters/")
    expect(page.locator("#no-filters")).to_be_visible()

    page.locator("#filter-tlds").fill("fr, nowhere")
    page.get_by_label("DDoS").check()
    page.locator("#filter-form button[type=submit]").click()
    # The unknown ccTLD is said beside its field, what was typed kept, nothing stored.
    expect(page.locator("#form-errors")).to_be_visible()
    expect(page.locator("#filter-tlds")).to_have_value("fr, nowhere")
    expect(page.get_by_label("DDoS")).to_be_checked()
    assert not AlertFilter.objects.exists()

    page.locator("#filter-tlds").fill("fr")
    page.locator("#filter-mode").select_option("digest")
    page.locator("#filter-form button[type=submit]").click()
    page.wait_for_url("**/alerts/filters/")
    expect(page.get_by_role("status")).to_contain_text("Your alert filter is saved.")
    row = page.locator("#alert-filters tbody tr")
    expect(row).to_contain_text(".fr")
    expect(row).to_contain_text("daily digest")
    row.get_by_role("button", name="Delete").click()
    page.wait_for_url("**/alerts/filters/")
    expect(page.locator("#no-filters")).to_be_visible()
    assert not AlertFilter.objects.exists()
