"""A ccTLD's own plan in Chromium: a contact opens the editor from the navigation (prefilled
values shown), fills it in, saves, records top management's sign-off, sees the version history and
downloads the PDF; no CSP violation (the ``page`` fixture fails on any)."""

from __future__ import annotations

import subprocess

from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tldops.catalog.models import NameServer
from tldops.playbooks.models import Plan, SignOff


def test_contact_fills_saves_signs_off_and_downloads(page, catalog, make_member, tmp_path):
    NameServer.objects.create(tld=catalog["fr"], hostname="d.nic.fr")
    member = make_member(catalog["fr"], name="Ana Lopez", phones=[("+33 6 12 34 56 78", "24/7")])
    page.goto("/login/")
    sign_in(page, member.email, PASSWORD)
    page.wait_for_url("**/home/")

    page.locator("#nav-plan").click()
    page.wait_for_url("**/plans/fr/")
    expect(page.locator("#plan-unsaved")).to_be_visible()
    page.locator("#edit-plan").click()
    page.wait_for_url("**/plans/fr/edit/")

    # Prefilled from the catalog and the directory.
    expect(page.locator("#prefilled-note")).to_be_visible()
    expect(page.locator("#plan-registry")).to_have_value("Registry of .fr")
    expect(page.locator("#plan-incident_lead")).to_have_value("Ana Lopez")
    expect(page.locator("#plan-phone_24x7")).to_have_value("+33 6 12 34 56 78")
    expect(page.locator('[name="dns_providers-0-name"]')).to_have_value("nic.fr")
    expect(page.locator("#plan-suggestions")).to_contain_text("Ana Lopez")

    page.locator("#plan-top_manager").fill("Pierre Bonnet")
    page.locator("#plan-status_page").fill("https://status.nic.example")
    page.locator("#plan-website").fill("https://www.nic.example")
    page.locator("#plan-escrow_agent").fill("Example Escrow Services")
    page.locator("#plan-registrars_channel").fill("registrars@nic.example")
    page.locator('[name="sites-0-name"]').fill("Paris office")
    page.locator('[name="sites-0-role"]').select_option("primary")
    # More rows, without losing what is typed.
    page.locator("#more-sites").click()
    expect(page.locator('[name="sites-0-name"]')).to_have_value("Paris office")
    page.locator('[name="sites-1-name"]').fill("Lyon backup")
    page.locator('[name="sites-1-role"]').select_option("backup")
    page.locator('[name="services-0-service"]').fill("DNS resolution")
    page.locator('[name="services-0-rto"]').fill("0")
    page.locator('[name="suppliers-0-name"]').fill("Example Hosting Co")
    page.locator('[name="suppliers-0-email"]').fill("noc@hosting.example")
    page.locator("#save-plan").click()
    page.wait_for_url("**/plans/fr/")

    document = page.locator("#plan-document")
    expect(document).to_contain_text("Pierre Bonnet")
    expect(document).to_contain_text("Lyon backup")
    expect(document).to_contain_text("Not signed off")
    expect(page.locator("#version-1")).to_contain_text("not signed off")

    page.locator("#signoff-name").fill("Pierre Bonnet")
    page.locator("#signoff-role").fill("Managing director")
    page.locator("#signoff-date").fill(timezone.localdate().isoformat())
    page.locator("#signoff-form button[type=submit]").click()
    page.wait_for_url("**/plans/fr/#versions")
    expect(page.locator("#version-1")).to_contain_text("Pierre Bonnet (Managing director)")
    assert SignOff.objects.get().version.number == 1
    assert Plan.objects.get().values["sites"][1]["role"] == "backup"

    with page.expect_download() as download:
        page.locator("#version-1 a").click()
    path = tmp_path / "plan.pdf"
    download.value.save_as(path)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True).stdout
    assert b"Signed off by Pierre Bonnet" in text and b"{{" not in text
    with page.expect_download() as current:
        page.locator("#plan-pdf").click()
    assert current.value.suggested_filename == "drbcp-plan-fr-v1.pdf"
