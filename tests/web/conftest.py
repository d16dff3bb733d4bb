"""Fixtures for the portal: signed-in clients for each role, TOTP codes computed from a device."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import PASSWORD
from tldops.directory.models import Person


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Hashing with PBKDF2 is slow by design; these tests are not about the hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def code_for(device: TOTPDevice) -> str:
    """The code an authenticator app shows for ``device`` now."""
    device.refresh_from_db()
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{code:0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    return f"{(int(code_for(device)) + 1) % 10**device.digits:06d}"


def confirmed_device(person: Person) -> TOTPDevice:
    return TOTPDevice.objects.create(user=person.user, name="phone", confirmed=True)


def sign_in(client: Client, person: Person, *, code: str = "", password: str = PASSWORD):
    return client.post(
        "/login/", {"username": person.email, "password": password, "otp_token": code}
    )


@pytest.fixture
def member_client(client, catalog, make_member) -> Client:
    person = make_member(catalog["fr"], name="Ana Lopez")
    response = sign_in(client, person)
    assert response.status_code == 302 and response["Location"] == "/home/"
    client.person = person
    return client


@pytest.fixture
def staff_client(client, staff) -> Callable[..., Client]:
    """A client signed in as staff with a TOTP-verified session."""

    def make(role: str = "secretariat", email: str = "sec@tldops.example") -> Client:
        person = staff(role=role, email=email)
        device = confirmed_device(person)
        response = sign_in(client, person, code=code_for(device))
        assert response.status_code == 302 and response["Location"] == "/home/", response
        client.person = person
        return client

    return make
