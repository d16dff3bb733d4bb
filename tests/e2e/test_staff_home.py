"""The staff home page in a real browser (issue 9): from the navigation to a number's page, and
a failed delivery sent again; a second factor reset from the directory."""

from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in, totp_code
from tests.web.test_staff_home import failed_delivery
from tldops.mail.models import Delivery


def _signed_in_secretariat(page, staff):
    person = staff(email="sec@tldops.example")
    device = TOTPDevice.objects.create(user=person.user, name="phone", confirmed=True)
    page.goto("/login/")
    sign_in(page, person.email, PASSWORD, totp_code(device.bin_key))
    page.wait_for_url("**/home/")
    return person


def test_staff_home_leads_to_the_outbox_and_sends_a_failed_delivery_again(page, staff):
    delivery = failed_delivery("gone@nic.example")
    _signed_in_secretariat(page, staff)
    page.locator("#nav-staff-home").click()
    page.wait_for_url("**/staff/")
    expect(page.get_by_role("heading", name="Staff home")).to_be_visible()
    outbox = page.locator("#count-outbox")
    expect(outbox).to_contain_text("1 failed")
    outbox.click()
    page.wait_for_url("**/staff/outbox/")
    row = page.locator("#failed-deliveries tr", has_text="gone@nic.example")
    row.get_by_role("button", name="Send again").click()
    expect(page.get_by_text("1 delivery queued again")).to_be_visible()
    expect(page.locator("#no-failed")).to_be_visible()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING


def test_second_factor_reset_from_the_directory(page, staff, catalog, make_member):
    member = make_member(catalog["fr"], name="Ana Lopez")
    TOTPDevice.objects.create(user=member.user, name="phone", confirmed=True)
    _signed_in_secretariat(page, staff)
    page.goto("/directory/")
    page.get_by_role("link", name="Reset second factor").click()
    page.wait_for_url(f"**/people/{member.pk}/second-factor/")
    page.locator('[name="reason"]').fill("lost phone, confirmed by a call")
    page.locator('[name="confirm"]').check()
    page.locator("#reset-second-factor").click()
    page.wait_for_url("**/directory/")
    expect(page.get_by_text("The second factor of Ana Lopez is reset")).to_be_visible()
    assert not TOTPDevice.objects.filter(user=member.user).exists()
