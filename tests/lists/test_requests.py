"""The -request address (help, status, unsubscribe) and the -owner address."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.lists.posting import deliver, fast_passwords, message  # noqa: F401 (autouse)
from tldops.directory.models import BounceScore
from tldops.mail.models import InboundMessage

pytestmark = pytest.mark.django_db

REQUEST = "tld-ops-request@tldops.localhost"
OWNER = "tld-ops-owner@tldops.localhost"


@pytest.fixture
def ana(catalog, make_member):
    return make_member(catalog["fr"], "Ana Lopez", "ana@nic.fr")


def ask(subject: str, body: str = "\n", *, sender: str = "ana@nic.fr", **kw):
    return deliver(message(sender=sender, to=REQUEST, subject=subject, body=body, **kw), to=REQUEST)


def only_reply(outbox):
    ((to, reply),) = outbox("list-request-reply")
    return to, reply.get_content()


def test_help(ana, outbox):
    ask("help")
    to, text = only_reply(outbox)
    assert to == "ana@nic.fr"
    assert "help" in text and "status" in text
    assert "Posts go to tld-ops@tldops.localhost" in text


def test_status_of_a_member_without_bounces(ana, outbox):
    ask("Re: whatever", "status\n")
    _to, text = only_reply(outbox)
    assert "ana@nic.fr is an active member of the list" in text
    assert ".fr" in text
    assert "being delivered without bounces" in text


def test_status_of_an_unreachable_member(ana, outbox):
    now = timezone.now()
    BounceScore.objects.create(
        address="ana@nic.fr", person=ana, score=6.0, updated_at=now, unreachable_since=now
    )
    ask("status")
    _to, text = only_reply(outbox)
    assert "has been bouncing since" in text


def test_status_of_a_stranger(ana, outbox):
    ask("status", sender="eve@evil.test")
    to, text = only_reply(outbox)
    assert to == "eve@evil.test"
    assert "eve@evil.test is not an active member of the list" in text


def test_unsubscribe_explains_how_to_leave(ana, outbox):
    ask("unsubscribe")
    _to, text = only_reply(outbox)
    assert "/profile/leave/" in text


def test_unknown_command_gets_help_with_the_error(ana, outbox):
    outcome = ask("subscribe me please", "subscribe me please\n")
    _to, text = only_reply(outbox)
    assert "“subscribe” is not a command this address knows." in text
    assert "status" in text
    assert outcome.status == InboundMessage.Status.DONE


def test_automatic_messages_are_not_answered(ana, outbox):
    outcome = ask("Out of office", headers={"Auto-Submitted": "auto-replied"})
    assert outbox("list-request-reply") == []
    assert outcome.status == InboundMessage.Status.REJECTED


def test_replies_are_rate_limited(ana, outbox):
    for _ in range(12):
        ask("help")
    assert len(outbox("list-request-reply")) == 10


def test_owner_mail_is_forwarded_to_the_secretariat(ana, staff, outbox):
    staff("secretariat", "sec@tldops.example")
    staff("secretariat", "sec2@tldops.example")
    staff("committee", "chair@tldops.example")
    msg = message(sender="ana@nic.fr", to=OWNER, subject="Question about the list")
    outcome = deliver(msg, to=OWNER)
    assert outcome.status == InboundMessage.Status.DONE
    ((to1, fwd), (to2, _fwd2)) = outbox("list-owner")
    assert {to1, to2} == {"sec@tldops.example", "sec2@tldops.example"}
    assert "Question about the list" in fwd["Subject"]
    assert fwd["Reply-To"] == "Ana Lopez <ana@nic.fr>"
    (attached,) = list(fwd.iter_attachments())
    assert attached.get_content()["Subject"] == "Question about the list"


def test_owner_mail_loop_is_not_forwarded(ana, staff, outbox):
    staff("secretariat", "sec@tldops.example")
    msg = message(sender="tld-ops-owner@tldops.localhost", to=OWNER, subject="loop")
    outcome = deliver(msg, to=OWNER)
    assert outcome.status == InboundMessage.Status.REJECTED
    assert outbox("list-owner") == []


# --- One answer to one address; received header values copied on one line --------------------------

# One address whose quoted local part looks like a list of three: answered, it must stay one.
QUOTED = '"x,victim1@one.example,victim2@two.example"@evil.example'
# An encoded word that decodes to a CR LF and a header of the attacker's.
INJECTED = b"=?utf-8?q?hi=0D=0ABcc:_victim@evil.example?="


def with_subject(msg, subject: bytes) -> bytes:
    """``msg`` with its Subject written raw (an EmailMessage would decode the encoded word)."""
    raw = msg.as_bytes()
    old = b"Subject: " + str(msg["Subject"]).encode()
    assert raw.count(old) == 1
    return raw.replace(old, b"Subject: " + subject)


def test_a_quoted_comma_address_gets_one_answer_never_its_copies(ana, outbox):
    outcome = ask("help", sender=QUOTED, headers={"Cc": f"{QUOTED}, victim3@three.example"})
    assert outcome.status == InboundMessage.Status.DONE, outcome.result
    ((to, reply),) = outbox("list-request-reply")
    assert to == QUOTED
    assert [a.addr_spec for a in reply["To"].addresses] == [QUOTED]
    assert reply["Cc"] is None


def test_replies_are_rate_limited_per_address(ana, outbox):
    for _ in range(12):
        ask("help", sender=QUOTED)
    assert [to for to, _m in outbox("list-request-reply")] == [QUOTED] * 10
    ask("help")  # another address has its own count
    assert outbox("list-request-reply")[-1][0] == "ana@nic.fr"


def test_an_encoded_line_break_in_the_subject_is_answered_on_one_line(ana, outbox):
    outcome = deliver(with_subject(message(to=REQUEST), INJECTED), to=REQUEST)
    assert outcome.status == InboundMessage.Status.DONE, outcome.result
    ((to, reply),) = outbox("list-request-reply")
    assert to == "ana@nic.fr"
    assert reply["Subject"] == "Re: hi Bcc: victim@evil.example"
    assert reply["Bcc"] is None
    assert b"\nBcc:" not in reply.as_bytes()


def test_owner_mail_with_encoded_line_breaks_is_forwarded_on_one_line(ana, staff, outbox):
    staff("secretariat", "sec@tldops.example")
    msg = message(to=OWNER, name="Ana Lopez")
    raw = with_subject(msg, INJECTED).replace(
        b"From: Ana Lopez <ana@nic.fr>",
        b"From: =?utf-8?q?Ana=0D=0ABcc:_victim@evil.example?= <ana@nic.fr>",
    )
    outcome = deliver(raw, to=OWNER, mail_from="ana@nic.fr")
    assert outcome.status == InboundMessage.Status.DONE, outcome.result
    ((to, forward),) = outbox("list-owner")
    assert to == "sec@tldops.example"
    assert forward["Subject"].endswith("from ana@nic.fr: hi Bcc: victim@evil.example")
    assert forward["Reply-To"].addresses[0].addr_spec == "ana@nic.fr"
    assert "\n" not in forward["Reply-To"].addresses[0].display_name
    assert forward["Bcc"] is None
