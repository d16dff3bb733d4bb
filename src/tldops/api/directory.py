"""Directory endpoints: public coverage, the member directory, and the staff's vetting tools.

Every endpoint is a thin door onto :mod:`tldops.directory.queries` (reads) and
:mod:`tldops.directory.actions` (changes); the rules live there.
"""

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Response
from pydantic import StrictBool

from tldops.api.auth import AUTH, actor, require_committee, require_member, require_staff
from tldops.api.schemas import (
    AUTH_ERRORS,
    InputSchema,
    MembershipOut,
    Pagination,
    PhoneOut,
    TldRef,
    errors,
    membership_out,
    phone_display,
    tld_ref,
)
from tldops.catalog.lookup import resolve_tld
from tldops.catalog.models import Tld
from tldops.directory import actions, queries
from tldops.directory.cache import versioned
from tldops.directory.models import AuditEntry, Invitation, Membership, Person
from tldops.directory.validation import BATCH_MAX_LENGTH, REASON_MAX_LENGTH
from tldops.kernel.errors import InvalidInput, NotFound

router = Router(auth=AUTH)

JSON = "application/json"  # what ninja's Response (a JsonResponse) says
LISTING_CACHE_SECONDS = 3600  # an upper bound: a change to the directory replaces the page at once

# --- Public coverage -------------------------------------------------------------------------------


class CoveredTld(Schema):
    alabel: str = Field(description="A-label (`fr`, `xn--p1ai`).")
    ulabel: str = Field(description="U-label (`fr`, `рф`).")
    kind: str = Field(description="ascii or idn.")
    country_name: str = Field(description="Country or territory, where the ccTLD has one.")


class ShareOut(Schema):
    covered: int = Field(description="ccTLDs with at least one active contact.")
    total: int = Field(description="Delegated ccTLDs.")
    percent: float = Field(description="covered / total, in percent, one decimal.")


class RegionShareOut(ShareOut):
    code: str = Field(description="Regional organisation code (`centr`).")
    name: str = Field(description="Its name (`CENTR`).")


class CoverageOut(Schema):
    overall: ShareOut
    by_kind: dict[str, ShareOut] = Field(description="`ascii` and `idn`.")
    by_region: list[RegionShareOut]
    members: list[CoveredTld] = Field(description="ccTLDs with at least one active contact.")
    not_subscribed: list[CoveredTld] = Field(description="Delegated ccTLDs without one yet.")


def _share(share: queries.Share) -> dict[str, Any]:
    return {"covered": share.covered, "total": share.total, "percent": share.percent}


@router.get(
    "/coverage",
    auth=None,
    response=CoverageOut,
    tags=["public"],
    summary="Coverage of the community (public)",
)
def coverage(request: HttpRequest) -> Response:
    """Which ccTLDs are members and which are not yet subscribed, with percentages overall, by kind
    (ASCII/IDN) and by regional organisation. No person data."""
    cov = queries.coverage()

    def brief(t: Tld) -> dict[str, str]:
        return {
            "alabel": t.alabel,
            "ulabel": t.ulabel,
            "kind": t.kind,
            "country_name": t.country_name,
        }

    # A public page anyone may poll: plain data serialised directly (held to CoverageOut by the
    # schemathesis test).
    return Response(
        {
            "overall": _share(cov.overall),
            "by_kind": {kind: _share(s) for kind, s in cov.by_kind.items()},
            "by_region": [
                {"code": code, "name": cov.region_names.get(code, code.upper()), **_share(s)}
                for code, s in cov.by_region.items()
            ],
            "members": [brief(t) for t in cov.members],
            "not_subscribed": [brief(t) for t in cov.not_subscribed],
        }
    )


# --- The member directory --------------------------------------------------------------------------


class ContactOut(Schema):
    """One active security contact of one ccTLD, as the monthly contact repository lists it."""

    membership_id: int = Field(description="Id of this contact's membership of the ccTLD.")
    person_id: int
    tld: TldRef
    number: int = Field(description="Contact number within the ccTLD (1, 2, 3 …).")
    name: str
    emails: list[str] = Field(description="Main address first, then the others.")
    phones: list[PhoneOut] = Field(description="In the order the contact gave them.")
    timezone: str = Field(description="IANA time zone name, e.g. Europe/Paris; may be empty.")
    languages: list[str] = Field(description="ISO 639 codes.")
    confirmed_at: datetime | None
    unreachable: bool = Field(
        False,
        description="List mail to the main address keeps bouncing (see docs/bounces.md); the "
        "contact is still a member.",
    )
    last_reachable: datetime | None = Field(
        None, description="When the contact last proved reachable (see docs/reachability.md)."
    )


class PagedContactOut(Schema):
    items: list[ContactOut]
    count: int = Field(description="How many contacts match, on all pages.")


class ContactFilter(Pagination.Input):
    tld: str | None = Field(None, description="Only this ccTLD (`fr`, `рф` or `xn--p1ai`).")
    search: str | None = Field(
        None, description="Part of a name, an email address, a ccTLD or a country name."
    )


def _contact(m: Membership) -> dict[str, Any]:
    person = m.person
    return {
        "membership_id": m.pk,
        "person_id": person.pk,
        "tld": tld_ref(m.tld),
        "number": m.number,
        "name": person.name,
        "emails": [person.email, *person.alt_emails],
        "phones": [
            {"number": p.number, "label": p.label, "display": phone_display(p.number)}
            for p in person.phones.all()
        ],
        "timezone": person.timezone,
        "languages": list(person.languages),
        "confirmed_at": m.confirmed_at,
        "unreachable": bool(getattr(m, "unreachable", False)),
        "last_reachable": getattr(m, "last_reachable", None),
    }


@router.get(
    "/directory/contacts",
    response={200: PagedContactOut, **errors(400, *AUTH_ERRORS)},
    tags=["directory"],
    summary="The member directory",
)
def directory_contacts(request: HttpRequest, filters: Query[ContactFilter]) -> Response:
    """Every active contact of every member ccTLD, in ccTLD then contact-number order, a page at a
    time (`limit`, `offset`). Members, secretariat and committee only. The number of database
    queries does not grow with the number of members."""
    require_member(request)
    tld = resolve_tld(filters.tld) if filters.tld else None
    search = (filters.search or "").strip()

    # The hottest read of the API (every member's tooling pulls it), and it changes only when the
    # directory does: the serialised page is kept per process under the directory version, which
    # every change bumps (any process's), so an answer is never older than the last change.
    def build() -> bytes:
        qs = queries.directory_memberships(tld=tld, search=search)
        page = qs[filters.offset : filters.offset + filters.limit]
        # Built as plain data and serialised directly, without a per-field schema pass; the
        # schemathesis test holds it to PagedContactOut.
        return Response({"items": [_contact(m) for m in page], "count": qs.count()}).content

    parts = (tld.pk if tld else None, search, filters.limit, filters.offset)
    body = versioned("api:directory-contacts", parts, build, LISTING_CACHE_SECONDS)
    return HttpResponse(body, content_type=JSON)


class RemovedOut(MembershipOut):
    person_id: int
    name: str


@router.delete(
    "/directory/contacts/{membership_id}",
    response={200: RemovedOut, **errors(400, 404, *AUTH_ERRORS)},
    tags=["staff"],
    summary="Remove a contact (staff)",
)
def remove_contact(
    request: HttpRequest,
    membership_id: int,
    reason: str = Query(
        ...,
        min_length=1,
        max_length=REASON_MAX_LENGTH,
        description="Why, e.g. “on the admin contact's written request”; told to the contact.",
    ),
) -> dict[str, Any]:
    """End a contact's membership of a ccTLD. The contact and their colleagues are told by mail."""
    require_staff(request)
    membership = Membership.objects.select_related("person", "tld").filter(pk=membership_id).first()
    if membership is None:
        raise NotFound(_("No contact with membership id %(id)d.") % {"id": membership_id})
    ended = actions.remove_contact(membership, actor=actor(request), reason=reason.strip())
    return {**membership_out(ended), "person_id": ended.person_id, "name": ended.person.name}


# --- Invitations (staff) ---------------------------------------------------------------------------


class InvitationOut(Schema):
    id: int
    tld: TldRef
    purpose: str = Field(description="invite, or manage for a management link.")
    status: str = Field(description="sent, answered, expired or cancelled.")
    sent_to: str = Field(description="The IANA administrative contact address it went to.")
    batch: str = Field(description="The batch label given when inviting; may be empty.")
    invited_by: str | None = Field(description="Email of the staff member who invited.")
    created_at: datetime
    expires_at: datetime
    reminders_sent: int
    last_sent_at: datetime
    answered_at: datetime | None

    @staticmethod
    def resolve_tld(obj: Invitation) -> dict[str, str]:
        return tld_ref(obj.tld)

    @staticmethod
    def resolve_invited_by(obj: Invitation) -> str | None:
        return obj.invited_by.email if obj.invited_by else None


class InvitationFilter(Schema):
    status: str | None = Field(None, description="sent, answered, expired or cancelled.")
    batch: str | None = Field(None, description="A batch label.")


@router.get(
    "/invitations",
    response={200: list[InvitationOut], **errors(*AUTH_ERRORS)},
    tags=["staff"],
    summary="Invitation tracking (staff)",
)
@paginate(Pagination)
def list_invitations(
    request: HttpRequest, filters: Query[InvitationFilter]
) -> QuerySet[Invitation]:
    """Who was invited, reminded, who answered; newest first."""
    require_staff(request)
    return queries.invitation_tracking(status=filters.status or "", batch=filters.batch or "")


class AlphabeticalBatch(InputSchema):
    first: str = Field(
        description="First letter of the A-labels to invite (`a`).", min_length=1, max_length=1
    )
    last: str = Field(
        description="Last letter, inclusive (`c`). IDN A-labels start with `x` (`xn--`).",
        min_length=1,
        max_length=1,
    )


class InviteIn(InputSchema):
    """Give exactly one of ``tld``, ``tlds`` or ``alphabetical``."""

    tld: str | None = Field(
        None, description="One ccTLD; invited even if it already has contacts.", examples=["fr"]
    )
    tlds: list[str] | None = Field(None, description="A list of ccTLDs.", examples=[["fr", "рф"]])
    alphabetical: AlphabeticalBatch | None = Field(
        None, description="Every delegated ccTLD whose A-label starts with a letter in this range."
    )
    batch: str = Field(
        "", max_length=BATCH_MAX_LENGTH, description="A label to find this batch again."
    )
    skip_covered: StrictBool = Field(
        True, description="For lists and batches: leave out ccTLDs that already have contacts."
    )


class SkippedOut(Schema):
    tld: TldRef
    reason: str


class InviteResultOut(Schema):
    invited: list[InvitationOut]
    skipped: list[SkippedOut] = Field(description="ccTLDs not invited, each with the reason.")


def _alphabetical(first: str, last: str) -> list[Tld]:
    a, z = first.lower(), last.lower()
    if not (a.isascii() and z.isascii() and a.isalnum() and z.isalnum()) or a > z:
        raise InvalidInput(
            _("Give a letter range such as a to c (first letter before last)."),
            field="alphabetical",
        )
    return list(
        Tld.objects.delegated().filter(alabel__gte=a, alabel__lt=chr(ord(z) + 1)).order_by("alabel")
    )


@router.post(
    "/invitations",
    response={201: InviteResultOut, **errors(400, *AUTH_ERRORS)},
    tags=["staff"],
    summary="Invite ccTLDs (staff)",
)
def invite(request: HttpRequest, body: InviteIn) -> Any:
    """Mail each ccTLD's IANA administrative contact a signed, expiring, single-use link to name its
    security contacts."""
    from ninja.responses import Status

    require_staff(request)
    given = [x for x in (body.tld, body.tlds, body.alphabetical) if x]
    if len(given) != 1:
        raise InvalidInput(_("Give exactly one of tld, tlds or alphabetical."), field="tld")
    who = actor(request)
    if body.tld:
        invitation = actions.invite_cctld(resolve_tld(body.tld), actor=who, batch=body.batch)
        return Status(201, {"invited": [invitation], "skipped": []})
    if body.alphabetical:
        tlds = _alphabetical(body.alphabetical.first, body.alphabetical.last)
    else:
        tlds = [resolve_tld(name) for name in body.tlds or []]
    invited, skipped = actions.invite_batch(
        tlds, actor=who, batch=body.batch, skip_covered=body.skip_covered
    )
    return Status(
        201,
        {
            "invited": invited,
            "skipped": [{"tld": tld_ref(t), "reason": reason} for t, reason in skipped],
        },
    )


class RemindOut(Schema):
    sent: int = Field(description="How many reminders were sent now.")


@router.post(
    "/invitations/remind",
    response={200: RemindOut, **errors(*AUTH_ERRORS)},
    tags=["staff"],
    summary="Send due reminders (staff)",
)
def remind(request: HttpRequest) -> dict[str, int]:
    """Send the reminders that are due and expire old invitations. Safe to call any number of
    times: each reminder goes out once."""
    require_staff(request)
    return {"sent": actions.send_due_reminders()}


# --- Audit log (staff) -----------------------------------------------------------------------------


class PersonRef(Schema):
    id: int
    name: str
    email: str


class AuditOut(Schema):
    id: int
    at: datetime
    actor: str = Field(description="Who acted: `role:email`, `admin-contact:email` or `system`.")
    door: str = Field(description="web, api, cli, email or system.")
    action: str = Field(description="What was done, e.g. invite, authorise, contact-confirmed.")
    tld: TldRef | None
    person: PersonRef | None = Field(description="The person the change was about.")
    summary: str
    before: Any = Field(description="State before the change, where recorded.")
    after: Any = Field(description="State after the change, where recorded.")

    @staticmethod
    def resolve_tld(obj: AuditEntry) -> dict[str, str] | None:
        return tld_ref(obj.tld) if obj.tld else None


class AuditFilter(Schema):
    tld: str | None = Field(None, description="Only entries about this ccTLD.")
    action: str | None = Field(None, description="Only this action, e.g. `authorise`.")
    person: str | None = Field(
        None, description="Only entries about this person: an email address or a person id."
    )


@router.get(
    "/audit",
    response={200: list[AuditOut], **errors(400, *AUTH_ERRORS)},
    tags=["staff"],
    summary="The audit log (staff)",
)
@paginate(Pagination)
def audit_log(request: HttpRequest, filters: Query[AuditFilter]) -> QuerySet[AuditEntry]:
    """Every change: who, when, through which door, before and after; newest first."""
    require_staff(request)
    qs = AuditEntry.objects.select_related("tld", "person")
    if filters.tld:
        qs = qs.filter(tld=resolve_tld(filters.tld, delegated_only=False))
    if filters.action:
        qs = qs.filter(action=filters.action.strip())
    if filters.person:
        who = filters.person.strip()
        match = Q(person__email__iexact=who)
        if who.isdigit():
            match |= Q(person_id=int(who))
        qs = qs.filter(match)
    return qs.order_by("-at", "-id")


# --- Roles (committee) -----------------------------------------------------------------------------


class RoleIn(InputSchema):
    role: str = Field(description="member, secretariat or committee.", examples=["secretariat"])
    position: str = Field(
        "", description="For committee: chair, vice-chair, member or liaison; else empty."
    )


class PersonOut(Schema):
    id: int
    name: str
    email: str
    role: str
    committee_position: str


@router.put(
    "/people/{person_id}/role",
    response={200: PersonOut, **errors(400, 404, *AUTH_ERRORS)},
    tags=["committee"],
    summary="Change someone's role (committee)",
)
def set_role(request: HttpRequest, person_id: int, body: RoleIn) -> Person:
    """Make someone secretariat or committee, or a plain member again."""
    require_committee(request)
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise NotFound(_("No person with id %(id)d.") % {"id": person_id})
    return actions.set_role(person, role=body.role, position=body.position, actor=actor(request))
