"""Signing in: password, TOTP second factor, setting up a device, rate limiting (django-axes)."""

import re
from base64 import b32decode
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import PASSWORD
from tests.web.conftest import code_for, confirmed_device, sign_in, wrong_code
from tldops.web import signin


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


# --- Behind the reverse proxy: the lock-out slows the attacker, not the owner -----------------------

PROXY = "127.0.0.1"


def _via_proxy(address: str) -> Client:
    """A browser at ``address`` behind the documented nginx (which appends $remote_addr)."""
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=address)


def _rate_limited(settings, limit: int = 3) -> None:
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = limit
    settings.TRUSTED_PROXIES = [PROXY, "::1"]


def _let_the_account_delay_pass() -> None:
    """As if the attacker's last failure were old enough for the per-account delay (but not for
    the per-address lock-out, 15 minutes)."""
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=2))


def test_behind_the_proxy_an_attacker_locks_only_their_own_address(client, settings, staff):
    """Everyone behind nginx had the proxy's address, so failures typed by anyone locked the
    account for everyone. Now only the attacker's address is locked, and the owner with the right
    password and TOTP code signs in from theirs at once."""
    _rate_limited(settings)
    person = staff()
    device = confirmed_device(person)
    attacker = _via_proxy("203.0.113.9")
    for _ in range(3):
        sign_in(attacker, person, password="guessing!guessing!")
    assert sign_in(attacker, person, code=code_for(device)).status_code == 429
    owner = _via_proxy("198.51.100.7")
    response = sign_in(owner, person, code=code_for(device))
    assert response.status_code == 302 and response["Location"] == "/home/"


def test_a_member_without_totp_waits_a_little_but_is_not_locked_out(settings, catalog, make_member):
    _rate_limited(settings)
    person = make_member(catalog["fr"])
    for i in range(6):  # from six addresses, under the per-address limit each
        sign_in(_via_proxy(f"203.0.113.{i + 1}"), person, password="guessing!guessing!")
    owner = _via_proxy("198.51.100.7")
    early = sign_in(owner, person)
    assert early.status_code == 429
    assert "wait" in early.content.decode() and "_auth_user_id" not in owner.session
    _let_the_account_delay_pass()
    response = sign_in(owner, person)
    assert response.status_code == 302 and response["Location"] == "/home/"


def test_the_account_delay_checks_no_password(settings, catalog, make_member):
    """Tries that come before the delay is over are not checked: the right password typed then
    does not get in (so guessing from many addresses is as slow as the delay), and is not
    counted either."""
    _rate_limited(settings)
    person = make_member(catalog["fr"])
    for i in range(6):
        sign_in(_via_proxy(f"203.0.113.{i + 1}"), person, password="guessing!guessing!")
    before = sum(a.failures_since_start for a in AccessAttempt.objects.all())
    assert sign_in(_via_proxy("203.0.113.200"), person).status_code == 429
    assert sum(a.failures_since_start for a in AccessAttempt.objects.all()) == before


def test_x_forwarded_for_from_anyone_but_the_proxy_is_ignored(settings, catalog, make_member):
    _rate_limited(settings)
    person = make_member(catalog["fr"])
    for i in range(3):
        # Straight to the web server, naming a new address each time.
        direct = Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
        sign_in(direct, person, password="guessing!guessing!")
    direct = Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert sign_in(direct, person).status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}


def test_signing_in_to_ones_own_account_does_not_reset_the_address(settings, catalog, make_member):
    _rate_limited(settings)
    victim = make_member(catalog["fr"])
    attacker_account = make_member(catalog["nl"], name="Mal Lory")
    attacker = _via_proxy("203.0.113.9")
    for _ in range(2):
        sign_in(attacker, victim, password="guessing!guessing!")
    assert sign_in(attacker, attacker_account).status_code == 302
    attacker.post("/logout/")
    assert sign_in(attacker, victim, password="guessing!guessing!").status_code == 429


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        # The rightmost address not a trusted proxy; what the client wrote to its left is ignored.
        ("127.0.0.1", "1.1.1.1, 203.0.113.9", "203.0.113.9"),
        ("127.0.0.1", "1.1.1.1, 203.0.113.9, 10.1.2.3", "203.0.113.9"),
        ("10.9.9.9", "203.0.113.9", "203.0.113.9"),
        ("::1", "2001:db8::5", "2001:db8::5"),
        ("127.0.0.1", "", "127.0.0.1"),
        ("127.0.0.1", "junk, 203.0.113.9", "203.0.113.9"),
        ("127.0.0.1", "10.1.2.3, junk", "127.0.0.1"),
        # Not from a trusted proxy: the header is the client's own words.
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),
    ],
)
def test_client_address(settings, peer, forwarded, expected):
    settings.TRUSTED_PROXIES = ["127.0.0.1", "::1", "10.0.0.0/8"]
    request = RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert signin.client_address(request) == expected


def test_ipv6_clients_are_locked_per_64(settings):
    settings.TRUSTED_PROXIES = []
    request = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2:aaaa::7")
    assert signin.lockout_address(request) == "2001:db8:1:2::"


def test_a_bad_trusted_proxy_setting_says_what_to_write(settings):
    settings.TRUSTED_PROXIES = ["nginx.local"]
    with pytest.raises(ImproperlyConfigured, match="TLDOPS_TRUSTED_PROXIES"):
        signin.client_address(RequestFactory().get("/", REMOTE_ADDR="127.0.0.1"))
