"""Staff endpoints: the overview of what waits (``GET /staff/summary``), resetting a person's
second factor, and sending failed deliveries again. Thin doors onto
:mod:`tldops.ops.summary`, :mod:`tldops.directory.second_factor` and
:func:`tldops.mail.outbox.retry_failed`, where the rules live."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from pydantic import StrictBool

from tldops.api.auth import AUTH, actor, require_staff
from tldops.api.schemas import AUTH_ERRORS, InputSchema, errors
from tldops.directory import second_factor
from tldops.directory.models import Person
from tldops.directory.validation import REASON_MAX_LENGTH
from tldops.kernel.errors import NotFound
from tldops.mail import outbox
from tldops.ops import summary as staff_summary

router = Router(auth=AUTH)


# --- The overview ------------------------------------------------------------------------------------


class DirectoryCountsOut(Schema):
    pending_contacts: int = Field(description="Contacts named by an admin contact, not confirmed.")
    invitations_waiting: int = Field(description="Invitations sent and not yet answered.")
    unreachable: int = Field(description="Addresses over the bounce threshold.")
    recent_bounces: int = Field(description="Bounce reports received in the last 7 days.")


class OutboxOut(Schema):
    queued: int = Field(description="Deliveries not tried yet.")
    retrying: int = Field(description="Deliveries waiting to be tried again.")
    failed: int = Field(description="Deliveries given up; staff may send them again.")


class EditionOut(Schema):
    last_period: str | None = Field(description="The last edition (`2026-11`), null before one.")
    last_sent_at: datetime | None
    last_recipients: int
    next_period: str | None = Field(
        description="The edition the worker sends next; null until the first contact confirms."
    )
    next_due_at: datetime | None = Field(description="When it is due (UTC); in the past: due now.")


class RoundOut(Schema):
    period: str | None = Field(description="The latest reachability round, null before one.")
    started_at: datetime | None
    challenged: int
    answered: int
    unanswered: int
    overdue: int = Field(description="Unanswered and already escalated to the colleagues.")
    next_period: str | None = Field(
        description="The round the worker starts next; null until the first contact confirms."
    )
    next_at: datetime | None = Field(description="When it starts (UTC).")


class SummaryOut(Schema):
    directory: DirectoryCountsOut
    held_posts: int = Field(description="Posts held for moderation.")
    outbox: OutboxOut
    edition: EditionOut
    reachability: RoundOut


@router.get(
    "/staff/summary",
    response={200: SummaryOut, **errors(*AUTH_ERRORS)},
    tags=["staff"],
    summary="What waits for the staff (staff)",
)
def summary(request: HttpRequest) -> staff_summary.Summary:
    """The numbers of the staff home page: vetting, moderation, the outbox, bounces, the contact
    repository and the reachability round."""
    require_staff(request)
    return staff_summary.summary()


# --- Second factor -----------------------------------------------------------------------------------


class ResetIn(InputSchema):
    reason: str = Field(
        min_length=1,
        max_length=REASON_MAX_LENGTH,
        description="Why, e.g. “lost phone, confirmed by a call”; told to the person, audited.",
    )


class ResetOut(Schema):
    person_id: int
    email: str
    devices_removed: int


@router.post(
    "/people/{person_id}/reset-second-factor",
    response={200: ResetOut, **errors(400, 404, *AUTH_ERRORS)},
    tags=["staff"],
    summary="Reset someone's second factor (staff)",
)
def reset_second_factor(request: HttpRequest, person_id: int, body: ResetIn) -> dict[str, Any]:
    """Delete the person's authenticator (TOTP) devices and end their sessions; they are told by
    mail and set up a new device at their next sign-in. Not for one's own account, and the
    secretariat may not reset a committee member's."""
    require_staff(request)
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise NotFound(_("No person with id %(id)d.") % {"id": person_id})
    removed = second_factor.reset(person, actor=actor(request), reason=body.reason)
    return {"person_id": person.pk, "email": person.email, "devices_removed": removed}


# --- The outbox --------------------------------------------------------------------------------------


class RetryIn(InputSchema):
    ids: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        default_factory=list,
        max_length=outbox.RETRY_IDS_MAX,
        description="The failed deliveries to send again (ids from the portal's outbox page).",
    )
    all: StrictBool = Field(False, description="Send every failed delivery again instead.")


class RetryOut(Schema):
    requeued: list[int] = Field(description="The deliveries queued again.")


@router.post(
    "/mail/retry",
    response={200: RetryOut, **errors(400, 404, *AUTH_ERRORS)},
    tags=["staff"],
    summary="Send failed deliveries again (staff)",
)
def retry(request: HttpRequest, body: RetryIn) -> dict[str, list[int]]:
    """Queue failed deliveries again, by id or all of them; audited."""
    require_staff(request)
    done = outbox.retry_failed(actor=actor(request), ids=body.ids, all_failed=body.all)
    return {"requeued": done}
