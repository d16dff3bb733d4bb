"""The vetting flow through the portal: invite → authorise → confirm → directory and coverage."""

import re
from datetime import timedelta

from django.utils import timezone

from tests.conftest import PASSWORD, body_of, person_state
from tldops.directory import actions, links
from tldops.directory.audit import Actor
from tldops.directory.models import Invitation, Membership, Person


def contact_row(i, name, email, phone="+33 1 23 45 67 89", label="24/7", tz="Europe/Paris"):
    return {
        f"contact-{i}-name": name,
        f"contact-{i}-email": email,
        f"contact-{i}-phone0": phone,
        f"contact-{i}-label0": label,
        f"contact-{i}-phone1": "",
        f"contact-{i}-label1": "office",
        f"contact-{i}-timezone": tz,
        f"contact-{i}-languages": "fr, en",
    }


def main_of(response) -> str:
    return response.content.decode().split("<main")[1].split("</main>")[0]


def link_in(outbox, purpose, path):
    (_rcpt, msg), *_ = outbox(purpose)
    return re.search(rf"https?://[^/\s]+(/{path}/[^\s]+/)", body_of(msg)).group(1)


def test_invite_authorise_confirm_then_directory_and_coverage(
    client, staff_client, catalog, outbox
):
    staff = staff_client()
    response = staff.post("/invitations/", {"form": "one", "one-tld": ".FR", "one-batch": "t1"})
    assert response.status_code == 200
    assert "1 ccTLD invited" in response.content.decode()
    assert Invitation.objects.get(tld=catalog["fr"]).batch == "t1"
    staff.post("/logout/")

    # The admin contact follows the link in the invitation mail.
    authorise_url = link_in(outbox, "invite", "authorise")
    page = client.get(authorise_url)
    html = page.content.decode()
    assert page.status_code == 200 and ".fr" in html
    assert html.count('name="contact-') >= 3 * 7  # three empty contact blocks
    response = client.post(
        authorise_url,
        {**contact_row(0, "Marie Curie", "marie@nic.fr"), **contact_row(1, "", "", phone="")},
    )
    assert response.status_code == 200, response.content.decode()
    assert "Marie Curie" in response.content.decode()
    # The link is used up.
    assert client.get(authorise_url).status_code == 410

    # The contact confirms and chooses a password, and lands on the home page signed in.
    confirm_url = link_in(outbox, "confirmation", "confirm")
    assert "Marie Curie" in client.get(confirm_url).content.decode()
    response = client.post(confirm_url, {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/home/"
    person = Person.objects.get(email="marie@nic.fr")
    assert person.memberships.get().status == Membership.Status.ACTIVE
    assert [p.label for p in person.phones.all()] == ["24/7"]

    directory = client.get("/directory/").content.decode()
    assert "Marie Curie" in directory and "+33 1 23 45 67 89" in directory
    assert "marie@nic.fr" in directory and "Europe/Paris" in directory
    client.post("/logout/")
    coverage = client.get("/").content.decode()
    members = coverage.split('id="member-tlds"')[1].split("</table>")[0]
    assert "France" in members
    assert "Marie" not in coverage


def test_confirm_passwords_must_match_and_be_strong(client, catalog, outbox):
    inv = actions.invite_cctld(catalog["nl"], actor=Actor.system())
    client.post(
        f"/authorise/{links.invitation_token(inv)}/", contact_row(0, "Jan Jansen", "jan@nic.nl")
    )
    url = link_in(outbox, "confirmation", "confirm")
    response = client.post(url, {"password1": PASSWORD, "password2": PASSWORD + "x"})
    assert response.status_code == 400 and "The two passwords differ" in response.content.decode()
    response = client.post(url, {"password1": "short", "password2": "short"})
    assert response.status_code == 400 and "too short" in response.content.decode()
    assert Membership.objects.get(person__email="jan@nic.nl").status == "pending"


def test_field_errors_are_shown_next_to_the_field_and_nothing_is_written(client, catalog):
    inv = actions.invite_cctld(catalog["fr"], actor=Actor.system())
    url = f"/authorise/{links.invitation_token(inv)}/"
    response = client.post(
        url,
        {
            **contact_row(0, "Good Person", "good@nic.fr"),
            **contact_row(1, "Bad Phone", "bad@nic.fr", phone="12"),
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    second_row = html.split('id="contact-1"')[1]
    assert "is not a valid phone number" in second_row
    assert "is not a valid phone number" not in html.split('id="contact-1"')[0]
    assert "Good Person" in html and "bad@nic.fr" in html  # what was typed is kept
    assert not Membership.objects.exists()
    # The link still works after a refused attempt.
    assert client.get(url).status_code == 200


def test_every_field_error_of_a_contact_is_shown_at_once(client, catalog):
    inv = actions.invite_cctld(catalog["fr"], actor=Actor.system())
    url = f"/authorise/{links.invitation_token(inv)}/"
    row = contact_row(0, "Jan\x07Bell", "not-an-address", phone="12", tz="Mars/Olympus")
    row["contact-0-languages"] = "klingonese"
    response = client.post(url, {**row, **contact_row(1, "Dup One", "dup@nic.fr"),
                                 **contact_row(2, "Dup Two", "dup@nic.fr")})  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 400
    first, second, third = (html.split(f'id="contact-{i}"')[1] for i in range(3))
    first = first.split('id="contact-1"')[0]
    for message in (
        "may not contain control",
        "“not-an-address” is not an email address",
        "“12” is not a valid phone number",
        "Unknown time zone “Mars/Olympus”",
        "Unknown language “klingonese”",
    ):
        assert message in first, message
    assert first.count('aria-invalid="true"') == 4  # name, email, time zone, languages
    assert "named twice" in third and "named twice" not in second.split('id="contact-2"')[0]
    assert not Membership.objects.exists() and not Person.objects.exists()


def test_fourth_contact_is_refused_with_the_limit_message(client, catalog):
    inv = actions.invite_cctld(catalog["fr"], actor=Actor.system())
    url = f"/authorise/{links.invitation_token(inv)}/"
    data = {}
    for i, name in enumerate(["Ann One", "Bob Two", "Cid Three", "Dan Four"]):
        data.update(contact_row(i, name, f"{name.split()[0].lower()}@nic.fr"))
    response = client.post(url, data)
    assert response.status_code == 409
    assert "may have at most 3 contacts" in response.content.decode()
    assert not Membership.objects.exists() and not Person.objects.exists()
    assert Invitation.objects.get(pk=inv.pk).status == "sent"


def test_manage_link_removes_and_replaces_a_contact(client, catalog, make_member, outbox):
    for name in ("Ann One", "Bob Two", "Cid Three"):
        make_member(catalog["fr"], name=name)
    assert client.post("/manage/", {"tld": "fr"}).status_code == 200
    url = link_in(outbox, "manage", "authorise")
    page = client.get(url).content.decode()
    assert 'name="remove"' in page and "Ann One" in page
    # Adding a fourth without removing anyone is refused.
    response = client.post(url, contact_row(0, "Eve New", "eve@nic.fr"))
    assert response.status_code == 409
    response = client.post(url, {"remove": ["1"], **contact_row(0, "Eve New", "eve@nic.fr")})
    assert response.status_code == 200
    open_names = set(
        Membership.objects.filter(tld=catalog["fr"], status__in=Membership.OPEN).values_list(
            "person__name", flat=True
        )
    )
    assert open_names == {"Bob Two", "Cid Three", "Eve New"}


def test_naming_a_member_of_another_cctld_changes_nothing_of_theirs(
    client, catalog, make_member, outbox
):
    make_member(catalog["fr"], name="Ana Lopez", email="ana@nic.fr")
    before = person_state("ana@nic.fr")
    inv = actions.invite_cctld(catalog["nl"], actor=Actor.system())

    done = client.post(
        f"/authorise/{links.invitation_token(inv)}/",
        contact_row(0, "Mallory Impostor", "ana@nic.fr", phone="+31 20 123 4567", tz="Asia/Tokyo"),
    )

    assert done.status_code == 200
    assert "Mallory Impostor" in main_of(done) and "Ana Lopez" not in main_of(done)
    assert person_state("ana@nic.fr") == before
    _rcpt, mail = outbox("confirmation")[-1]
    url = re.search(r"https?://[^/\s]+(/confirm/[^\s]+/)", body_of(mail)).group(1)
    page = main_of(client.get(url))
    assert 'id="details-unchanged"' in page and "Mallory" not in page and "+31" not in page
    assert client.post(url, {}).status_code == 302
    assert person_state("ana@nic.fr") == before


def test_a_named_contact_may_decline(client, catalog, make_member, outbox):
    make_member(catalog["fr"], name="Ana Lopez", email="ana@nic.fr")
    before = person_state("ana@nic.fr")
    inv = actions.invite_cctld(catalog["nl"], actor=Actor.system())
    client.post(f"/authorise/{links.invitation_token(inv)}/", contact_row(0, "Jan", "ana@nic.fr"))
    _rcpt, mail = outbox("confirmation")[-1]
    url = re.search(r"https?://[^/\s]+(/confirm/[^\s]+/)", body_of(mail)).group(1)

    response = client.post(url, {"decline": "1"})

    assert response.status_code == 200
    assert 'You are not a security contact of <bdi dir="ltr">.nl</bdi>' in main_of(response)
    assert Membership.objects.get(tld=catalog["nl"]).status == "left"
    assert person_state("ana@nic.fr") == before
    assert client.get(url).status_code == 410


def test_an_invitation_link_cannot_remove_contacts(client, catalog, make_member):
    make_member(catalog["fr"], name="Ann One")
    inv = actions.invite_cctld(catalog["fr"], actor=Actor.system())
    url = f"/authorise/{links.invitation_token(inv)}/"
    assert 'name="remove"' not in client.get(url).content.decode()

    response = client.post(url, {"remove": ["1"], **contact_row(0, "Eve New", "eve@nic.fr")})

    assert response.status_code == 403
    assert "management link" in response.content.decode()
    assert Membership.objects.get().status == "active"
    assert not Person.objects.filter(email="eve@nic.fr").exists()
    assert Invitation.objects.get(pk=inv.pk).status == "sent"


def test_manage_answer_is_the_same_for_every_cctld(client, catalog, make_tld, outbox):
    make_tld("zz", admin_email="")  # no admin address known
    answers = {
        tld: main_of(client.post("/manage/", {"tld": tld})).replace(f".{tld}", ".X")
        for tld in ("fr", "zz")
    }
    assert answers["fr"] == answers["zz"]
    assert [r for r, _m in outbox("manage")] == ["admin@nic.fr"]
    unknown = client.post("/manage/", {"tld": "qq"})
    assert unknown.status_code == 400 and "not a known ccTLD" in unknown.content.decode()


def test_expired_forged_and_used_links_get_a_clear_410(client, catalog):
    inv = actions.invite_cctld(catalog["fr"], actor=Actor.system())
    token = links.invitation_token(inv)
    Invitation.objects.filter(pk=inv.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(f"/authorise/{token}/")
    html = response.content.decode()
    assert response.status_code == 410
    assert "expired" in html and 'href="/manage/"' in html
    assert client.post(f"/authorise/{token}/", contact_row(0, "A B", "a@nic.fr")).status_code == 410
    assert client.get(f"/authorise/{token[:-3]}xyz/").status_code == 410
    assert client.get("/confirm/not-a-token/").status_code == 410
    assert not Membership.objects.exists()


def test_empty_submission_asks_for_a_contact(client, catalog):
    inv = actions.invite_cctld(catalog["fr"], actor=Actor.system())
    response = client.post(f"/authorise/{links.invitation_token(inv)}/", contact_row(0, "", "", ""))
    assert response.status_code == 400
    assert "Name at least one contact" in response.content.decode()
