"""The secretariat's first day without the Internet, in a real browser: set a ccTLD's admin
contact on its catalog page, and import others from a CSV file (preview, then confirm)."""

from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in, totp_code
from tldops.catalog.models import Tld


def test_secretariat_sets_an_admin_contact_then_imports_a_csv(page, staff, catalog, tmp_path):
    Tld.objects.filter(alabel="fr").update(admin_email="")
    secretariat = staff(email="sec@tldops.example")
    device = TOTPDevice.objects.create(user=secretariat.user, name="phone", confirmed=True)
    page.goto("/login/?next=/catalog/fr/")
    sign_in(page, secretariat.email, PASSWORD, totp_code(device.bin_key))
    page.wait_for_url("**/catalog/fr/")

    page.locator("#tld-edit-link").click()
    page.wait_for_url("**/catalog/fr/edit/")
    page.get_by_label("Administrative contact: email").fill("admin@nic.fr.example")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/catalog/fr/")
    expect(page.locator("#tld-admin")).to_contain_text("admin@nic.fr.example")
    expect(page.locator("#tld-hand-set")).to_contain_text("admin_email")

    path = tmp_path / "admins.csv"
    path.write_text("tld,admin_email\nnl,new@sidn.nl.example\n", encoding="utf-8")
    page.goto("/catalog/import/")
    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#import-summary")).to_have_text(
        "Rows read: 1. ccTLDs to change: 1; unchanged: 0."
    )
    expect(page.locator("#import-diff")).to_contain_text("new@sidn.nl.example")
    assert Tld.objects.get(alabel="nl").admin_email == "admin@nic.nl"
    page.get_by_role("button", name="Apply these changes").click()
    expect(page.locator(".messages")).to_contain_text("Imported: 1 ccTLDs changed")
    assert Tld.objects.get(alabel="nl").admin_email == "new@sidn.nl.example"
