"""Signing in in a real browser: email, password and a TOTP code; setting up an authenticator."""

from __future__ import annotations

import re
from base64 import b32decode

from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in, totp_code

WRONG_CREDENTIALS = "Wrong email address, password or authentication code"


def secretariat_with_device(staff):
    person = staff(email="sec@tldops.example")
    device = TOTPDevice.objects.create(user=person.user, name="phone", confirmed=True)
    return person, device


def test_secretariat_signs_in_with_a_totp_code_and_reaches_invitations(page, staff):
    person, device = secretariat_with_device(staff)

    # A staff page sends an anonymous visitor to the login form, and back after signing in.
    page.goto("/invitations/")
    page.wait_for_url("**/login/?next=%2Finvitations%2F")
    sign_in(page, person.email, PASSWORD, totp_code(device.bin_key))

    page.wait_for_url("**/invitations/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Invitations")
    expect(page.locator("#invitations-table")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_wrong_totp_code_is_refused_with_an_error(page, staff):
    person, device = secretariat_with_device(staff)
    good = totp_code(device.bin_key)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"

    page.goto("/login/")
    sign_in(page, person.email, PASSWORD, wrong)
    expect(page.get_by_role("alert")).to_contain_text(WRONG_CREDENTIALS)
    expect(page).to_have_url(re.compile(r"/login/$"))
    # Still anonymous: the staff page sends the visitor back to the login form.
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    page.goto("/invitations/")
    page.wait_for_url("**/login/?next=%2Finvitations%2F")

    # No code at all is refused the same way.
    sign_in(page, person.email, PASSWORD, "")
    expect(page.get_by_role("alert")).to_contain_text(WRONG_CREDENTIALS)

    # django-otp holds the device back for a moment after a wrong code; a person would wait.
    device.refresh_from_db()
    device.throttle_reset()
    sign_in(page, person.email, PASSWORD, totp_code(device.bin_key))
    page.wait_for_url("**/invitations/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Invitations")


def test_staff_without_a_device_sets_up_totp_from_the_secret_shown(page, staff):
    person = staff(email="newsec@tldops.example")
    assert not TOTPDevice.objects.filter(user=person.user).exists()

    page.goto("/login/")
    sign_in(page, person.email, PASSWORD)
    page.wait_for_url("**/account/2fa/?next=%2Fhome%2F")
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor authentication")
    expect(page.locator(".qr svg")).to_be_visible()

    # Staff pages refuse until a code has been proved.
    page.goto("/invitations/")
    page.wait_for_url("**/account/2fa/?next=%2Finvitations%2F")

    # What an authenticator app does with the secret typed by hand: base32 → key → code.
    secret = page.locator("#totp-secret").inner_text()
    key = b32decode(secret.replace(" ", ""))
    page.locator('[name="otp_token"]').fill(totp_code(key))
    page.get_by_role("button", name="Turn on two-factor authentication").click()

    page.wait_for_url("**/invitations/")
    expect(page.get_by_role("status")).to_contain_text("Two-factor authentication is on")
    expect(page.locator("#invitations-table")).to_be_visible()
    assert TOTPDevice.objects.get(user=person.user).confirmed

    # From now on the code is needed at every sign-in. The code just used cannot be used again,
    # so the test types the code of the step after it (the server accepts one step of clock
    # difference around the drift it learnt). Not "now + 1": when the setup's code was made at
    # the end of a 30-second step and checked in the next, the device learnt a drift of -1 and
    # now + 1 falls outside its window (a flaky failure, seen once in CI).
    device = TOTPDevice.objects.get(user=person.user)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You are signed out.")
    page.get_by_role("link", name="Sign in").click()
    sign_in(page, person.email, PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text(WRONG_CREDENTIALS)
    sign_in(page, person.email, PASSWORD, totp_code(key, step=device.last_t + 1))
    page.wait_for_url("**/home/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Invitations").click()
    page.wait_for_url("**/invitations/")
    expect(page.locator("#invitations-table")).to_be_visible()
