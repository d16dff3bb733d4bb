"""Behaviour that needs a real browser: the language buttons and the directory's live search."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in


def test_language_buttons_switch_the_portal_to_french_and_back(page, catalog):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Which ccTLDs are in TLD-OPS")

    page.get_by_role("button", name="Français").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Les ccTLD présents dans TLD-OPS")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page).to_have_url(re.compile(r"/$"))

    # The choice sticks from page to page.
    page.get_by_role("link", name="Se connecter").click()
    page.wait_for_url("**/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible()

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_browser_language_decides_without_a_choice(new_page, catalog):
    french = new_page(locale="fr-FR")
    french.goto("/")
    expect(french.get_by_role("heading", level=1)).to_have_text("Les ccTLD présents dans TLD-OPS")
    expect(french.get_by_role("button", name="Français")).to_have_attribute("aria-current", "true")


def test_directory_search_filters_live_without_reloading(page, catalog, make_member):
    ana = make_member(catalog["fr"], name="Ana Lopez")
    make_member(catalog["nl"], name="Jan Jansen", phones=[("+31 20 123 4567", "office")])

    page.goto("/login/?next=/directory/")
    sign_in(page, ana.email, PASSWORD)
    page.wait_for_url("**/directory/")
    results = page.locator("#directory-results")
    expect(page.locator("#directory-count")).to_have_text("2 contacts")
    expect(results).to_contain_text("Ana Lopez")

    # A marker on the window survives only if the page is not reloaded: htmx swaps the results.
    page.evaluate("window.notReloaded = true")
    page.locator("#directory-search").fill("jansen")
    expect(page.locator("#directory-count")).to_have_text("1 contact — matching “jansen”")
    expect(results).to_contain_text("Jan Jansen")
    expect(results).to_contain_text("+31 20 123 4567")
    expect(results).not_to_contain_text("Ana Lopez")
    expect(page).to_have_url(re.compile(r"/directory/\?q=jansen$"))
    assert page.evaluate("window.notReloaded") is True

    # A search by ccTLD, then nothing matching.
    page.locator("#directory-search").fill(".fr")
    expect(page.locator("#directory-count")).to_have_text("1 contact — matching “.fr”")
    expect(results).to_contain_text("Ana Lopez")
    page.locator("#directory-search").fill("nobody-like-this")
    expect(results).to_contain_text("No contact matches.")

    # Back in the browser history brings the earlier results back.
    page.go_back()
    expect(page.locator("#directory-count")).to_have_text("1 contact — matching “.fr”")


def test_own_settings_pages_choose_a_digest_and_ask_for_an_address_change(
    page, catalog, make_member
):
    ana = make_member(catalog["fr"], name="Ana Lopez")
    page.goto("/login/?next=/profile/")
    sign_in(page, ana.email, PASSWORD)
    page.wait_for_url("**/profile/")
    page.get_by_role("link", name="How I receive mail").click()
    page.wait_for_url("**/profile/delivery/")
    page.get_by_label("one digest a day").check()
    page.get_by_label("Digest format").select_option("plain")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your delivery choices are saved.")).to_be_visible()
    expect(page.get_by_text("Now you receive: a daily digest (plain).")).to_be_visible()

    page.goto("/profile/email/")
    page.get_by_label("New address").fill("ana@new.example")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_text("A link is on its way to ana@new.example")).to_be_visible()


def test_coverage_filter_hides_rows_as_one_types(page, catalog):
    page.goto("/")
    rows = page.locator("#open-tlds tbody tr")
    expect(rows).to_have_count(6)  # the delegated ccTLDs of the test catalog, none a member yet
    # A marker on the window survives only if the page is not reloaded: the script filters.
    page.evaluate("window.notReloaded = true")
    page.locator("#coverage-filter").fill("рф")
    expect(page.locator("#open-tlds tbody tr:visible")).to_have_count(1)
    expect(page.locator("#open-tlds tbody tr:visible")).to_contain_text("xn--p1ai")
    expect(page.locator("#coverage-filter-status")).to_have_text("1 of 6 ccTLDs shown.")
    page.locator("#coverage-filter").fill(".FRA")  # a country, case and a leading dot ignored
    expect(page.locator("#open-tlds tbody tr:visible")).to_have_count(1)
    expect(page.locator("#open-tlds tbody tr:visible")).to_contain_text("France")
    page.locator("#coverage-filter").fill("")
    expect(page.locator("#open-tlds tbody tr:visible")).to_have_count(6)
    assert page.evaluate("window.notReloaded") is True


def test_coverage_filter_without_script_uses_the_server(new_page, catalog):
    visitor = new_page(java_script_enabled=False)
    visitor.goto("/")
    visitor.locator("#coverage-filter").fill("xn--p1ai")
    visitor.get_by_role("button", name="Filter").click()
    visitor.wait_for_url("**/?q=xn--p1ai")
    expect(visitor.locator("#open-tlds tbody tr")).to_have_count(1)
    expect(visitor.locator("#coverage-filter-status")).to_contain_text("1 ccTLD matches")


def test_arabic_turns_the_portal_right_to_left_and_chinese_reads_chinese(page, catalog):
    page.goto("/")
    page.locator("button[name=language][value=ar]").click()
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    assert page.locator("main").evaluate("el => getComputedStyle(el).direction") == "rtl"
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile(r"[\u0600-\u06ff]"))
    page.screenshot(path="/tmp/tldops-ar.png", full_page=False)
    page.locator("button[name=language][value=zh-hans]").click()
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile(r"[\u4e00-\u9fff]"))
