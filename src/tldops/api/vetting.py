"""The vetting steps of people without an account: the signed link is the credential.

The IANA administrative contact reads and answers an invitation (or management link); a named contact
confirms their address; anyone may ask for a management link to be mailed to the admin contact.
"""

from datetime import datetime
from typing import Annotated, Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status
from pydantic import StrictInt

from tldops.api.schemas import InputSchema, Language, MessageOut, PhoneIn, TldRef, errors, tld_ref
from tldops.catalog.lookup import resolve_tld
from tldops.directory import actions, links
from tldops.directory.audit import Actor
from tldops.directory.models import Membership
from tldops.directory.validation import (
    EMAIL_MAX_LENGTH,
    MAX_LANGUAGES,
    NAME_MAX_LENGTH,
    TIMEZONE_MAX_LENGTH,
    ContactInput,
    max_phones,
)
from tldops.kernel.errors import InvalidInput

router = Router(auth=None, tags=["vetting"])

TOKEN_DESCRIPTION = (
    "The token of the signed link mailed to the ccTLD's IANA administrative contact."
)


class CurrentContact(Schema):
    number: int = Field(description="Contact number within the ccTLD; use it in `remove`.")
    name: str
    email: str
    status: str = Field(description="pending (awaiting confirmation) or active.")


class AuthorisationOut(Schema):
    tld: TldRef
    purpose: str = Field(description="invite, or manage for a management link.")
    sent_to: str = Field(description="The admin contact address the link was mailed to.")
    expires_at: datetime
    max_contacts: int = Field(description="How many contacts a ccTLD may have.")
    contacts: list[CurrentContact] = Field(description="The ccTLD's current contacts.")


def _current_contacts(tld: Any) -> list[dict[str, Any]]:
    return [
        {"number": m.number, "name": m.named_as, "email": m.person.email, "status": m.status}
        for m in Membership.objects.select_related("person")
        .filter(tld=tld, status__in=Membership.OPEN)
        .order_by("number")
    ]


@router.get(
    "/authorisations/{token}",
    response={200: AuthorisationOut, **errors(410)},
    summary="Read an invitation or management link",
)
def read_authorisation(request: HttpRequest, token: str) -> dict[str, Any]:
    """What the link is for: the ccTLD, its current contacts and the limit. Reading does not use up
    the link."""
    invitation = links.open_invitation(token)
    return {
        "tld": tld_ref(invitation.tld),
        "purpose": invitation.purpose,
        "sent_to": invitation.sent_to,
        "expires_at": invitation.expires_at,
        "max_contacts": settings.MAX_CONTACTS_PER_CCTLD,
        "contacts": _current_contacts(invitation.tld),
    }


class ContactIn(InputSchema):
    name: str = Field(
        description="Full name.",
        examples=["Ana Lopez"],
        max_length=NAME_MAX_LENGTH,
    )
    email: str = Field(
        description="Their own address; they confirm it.",
        examples=["ana@nic.fr"],
        max_length=EMAIL_MAX_LENGTH,
    )
    phones: list[PhoneIn] = Field(default_factory=list, max_length=max_phones())
    timezone: str = Field(
        "",
        description="IANA time zone name, e.g. Europe/Paris.",
        max_length=TIMEZONE_MAX_LENGTH,
    )
    languages: list[Language] = Field(
        default_factory=list,
        description="ISO 639 codes.",
        max_length=MAX_LANGUAGES,
    )


# A ccTLD's contact numbers are small positive integers (a PositiveSmallIntegerField): anything
# outside that range names no contact, and a number beyond the database's integer would not even
# reach the query (SQLite raises OverflowError, a 500).
ContactNumber = Annotated[StrictInt, Field(ge=1, le=32767)]


class AuthoriseIn(InputSchema):
    contacts: list[ContactIn] = Field(default_factory=list, description="Contacts to add.")
    remove: list[ContactNumber] = Field(
        default_factory=list,
        description="Contact numbers to remove first (replace = remove + add).",
    )


class NamedContact(Schema):
    membership_id: int
    number: int
    name: str
    email: str
    status: str


class AuthoriseOut(Schema):
    tld: TldRef
    added: list[NamedContact] = Field(description="Each gets a mail to confirm their address.")
    removed: list[NamedContact]


def _named(m: Membership) -> dict[str, Any]:
    return {
        "membership_id": m.pk,
        "number": m.number,
        "name": m.named_as,
        "email": m.person.email,
        "status": m.status,
    }


@router.post(
    "/authorisations/{token}",
    response={200: AuthoriseOut, **errors(400, 403, 404, 409, 410, 422)},
    summary="Name, replace or remove a ccTLD's contacts",
)
def authorise(request: HttpRequest, token: str, body: AuthoriseIn) -> dict[str, Any]:
    """The admin contact names up to the limit of contacts and (with a management link only:
    403 with an invitation link) removes others. The link is used up by this call. Nothing is
    written if anything is refused. Naming the address of someone already known to TLD-OPS only
    proposes the membership: their own details stay as they are, and `name` in the answer is the
    name given here until they confirm."""
    contacts = [
        ContactInput(
            name=c.name,
            email=c.email,
            phones=[(p.number, p.label) for p in c.phones],
            timezone=c.timezone,
            languages=c.languages,
        )
        for c in body.contacts
    ]
    result = actions.authorise_contacts(token, contacts, door="api", remove=body.remove)
    tld = (result.added or result.removed)[0].tld
    return {
        "tld": tld_ref(tld),
        "added": [_named(m) for m in result.added],
        "removed": [_named(m) for m in result.removed],
    }


class ConfirmIn(InputSchema):
    password: str | None = Field(
        None,
        description="Sets the password of your portal account (username: your email) on first "
        "confirmation; at least 12 characters.",
    )


class ConfirmOut(Schema):
    tld: TldRef
    number: int
    name: str
    email: str
    status: str = Field(description="active, or left once declined.")


@router.post(
    "/confirmations/{token}",
    response={200: ConfirmOut, **errors(400, 410, 422)},
    summary="Confirm your address as a named contact",
)
def confirm(request: HttpRequest, token: str, body: ConfirmIn) -> dict[str, Any]:
    """Double opt-in: the token is the one in the confirmation mail. Makes you an active member."""
    membership = actions.confirm_contact(token, door="api", password=body.password or None)
    return {
        "tld": tld_ref(membership.tld),
        "number": membership.number,
        "name": membership.person.name,
        "email": membership.person.email,
        "status": membership.status,
    }


@router.post(
    "/confirmations/{token}/decline",
    response={200: ConfirmOut, **errors(410)},
    summary="Decline to be a named contact",
)
def decline(request: HttpRequest, token: str) -> dict[str, Any]:
    """The named person says no: the pending membership ends (status `left`), freeing its place;
    nothing about the person changes. The token is the one in the confirmation mail."""
    membership = actions.decline_contact(token, door="api")
    return {
        "tld": tld_ref(membership.tld),
        "number": membership.number,
        "name": membership.person.name,
        "email": membership.person.email,
        "status": membership.status,
    }


class ManageLinkIn(InputSchema):
    tld: str = Field(description="The ccTLD (`fr`, `рф`, `xn--p1ai`).", examples=["fr"])


@router.post(
    "/manage-links",
    response={202: MessageOut, **errors(400, 422)},
    summary="Ask for a management link",
)
def request_manage_link(request: HttpRequest, body: ManageLinkIn) -> Any:
    """Mail the ccTLD's IANA administrative contact a link to replace or remove its contacts. The
    answer is the same whatever the ccTLD, so it reveals nothing."""
    try:
        tld = resolve_tld(body.tld)
        actions.request_manage_link(tld, actor=Actor(label="anonymous", door="api"))
    except InvalidInput:
        pass
    return Status(
        202,
        {
            "detail": _(
                "If this is a delegated ccTLD with a known administrative contact, a link to "
                "manage its contacts has been mailed to that address."
            )
        },
    )
