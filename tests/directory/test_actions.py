"""The vetting flow's actions, called directly (the doors have their own tests)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import PASSWORD, body_of, person_state
from tldops.directory import actions, links
from tldops.directory.audit import Actor
from tldops.directory.models import AuditEntry, Invitation, Membership, Person
from tldops.directory.validation import ContactInput
from tldops.kernel.errors import InvalidInput, LimitReached, LinkInvalid, NotAuthorised, NotFound
from tldops.mail.models import Delivery


def contact(name: str, email: str, phone: str = "+33 1 23 45 67 89") -> ContactInput:
    return ContactInput(
        name=name,
        email=email,
        phones=[(phone, "24/7")],
        timezone="Europe/Paris",
        languages="fr, en",
    )


def invite(tld) -> str:
    return links.invitation_token(actions.invite_cctld(tld, actor=Actor.system()))


def test_invitation_mails_the_admin_contact_with_a_working_link(catalog, outbox):
    inv = actions.invite_cctld(catalog["fr"], actor=Actor.system(), batch="a-f")
    ((rcpt, msg),) = outbox("invite")
    assert rcpt == "admin@nic.fr"
    assert f"[ref:{links.invitation_ref(inv)}]" in msg["Subject"]
    assert msg["Reply-To"] == "authorise@tldops.localhost"
    body = body_of(msg)
    token = body.split("/authorise/")[1].split("/")[0]
    assert links.open_invitation(token).pk == inv.pk
    entry = AuditEntry.objects.get(action="invite")
    assert entry.tld == catalog["fr"] and entry.door == "system"


def test_a_new_invitation_cancels_the_previous_link(catalog):
    first = invite(catalog["fr"])
    second = invite(catalog["fr"])
    with pytest.raises(LinkInvalid, match="cancelled"):
        links.open_invitation(first)
    assert links.open_invitation(second)


def test_retired_or_adminless_tlds_cannot_be_invited(catalog, make_tld):
    with pytest.raises(InvalidInput, match="retired"):
        actions.invite_cctld(catalog["an"], actor=Actor.system())
    orphan = make_tld("zz", admin_email="")
    with pytest.raises(InvalidInput, match="no known email"):
        actions.invite_cctld(orphan, actor=Actor.system())
    assert not Invitation.objects.exists() and not Delivery.objects.exists()


def test_authorise_then_confirm_makes_an_active_member(catalog, outbox):
    token = invite(catalog["fr"])
    result = actions.authorise_contacts(
        token, [contact("Ana Lopez", "Ana@NIC.fr"), contact("Bo Li", "bo@nic.fr")], door="web"
    )
    assert [m.number for m in result.added] == [1, 2]
    ana = Person.objects.get(email="Ana@nic.fr")
    assert ana.phones.get().number == "+33123456789"
    assert ana.languages == ["fr", "en"]
    m = ana.memberships.get()
    assert (m.status, m.authorisation_rule, m.authorised_by) == (
        "pending",
        "signed-link",
        "admin@nic.fr",
    )
    confirmations = outbox("confirmation")
    assert {r for r, _m in confirmations} == {"Ana@nic.fr", "bo@nic.fr"}
    actions.confirm_contact(
        links.confirmation_token(m), door="web", password="a long pass phrase 42"
    )
    m.refresh_from_db()
    assert m.status == Membership.Status.ACTIVE and m.confirmed_at
    ana.refresh_from_db()
    assert ana.user.check_password("a long pass phrase 42")
    assert Invitation.objects.get().status == Invitation.Status.ANSWERED


def test_the_link_works_once(catalog):
    token = invite(catalog["fr"])
    actions.authorise_contacts(token, [contact("Ana", "ana@nic.fr")], door="web")
    with pytest.raises(LinkInvalid, match="already been used"):
        actions.authorise_contacts(token, [contact("Bo", "bo@nic.fr")], door="web")
    assert Membership.objects.count() == 1


def test_an_expired_link_is_refused(catalog):
    token = invite(catalog["fr"])
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(LinkInvalid, match="expired"):
        actions.authorise_contacts(token, [contact("Ana", "ana@nic.fr")], door="web")


def test_a_tampered_link_is_refused(catalog):
    token = invite(catalog["fr"])
    with pytest.raises(LinkInvalid):
        links.open_invitation(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))


def test_a_fourth_contact_is_refused_and_nothing_is_written(catalog, settings):
    assert settings.MAX_CONTACTS_PER_CCTLD == 3
    token = invite(catalog["fr"])
    four = [contact(f"P{i}", f"p{i}@nic.fr") for i in range(4)]
    with pytest.raises(LimitReached, match="at most 3"):
        actions.authorise_contacts(token, four, door="web")
    assert not Membership.objects.exists() and not Person.objects.exists()
    assert not Delivery.objects.filter(message__purpose="confirmation").exists()
    assert links.open_invitation(token)  # still usable after the refusal


def test_the_limit_is_a_setting(catalog, settings):
    settings.MAX_CONTACTS_PER_CCTLD = 2
    token = invite(catalog["fr"])
    with pytest.raises(LimitReached):
        actions.authorise_contacts(
            token, [contact(f"P{i}", f"p{i}@nic.fr") for i in range(3)], door="web"
        )


def test_bad_input_is_refused_with_the_field_and_nothing_written(catalog):
    token = invite(catalog["fr"])
    with pytest.raises(InvalidInput) as err:
        actions.authorise_contacts(
            token,
            [contact("Ana", "ana@nic.fr"), contact("Bo", "bo@nic.fr", phone="+33 12")],
            door="web",
        )
    assert err.value.field == "phone"
    with pytest.raises(InvalidInput) as err:
        actions.authorise_contacts(token, [contact("Ana", "not-an-address")], door="web")
    assert err.value.field == "email"
    assert not Membership.objects.exists()


def test_email_rule_admin_address_or_admin_in_copy(catalog):
    rule = actions.email_authorisation_rule
    assert rule("admin@nic.fr", "ADMIN@nic.fr", []) == "admin-address"
    assert rule("admin@nic.fr", "jean@gmail.example", ["admin@nic.fr"]) == "admin-in-copy"
    with pytest.raises(NotAuthorised, match="admin@nic.fr"):
        rule("admin@nic.fr", "jean@gmail.example", ["other@nic.fr"])


def test_authorisation_by_email_records_the_rule(catalog):
    token = invite(catalog["fr"])
    result = actions.authorise_contacts(
        token,
        [contact("Ana", "ana@nic.fr")],
        door="email",
        sender="jean@perso.example",
        copied=["admin@nic.fr"],
    )
    m = result.added[0]
    assert (m.authorisation_rule, m.authorised_by, m.authorised_via) == (
        "admin-in-copy",
        "jean@perso.example",
        "email",
    )
    entry = AuditEntry.objects.get(action="authorise")
    assert entry.actor == "admin-contact:jean@perso.example" and entry.door == "email"


def test_replacing_a_contact_needs_the_admin_contact(catalog, make_member, outbox):
    tld = catalog["fr"]
    for name in ("Ana One", "Bo Two", "Cy Three"):
        make_member(tld, name=name)
    manage = links.invitation_token(actions.request_manage_link(tld, actor=Actor.system()))
    result = actions.authorise_contacts(
        manage, [contact("Di Four", "di@nic.fr")], remove=[2], door="web"
    )
    assert [m.person.name for m in result.removed] == ["Bo Two"]
    assert result.added[0].number == 2  # the freed number is reused
    assert Membership.objects.get(person__name="Bo Two").status == Membership.Status.REMOVED
    ended = outbox("contact-ended")
    assert ended and ended[0][0] == "bo@nic.fr"


def test_removing_an_unknown_number_changes_nothing(catalog, make_member):
    make_member(catalog["fr"])
    manage = links.invitation_token(
        actions.request_manage_link(catalog["fr"], actor=Actor.system())
    )
    with pytest.raises(NotFound):
        actions.authorise_contacts(manage, [], remove=[1, 7], door="web")
    assert Membership.objects.get().status == "active"


# --- An authorisation proposes a membership; it never changes an existing person -------------------

MALLORY = ContactInput(
    name="Mallory Impostor",
    email="ana@nic.fr",
    phones=[("+31 20 123 4567", "24/7")],
    timezone="Asia/Tokyo",
    languages="ja",
)


def test_naming_a_member_of_another_cctld_changes_nothing_of_theirs(catalog, make_member, outbox):
    make_member(catalog["fr"], name="Ana Lopez", email="ana@nic.fr")
    before = person_state("ana@nic.fr")

    (m,) = actions.authorise_contacts(invite(catalog["nl"]), [MALLORY], door="web").added

    assert person_state("ana@nic.fr") == before
    assert (m.tld, m.status, m.person.email) == (catalog["nl"], "pending", "ana@nic.fr")
    assert m.named_as == "Mallory Impostor"  # the authoriser sees what they typed, not Ana's data
    to, mail = outbox("confirmation")[-1]
    text = body_of(mail)
    assert to == "ana@nic.fr" and ".nl" in text and "do not change" in text
    assert "Mallory" not in text and "Tokyo" not in text
    assert not outbox("colleague-notice")
    actions.confirm_contact(
        links.confirmation_token(m), door="web", password="another passphrase 9"
    )
    assert person_state("ana@nic.fr") == before  # confirming applies nothing either
    assert Membership.objects.get(pk=m.pk).status == "active"
    assert actions.details_on_confirmation(m) is None


def test_naming_a_staff_account_changes_nothing_about_it(catalog, staff):
    staff("committee", email="chair@tldops.example", position="chair")
    before = person_state("chair@tldops.example")
    impostor = ContactInput(
        name="Someone Else", email="CHAIR@tldops.example", phones=[("+31 20 123 4567", "office")]
    )

    (m,) = actions.authorise_contacts(invite(catalog["nl"]), [impostor], door="web").added

    assert person_state("chair@tldops.example") == before
    actions.confirm_contact(links.confirmation_token(m), door="web", password="x" * 20)
    assert person_state("chair@tldops.example") == before
    assert Person.objects.get(email="chair@tldops.example").user.check_password(PASSWORD)


def test_a_second_authoriser_cannot_rewrite_a_pending_person(catalog, outbox):
    """Nobody has confirmed yet: the first naming made the person, the second changes nothing,
    and confirming applies the details of the membership the person accepts."""
    (nl,) = actions.authorise_contacts(invite(catalog["nl"]), [MALLORY], door="web").added
    first = person_state("ana@nic.fr")
    (fr,) = actions.authorise_contacts(
        invite(catalog["fr"]), [contact("Ana Lopez", "ana@nic.fr")], door="web"
    ).added
    assert person_state("ana@nic.fr") == first
    assert actions.details_on_confirmation(fr)["name"] == "Ana Lopez"

    actions.confirm_contact(links.confirmation_token(fr), door="web", password="a long pass phrase")
    ana = Person.objects.get(email="ana@nic.fr")
    assert (ana.name, ana.timezone, ana.languages) == ("Ana Lopez", "Europe/Paris", ["fr", "en"])
    assert [p.number for p in ana.phones.all()] == ["+33123456789"]
    after = person_state("ana@nic.fr")
    actions.confirm_contact(links.confirmation_token(nl), door="web")
    assert person_state("ana@nic.fr") == after  # the second confirmation applies nothing


def test_a_named_person_may_decline_and_nothing_of_theirs_changes(catalog, make_member, outbox):
    make_member(catalog["fr"], name="Ana Lopez", email="ana@nic.fr")
    make_member(catalog["nl"], name="Jan Jansen", email="jan@nic.nl")
    before = person_state("ana@nic.fr")
    (m,) = actions.authorise_contacts(invite(catalog["nl"]), [MALLORY], door="web").added
    token = links.confirmation_token(m)

    declined = actions.decline_contact(token, door="web")

    assert (declined.status, declined.confirmed_at) == ("left", None)
    assert person_state("ana@nic.fr") == before
    assert Membership.objects.get(person__email="ana@nic.fr", tld=catalog["fr"]).status == "active"
    assert {r for r, _m in outbox("contact-ended")} == {"ana@nic.fr", "jan@nic.nl"}
    with pytest.raises(LinkInvalid):
        actions.confirm_contact(token, door="web")
    entry = AuditEntry.objects.get(action="contact-left")
    assert entry.door == "web" and "declined" in entry.summary


def test_an_invitation_link_cannot_remove_contacts(catalog, make_member):
    make_member(catalog["fr"], name="Ana Lopez")
    token = invite(catalog["fr"])
    with pytest.raises(NotAuthorised, match="management link") as err:
        actions.authorise_contacts(token, [], remove=[1], door="web")
    assert err.value.field == "remove"
    with pytest.raises(NotAuthorised):
        actions.authorise_contacts(token, [contact("Bo Li", "bo@nic.fr")], remove=[1], door="web")
    assert Membership.objects.get().status == "active"
    assert not Person.objects.filter(email="bo@nic.fr").exists()
    assert links.open_invitation(token)  # the refusal did not use the link up


def test_a_contact_number_beyond_the_database_range_is_not_found_in_every_door(
    catalog, make_member
):
    """The portal form and a mail reply reach the action without the API's schema: a number
    beyond SQLite's integer (2**70) used to crash the door; it is now an ordinary "no such"."""
    tld = catalog["fr"]
    make_member(tld, name="Ana Lopez")
    manage = links.invitation_token(actions.request_manage_link(tld, actor=Actor.system()))
    for number in (2**70, 2**63, 40_000, 0, -1):
        with pytest.raises(NotFound) as err:
            actions.authorise_contacts(manage, [], remove=[number], door="email")
        assert err.value.field == "remove"
    with pytest.raises(InvalidInput):
        actions.authorise_contacts(manage, [], remove=list(range(1, 1000)), door="web")
    assert Membership.objects.get().status == "active"


def test_member_edits_own_details_and_colleagues_are_told(catalog, make_member, outbox):
    ana = make_member(catalog["fr"], name="Ana Lopez")
    make_member(catalog["fr"], name="Bo Li")
    actions.update_profile(
        ana,
        actions.ProfileChange(phones=[("+33 6 12 34 56 78", "mobile")], timezone="UTC"),
        actor=Actor.of(ana, "web"),
    )
    assert ana.phones.get().number == "+33612345678"
    ((rcpt, msg),) = outbox("colleague-notice")
    assert rcpt == "bo@nic.fr" and "+33612345678" in body_of(msg)
    entry = AuditEntry.objects.get(action="profile-updated")
    assert entry.before["phones"][0]["number"] == "+33123456789"
    assert entry.after["phones"][0]["number"] == "+33612345678"


def test_member_cannot_edit_someone_else(catalog, make_member):
    ana = make_member(catalog["fr"], name="Ana Lopez")
    bo = make_member(catalog["fr"], name="Bo Li")
    with pytest.raises(NotAuthorised):
        actions.update_profile(
            bo, actions.ProfileChange(timezone="UTC"), actor=Actor.of(ana, "web")
        )


def test_member_may_leave(catalog, make_member):
    ana = make_member(catalog["fr"])
    actions.leave(ana, actor=Actor.of(ana, "web"))
    assert ana.memberships.get().status == Membership.Status.LEFT
    with pytest.raises(NotFound):
        actions.leave(ana, actor=Actor.of(ana, "web"))


def test_reminders_are_sent_once_each_and_invitations_expire(catalog, settings, outbox):
    settings.INVITATION_REMINDER_DAYS = [7, 14]
    inv = actions.invite_cctld(catalog["fr"], actor=Actor.system())
    now = inv.created_at
    assert actions.send_due_reminders(now=now + timedelta(days=6)) == 0
    assert actions.send_due_reminders(now=now + timedelta(days=8)) == 1
    assert actions.send_due_reminders(now=now + timedelta(days=8)) == 0
    assert actions.send_due_reminders(now=now + timedelta(days=15)) == 1
    assert actions.send_due_reminders(now=now + timedelta(days=20)) == 0
    assert len(outbox("invite-reminder")) == 2
    actions.send_due_reminders(now=now + timedelta(days=settings.INVITATION_TTL_DAYS + 1))
    inv.refresh_from_db()
    assert inv.status == Invitation.Status.EXPIRED


def test_staff_accounts_and_roles(db, staff):
    chair = staff("committee", "chair@tldops.example", position="chair")
    sec = staff("secretariat", "sec@tldops.example")
    with pytest.raises(InvalidInput):
        staff("secretariat", "sec2@tldops.example", position="chair")
    with pytest.raises(NotAuthorised):
        actions.set_role(chair, role="member", actor=Actor.of(sec, "web"))
    actions.set_role(sec, role="committee", position="liaison", actor=Actor.of(chair, "web"))
    sec.refresh_from_db()
    assert (sec.role, sec.committee_position) == ("committee", "liaison")


def test_a_weak_password_is_refused(db):
    with pytest.raises(InvalidInput) as err:
        actions.create_staff(
            name="X",
            email="x@tldops.example",
            role="secretariat",
            password="1234",
            actor=Actor.system(),
        )
    assert err.value.field == "password"
    assert not Person.objects.exists()


def test_asking_for_a_manage_link_again_does_not_void_the_first(catalog, outbox):
    tld = catalog["fr"]
    first = actions.request_manage_link(tld, actor=Actor.authoriser("anonymous", "web"))
    again = actions.request_manage_link(tld, actor=Actor.authoriser("anonymous", "web"))
    assert again.pk == first.pk and len(outbox("manage")) == 1  # no flood of the admin address
    Invitation.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - timedelta(minutes=actions.MANAGE_LINK_INTERVAL_MINUTES + 1)
    )
    later = actions.request_manage_link(tld, actor=Actor.authoriser("anonymous", "web"))
    assert later.pk != first.pk and len(outbox("manage")) == 2
    assert links.open_invitation(links.invitation_token(first))  # the first link still works


def test_mail_is_written_in_english_whatever_the_actors_language(catalog, outbox):
    from django.utils import translation

    with translation.override("fr"):
        actions.invite_cctld(catalog["fr"], actor=Actor.system())
    ((_rcpt, msg),) = outbox("invite")
    assert msg["Subject"].strip().startswith("TLD-OPS: please name the security contacts of .fr")
    assert "Dear administrative contact" in body_of(msg)


def test_role_positions_are_validated(db, staff):
    chair = staff("committee", "chair@tldops.example", position="chair")
    sec = staff("secretariat", "sec@tldops.example")
    for role, position in (("committee", "emperor"), ("secretariat", "chair")):
        with pytest.raises(InvalidInput):
            actions.set_role(sec, role=role, position=position, actor=Actor.of(chair, "web"))
    sec.refresh_from_db()
    assert (sec.role, sec.committee_position) == ("secretariat", "")


# --- Bounds on what members, authorisers and staff type (issue 7, item 4) -------------------------


def _unchanged(person: Person, snapshot: dict) -> bool:
    person.refresh_from_db()
    return person.snapshot() == snapshot


def test_a_megabyte_name_through_the_profile_is_refused_and_nothing_changes(
    catalog, make_member, outbox
):
    ana = make_member(catalog["fr"], name="Ana Lopez")
    make_member(catalog["fr"], name="Bo Li")
    before = ana.snapshot()
    with pytest.raises(InvalidInput, match="at most 200 characters") as err:
        actions.update_profile(
            ana, actions.ProfileChange(name="A" * 1_000_000), actor=Actor.of(ana, "web")
        )
    assert err.value.field == "name"
    assert len(err.value.message) < 200  # the refused value is not repeated whole
    assert _unchanged(ana, before)
    assert not outbox("colleague-notice")
    assert not AuditEntry.objects.filter(action="profile-updated").exists()


def test_a_name_of_exactly_the_limit_is_accepted_and_one_over_is_not(catalog, make_member):
    ana = make_member(catalog["fr"], name="Ana Lopez")
    actions.update_profile(ana, actions.ProfileChange(name="A" * 200), actor=Actor.of(ana, "web"))
    assert Person.objects.get(pk=ana.pk).name == "A" * 200
    with pytest.raises(InvalidInput):
        actions.update_profile(
            ana, actions.ProfileChange(name="B" * 201), actor=Actor.of(ana, "web")
        )
    assert Person.objects.get(pk=ana.pk).name == "A" * 200


def test_two_thousand_phones_are_refused_and_nothing_changes(catalog, make_member, outbox):
    ana = make_member(catalog["fr"], name="Ana Lopez")
    before = ana.snapshot()
    phones = [(f"+33 1 23 45 {i // 100:02d} {i % 100:02d}", "office") for i in range(2000)]
    with pytest.raises(InvalidInput, match="At most 5 phone numbers") as err:
        actions.update_profile(
            ana, actions.ProfileChange(phones=phones), actor=Actor.of(ana, "web")
        )
    assert err.value.field == "phones"
    assert _unchanged(ana, before)
    assert not outbox("colleague-notice")


def test_the_phone_count_is_a_setting(catalog, make_member, settings):
    settings.MAX_PHONES_PER_PERSON = 2
    ana = make_member(catalog["fr"], name="Ana Lopez")
    three = [("+33 1 23 45 67 80", "office"), ("+33 1 23 45 67 81", "office")]
    actions.update_profile(ana, actions.ProfileChange(phones=three), actor=Actor.of(ana, "web"))
    with pytest.raises(InvalidInput, match="At most 2"):
        actions.update_profile(
            ana,
            actions.ProfileChange(phones=[*three, ("+33 1 23 45 67 82", "mobile")]),
            actor=Actor.of(ana, "web"),
        )
    assert ana.phones.count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            actions.ProfileChange(phones=[("+33 1 23 45 67 89" + " " * 100 + "0", "office")]),
            "phone",
        ),
        (actions.ProfileChange(phones=[("+33 1 23 45 67 89", "x" * 10_000)]), "phones"),
        (actions.ProfileChange(timezone="Europe/" + "P" * 100_000), "timezone"),
        (actions.ProfileChange(languages=["en"] * 11), "languages"),
        (actions.ProfileChange(languages="fr," * 100_000), "languages"),
        (actions.ProfileChange(languages=["x" * 100_000]), "languages"),
        (actions.ProfileChange(name="Ana\u202eLopez"), "name"),
        (actions.ProfileChange(name="Ana\x00Lopez"), "name"),
    ],
)
def test_every_profile_field_is_bounded(catalog, make_member, change, field):
    ana = make_member(catalog["fr"], name="Ana Lopez")
    before = ana.snapshot()
    with pytest.raises(InvalidInput) as err:
        actions.update_profile(ana, change, actor=Actor.of(ana, "api"))
    assert err.value.field == field
    assert len(err.value.message) < 300
    assert _unchanged(ana, before)


def test_an_authoriser_is_held_to_the_same_bounds(catalog):
    token = invite(catalog["fr"])
    many_phones = ContactInput(
        name="Ana", email="ana@nic.fr", phones=[("+33 1 23 45 67 89", "office")] * 6
    )
    for bad, field in [
        (contact("A" * 201, "ana@nic.fr"), "name"),
        (contact("Ana", "a" * 300 + "@nic.fr"), "email"),
        (many_phones, "phones"),
    ]:
        with pytest.raises(InvalidInput) as err:
            actions.authorise_contacts(token, [bad], door="api")
        assert err.value.field == field
    assert not Person.objects.exists()
    assert links.open_invitation(token)


def test_thousands_of_contacts_are_refused_before_any_is_read(catalog):
    token = invite(catalog["fr"])
    many = [ContactInput(name="", email="") for _i in range(5000)]  # each would be invalid
    with pytest.raises(LimitReached, match="at most 3"):
        actions.authorise_contacts(token, many, door="api")


def test_staff_free_texts_are_bounded(catalog, make_member, staff):
    sec = staff()
    ana = make_member(catalog["fr"], name="Ana Lopez")
    membership = ana.memberships.get()
    with pytest.raises(InvalidInput) as err:
        actions.remove_contact(membership, actor=Actor.of(sec, "cli"), reason="r" * 100_000)
    assert err.value.field == "reason"
    with pytest.raises(InvalidInput) as err:
        actions.invite_cctld(catalog["nl"], actor=Actor.of(sec, "cli"), batch="b" * 101)
    assert err.value.field == "batch"
    with pytest.raises(InvalidInput) as err:
        actions.create_staff(
            name="N" * 201,
            email="long@tldops.example",
            role="secretariat",
            password="a long enough passphrase 42",
            actor=Actor.system(),
        )
    assert err.value.field == "name"
    membership.refresh_from_db()
    assert membership.status == "active" and not Invitation.objects.filter(tld__alabel="nl")
