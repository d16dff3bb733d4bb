"""Outbox delivery over real SMTP (aiosmtplib → an aiosmtpd sink on loopback): connection reuse,
bounded concurrency, VERP envelopes, retry with backoff on 4xx and dropped connections, permanent
failure on 5xx, and claims that keep two workers apart."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.lists import sinks
from tldops.mail import outbox, verp
from tldops.mail.models import Delivery, OutboundMessage


@pytest.fixture
def faulty(sink_smarthost):
    """Start a :class:`~tests.lists.sinks.FaultySink` as the smarthost: ``faulty(**behaviour)``."""
    return lambda **behaviour: sink_smarthost(sinks.FaultySink(**behaviour))


def queue(recipients: list[str], *, verp_: bool = False, body: str = "Hello.") -> OutboundMessage:
    msg = outbox.build_message(subject="Test", body=body, to=["list@tldops.localhost"])
    out = outbox.enqueue(msg, purpose="test", recipients=recipients)
    if verp_:
        OutboundMessage.objects.filter(pk=out.pk).update(verp=True)
    return out


def make_due() -> None:
    """As if the retry delays had passed."""
    Delivery.objects.filter(status="pending").update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def statuses() -> dict[str, tuple[str, int]]:
    return {d.recipient: (d.status, d.attempts) for d in Delivery.objects.all()}


def test_connections_are_reused_and_concurrency_is_bounded(db, faulty):
    sink = faulty(data_delay=0.05)
    recipients = [f"m{i}@nic.test" for i in range(24)]
    queue(recipients)
    assert outbox.deliver_due(concurrency=3) == 24
    assert sorted(sink.received_by()) == sorted(recipients)
    assert sink.connections == 3  # one connection per session, reused for 8 copies each
    assert sink.peak == 3  # never more transactions at once than the concurrency allows
    assert set(statuses().values()) == {("sent", 1)}
    assert outbox.deliver_due() == 0  # nothing sent twice


def test_the_default_concurrency_is_the_setting(db, faulty, settings):
    settings.DELIVERY_CONCURRENCY = 2
    sink = faulty(data_delay=0.05)
    queue([f"m{i}@nic.test" for i in range(10)])
    assert outbox.deliver_due() == 10
    assert sink.connections == 2 and sink.peak == 2


def test_list_posts_get_one_verp_envelope_per_delivery(db, faulty, settings):
    sink = faulty()
    post = queue(["ana@nic.fr", "bob@nic.nl", "eve@nic.br"], verp_=True)
    plain = queue(["ops@nic.ca"])
    assert outbox.deliver_due() == 4
    envelopes = {m.rcpt_tos[0]: m.mail_from for m in sink.messages}
    for delivery in post.deliveries.all():
        sender = envelopes[delivery.recipient]
        assert sender == verp.encode(delivery.pk)
        assert sender.startswith("tld-ops-bounces+")
        assert verp.decode(sender) == delivery.pk
    assert envelopes["ops@nic.ca"] == plain.envelope_from == "secretariat@tldops.localhost"
    assert len(set(envelopes.values())) == 4


def test_4xx_is_retried_with_backoff_then_delivered(db, faulty, settings):
    settings.DELIVERY_RETRY_BASE = 60
    sink = faulty(rcpt={"busy@nic.fr": ["451 4.2.1 mailbox busy", "452 4.3.1 no space"]})
    queue(["ana@nic.fr", "busy@nic.fr"])
    before = timezone.now()
    assert outbox.deliver_due() == 1
    busy = Delivery.objects.get(recipient="busy@nic.fr")
    assert (busy.status, busy.attempts) == ("pending", 1)
    assert busy.last_error.startswith("451")
    assert busy.next_attempt_at >= before + timedelta(seconds=120)  # base * 2**1
    assert outbox.deliver_due() == 0  # not due yet
    make_due()
    assert outbox.deliver_due() == 0
    busy.refresh_from_db()
    assert (busy.status, busy.attempts) == ("pending", 2)
    assert busy.next_attempt_at >= timezone.now() + timedelta(seconds=200)  # base * 2**2, longer
    make_due()
    assert outbox.deliver_due() == 1
    assert statuses() == {"ana@nic.fr": ("sent", 1), "busy@nic.fr": ("sent", 3)}
    assert sink.received_by() == {"ana@nic.fr": 1, "busy@nic.fr": 1}


@pytest.mark.parametrize(
    "behaviour",
    [
        {"rcpt": {"gone@nic.fr": ["550 5.1.1 no such user"]}},
        {"data": {"gone@nic.fr": ["554 5.7.1 rejected as spam"]}},
    ],
    ids=["rcpt", "data"],
)
def test_5xx_fails_for_good_and_the_others_still_go(db, faulty, behaviour):
    sink = faulty(**behaviour)
    queue(["gone@nic.fr", "ana@nic.fr", "bob@nic.fr"])
    assert outbox.deliver_due(concurrency=1) == 2
    gone = Delivery.objects.get(recipient="gone@nic.fr")
    assert (gone.status, gone.attempts) == ("failed", 1)
    assert gone.last_error[:3] in {"550", "554"}
    make_due()
    assert outbox.deliver_due() == 0  # never retried
    assert sorted(sink.received_by()) == ["ana@nic.fr", "bob@nic.fr"]


def test_4xx_at_data_is_retried(db, faulty):
    sink = faulty(data={"ana@nic.fr": ["452 4.3.1 insufficient storage"]})
    queue(["ana@nic.fr"])
    assert outbox.deliver_due() == 0
    assert statuses() == {"ana@nic.fr": ("pending", 1)}
    make_due()
    assert outbox.deliver_due() == 1
    assert sink.received_by() == {"ana@nic.fr": 1}


def test_dropped_connections_are_retried_on_a_fresh_connection(db, faulty):
    sink = faulty(
        rcpt={"once@nic.fr": [sinks.DROP]},
        data={"twice@nic.fr": [sinks.DROP, sinks.DROP]},
    )
    queue(["first@nic.fr", "once@nic.fr", "twice@nic.fr", "last@nic.fr"])
    # One session: each drop happens on a connection already used for an earlier copy.
    assert outbox.deliver_due(concurrency=1) == 3
    result = statuses()
    # A dropped reused connection is retried at once on a new one (the server may just have
    # closed an idle connection: not the recipient's fault) ...
    assert result["once@nic.fr"] == ("sent", 1)
    # ... a drop on the fresh connection too counts as a failed attempt, retried later.
    assert result["twice@nic.fr"] == ("pending", 1)
    assert "SMTPServerDisconnected" in Delivery.objects.get(recipient="twice@nic.fr").last_error
    assert result["first@nic.fr"] == result["last@nic.fr"] == ("sent", 1)
    make_due()
    assert outbox.deliver_due(concurrency=1) == 1
    assert statuses()["twice@nic.fr"] == ("sent", 2)
    assert sink.received_by() == dict.fromkeys(result, 1)
    assert sink.counts["drop"] == 3


def test_a_delivery_gives_up_after_max_attempts(db, faulty):
    faulty(rcpt={"busy@nic.fr": ["451 busy"] * 20})
    queue(["busy@nic.fr"])
    Delivery.objects.update(attempts=outbox.MAX_ATTEMPTS - 1)
    assert outbox.deliver_due() == 0
    assert statuses() == {"busy@nic.fr": ("failed", outbox.MAX_ATTEMPTS)}


def test_unreachable_smarthost_keeps_everything_pending(db, settings):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        settings.SMARTHOST = f"127.0.0.1:{s.getsockname()[1]}"  # closed again: nobody listens
    queue(["ana@nic.fr", "bob@nic.fr"])
    assert outbox.deliver_due() == 0
    assert set(statuses().values()) == {("pending", 1)}
    assert "ConnectionRefusedError" in Delivery.objects.first().last_error


def test_8bit_and_utf8_mail_is_sent_with_the_right_extensions(db, faulty):
    sink = faulty()
    queue(["ana@nic.fr"], body="Réunion à Paris — ordre du jour.")
    assert outbox.deliver_due() == 1
    (received,) = sink.messages
    assert "BODY=8BITMIME" in received.mail_options
    parsed = email.message_from_bytes(received.content, policy=email.policy.default)
    assert "Réunion à Paris" in parsed.get_content()


def test_two_claims_never_share_a_delivery(db, settings):
    queue([f"m{i}@nic.test" for i in range(10)])
    now = timezone.now()
    first = outbox._claim(now, 6)
    second = outbox._claim(now, 6)
    assert len(first) == 6 and len(second) == 4
    assert not {d.pk for d in first} & {d.pk for d in second}
    assert outbox._claim(now, 6) == []
    # The lease runs out: a crashed worker's claims become due again.
    leased = Delivery.objects.get(pk=first[0].pk).next_attempt_at
    assert leased > now + timedelta(seconds=settings.DELIVERY_LEASE - 1)
    assert len(outbox._claim(leased + timedelta(seconds=1), 20)) == 10


def test_without_smarthost_copies_go_to_the_sink_folder_with_their_verp_sender(db, settings):
    post = queue(["ana@nic.fr", "bob@nic.nl"], verp_=True)
    assert outbox.deliver_due() == 2
    files = sorted(Path(settings.MAIL_SINK_DIR).glob("*.eml"))
    assert len(files) == 2
    heads = {f.read_bytes().split(b"\r\n", 2)[1].decode(): f.read_bytes() for f in files}
    for delivery in post.deliveries.all():
        raw = heads[f"Delivered-To: {delivery.recipient}"]
        assert raw.startswith(f"Return-Path: <{verp.encode(delivery.pk)}>".encode())
    assert set(statuses().values()) == {("sent", 1)}
