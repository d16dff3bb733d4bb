"""The caller's own account: profile, leaving, and personal API tokens."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from tldops.api.auth import AUTH, actor, caller, second_factor_proved
from tldops.api.schemas import (
    AUTH_ERRORS,
    InputSchema,
    Language,
    MembershipOut,
    Pagination,
    PhoneIn,
    PhoneOut,
    errors,
    membership_out,
)
from tldops.catalog.lookup import resolve_tld
from tldops.directory import actions, tokens
from tldops.directory.models import ApiToken, Person
from tldops.directory.validation import (
    MAX_LANGUAGES,
    NAME_MAX_LENGTH,
    TIMEZONE_MAX_LENGTH,
    max_phones,
)
from tldops.kernel.errors import NotAuthorised

router = Router(auth=AUTH, tags=["me"])


class MeOut(Schema):
    id: int
    name: str
    family_name: str = Field(description="The part of `name` that is the family name, or empty.")
    email: str
    alt_emails: list[str]
    role: str = Field(description="member, secretariat or committee.")
    committee_position: str = Field(description="chair, vice-chair, member, liaison or empty.")
    timezone: str
    languages: list[str]
    phones: list[PhoneOut]
    memberships: list[MembershipOut] = Field(description="Current and past ccTLD memberships.")


def _me(person: Person) -> dict[str, Any]:
    memberships = person.memberships.select_related("tld").order_by("tld__alabel", "-id")
    return {
        "id": person.pk,
        "name": person.name,
        "family_name": person.family_name,
        "email": person.email,
        "alt_emails": list(person.alt_emails),
        "role": person.role,
        "committee_position": person.committee_position,
        "timezone": person.timezone,
        "languages": list(person.languages),
        "phones": list(person.phones.order_by("position", "id")),
        "memberships": [membership_out(m) for m in memberships],
    }


@router.get("/me", response={200: MeOut, **errors(*AUTH_ERRORS)}, summary="Your account")
def get_me(request: HttpRequest) -> dict[str, Any]:
    """Your details and your ccTLD memberships."""
    return _me(caller(request))


class ProfilePatch(InputSchema):
    """Fields left out (or null) stay as they are."""

    name: str | None = Field(
        None, description="How your name is spelt.", max_length=NAME_MAX_LENGTH
    )
    family_name: str | None = Field(
        None,
        description="The part of your name that is your family name, written as in `name`; "
        "empty: none given (address books get the full name only).",
        max_length=NAME_MAX_LENGTH,
    )
    phones: list[PhoneIn] | None = Field(
        None,
        description="Replaces all your phone numbers (an empty list removes them).",
        max_length=max_phones(),
    )
    timezone: str | None = Field(
        None,
        description="IANA time zone name, e.g. Europe/Paris.",
        max_length=TIMEZONE_MAX_LENGTH,
    )
    languages: list[Language] | None = Field(
        None,
        description='ISO 639 codes, e.g. ["en", "fr"].',
        max_length=MAX_LANGUAGES,
    )


@router.patch(
    "/me",
    response={200: MeOut, **errors(400, *AUTH_ERRORS)},
    summary="Update your phones, time zone, languages",
)
def patch_me(request: HttpRequest, body: ProfilePatch) -> dict[str, Any]:
    """Change your own contact details; the other contacts of your ccTLDs are told by mail."""
    person = caller(request)
    change = actions.ProfileChange(
        name=body.name,
        family_name=body.family_name,
        timezone=body.timezone,
        languages=body.languages,
        phones=[(p.number, p.label) for p in body.phones] if body.phones is not None else None,
    )
    actions.update_profile(person, change, actor=actor(request))
    return _me(Person.objects.get(pk=person.pk))


class LeaveIn(InputSchema):
    tld: str | None = Field(
        None, description="Leave only this ccTLD's contacts; without it, leave all of them."
    )


@router.post(
    "/me/leave",
    response={200: list[MembershipOut], **errors(400, 404, *AUTH_ERRORS)},
    summary="Leave the community (or one ccTLD)",
)
def leave(request: HttpRequest, body: LeaveIn) -> list[dict[str, Any]]:
    """Stop being a contact of one ccTLD, or of all. Your colleagues are told."""
    person = caller(request)
    tld = resolve_tld(body.tld, delegated_only=False) if body.tld else None
    ended = actions.leave(person, actor=actor(request), tld=tld)
    return [membership_out(m) for m in ended]


# --- Tokens ----------------------------------------------------------------------------------------


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The token's first characters, to recognise it.")
    scope: str = Field(
        description="The role the token was created under (member, secretariat, committee): it "
        "never gives more, whatever its owner's role becomes."
    )
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself. Shown once: store it now.")


class TokenIn(InputSchema):
    name: str = Field(description="What the token is for, e.g. “monitoring script”.")


@router.get(
    "/me/tokens",
    response={200: list[TokenOut], **errors(*AUTH_ERRORS)},
    summary="Your API tokens",
)
@paginate(Pagination)
def list_tokens(request: HttpRequest) -> Any:
    """Your tokens, newest first, revoked ones included: `{"items", "count"}`, paginated."""
    return ApiToken.objects.filter(person=caller(request)).order_by("-created_at", "-id")


@router.post(
    "/me/tokens",
    response={201: TokenCreated, **errors(400, *AUTH_ERRORS)},
    summary="Create an API token (from a portal session)",
)
def create_token(request: HttpRequest, body: TokenIn) -> Any:
    """Create a personal token. Only from a logged-in portal session (with the second factor for
    staff): a token cannot create another, so revoking a leaked token is enough."""
    if getattr(request, "auth_method", "") != "session":
        raise NotAuthorised(
            _("Create API tokens from a logged-in portal session; a token cannot create another.")
        )
    token, plaintext = tokens.create_token(
        caller(request),
        body.name,
        actor=actor(request),
        second_factor_proved=second_factor_proved(request),
    )
    return Status(201, {**TokenOut.from_orm(token).dict(), "token": plaintext})


@router.delete(
    "/me/tokens/{token_id}",
    response={200: TokenOut, **errors(404, *AUTH_ERRORS)},
    summary="Revoke an API token",
)
def revoke_token(request: HttpRequest, token_id: int) -> ApiToken:
    """Revoke one of your tokens; it stops working at once."""
    return tokens.revoke_token(caller(request), token_id, actor=actor(request))
