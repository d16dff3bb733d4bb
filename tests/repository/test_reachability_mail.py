"""Answering a reachability check by reply, through the real intake (aiosmtpd on loopback, SMTP
and LMTP): from the person's main or other address it counts; anything else never errors and is
ignored or answered with a short explanation."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from email.message import EmailMessage

import pytest

from tests.conftest import body_of
from tests.lists import smtp as smtp_fixtures
from tests.repository.reach import next_round, subject_ref
from tldops.directory.models import AuditEntry, Person
from tldops.mail.models import InboundMessage
from tldops.repository import reachability
from tldops.repository.models import Challenge

intake_server = smtp_fixtures.intake_server


def send(servers, handler, *, sender, subject, body="Yes, still here.", envelope=None, headers=None,
         lmtp=False, raw_subject=None, raw_from=None):  # fmt: skip
    """Send a reply to the reachability address through the intake; wait for its processing.

    ``raw_subject`` and ``raw_from`` (bytes) are written as they are, where ``subject`` and
    ``sender`` would be encoded."""
    from django.conf import settings

    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = settings.REACHABILITY_ADDRESS
    msg["Subject"] = "the subject" if raw_subject else subject
    msg["Message-ID"] = "<reply-1@mail.example>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    raw = msg.as_bytes()
    if raw_subject:
        raw = raw.replace(b"Subject: the subject", b"Subject: " + raw_subject, 1)
    if raw_from:
        raw = raw.replace(b"From: " + sender.encode(), b"From: " + raw_from, 1)
    port = servers.ports[1 if lmtp else 0]
    client = smtplib.LMTP("127.0.0.1", port) if lmtp else smtplib.SMTP("127.0.0.1", port)
    with client as smtp:
        smtp.sendmail(
            sender if envelope is None else envelope,
            [settings.REACHABILITY_ADDRESS],
            raw,
        )
    servers.run(handler.drain())
    return InboundMessage.objects.latest("id")


@pytest.fixture
def checked(catalog, make_member, outbox):
    """Ana (with another address) and Marc of .fr got their check; returns Ana's check mail."""
    ana = make_member(catalog["fr"], name="Ana Lopez")
    Person.objects.filter(pk=ana.pk).update(alt_emails=["ana.lopez@gmail.example"])
    make_member(catalog["fr"], name="Marc Dubois", email="marc@nic.fr")
    _period, starts = next_round()
    reachability.run_due(starts)
    return next(m for to, m in outbox("reachability") if to == "ana@nic.fr")


def ana_challenge() -> Challenge:
    return Challenge.objects.get(person__email="ana@nic.fr")


def replies(outbox):
    return outbox("reachability-reply")


def test_a_reply_from_the_main_address_answers_the_check(intake_server, checked, outbox):
    servers, handler = intake_server
    message = send(
        servers, handler, sender="Ana Lopez <ana@nic.fr>", subject=f"Re: {checked['Subject']}"
    )
    assert message.route == "reachability"
    assert message.status == InboundMessage.Status.DONE, message.result
    challenge = ana_challenge()
    assert challenge.answered_via == "reply" and challenge.answered_at is not None
    entry = AuditEntry.objects.get(action="reachability-answered")
    assert entry.door == "email" and entry.person.email == "ana@nic.fr"
    ((to, reply),) = replies(outbox)
    assert to == "ana@nic.fr" and reply["In-Reply-To"] == "<reply-1@mail.example>"
    assert "has been recorded" in body_of(reply)
    assert not Challenge.objects.get(person__email="marc@nic.fr").answered_at


def test_a_reply_from_another_address_of_the_person_counts_too_over_lmtp(intake_server, checked):
    servers, handler = intake_server
    message = send(
        servers,
        handler,
        sender="ana.lopez@gmail.example",
        subject=f"RE: AW: {checked['Subject']}",
        lmtp=True,
    )
    assert message.status == InboundMessage.Status.DONE, message.result
    assert ana_challenge().answered_via == "reply"


def test_a_reply_from_someone_else_does_not_count_and_is_explained(intake_server, checked, outbox):
    servers, handler = intake_server
    message = send(servers, handler, sender="marc@nic.fr", subject=f"Fwd: {checked['Subject']}")
    assert message.status == InboundMessage.Status.REJECTED
    assert ana_challenge().answered_at is None
    ((to, reply),) = replies(outbox)
    assert to == "marc@nic.fr"
    assert "Only Ana Lopez can answer" in body_of(reply)


def test_a_wrong_reference_or_none_is_explained_to_people_we_know(intake_server, checked, outbox):
    servers, handler = intake_server
    ref = subject_ref(checked)
    wrong = ref[:-4] + ("0000" if not ref.endswith("0000") else "1111")
    message = send(servers, handler, sender="ana@nic.fr", subject=f"Re: check [ref:{wrong}]")
    assert message.status == InboundMessage.Status.REJECTED
    assert "does not match" in body_of(replies(outbox)[-1][1])
    message = send(servers, handler, sender="ana@nic.fr", subject="Am I reachable?")
    assert message.status == InboundMessage.Status.REJECTED
    assert "no reference" in body_of(replies(outbox)[-1][1])
    assert ana_challenge().answered_at is None


def test_strangers_and_automatic_answers_are_ignored_without_a_reply(
    intake_server, checked, outbox
):
    servers, handler = intake_server
    stranger = send(servers, handler, sender="spam@elsewhere.example", subject="Hello")
    assert stranger.status == InboundMessage.Status.REJECTED
    assert "not in the directory" in stranger.result
    away = send(
        servers,
        handler,
        sender="ana@nic.fr",
        subject=f"Out of office: {checked['Subject']}",
        headers={"Auto-Submitted": "auto-replied"},
    )
    assert away.status == InboundMessage.Status.REJECTED and "Auto-Submitted" in away.result
    bounce = send(servers, handler, sender="ana@nic.fr", subject=checked["Subject"], envelope="")
    assert bounce.status == InboundMessage.Status.REJECTED
    assert replies(outbox) == []
    assert ana_challenge().answered_at is None


def test_a_reply_to_an_old_check_does_not_answer_a_new_one(intake_server, checked, outbox):
    servers, handler = intake_server
    _period, starts = next_round()
    reachability.start_round("later", now=starts + timedelta(days=90))
    new = [m for to, m in outbox("reachability") if to == "ana@nic.fr"][-1]
    message = send(servers, handler, sender="ana@nic.fr", subject=f"Re: {checked['Subject']}")
    assert message.status == InboundMessage.Status.REJECTED
    assert "has ended" in message.result
    assert not Challenge.objects.filter(answered_at__isnull=False).exists()
    assert "has ended" in body_of(replies(outbox)[-1][1])
    # A reply to the new check answers the new check.
    message = send(servers, handler, sender="ana@nic.fr", subject=f"Re: {new['Subject']}")
    assert message.status == InboundMessage.Status.DONE, message.result
    assert [c.round.period for c in Challenge.objects.filter(answered_at__isnull=False)] == [
        "later"
    ]


# One address whose quoted local part looks like a list of three: answered, it must stay one.
QUOTED = '"x,victim1@one.example,victim2@two.example"@evil.example'


def test_a_quoted_comma_sender_gets_one_answer(intake_server, checked, outbox):
    servers, handler = intake_server
    message = send(
        servers,
        handler,
        sender=QUOTED,
        subject=f"Re: {checked['Subject']}",
        headers={"Cc": f"{QUOTED}, victim3@three.example"},
    )
    assert message.status == InboundMessage.Status.REJECTED, message.result
    assert ana_challenge().answered_at is None
    ((to, reply),) = replies(outbox)
    assert to == QUOTED
    assert [a.addr_spec for a in reply["To"].addresses] == [QUOTED]
    assert reply["Cc"] is None


def test_encoded_line_breaks_in_subject_and_name_are_read_and_answered(
    intake_server, checked, outbox
):
    servers, handler = intake_server
    message = send(
        servers,
        handler,
        sender="ana@nic.fr",
        raw_from=b"=?utf-8?q?Ana=0D=0ABcc:_victim@evil.example?= <ana@nic.fr>",
        subject="",
        raw_subject=b"=?utf-8?q?Re:_hi=0D=0ABcc:_victim@evil.example?= "
        + f"[ref:{subject_ref(checked)}]".encode(),
    )
    assert message.status == InboundMessage.Status.DONE, message.result
    assert ana_challenge().answered_via == "reply"
    ((to, reply),) = replies(outbox)
    assert to == "ana@nic.fr"
    assert reply["Subject"] == f"Re: hi Bcc: victim@evil.example [ref:{subject_ref(checked)}]"
    assert reply["Bcc"] is None and b"\nBcc:" not in reply.as_bytes()
