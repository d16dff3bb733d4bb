"""The delivery settings page and its API twin (issue 9)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.api.conftest import ApiClient, token_for
from tldops.directory.models import AuditEntry, Person

pytestmark = pytest.mark.django_db


def test_member_chooses_a_digest_and_sees_errors_by_field(member_client):
    page = member_client.get("/profile/delivery/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'name="mode"' in text and 'name="receive_list"' not in text  # members do not opt out
    response = member_client.post("/profile/delivery/", {"mode": "nomail", "nomail_until": ""})
    assert response.status_code == 400
    assert "Give the last day without list mail" in response.content.decode()
    assert Person.objects.get(pk=member_client.person.pk).delivery_mode == "regular"
    response = member_client.post(
        "/profile/delivery/", {"mode": "digest", "digest_format": "plain"}
    )
    assert response.status_code == 302
    ana = Person.objects.get(pk=member_client.person.pk)
    assert (ana.delivery_mode, ana.digest_format) == ("digest", "plain")
    assert AuditEntry.objects.get(action="delivery-updated").door == "web"


def test_staff_switch_the_list_off_in_the_portal(staff_client):
    client = staff_client()
    page = client.get("/profile/delivery/")
    assert 'name="receive_list"' in page.content.decode()
    response = client.post(
        "/profile/delivery/", {"mode": "regular", "digest_format": "mime", "receive_editions": "1"}
    )
    assert response.status_code == 302
    sec = Person.objects.get(email="sec@tldops.example")
    assert not sec.receive_list and sec.receive_editions


def test_api_get_and_put_delivery(catalog, make_member, staff):
    ana = make_member(catalog["fr"], "Ana Lopez", "ana@nic.fr")
    api = ApiClient(token=token_for(ana))
    got = api.get("/me/delivery")
    assert got.status_code == 200
    assert got.data["mode"] == "regular" and got.data["staff"] is False
    until = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=7)).isoformat()
    put = api.put("/me/delivery", {"mode": "nomail", "nomail_until": until})
    assert put.status_code == 200
    assert put.data["effective_mode"] == "nomail" and put.data["nomail_until"] == until
    refused = api.put("/me/delivery", {"receive_list": False})
    assert refused.status_code == 400 and refused.data["field"] == "receive_list"
    too_far = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=91)).isoformat()
    refused = api.put("/me/delivery", {"mode": "nomail", "nomail_until": too_far})
    assert refused.status_code == 400 and refused.data["field"] == "nomail_until"
    assert Person.objects.get(pk=ana.pk).nomail_until.isoformat() == until
    typo = api.put("/me/delivery", {"mood": "digest"})
    assert typo.status_code == 422
    sec = staff()
    staff_api = ApiClient(token=token_for(sec))
    put = staff_api.put("/me/delivery", {"receive_editions": False})
    assert put.status_code == 200 and put.data["receive_editions"] is False
