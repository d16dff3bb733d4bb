"""The caller's own settings (issue 9): how they receive mail, and changing their address.

Thin door onto :mod:`tldops.directory.delivery` and :mod:`tldops.directory.email_change`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from tldops.api.auth import AUTH, actor, caller
from tldops.api.me import MeOut, _me
from tldops.api.schemas import AUTH_ERRORS, InputSchema, errors
from tldops.directory import delivery, email_change
from tldops.directory.validation import EMAIL_MAX_LENGTH

router = Router(auth=AUTH, tags=["me"])


class DeliveryOut(Schema):
    mode: str = Field(description="regular, digest or nomail: what you chose.")
    effective_mode: str = Field(
        description="What applies today: a nomail choice whose last day has passed is regular."
    )
    digest_format: str = Field(description="mime or plain.")
    nomail_until: str | None = Field(description="With nomail: the last day without list mail.")
    receive_list: bool = Field(description="Staff who are no ccTLD's contact: receive the list.")
    receive_editions: bool = Field(
        description="Staff who are no ccTLD's contact: receive the repository editions."
    )
    staff: bool = Field(description="Whether receive_list and receive_editions are yours to set.")


class DeliveryIn(InputSchema):
    """Fields left out (or null) stay as they are."""

    mode: str | None = Field(None, description="regular, digest or nomail.", max_length=20)
    digest_format: str | None = Field(None, description="mime or plain.", max_length=20)
    nomail_until: dt.date | None = Field(
        None,
        description="Required with mode nomail: the last day without list mail (YYYY-MM-DD), "
        "today to NOMAIL_MAX_DAYS (default 90) days ahead.",
    )
    receive_list: bool | None = Field(None, description="Staff only.")
    receive_editions: bool | None = Field(None, description="Staff only.")


@router.get(
    "/me/delivery",
    response={200: DeliveryOut, **errors(*AUTH_ERRORS)},
    summary="How you receive mail",
)
def get_delivery(request: HttpRequest) -> dict[str, Any]:
    """Your list delivery (each post, daily digest, no mail until a date) and, for staff, whether
    you receive the list and the repository editions. Editions and essential notices always
    arrive."""
    return delivery.options(caller(request))


@router.put(
    "/me/delivery",
    response={200: DeliveryOut, **errors(400, *AUTH_ERRORS)},
    summary="Change how you receive mail",
)
def put_delivery(request: HttpRequest, body: DeliveryIn) -> dict[str, Any]:
    """Choose each post (``regular``), one ``digest`` a day (``mime`` or ``plain``), or ``nomail``
    until a date, after which each post comes again. Audited."""
    person = delivery.update_delivery(
        caller(request),
        delivery.DeliveryChange(
            mode=body.mode,
            digest_format=body.digest_format,
            nomail_until=body.nomail_until,
            receive_list=body.receive_list,
            receive_editions=body.receive_editions,
        ),
        actor=actor(request),
    )
    return delivery.options(person)


class EmailChangeIn(InputSchema):
    email: str = Field(description="Your new address.", max_length=EMAIL_MAX_LENGTH)


class EmailChangeOut(Schema):
    email: str = Field(description="Your address, unchanged until you confirm.")
    email_change_to: str = Field(description="The address the confirmation link was sent to.")


class EmailConfirmIn(InputSchema):
    token: str = Field(
        description="The token of the link sent to the new address.", max_length=2000
    )


@router.post(
    "/me/email",
    response={202: EmailChangeOut, **errors(400, *AUTH_ERRORS)},
    summary="Ask to change your address",
)
def request_email_change(request: HttpRequest, body: EmailChangeIn) -> Any:
    """A link is mailed to the new address; nothing changes until it is used (by you, signed in
    or with your token: ``POST /me/email/confirm``). Audited."""
    person = email_change.request_change(caller(request), body.email, actor=actor(request))
    return Status(202, {"email": person.email, "email_change_to": person.email_change_to})


@router.post(
    "/me/email/confirm",
    response={200: MeOut, **errors(400, 410, *AUTH_ERRORS)},
    summary="Confirm your new address",
)
def confirm_email_change(request: HttpRequest, body: EmailConfirmIn) -> dict[str, Any]:
    """Use the link's token: your address changes, your old address and your ccTLDs' other
    contacts are told. Once; only by the person who asked; refused if the address was taken
    meanwhile."""
    return _me(email_change.confirm_change(body.token, actor=actor(request)))
