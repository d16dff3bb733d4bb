"""The intake through real SMTP and LMTP connections: routing, storing first, limits, recovery."""

from __future__ import annotations

import smtplib

import pytest

from tldops.mail import intake, outbox
from tldops.mail.intake import Outcome, Route
from tldops.mail.models import InboundMessage, OutboundMessage

ECHO = "echo@lists.test"


def echo_handler(message: InboundMessage) -> Outcome:
    return Outcome.done(f"echo {len(bytes(message.raw))} bytes")


def crashing_handler(message: InboundMessage) -> Outcome:
    outbox.enqueue(outbox.build_message(subject="half", body="x", to=["a@b.test"]), purpose="test")
    raise RuntimeError("handler bug")


@pytest.fixture
def echo_route():
    intake.add_route(Route("echo", intake.exact(ECHO), "tests.mail.test_intake.echo_handler"))
    yield
    intake.remove_route("echo")


MESSAGE = b"From: ana@nic.fr\r\nTo: echo@lists.test\r\nSubject: hello\r\n\r\nHello.\r\n"


def test_unknown_recipient_is_refused_with_550_and_nothing_stored(intake_server):
    servers, _handler = intake_server
    with smtplib.SMTP("127.0.0.1", servers.ports[0]) as smtp:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as exc:
            smtp.sendmail("ana@nic.fr", ["nobody@tldops.localhost"], MESSAGE)
    code, text = exc.value.recipients["nobody@tldops.localhost"]
    assert code == 550
    assert b"accepts mail only for the TLD-OPS addresses" in text
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize(
    "sender",
    ["<not an address>", "<ana>", "<ana..x@nic.fr>", "<ana@-nic.fr>", "<ana@[1.2.3]>"],
)
def test_a_sender_that_is_not_an_address_is_refused_with_553(intake_server, echo_route, sender):
    servers, _handler = intake_server
    for port, client in ((servers.ports[0], smtplib.SMTP), (servers.ports[1], smtplib.LMTP)):
        with client("127.0.0.1", port) as smtp:
            smtp.ehlo()
            code, text = smtp.docmd(f"MAIL FROM:{sender}")
            assert (code, text[:6]) == (553, b"5.1.7 "), (sender, code, text)
            # Nothing was taken: a valid sender may follow in the same session.
            assert smtp.docmd("MAIL FROM:<ana@nic.fr>")[0] == 250
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize("recipient", ["<not an address>", "<echo>", "<echo@lists..test>"])
def test_a_recipient_that_is_not_an_address_is_refused_with_553(
    intake_server, echo_route, recipient
):
    servers, _handler = intake_server
    with smtplib.SMTP("127.0.0.1", servers.ports[0]) as smtp:
        smtp.ehlo()
        assert smtp.docmd("MAIL FROM:<ana@nic.fr>")[0] == 250
        code, text = smtp.docmd(f"RCPT TO:{recipient}")
        assert (code, text[:6]) == (553, b"5.1.3 "), (recipient, code, text)


def test_the_null_sender_of_a_bounce_is_accepted(intake_server, echo_route):
    servers, handler = intake_server
    with smtplib.SMTP("127.0.0.1", servers.ports[0]) as smtp:
        smtp.ehlo()
        assert smtp.docmd("MAIL FROM:<>")[0] == 250
        assert smtp.docmd(f"RCPT TO:<{ECHO}>")[0] == 250
        assert smtp.data(MESSAGE)[0] == 250
    servers.run(handler.drain())
    assert InboundMessage.objects.get().mail_from in ("", "<>")


def test_message_is_stored_raw_then_processed(intake_server, echo_route):
    servers, handler = intake_server
    with smtplib.SMTP("127.0.0.1", servers.ports[0]) as smtp:
        refused = smtp.sendmail("ana@nic.fr", [ECHO.upper()], MESSAGE)
    assert refused == {}
    servers.run(handler.drain())
    message = InboundMessage.objects.get()
    assert bytes(message.raw).replace(b"\r\n", b"\n") == MESSAGE.replace(b"\r\n", b"\n")
    assert message.mail_from == "ana@nic.fr"
    assert message.rcpt_to == [ECHO.upper()]
    assert message.route == "echo"
    assert message.status == InboundMessage.Status.DONE
    assert message.result.startswith("echo ")


def test_lmtp_answers_once_per_recipient(intake_server, echo_route, settings):
    servers, handler = intake_server
    other = "Echo@Lists.Test"
    with smtplib.LMTP("127.0.0.1", servers.ports[1]) as lmtp:
        lmtp.ehlo()
        assert lmtp.mail("ana@nic.fr")[0] == 250
        assert lmtp.rcpt(ECHO)[0] == 250
        assert lmtp.rcpt(other)[0] == 250
        assert lmtp.data(MESSAGE)[0] == 250
        assert lmtp.getreply()[0] == 250  # the second recipient's answer
    servers.run(handler.drain())
    assert InboundMessage.objects.get().rcpt_to == [ECHO, other]


def test_recipients_of_different_routes_are_deferred(intake_server, echo_route, settings):
    servers, _handler = intake_server
    with smtplib.SMTP("127.0.0.1", servers.ports[0]) as smtp:
        smtp.ehlo()
        smtp.mail("ana@nic.fr")
        assert smtp.rcpt(ECHO)[0] == 250
        code, _text = smtp.rcpt(settings.AUTHORISE_ADDRESS)
    assert code == 452


def test_too_big_message_is_refused(intake_server, echo_route, settings):
    settings.MAX_MESSAGE_SIZE = 2000
    servers, _handler = intake_server
    big = MESSAGE + (b"x" * 70 + b"\r\n") * 50
    with smtplib.SMTP("127.0.0.1", servers.ports[0]) as smtp:
        # With the SIZE extension the client is refused at MAIL FROM …
        with pytest.raises(smtplib.SMTPSenderRefused) as exc:
            smtp.sendmail("ana@nic.fr", [ECHO], big)
        assert exc.value.smtp_code == 552
        # … and a client that does not announce the size is refused after DATA.
        smtp.ehlo()
        smtp.mail("ana@nic.fr")
        smtp.rcpt(ECHO)
        assert smtp.data(big)[0] == 552
    assert not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_failing_handler_marks_failed_and_undoes_its_writes(echo_route):
    intake.add_route(Route("echo", intake.exact(ECHO), "tests.mail.test_intake.crashing_handler"))
    pk = intake.store("ana@nic.fr", [ECHO], MESSAGE, "echo")
    outcome = intake.process_message(pk)
    assert outcome.status == InboundMessage.Status.FAILED
    assert "handler bug" in InboundMessage.objects.get(pk=pk).result
    assert not OutboundMessage.objects.exists()
    assert intake.process_pending() == 0  # a failed message is not retried in a loop


@pytest.mark.django_db
def test_process_pending_picks_up_messages_left_new(echo_route):
    first = intake.store("ana@nic.fr", [ECHO], MESSAGE, "echo")
    second = intake.store("ana@nic.fr", [ECHO], MESSAGE, "echo")
    assert intake.process_pending() == 2
    assert intake.process_pending() == 0
    assert set(InboundMessage.objects.values_list("pk", "status")) == {
        (first, "done"),
        (second, "done"),
    }
    assert intake.process_message(first) is None  # already done: untouched


@pytest.mark.django_db
def test_message_of_a_route_that_no_longer_exists_is_rejected():
    pk = intake.store("ana@nic.fr", ["old@lists.test"], MESSAGE, "gone")
    assert intake.process_message(pk).status == InboundMessage.Status.REJECTED
    assert "no handler" in InboundMessage.objects.get(pk=pk).result


def test_list_routes_cover_posting_request_owner_and_verp_bounces():
    routes = intake.list_routes(
        "members@lists.example",
        post="p.post",
        request="p.request",
        owner="p.owner",
        bounces="p.bounces",
    )
    for route in routes:
        intake.add_route(route)
    try:
        assert intake.route_for("Members@Lists.Example").handler == "p.post"
        assert intake.route_for("members-request@lists.example").handler == "p.request"
        assert intake.route_for("members-owner@lists.example").handler == "p.owner"
        assert intake.route_for("members-bounces+ana=nic.fr@lists.example").handler == "p.bounces"
        assert intake.route_for("members-bounces@lists.example").handler == "p.bounces"
        assert intake.route_for("members-bouncesX@lists.example") is None
        assert intake.route_for("members@other.example") is None
    finally:
        for route in routes:
            intake.remove_route(route.name)


def test_authorise_address_is_routed_to_the_mail_door(settings):
    settings.AUTHORISE_ADDRESS = "auth@example.test"
    assert intake.route_for("AUTH@example.test").handler == "tldops.directory.mail_door.process"
    assert intake.route_for("authorise@tldops.localhost") is None
