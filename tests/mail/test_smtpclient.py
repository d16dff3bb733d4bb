"""The outbox's own SMTP client (tldops.mail.smtpclient) and the long-lived Deliverer: PIPELINING
when offered, refusals in a pipelined group, the message escaped once and received intact,
connections kept across deliver_due calls, and the cheap "anything due?" poll."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.lists import sinks
from tldops.mail import outbox, smtpclient
from tldops.mail.models import Delivery, OutboundMessage


class PipeliningSink(sinks.FaultySink):
    """The faulty sink, offering PIPELINING (aiosmtpd reads commands one line at a time, so it
    takes pipelined groups; it just does not say so by itself)."""

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        responses = await super().handle_EHLO(server, session, envelope, hostname, responses)
        return [*responses[:-1], "250-PIPELINING", responses[-1]]


@pytest.fixture
def pipelining(sink_smarthost):
    return lambda **behaviour: sink_smarthost(PipeliningSink(**behaviour))


def queue(recipients: list[str], body: str = "Hello.") -> OutboundMessage:
    msg = outbox.build_message(subject="Test", body=body, to=["list@tldops.localhost"])
    out = outbox.enqueue(msg, purpose="test", recipients=recipients)
    OutboundMessage.objects.filter(pk=out.pk).update(verp=True)
    return out


def statuses() -> dict[str, tuple[str, int]]:
    return {d.recipient: (d.status, d.attempts) for d in Delivery.objects.all()}


def test_wire_form_escapes_dots_and_line_endings_once():
    assert smtpclient.wire(b"a\n.b\r\n..c\rd") == b"a\r\n..b\r\n...c\r\nd\r\n.\r\n"
    assert smtpclient.wire(b"x\r\n") == b"x\r\n.\r\n"


def test_pipelined_refusals_count_like_lock_step_ones(db, pipelining, settings):
    settings.DELIVERY_RETRY_BASE = 60
    sink = pipelining(
        rcpt={"gone@nic.fr": ["550 5.1.1 no such user"], "busy@nic.fr": ["451 4.2.1 busy"]},
        data={"spam@nic.fr": ["554 5.7.1 rejected as spam"]},
    )
    recipients = ["a@nic.fr", "gone@nic.fr", "b@nic.fr", "busy@nic.fr", "spam@nic.fr", "c@nic.fr"]
    queue(recipients, body="Line one.\n.a line starting with a dot\nEnd.")
    # One session: every refusal is followed by another copy on the same connection.
    assert outbox.deliver_due(concurrency=1) == 3
    result = statuses()
    assert result["gone@nic.fr"] == ("failed", 1) and result["spam@nic.fr"] == ("failed", 1)
    assert result["busy@nic.fr"] == ("pending", 1)
    assert Delivery.objects.get(recipient="busy@nic.fr").last_error.startswith("451")
    assert {result[r] for r in ("a@nic.fr", "b@nic.fr", "c@nic.fr")} == {("sent", 1)}
    assert sink.connections == 1
    assert sorted(sink.received_by()) == ["a@nic.fr", "b@nic.fr", "c@nic.fr"]
    assert b"\n.a line starting with a dot" in sink.messages[0].content  # un-stuffed intact


def test_mail_rcpt_and_data_go_in_one_group_when_pipelining_is_offered():
    """A server that answers MAIL only once RCPT and DATA have arrived too: a client waiting for
    each reply in turn would never get one (and time out)."""
    seen: list[bytes] = []

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 strict.test ESMTP\r\n")
        await reader.readline()  # EHLO
        writer.write(b"250-strict.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
        while line := await reader.readline():
            seen.append(line)
            if line.startswith(b"MAIL"):
                group = [line, await reader.readline(), await reader.readline()]
                seen.extend(group[1:])
                writer.write(b"250 ok\r\n250 ok\r\n354 go on\r\n")
            elif line == b".\r\n":
                writer.write(b"250 queued\r\n")
            elif line.startswith(b"QUIT"):
                writer.write(b"221 bye\r\n")
                break
        writer.close()

    async def main() -> list[smtpclient.Reply]:
        server = await asyncio.start_server(session, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        conn = await smtpclient.Connection.open(
            "127.0.0.1", port, local_hostname="tldops.test", timeout=5
        )
        data = smtpclient.wire(b"Subject: x\r\n\r\nbody\r\n")
        replies = [await conn.send(f"b+{i}@l.test", f"m{i}@nic.test", data) for i in range(3)]
        await conn.quit()
        server.close()
        await server.wait_closed()
        return replies

    replies = asyncio.run(main())
    assert [r.code for r in replies] == [250, 250, 250]
    assert seen.count(b"DATA\r\n") == 3
    assert seen[:3] == [b"MAIL FROM:<b+0@l.test>\r\n", b"RCPT TO:<m0@nic.test>\r\n", b"DATA\r\n"]


def test_a_deliverer_keeps_its_connections_from_one_call_to_the_next(db, pipelining):
    sink = pipelining()
    deliverer = outbox.Deliverer(concurrency=2)
    try:
        queue([f"m{i}@nic.test" for i in range(6)])
        assert deliverer.deliver_due() == 6
        queue([f"n{i}@nic.test" for i in range(6)])
        assert deliverer.deliver_due() == 6
    finally:
        deliverer.close()
    assert sink.connections == 2  # not two more for the second call
    assert len(sink.received_by()) == 12


def test_a_large_fan_out_is_claimed_batch_after_batch_in_one_call(db, pipelining):
    sink = pipelining()
    queue([f"m{i}@nic.test" for i in range(25)])
    assert outbox.deliver_due(limit=4, concurrency=2) == 25  # 7 claims, the sessions kept busy
    assert sink.connections == 2
    assert set(statuses().values()) == {("sent", 1)}


def test_has_due_sees_only_pending_deliveries_whose_time_has_come(db):
    now = timezone.now()
    assert not outbox.has_due(now)
    queue(["a@nic.fr"])
    assert outbox.has_due(timezone.now())
    Delivery.objects.update(next_attempt_at=now + timedelta(minutes=5))  # leased or backing off
    assert not outbox.has_due(timezone.now())
    assert outbox.has_due(now + timedelta(minutes=6))
    Delivery.objects.update(status=Delivery.Status.SENT)
    assert not outbox.has_due(now + timedelta(minutes=6))


def test_a_connection_dropped_in_a_pipelined_group_is_retried_on_a_fresh_one(db, pipelining):
    sink = pipelining(rcpt={"once@nic.fr": [sinks.DROP]}, data={"twice@nic.fr": [sinks.DROP] * 2})
    queue(["first@nic.fr", "once@nic.fr", "twice@nic.fr", "last@nic.fr"])
    assert outbox.deliver_due(concurrency=1) == 3
    result = statuses()
    assert result["once@nic.fr"] == ("sent", 1)  # reused connection dropped: again at once
    assert result["twice@nic.fr"] == ("pending", 1)  # dropped on the fresh one too: later
    assert "SMTPServerDisconnected" in Delivery.objects.get(recipient="twice@nic.fr").last_error
    Delivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    assert outbox.deliver_due(concurrency=1) == 1
    assert sink.received_by() == dict.fromkeys(result, 1)
