"""The worker: one round (`tldops worker --once`) resumes what a crash left behind."""

from __future__ import annotations

import io
from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.lists import smtp as smtp_fixtures
from tldops.directory import actions, links
from tldops.directory.audit import Actor
from tldops.directory.models import Invitation, Membership
from tldops.mail import intake
from tldops.mail.models import Delivery, InboundMessage
from tldops.ops.worker import Worker

smarthost = smtp_fixtures.smarthost


def worker_once() -> str:
    out = io.StringIO()
    call_command("worker", "--once", stdout=out)
    return out.getvalue()


def authorisation_reply(invitation: Invitation, settings) -> bytes:
    msg = EmailMessage()
    msg["From"] = invitation.sent_to
    msg["To"] = settings.AUTHORISE_ADDRESS
    msg["Subject"] = f"Re: invitation [ref:{links.invitation_ref(invitation)}]"
    msg.set_content("Contact: Marie Curie <marie@nic.fr>; +33 1 23 45 67 89 (office)\n")
    return msg.as_bytes()


def test_inbound_message_left_new_is_processed(catalog, settings):
    invitation = actions.invite_cctld(catalog["fr"], actor=Actor.system())
    # Stored by the intake, then the process died before processing it.
    pk = intake.store(
        "admin@nic.fr",
        [settings.AUTHORISE_ADDRESS],
        authorisation_reply(invitation, settings),
        "authorise",
    )
    out = worker_once()
    assert "inbound processed: 1" in out
    assert InboundMessage.objects.get(pk=pk).status == InboundMessage.Status.DONE
    assert Membership.objects.get().person.email == "marie@nic.fr"
    assert "inbound processed: 0" in worker_once()  # done once, not twice
    assert Membership.objects.count() == 1


def test_pending_deliveries_are_delivered_including_an_expired_lease(catalog, smarthost):
    actions.invite_cctld(catalog["fr"], actor=Actor.system())
    actions.invite_cctld(catalog["nl"], actor=Actor.system())
    # A worker claimed nl's delivery (a 5-minute lease) and was killed before sending it.
    Delivery.objects.filter(recipient="admin@nic.nl").update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    assert "delivered: 1" in worker_once()
    assert [m.rcpt_tos for m in smarthost.messages] == [["admin@nic.fr"]]
    # Once the lease has run out, the next round delivers it.
    Delivery.objects.filter(recipient="admin@nic.nl").update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert "delivered: 1" in worker_once()
    assert [m.rcpt_tos for m in smarthost.messages] == [["admin@nic.fr"], ["admin@nic.nl"]]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    assert "delivered: 0" in worker_once()


def test_reminders_run_hourly_and_are_sent_once(catalog, settings, outbox):
    settings.INVITATION_REMINDER_DAYS = [7]
    actions.invite_cctld(catalog["fr"], actor=Actor.system())
    Invitation.objects.update(created_at=timezone.now() - timedelta(days=8))
    now = [1000.0]
    worker = Worker(clock=lambda: now[0])
    assert worker.run_once().reminders == 1
    assert worker.run_once().reminders is None  # not due again within the hour
    now[0] += 3600
    assert worker.run_once().reminders == 0  # due, but that reminder was already sent
    assert "reminders sent: 0" in worker_once()  # a new worker process: still only one
    assert len(outbox("invite-reminder")) == 1


def test_unreachable_smarthost_leaves_deliveries_pending(catalog, settings):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.SMARTHOST = f"127.0.0.1:{port}"  # nothing listens there
    actions.invite_cctld(catalog["fr"], actor=Actor.system())
    assert "delivered: 0" in worker_once()
    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert "ConnectionRefusedError" in delivery.last_error


@pytest.mark.django_db
def test_worker_help():
    from tldops.ops.management.commands.worker import Command

    parser = Command().create_parser("tldops", "worker")
    assert "--once" in parser.format_help()
