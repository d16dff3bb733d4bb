"""The portal's probe page: create (the token and the command line shown once), revoke, reset."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.monitor.probe_helpers import new_key, public
from tldops.directory.audit import Actor
from tldops.monitor import probes
from tldops.monitor.models import Probe

PAGE = "/monitor/probes/"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def member(catalog, make_member):
    return make_member(catalog["fr"], "Ana Lopez")


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def test_create_shows_the_token_once_with_the_command(member, settings):
    client = signed_in(member)
    page = client.get(PAGE)
    assert page.status_code == 200 and "No probe yet." in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    created = client.post(PAGE, {"name": "Paris office"})
    html = created.content.decode()
    assert created.status_code == 200
    token = re.search(r'id="probe-token">(tldprobe_[^<]+)<', html).group(1)
    command = re.search(r'id="probe-command">([^<]+)<', html).group(1)
    assert command == f"tldops probe --hub {settings.BASE_URL} --token {token}"
    assert probes.authenticate(token).owner == member
    again = client.get(PAGE).content.decode()
    assert "Paris office" in again and token not in again
    assert "not yet" in again  # no key registered yet


def test_a_bad_name_or_key_stores_nothing(member):
    client = signed_in(member)
    answer = client.post(PAGE, {"name": "", "public_key": ""})
    assert answer.status_code == 400 and 'id="form-errors"' in answer.content.decode()
    answer = client.post(PAGE, {"name": "Lab", "public_key": "not a key"})
    assert answer.status_code == 400 and "Ed25519" in answer.content.decode()
    assert not Probe.objects.exists()
    key = new_key()
    assert client.post(PAGE, {"name": "Lab", "public_key": public(key)}).status_code == 200
    assert Probe.objects.get().public_key == public(key)


def test_revoke_and_reset_my_probe(member):
    probe, _token = probes.create(member, "Lab", public_key=public(new_key()), actor=Actor.system())
    client = signed_in(member)
    reset = client.post(f"{PAGE}{probe.pk}/reset-key/")
    assert reset.status_code == 302
    probe.refresh_from_db()
    assert probe.public_key == ""
    revoked = client.post(f"{PAGE}{probe.pk}/revoke/", follow=True)
    assert "revoked" in revoked.content.decode()
    probe.refresh_from_db()
    assert probe.revoked_at is not None


def test_another_member_cannot_revoke_my_probe(member, catalog, make_member):
    probe, _token = probes.create(member, "Lab", actor=Actor.system())
    other = signed_in(make_member(catalog["nl"], "Nina de Vries"))
    assert other.post(f"{PAGE}{probe.pk}/revoke/").status_code == 404
    assert other.post(f"{PAGE}{probe.pk}/reset-key/").status_code == 404
    assert "Lab" not in other.get(PAGE).content.decode()
    probe.refresh_from_db()
    assert probe.revoked_at is None


def test_the_page_is_for_members(catalog, make_member):
    assert Client().get(PAGE).status_code == 302  # to the login page
    assert Client().post(PAGE, {"name": "x"}).status_code in (302, 403)
    assert not Probe.objects.exists()
