"""The email door: an admin contact's reply through the real intake (aiosmtpd on loopback), the
reply parser, loop protection, and the answer delivered through a smarthost."""

from __future__ import annotations

import email
import email.policy
import smtplib
from email.message import EmailMessage

import pytest

from tests.conftest import body_of, person_state
from tests.lists import smtp as smtp_fixtures
from tldops.directory import actions, links
from tldops.directory.audit import Actor
from tldops.directory.mail_door import parse_reply
from tldops.directory.models import AuditEntry, Invitation, Membership, Person
from tldops.kernel.errors import InvalidInput
from tldops.mail import outbox as outbox_module
from tldops.mail.models import Delivery, InboundMessage

intake_server = smtp_fixtures.intake_server
smarthost = smtp_fixtures.smarthost

ADMIN = "admin@nic.fr"

REPLY_BODY = """\
Hello,

Contact: Marie Curie <marie@nic.fr>; +33 1 23 45 67 89 (office); +33 6 12 34 56 78 (24/7); tz=Europe/Paris; lang=fr,en
contact :  Paul  Langevin <paul@nic.fr> ; +33 1 98 76 54 32 ; TZ = Europe/Paris ; Lang = fr

Best regards,
--\x20
Jean Admin
Contact: Signature Person <sig@nic.fr>

> Or simply reply to this message, with one line per contact in this form:
>   Contact: Full Name <name@example.net>; +1 613 555 0100 (office)
"""


def send(servers, handler, *, sender, subject, body, to=(), cc=(), envelope=None, headers=None,
         raw_subject=None, raw_from=None):  # fmt: skip
    """Send a reply to the authorisation address through the intake and wait for its processing.

    ``raw_subject`` and ``raw_from`` (bytes) are written as they are, where ``subject`` and
    ``sender`` would be encoded."""
    from django.conf import settings

    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to or [settings.AUTHORISE_ADDRESS])
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = "the subject" if raw_subject else subject
    msg["Message-ID"] = "<reply-1@mail.nic.fr>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    raw = msg.as_bytes()
    if raw_subject:
        raw = raw.replace(b"Subject: the subject", b"Subject: " + raw_subject, 1)
    if raw_from:
        raw = raw.replace(b"From: " + sender.encode(), b"From: " + raw_from, 1)
    with smtplib.SMTP("127.0.0.1", servers.ports[0]) as smtp:
        smtp.sendmail(sender if envelope is None else envelope, [settings.AUTHORISE_ADDRESS], raw)
    servers.run(handler.drain())
    return InboundMessage.objects.latest("id")


@pytest.fixture
def invitation(catalog) -> Invitation:
    return actions.invite_cctld(catalog["fr"], actor=Actor.system())


def subject_of(invitation: Invitation) -> str:
    return (
        f"Re: TLD-OPS: please name the security contacts of .fr "
        f"[ref:{links.invitation_ref(invitation)}]"
    )


def replies(outbox):
    return outbox("authorise-reply")


def test_reply_from_the_admin_address_names_the_contacts(intake_server, invitation, outbox):
    servers, handler = intake_server
    message = send(servers, handler, sender=ADMIN, subject=subject_of(invitation), body=REPLY_BODY)

    assert message.status == InboundMessage.Status.DONE, message.result
    members = list(Membership.objects.select_related("person").order_by("number"))
    assert [(m.person.email, m.number, m.status) for m in members] == [
        ("marie@nic.fr", 1, "pending"),
        ("paul@nic.fr", 2, "pending"),
    ]
    assert {m.authorisation_rule for m in members} == {"admin-address"}
    assert {m.authorised_via for m in members} == {"email"}
    assert {m.authorised_by for m in members} == {ADMIN}
    marie = members[0].person
    assert [(p.number, p.label) for p in marie.phones.all()] == [
        ("+33123456789", "office"),
        ("+33612345678", "24/7"),
    ]
    assert marie.timezone == "Europe/Paris" and marie.languages == ["fr", "en"]
    assert members[1].person.name == "Paul Langevin"
    assert not Person.objects.filter(email="sig@nic.fr").exists()  # the signature is ignored
    confirmations = {r for r, _m in outbox("confirmation")}
    assert confirmations == {"marie@nic.fr", "paul@nic.fr"}
    ((to, reply),) = replies(outbox)
    assert to == ADMIN
    assert reply["Subject"].strip() == subject_of(invitation)
    assert reply["In-Reply-To"] == "<reply-1@mail.nic.fr>"
    assert reply["Auto-Submitted"] == "auto-generated"
    text = body_of(reply)
    assert "has been applied" in text and "sent from the IANA administrative contact" in text
    assert "1. Marie Curie <marie@nic.fr>" in text
    entry = AuditEntry.objects.get(action="authorise")
    assert entry.door == "email" and entry.after["rule"] == "admin-address"
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ANSWERED


def test_reply_from_a_personal_address_with_the_admin_in_copy(intake_server, invitation, outbox):
    servers, handler = intake_server
    message = send(
        servers,
        handler,
        sender="Jean Admin <jean.admin@gmail.example>",
        cc=[ADMIN],
        subject=subject_of(invitation),
        body="Contact: Marie Curie <marie@nic.fr>; +33 1 23 45 67 89 (office)\n",
    )
    assert message.status == InboundMessage.Status.DONE, message.result
    membership = Membership.objects.get()
    assert membership.authorisation_rule == "admin-in-copy"
    assert membership.authorised_by == "jean.admin@gmail.example"
    recipients = [r for r, _m in replies(outbox)]
    assert recipients == ["jean.admin@gmail.example", ADMIN]  # the admin sees what was done
    assert "administrative contact address was in copy" in body_of(replies(outbox)[0][1])


def test_reply_from_a_stranger_is_refused_with_a_clear_answer(intake_server, invitation, outbox):
    servers, handler = intake_server
    message = send(
        servers,
        handler,
        sender="mallory@evil.example",
        subject=subject_of(invitation),
        body="Contact: Mallory <mallory@evil.example>; +33 1 23 45 67 89\n",
    )
    assert message.status == InboundMessage.Status.REJECTED
    assert "admin@nic.fr" in message.result
    assert not Membership.objects.exists()
    assert not Person.objects.filter(email="mallory@evil.example").exists()
    assert not outbox("confirmation")
    ((to, reply),) = replies(outbox)
    assert to == "mallory@evil.example"
    text = body_of(reply)
    assert "nothing was changed" in text
    assert "IANA administrative contact address (admin@nic.fr)" in text
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SENT  # the link still works for the admin


def test_bad_phone_number_is_answered_and_nothing_written(intake_server, invitation, outbox):
    servers, handler = intake_server
    message = send(
        servers,
        handler,
        sender=ADMIN,
        subject=subject_of(invitation),
        body=(
            "Contact: Marie Curie <marie@nic.fr>; +33 1 23 45 67 89\n"
            "Contact: Paul Langevin <paul@nic.fr>; call me maybe (office)\n"
        ),
    )
    assert message.status == InboundMessage.Status.REJECTED
    assert not Person.objects.exists() and not Membership.objects.exists()
    text = body_of(replies(outbox)[0][1])
    assert "“call me maybe” is not a phone number" in text
    assert "nothing was changed" in text


def test_a_second_reply_finds_the_link_used(intake_server, invitation, outbox, settings):
    settings.BASE_URL = "https://tldops.example"
    servers, handler = intake_server
    body = "Contact: Marie Curie <marie@nic.fr>\n"
    send(servers, handler, sender=ADMIN, subject=subject_of(invitation), body=body)
    second = send(
        servers,
        handler,
        sender=ADMIN,
        subject=subject_of(invitation),
        body="Contact: Paul <paul@nic.fr>\n",
    )
    assert second.status == InboundMessage.Status.REJECTED
    text = " ".join(body_of(replies(outbox)[-1][1]).split())
    assert "already been used" in text
    # Nothing to correct: the answer stands, and changing it takes a management link.
    assert "correct it and reply again" not in text
    assert "ask for a management link at https://tldops.example/manage/" in text
    assert Membership.objects.count() == 1


def test_every_refused_field_and_line_is_answered_at_once(intake_server, invitation, outbox):
    servers, handler = intake_server
    message = send(
        servers,
        handler,
        sender=ADMIN,
        subject=subject_of(invitation),
        body=(
            "Contact: Marie Curie <marie@nic.fr>; call me maybe (office); tz=Mars/Olympus\n"
            "\n"
            "Contact: Paul Langevin <paul@nic.fr>; lang=klingonese\n"
        ),
    )
    assert message.status == InboundMessage.Status.REJECTED
    text = body_of(replies(outbox)[0][1])
    assert "Line 1: “call me maybe” is not a phone number" in text
    assert "Line 1: Unknown time zone “Mars/Olympus”" in text
    assert "Line 3: Unknown language “klingonese”" in text
    assert not Person.objects.exists() and not Membership.objects.exists()


def test_parser_reports_every_unreadable_line():
    with pytest.raises(InvalidInput) as caught:
        parse_reply("Contact: Marie Curie; +33 1 23\nRemove: the second one\nContact: Paul")
    assert [e.message.split(":")[0] for e in caught.value.errors] == ["Line 1", "Line 2", "Line 3"]


def test_management_reply_removes_and_replaces(
    intake_server, catalog, make_member, outbox, settings
):
    make_member(catalog["fr"], name="Old Contact", email="old@nic.fr")
    manage = actions.request_manage_link(catalog["fr"], actor=Actor.system())
    servers, handler = intake_server
    message = send(
        servers,
        handler,
        sender=ADMIN,
        subject=f"RE: TLD-OPS: manage [ref:{links.invitation_ref(manage)}]",
        body="remove:1\nContact: New Contact <new@nic.fr>; +33 1 23 45 67 89 (mobile)\n",
    )
    assert message.status == InboundMessage.Status.DONE, message.result
    statuses = dict(Membership.objects.values_list("person__email", "status"))
    assert statuses == {"old@nic.fr": "removed", "new@nic.fr": "pending"}
    text = body_of(replies(outbox)[0][1])
    assert "Removed:" in text and "Old Contact" in text


# One address whose quoted local part looks like a list of three: answered, it must stay one.
QUOTED = '"x,victim1@one.example,victim2@two.example"@evil.example'
# An encoded word that decodes to a CR LF and a header of the attacker's.
INJECTED = b"=?utf-8?q?Re:_hi=0D=0ABcc:_victim@evil.example?="


def test_a_quoted_comma_sender_gets_one_answer(intake_server, invitation, outbox):
    servers, handler = intake_server
    message = send(
        servers,
        handler,
        sender=QUOTED,
        cc=[QUOTED, "victim3@three.example"],
        subject=subject_of(invitation),
        body="Contact: Marie Curie <marie@nic.fr>\n",
    )
    assert message.status == InboundMessage.Status.REJECTED, message.result
    ((to, reply),) = replies(outbox)
    assert to == QUOTED
    assert [a.addr_spec for a in reply["To"].addresses] == [QUOTED]
    assert reply["Cc"] is None


def test_an_encoded_line_break_in_the_subject_is_answered_on_one_line(
    intake_server, invitation, outbox
):
    servers, handler = intake_server
    ref = links.invitation_ref(invitation)
    message = send(
        servers,
        handler,
        sender=ADMIN,
        subject="",
        raw_subject=INJECTED + f" [ref:{ref}]".encode(),
        body="Contact: Marie Curie <marie@nic.fr>\n",
    )
    assert message.status == InboundMessage.Status.DONE, message.result
    assert Membership.objects.get().person.email == "marie@nic.fr"
    ((to, reply),) = replies(outbox)
    assert to == ADMIN
    assert reply["Subject"] == f"Re: hi Bcc: victim@evil.example [ref:{ref}]"
    assert reply["Bcc"] is None and b"\nBcc:" not in reply.as_bytes()


def test_an_encoded_line_break_in_the_sender_name_is_read_and_answered(
    intake_server, invitation, outbox
):
    servers, handler = intake_server
    message = send(
        servers,
        handler,
        sender=ADMIN,
        raw_from=b"=?utf-8?q?Jean=0D=0ABcc:_victim@evil.example?= <admin@nic.fr>",
        subject=subject_of(invitation),
        body="Contact: Marie Curie <marie@nic.fr>\n",
    )
    assert message.status == InboundMessage.Status.DONE, message.result
    assert Membership.objects.get().authorised_by == ADMIN
    ((to, reply),) = replies(outbox)
    assert to == ADMIN and reply["Bcc"] is None


def test_subject_without_reference_gets_an_explanation(intake_server, invitation, outbox):
    servers, handler = intake_server
    message = send(servers, handler, sender=ADMIN, subject="Our contacts", body=REPLY_BODY)
    assert message.status == InboundMessage.Status.REJECTED
    assert "[ref:" in body_of(replies(outbox)[0][1])
    assert not Membership.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"headers": {"Auto-Submitted": "auto-replied"}}, "Auto-Submitted"),
        ({"envelope": ""}, "bounce"),
        ({"sender": "authorise@tldops.localhost"}, "our own address"),
        ({"headers": {"Precedence": "bulk"}}, "bulk"),
    ],
)
def test_automatic_messages_are_never_answered(intake_server, invitation, outbox, kwargs, why):
    servers, handler = intake_server
    message = send(
        servers,
        handler,
        **{"sender": ADMIN, "subject": subject_of(invitation), "body": REPLY_BODY, **kwargs},
    )
    assert message.status == InboundMessage.Status.REJECTED
    assert why in message.result
    assert not replies(outbox)
    assert not Membership.objects.exists()


def test_the_answer_reaches_the_sender_through_the_smarthost(
    intake_server, invitation, smarthost, settings
):
    servers, handler = intake_server
    send(servers, handler, sender=ADMIN, subject=subject_of(invitation), body=REPLY_BODY)
    delivered = outbox_module.deliver_due()
    assert delivered >= 3  # the answer and two confirmation requests (and the invitation)
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    answers = [m for m in smarthost.messages if m.rcpt_tos == [ADMIN]]
    parsed = [email.message_from_bytes(m.content, policy=email.policy.default) for m in answers]
    (answer,) = [p for p in parsed if p["Subject"].strip().startswith("Re:")]
    assert "has been applied" in body_of(answer)
    assert answer["Reply-To"] == settings.AUTHORISE_ADDRESS
    assert {m.rcpt_tos[0] for m in smarthost.messages} >= {"marie@nic.fr", "paul@nic.fr"}


# --- The parser alone --------------------------------------------------------------------------


def test_parser_reads_several_contacts_and_ignores_quotes_and_signature():
    request = parse_reply(REPLY_BODY)
    assert [(c.name, c.email) for c in request.contacts] == [
        ("Marie Curie", "marie@nic.fr"),
        ("Paul Langevin", "paul@nic.fr"),
    ]
    marie, paul = request.contacts
    assert marie.phones == [("+33 1 23 45 67 89", "office"), ("+33 6 12 34 56 78", "24/7")]
    assert marie.timezone == "Europe/Paris" and marie.languages == ["fr", "en"]
    assert paul.phones == [("+33 1 98 76 54 32", "office")]
    assert paul.languages == ["fr"]
    assert request.remove == []


def test_parser_reads_remove_lines_in_several_forms():
    request = parse_reply("Remove: 2\nREMOVE CONTACT : 3 (Jane Doe)\nremove: 2, 1\n")
    assert request.remove == [2, 3, 1]
    assert request.contacts == []


def test_parser_stops_at_an_unquoted_original_message():
    text = (
        "Contact: Marie <marie@nic.fr>\n\n"
        "-----Original Message-----\n"
        "From: TLD-OPS Secretariat <secretariat@tldops.localhost>\n"
        "  Contact: Other <other@nic.fr>\n"
    )
    assert [c.email for c in parse_reply(text).contacts] == ["marie@nic.fr"]
    gmail = (
        "Contact: A <a@nic.fr>\nOn Mon, 2 Jun 2025 at 10:00, TLD-OPS wrote:\nContact: B <b@nic.fr>"
    )
    assert [c.email for c in parse_reply(gmail).contacts] == ["a@nic.fr"]


def test_parser_skips_the_example_line_and_accepts_label_first_phones():
    text = (
        "Contact: Full Name <name@example.net>; +1 613 555 0100 (office)\n"
        "Contact: marie@nic.fr Marie; 24/7: +33 6 12 34 56 78; phone=+33 1 23 45 67 89\n"
    )
    (contact,) = parse_reply(text).contacts
    assert (contact.name, contact.email) == ("Marie", "marie@nic.fr")
    assert contact.phones == [("+33 6 12 34 56 78", "24/7"), ("+33 1 23 45 67 89", "office")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Thanks, I will do it next week.", "No “Contact:” or “Remove:” line"),
        ("> Contact: Quoted <q@nic.fr>", "No “Contact:” or “Remove:” line"),
        ("Hello\nContact: Marie Curie; +33 1 23 45 67 89", "Line 2: the contact has no email"),
        ("Remove: the second one", "Line 1: “Remove:” must be followed"),
    ],
)
def test_parser_errors_say_what_to_fix(text, message):
    with pytest.raises(InvalidInput) as exc:
        parse_reply(text)
    assert message in exc.value.message


def test_html_only_reply_is_read(intake_server, invitation):
    servers, handler = intake_server
    from django.conf import settings

    msg = EmailMessage()
    msg["From"] = ADMIN
    msg["To"] = settings.AUTHORISE_ADDRESS
    msg["Subject"] = subject_of(invitation)
    msg.set_content(
        "<p>Contact: Marie Curie &lt;marie@nic.fr&gt;; +33 1 23 45 67 89 (office)</p>"
        "<blockquote>Contact: Quoted &lt;q@nic.fr&gt;</blockquote>",
        subtype="html",
    )
    with smtplib.SMTP("127.0.0.1", servers.ports[0]) as smtp:
        smtp.sendmail(ADMIN, [settings.AUTHORISE_ADDRESS], msg.as_bytes())
    servers.run(handler.drain())
    assert InboundMessage.objects.get().status == "done"
    assert list(Membership.objects.values_list("person__email", flat=True)) == ["marie@nic.fr"]


def test_a_reply_naming_known_people_changes_nothing_of_theirs(
    intake_server, catalog, make_member, staff, outbox
):
    """.nl's admin contact names a member of .fr and a staff account by mail: both keep their
    details before and after confirming, and the answer shows the names given, not theirs."""
    make_member(catalog["fr"], name="Ana Lopez", email="ana@nic.fr")
    staff("secretariat", email="sec@tldops.example")
    people = ("ana@nic.fr", "sec@tldops.example")
    before = {address: person_state(address) for address in people}
    invitation = actions.invite_cctld(catalog["nl"], actor=Actor.system())
    servers, handler = intake_server

    message = send(
        servers,
        handler,
        sender="admin@nic.nl",
        subject=f"Re: TLD-OPS [ref:{links.invitation_ref(invitation)}]",
        body=(
            "Contact: Mallory One <ana@nic.fr>; +31 20 123 4567 (24/7); tz=Asia/Tokyo; lang=ja\n"
            "Contact: Mallory Two <sec@tldops.example>; +31 20 123 4567; tz=Asia/Tokyo\n"
        ),
    )

    assert message.status == InboundMessage.Status.DONE, message.result
    assert {address: person_state(address) for address in people} == before
    text = body_of(replies(outbox)[0][1])
    assert "Mallory One <ana@nic.fr>" in text and "Ana Lopez" not in text
    for m in Membership.objects.filter(tld=catalog["nl"]):
        actions.confirm_contact(links.confirmation_token(m), door="web", password="x" * 20)
        assert Membership.objects.get(pk=m.pk).status == "active"
    assert {address: person_state(address) for address in people} == before


def test_a_reply_to_an_invitation_cannot_remove_contacts(
    intake_server, catalog, make_member, outbox
):
    make_member(catalog["fr"], name="Old Contact", email="old@nic.fr")
    invitation = actions.invite_cctld(catalog["fr"], actor=Actor.system())
    servers, handler = intake_server

    message = send(
        servers,
        handler,
        sender=ADMIN,
        subject=subject_of(invitation),
        body="Remove: 1\nContact: New Contact <new@nic.fr>; +33 1 23 45 67 89 (mobile)\n",
    )

    assert message.status == InboundMessage.Status.REJECTED
    assert dict(Membership.objects.values_list("person__email", "status")) == {
        "old@nic.fr": "active"
    }
    assert not Person.objects.filter(email="new@nic.fr").exists()
    text = body_of(replies(outbox)[0][1])
    assert "management link" in text and "nothing was changed" in text
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SENT
