"""Failed deliveries sent again on staff's word (issue 9): the mail core's rule and its CLI door."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from tldops.directory.audit import Actor
from tldops.directory.models import AuditEntry
from tldops.kernel.errors import InvalidInput, NotAuthorised, NotFound
from tldops.mail import outbox
from tldops.mail.models import Delivery, OutboundMessage


def _delivery(status: str, recipient: str = "gone@nic.example") -> Delivery:
    message = OutboundMessage.objects.create(
        purpose="test", subject="Lost", envelope_from="secretariat@tldops.localhost", raw=b"x"
    )
    return Delivery.objects.create(
        message=message,
        recipient=recipient,
        status=status,
        attempts=8 if status == "failed" else 0,
        next_attempt_at=timezone.now(),
        last_error="550 no such user" if status == "failed" else "",
    )


def test_only_failed_deliveries_and_only_by_staff(db, catalog, make_member, staff):
    failed, pending = _delivery("failed"), _delivery("pending")
    member = make_member(catalog["fr"])
    with pytest.raises(NotAuthorised):
        outbox.retry_failed(actor=Actor.of(member, "api"), all_failed=True)
    secretariat = Actor.of(staff(), "api")
    with pytest.raises(InvalidInput):
        outbox.retry_failed(actor=secretariat)
    with pytest.raises(InvalidInput):
        outbox.retry_failed(actor=secretariat, ids=range(outbox.RETRY_IDS_MAX + 1))
    with pytest.raises(NotFound):
        outbox.retry_failed(actor=secretariat, ids=[pending.pk])
    assert not AuditEntry.objects.filter(action="mail-retry").exists()
    assert outbox.retry_failed(actor=secretariat, ids=[failed.pk, pending.pk]) == [failed.pk]
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)
    assert failed.last_error == "550 no such user"  # until the next try replaces it


def test_the_outbox_command(db):
    one, two = _delivery("failed", "one@nic.example"), _delivery("failed", "two@nic.example")
    out = io.StringIO()
    call_command("outbox", "status", "--format", "json", stdout=out)
    assert '"failed": 2' in out.getvalue()
    out = io.StringIO()
    call_command("outbox", "failed", "--format", "csv", stdout=out)
    assert "one@nic.example" in out.getvalue() and "550 no such user" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("outbox", "retry")  # neither ids nor --all
    call_command("outbox", "retry", str(one.pk), stdout=io.StringIO())
    out = io.StringIO()
    call_command("outbox", "retry", "--all", stdout=out)
    assert "1 deliveries queued again" in out.getvalue()
    with pytest.raises(CommandError) as nothing:
        call_command("outbox", "retry", "--all")
    assert nothing.value.returncode == 3
    assert {d.status for d in (one, two) if d.refresh_from_db() is None} == {"pending"}
    entries = AuditEntry.objects.filter(action="mail-retry")
    assert entries.count() == 2 and {e.door for e in entries} == {"cli"}
