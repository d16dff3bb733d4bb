"""Resetting a person's second factor, the tool Django's admin stood for (issue 9), through every
door; and Django's admin itself, gone, with no way round the staff's second factor left."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.api.conftest import ApiClient
from tests.conftest import PASSWORD, body_of
from tests.web.conftest import code_for, confirmed_device, sign_in
from tldops.directory import second_factor
from tldops.directory.audit import Actor
from tldops.directory.models import AuditEntry
from tldops.kernel.errors import InvalidInput, NotAuthorised

REASON = "lost phone, confirmed by a call on 3 May"


def _signed_in_with_device(person) -> tuple[Client, TOTPDevice]:
    client = Client()
    device = confirmed_device(person)
    response = sign_in(client, person, code=code_for(device))
    assert response.status_code == 302 and response["Location"] == "/home/"
    return client, device


def test_staff_resets_a_members_factor_in_the_portal(staff_client, catalog, make_member, outbox):
    member = make_member(catalog["fr"], name="Ana Lopez")
    member_session, _device = _signed_in_with_device(member)
    assert member_session.get("/directory/").status_code == 200
    client = staff_client()
    page = client.get(f"/people/{member.pk}/second-factor/")
    assert page.status_code == 200 and "Ana Lopez" in page.content.decode()
    # The directory links to it for staff.
    assert (
        f'href="/people/{member.pk}/second-factor/"' in client.get("/directory/").content.decode()
    )

    # Without the confirmation box, or without a reason: refused, nothing changed.
    refused = client.post(f"/people/{member.pk}/second-factor/", {"reason": REASON})
    assert refused.status_code == 400
    refused = client.post(f"/people/{member.pk}/second-factor/", {"reason": " ", "confirm": "on"})
    assert refused.status_code == 400
    assert TOTPDevice.objects.filter(user=member.user).exists()

    done = client.post(f"/people/{member.pk}/second-factor/", {"reason": REASON, "confirm": "on"})
    assert done.status_code == 302 and done["Location"] == "/directory/"
    assert not TOTPDevice.objects.filter(user=member.user).exists()
    # Their open session is over.
    assert member_session.get("/directory/").status_code == 302
    entry = AuditEntry.objects.get(action="second-factor-reset")
    assert entry.person == member and entry.actor_person == client.person and entry.door == "web"
    assert REASON in entry.summary and entry.after["devices"] == 0
    ((to, msg),) = outbox("second-factor-reset")
    assert to == member.email and "second factor was reset" in msg["Subject"]
    body = body_of(msg)
    assert client.person.name in body and client.person.email in body and REASON in body
    assert "/login/" in body

    # The member signs in with the password alone and is asked to set up a new device.
    fresh = Client()
    response = sign_in(fresh, member)
    assert response.status_code == 302 and response["Location"].startswith("/account/2fa/")
    setup = fresh.get(response["Location"])
    assert setup.status_code == 200 and 'id="totp-secret"' in setup.content.decode()
    # Asked once: the next sign-in goes home as before (the device stays optional for members).
    fresh.post("/logout/")
    assert sign_in(fresh, member)["Location"] == "/home/"


def test_a_staff_member_reset_by_the_committee_must_set_up_a_new_device(
    staff_client, staff, outbox
):
    colleague = staff(role="secretariat", email="colleague@tldops.example")
    _signed_in_with_device(colleague)
    client = staff_client(role="committee", email="chair@tldops.example")
    response = client.post(
        f"/people/{colleague.pk}/second-factor/", {"reason": REASON, "confirm": "on"}
    )
    assert response.status_code == 302
    assert "requires a second factor" in body_of(outbox("second-factor-reset")[0][1])
    fresh = Client()
    assert sign_in(fresh, colleague)["Location"].startswith("/account/2fa/")
    for url in ("/staff/", "/invitations/", "/audit/"):
        assert fresh.get(url)["Location"].startswith("/account/2fa/"), url


def test_who_may_reset_whose_factor(staff_client, staff, catalog, make_member):
    member = make_member(catalog["fr"], name="Ana Lopez")
    other = make_member(catalog["nl"], name="Jan Jansen")
    confirmed_device(other)
    chair = staff(role="committee", email="chair@tldops.example")
    confirmed_device(chair)
    # A member may not, in the portal.
    member_client = Client()
    sign_in(member_client, member)
    response = member_client.post(
        f"/people/{other.pk}/second-factor/", {"reason": REASON, "confirm": "on"}
    )
    assert response.status_code == 403
    # Staff may not reset their own here, nor may the secretariat reset the committee's.
    client = staff_client()
    for target in (client.person, chair):
        get = client.get(f"/people/{target.pk}/second-factor/")
        post = client.post(
            f"/people/{target.pk}/second-factor/", {"reason": REASON, "confirm": "on"}
        )
        assert get.status_code == post.status_code == 403, target
    assert (
        client.get(f"/people/{client.person.pk}/second-factor/")
        .content.decode()
        .count("cannot reset your own")
    )
    assert TOTPDevice.objects.filter(user__in=[chair.user, client.person.user, other.user]).count()
    assert not AuditEntry.objects.filter(action="second-factor-reset").exists()
    # The same rules in the service, whatever the door.
    with pytest.raises(NotAuthorised):
        second_factor.reset(other, actor=Actor.of(member, "api"), reason=REASON)
    with pytest.raises(NotAuthorised):
        second_factor.reset(chair, actor=Actor.of(chair, "api"), reason=REASON)
    with pytest.raises(InvalidInput):  # nothing to reset
        second_factor.reset(member, actor=Actor.of(chair, "api"), reason=REASON)
    assert second_factor.reset(other, actor=Actor.of(chair, "api"), reason=REASON) == 1


def test_reset_on_the_command_line(catalog, make_member, outbox):
    member = make_member(catalog["fr"], name="Ana Lopez")
    confirmed_device(member)
    with pytest.raises(CommandError):  # --reason is required
        call_command("members", "reset-2fa", member.email)
    with pytest.raises(CommandError) as missing:
        call_command("members", "reset-2fa", "nobody@nic.fr", "--reason", REASON)
    assert missing.value.returncode == 3
    out = io.StringIO()
    call_command("members", "reset-2fa", member.email.upper(), "--reason", REASON, stdout=out)
    assert "is reset" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=member.user).exists()
    entry = AuditEntry.objects.get(action="second-factor-reset")
    assert entry.door == "cli" and entry.actor.startswith("cli:")
    assert "command line" in body_of(outbox("second-factor-reset")[0][1])


# --- Django's admin is gone, and createsuperuser gets round nothing ----------------------------------


@pytest.mark.parametrize("url", ["/admin/", "/admin/login/", "/admin/auth/user/"])
def test_admin_is_the_portals_404(client, db, url):
    response = client.get(url)
    assert response.status_code == 404
    html = response.content.decode()
    assert 'id="not-found"' in html and "TLD-OPS" in html and 'href="/home/"' in html


def test_a_createsuperuser_account_reaches_no_staff_page_nor_api(client, catalog, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command(
        "createsuperuser",
        interactive=False,
        username="root@tldops.example",
        email="root@tldops.example",
        stdout=io.StringIO(),
    )
    root = get_user_model().objects.get(username="root@tldops.example")
    assert root.is_superuser and root.is_staff
    response = client.post("/login/", {"username": root.username, "password": PASSWORD})
    assert response.status_code == 302  # signed in, with a password alone …
    for url in (
        "/staff/",
        "/staff/outbox/",
        "/invitations/",
        "/audit/",
        "/moderation/",
        "/reachability/",
        "/directory/",
        "/admin/",
    ):
        assert client.get(url).status_code in (403, 404), url  # … and that is all it is
    post = client.post("/staff/outbox/retry/", {"all": "1"})
    assert post.status_code == 403
    api = ApiClient(client=client)
    for path in ("/staff/summary", "/invitations", "/audit", "/directory/contacts"):
        assert api.get(path).status_code == 401, path
    assert api.post("/me/tokens", {"name": "root"}).status_code == 401
