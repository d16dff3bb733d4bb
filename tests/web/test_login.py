"""Signing in: password, TOTP second factor, setting up a device, rate limiting (django-axes)."""

import re
from base64 import b32decode

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import PASSWORD
from tests.web.conftest import code_for, confirmed_device, sign_in, wrong_code


def test_login_page_has_the_three_named_fields(client, db):
    html = client.get("/login/").content.decode()
    for name in ("username", "password", "otp_token"):
        assert f'name="{name}"' in html
    assert '<label for="id_otp_token">' in html


def test_member_logs_in_with_password_only(client, catalog, make_member):
    person = make_member(catalog["fr"])
    response = sign_in(client, person)
    assert response.status_code == 302 and response["Location"] == "/home/"
    assert client.get("/directory/").status_code == 200


def test_email_is_accepted_in_any_case(client, catalog, make_member):
    make_member(catalog["fr"], email="Ana@nic.fr")
    response = client.post("/login/", {"username": "ANA@NIC.FR", "password": PASSWORD})
    assert response.status_code == 302


def test_wrong_password_fails_with_a_message(client, catalog, make_member):
    person = make_member(catalog["fr"])
    response = sign_in(client, person, password="not the password")
    assert response.status_code == 400
    assert "Wrong email address, password or authentication code" in response.content.decode()
    assert client.get("/directory/").status_code == 302


def test_next_is_followed_but_only_on_this_site(client, catalog, make_member):
    person = make_member(catalog["fr"])
    response = client.post(
        "/login/?next=/catalog/", {"username": person.email, "password": PASSWORD}
    )
    assert response["Location"] == "/catalog/"
    client.post("/logout/")
    response = client.post(
        "/login/", {"username": person.email, "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/home/"


def test_staff_logs_in_with_a_totp_code(client, staff):
    person = staff()
    device = confirmed_device(person)
    response = sign_in(client, person, code=code_for(device))
    assert response.status_code == 302 and response["Location"] == "/home/"
    assert client.get("/invitations/").status_code == 200


def test_staff_login_with_wrong_or_missing_code_fails(client, staff):
    person = staff()
    device = confirmed_device(person)
    for code in (wrong_code(device), ""):
        response = sign_in(client, person, code=code)
        assert response.status_code == 400
        assert client.get("/invitations/").status_code == 302
    # The password alone did not open a session.
    assert "_auth_user_id" not in client.session


def test_member_with_totp_must_give_the_code(client, catalog, make_member):
    person = make_member(catalog["fr"])
    device = confirmed_device(person)
    assert sign_in(client, person).status_code == 400
    assert sign_in(client, person, code=code_for(device)).status_code == 302


def test_staff_sets_up_totp_from_the_qr_page(client, staff):
    person = staff()
    sign_in(client, person)
    page = client.get("/account/2fa/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html  # the QR code, inline
    secret = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', html).group(1)
    key = b32decode(secret.replace(" ", ""))
    device = TOTPDevice.objects.get(user=person.user)
    assert key == device.bin_key and not device.confirmed
    # A wrong code does not confirm the device, and staff pages still refuse.
    bad = client.post("/account/2fa/", {"otp_token": wrong_code(device)})
    assert bad.status_code == 400 and "not valid" in bad.content.decode()
    assert client.get("/invitations/").status_code == 302
    # django-otp throttles a device for a moment after a wrong code; a person would wait.
    device.refresh_from_db()
    device.throttle_reset()
    # The code an app computes from the shown secret confirms it and verifies the session.
    code = f"{totp(key, device.step, device.t0, device.digits, device.drift):06d}"
    response = client.post("/account/2fa/", {"otp_token": code})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/invitations/").status_code == 200
    assert "Two-factor authentication is on" in client.get("/account/2fa/").content.decode()


def test_a_throttled_device_says_to_wait(client, staff):
    person = staff()
    sign_in(client, person)
    client.get("/account/2fa/")
    device = TOTPDevice.objects.get(user=person.user)
    client.post("/account/2fa/", {"otp_token": wrong_code(device)})
    response = client.post("/account/2fa/", {"otp_token": code_for(device)})
    assert response.status_code == 400
    assert "wait" in response.content.decode()


def test_member_may_turn_totp_on_and_off(member_client):
    member_client.get("/account/2fa/")
    device = TOTPDevice.objects.get(user=member_client.person.user)
    member_client.post("/account/2fa/", {"otp_token": code_for(device)})
    assert TOTPDevice.objects.filter(user=member_client.person.user, confirmed=True).exists()
    member_client.post("/account/2fa/", {"action": "disable"})
    assert not TOTPDevice.objects.filter(user=member_client.person.user).exists()


def test_staff_cannot_turn_totp_off(staff_client):
    client = staff_client()
    client.post("/account/2fa/", {"action": "disable"})
    assert TOTPDevice.objects.filter(user=client.person.user, confirmed=True).exists()


def test_rate_limit_locks_after_the_failure_limit(client, settings, catalog, make_member):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    person = make_member(catalog["fr"])
    for _ in range(2):
        assert sign_in(client, person, password="wrong password!").status_code == 400
    locked = sign_in(client, person, password="wrong password!")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    # Even the right password is refused now.
    again = sign_in(client, person)
    assert again.status_code == 429
    assert client.get("/directory/").status_code == 302


def test_wrong_totp_codes_count_towards_the_rate_limit(client, settings, staff):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    person = staff()
    device = confirmed_device(person)
    for _ in range(2):
        assert sign_in(client, person, code=wrong_code(device)).status_code == 400
    assert sign_in(client, person, code=wrong_code(device)).status_code == 429
    assert sign_in(client, person, code=code_for(device)).status_code == 429
