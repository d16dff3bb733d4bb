"""A person changes their own address: a link to the new one, used once, by them (issue 9)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.api.conftest import ApiClient, token_for
from tests.conftest import PASSWORD, body_of
from tests.web.conftest import sign_in
from tldops.directory import email_change
from tldops.directory.audit import Actor
from tldops.directory.models import AuditEntry, Person
from tldops.kernel.errors import InvalidInput, LinkInvalid, NotAuthorised

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ana(catalog, make_member):
    return make_member(catalog["fr"], "Ana Lopez", "ana@nic.fr")


@pytest.fixture
def colleague(catalog, make_member, ana):
    # A second contact of .fr: authorised by a management link, like any later contact.
    from tldops.directory import actions, links
    from tldops.directory.validation import ContactInput

    link = actions.request_manage_link(catalog["fr"], actor=Actor.system())
    (m,) = actions.authorise_contacts(
        links.invitation_token(link),
        [ContactInput(name="Paul Martin", email="paul@nic.fr")],
        door="web",
    ).added
    m.refresh_from_db()
    actions.confirm_contact(links.confirmation_token(m), door="web", password=PASSWORD)
    return Person.objects.get(email="paul@nic.fr")


def token_in_mail(outbox) -> str:
    (to, msg), *_ = outbox(email_change.PURPOSE)[-1:]
    match = re.search(r"/profile/email/confirm/([^/\s]+)/", body_of(msg))
    assert match, body_of(msg)
    return match.group(1)


def ask(person: Person, address: str, door: str = "web") -> Person:
    return email_change.request_change(person, address, actor=Actor.of(person, door))


def test_the_link_goes_to_the_new_address_and_nothing_changes_before(ana, outbox):
    ask(ana, "ana.lopez@afnic.fr")
    ((to, msg),) = outbox(email_change.PURPOSE)
    assert to == "ana.lopez@afnic.fr"
    assert "/profile/email/confirm/" in body_of(msg)
    ana.refresh_from_db()
    assert ana.email == "ana@nic.fr" and ana.user.username == "ana@nic.fr"
    assert AuditEntry.objects.filter(action="email-change-requested", person=ana).exists()


def test_confirming_changes_the_address_and_tells_old_address_and_colleagues(
    ana, colleague, outbox
):
    ask(ana, "Ana.Lopez@AFNIC.fr")
    token = token_in_mail(outbox)
    changed = email_change.confirm_change(token, actor=Actor.of(ana, "web"))
    assert changed.email == "Ana.Lopez@afnic.fr"
    ana = Person.objects.select_related("user").get(pk=ana.pk)
    assert ana.user.username == "Ana.Lopez@afnic.fr" and not ana.email_change_nonce
    (to, notice), *_ = outbox("email-changed-notice")
    assert to == "ana@nic.fr" and "Ana.Lopez@afnic.fr" in body_of(notice)
    told = [
        (r, m) for r, m in outbox("colleague-notice") if "changed their address" in m["Subject"]
    ]
    assert [r for r, _m in told] == ["paul@nic.fr"]
    entry = AuditEntry.objects.get(action="email-changed")
    assert entry.before == {"email": "ana@nic.fr"} and entry.after == {
        "email": "Ana.Lopez@afnic.fr"
    }


def test_a_link_works_once(ana, outbox):
    ask(ana, "ana2@afnic.fr")
    token = token_in_mail(outbox)
    email_change.confirm_change(token, actor=Actor.of(ana, "web"))
    ana.refresh_from_db()
    with pytest.raises(LinkInvalid):
        email_change.confirm_change(token, actor=Actor.of(ana, "web"))
    assert Person.objects.get(pk=ana.pk).email == "ana2@afnic.fr"


def test_a_newer_request_replaces_the_link(ana, outbox):
    ask(ana, "first@afnic.fr")
    first = token_in_mail(outbox)
    ask(Person.objects.get(pk=ana.pk), "second@afnic.fr")
    with pytest.raises(LinkInvalid):
        email_change.confirm_change(first, actor=Actor.of(ana, "web"))
    assert Person.objects.get(pk=ana.pk).email == "ana@nic.fr"


def test_an_expired_link_is_refused(ana, outbox):
    ask(ana, "late@afnic.fr")
    token = token_in_mail(outbox)
    Person.objects.filter(pk=ana.pk).update(
        email_change_requested_at=timezone.now() - timedelta(hours=49)
    )
    with pytest.raises(LinkInvalid):
        email_change.confirm_change(token, actor=Actor.of(ana, "web"))
    assert Person.objects.get(pk=ana.pk).email == "ana@nic.fr"


def test_an_address_taken_meanwhile_is_refused_and_nothing_changes(
    ana, catalog, make_member, outbox
):
    ask(ana, "shared@nic.nl")
    token = token_in_mail(outbox)
    make_member(catalog["nl"], "Bob Jansen", "shared@nic.nl")  # someone else gets it first
    with pytest.raises(InvalidInput) as exc:
        email_change.confirm_change(token, actor=Actor.of(ana, "web"))
    assert exc.value.field == "email" and "another person" in exc.value.message
    ana = Person.objects.get(pk=ana.pk)
    assert ana.email == "ana@nic.fr" and ana.user.username == "ana@nic.fr"
    assert not AuditEntry.objects.filter(action="email-changed").exists()
    assert not outbox("email-changed-notice")


def test_another_person_cannot_confirm(ana, catalog, make_member, outbox):
    bob = make_member(catalog["nl"], "Bob Jansen", "bob@nic.nl")
    ask(ana, "ana3@afnic.fr")
    token = token_in_mail(outbox)
    with pytest.raises(NotAuthorised):
        email_change.confirm_change(token, actor=Actor.of(bob, "web"))
    assert Person.objects.get(pk=ana.pk).email == "ana@nic.fr"
    assert Person.objects.get(pk=bob.pk).email == "bob@nic.nl"
    # The link still works for Ana.
    assert email_change.confirm_change(token, actor=Actor.of(ana, "web")).email == "ana3@afnic.fr"


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("not an address", "not an email address"),
        ("bob@nic.nl", "another person"),
        ("ANA@nic.fr", "already your address"),
        ("x" * 300 + "@nic.fr", "at most"),
    ],
)
def test_bad_new_addresses_are_refused_and_nothing_is_sent(
    ana, catalog, make_member, outbox, address, why
):
    make_member(catalog["nl"], "Bob Jansen", "bob@nic.nl")
    with pytest.raises(InvalidInput) as exc:
        ask(ana, address)
    assert exc.value.field == "email" and why in exc.value.message
    assert not outbox(email_change.PURPOSE)
    assert not Person.objects.get(pk=ana.pk).email_change_to


def test_nobody_asks_for_another_person(ana, catalog, make_member, outbox):
    bob = make_member(catalog["nl"], "Bob Jansen", "bob@nic.nl")
    with pytest.raises(NotAuthorised):
        email_change.request_change(ana, "evil@evil.test", actor=Actor.of(bob, "api"))
    assert not outbox(email_change.PURPOSE)


# --- The doors ---------------------------------------------------------------------------------------


def test_portal_change_keeps_the_session_and_signs_in_with_the_new_address(ana, outbox):
    client = Client()
    assert sign_in(client, ana).status_code == 302
    response = client.post("/profile/email/", {"email": "not an address"})
    assert response.status_code == 400 and "not an email address" in response.content.decode()
    response = client.post("/profile/email/", {"email": "ana@new.example"})
    assert response.status_code == 302
    token = token_in_mail(outbox)
    page = client.get(f"/profile/email/confirm/{token}/")
    assert page.status_code == 200 and "ana@new.example" in page.content.decode()
    assert Person.objects.get(pk=ana.pk).email == "ana@nic.fr"  # a GET changes nothing
    assert client.post(f"/profile/email/confirm/{token}/").status_code == 302
    assert Person.objects.get(pk=ana.pk).email == "ana@new.example"
    assert client.get("/profile/").status_code == 200  # the session stays valid
    used = client.post(f"/profile/email/confirm/{token}/")
    assert used.status_code == 410
    fresh = Client()
    response = fresh.post("/login/", {"username": "ana@new.example", "password": PASSWORD})
    assert response.status_code == 302


def test_portal_refuses_another_persons_link(ana, catalog, make_member, outbox):
    bob = make_member(catalog["nl"], "Bob Jansen", "bob@nic.nl")
    ask(ana, "ana@new.example")
    token = token_in_mail(outbox)
    client = Client()
    sign_in(client, bob)
    assert client.post(f"/profile/email/confirm/{token}/").status_code == 403
    assert Person.objects.get(pk=ana.pk).email == "ana@nic.fr"


def test_api_change(ana, catalog, make_member, outbox):
    bob = make_member(catalog["nl"], "Bob Jansen", "bob@nic.nl")
    api = ApiClient(token=token_for(ana))
    refused = api.post("/me/email", {"email": "bob@nic.nl"})
    assert refused.status_code == 400 and refused.data["field"] == "email"
    asked = api.post("/me/email", {"email": "ana@api.example"})
    assert asked.status_code == 202
    assert asked.data == {"email": "ana@nic.fr", "email_change_to": "ana@api.example"}
    token = token_in_mail(outbox)
    other = ApiClient(token=token_for(bob)).post("/me/email/confirm", {"token": token})
    assert other.status_code == 403
    done = api.post("/me/email/confirm", {"token": token})
    assert done.status_code == 200 and done.data["email"] == "ana@api.example"
    again = api.post("/me/email/confirm", {"token": token})
    assert again.status_code == 410
    assert api.get("/me").status_code == 200  # the token still works
