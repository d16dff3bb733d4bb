"""The -request address (help, status, unsubscribe) and the -owner address."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.lists.posting import deliver, fast_passwords, message  # noqa: F401 (autouse)
from tldops.lists.models import BounceScore, InboundMessage

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
