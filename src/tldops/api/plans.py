"""A ccTLD's own DR/BCP plan: read, save, versions, sign-off, PDF. A thin door onto
:mod:`tldops.playbooks.plans`, which decides who may (the ccTLD's active contacts only, staff
not included: 404 to everyone else, whether the ccTLD has a plan or not).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from tldops.api.auth import AUTH, actor, caller
from tldops.api.schemas import AUTH_ERRORS, InputSchema, Pagination, TldRef, errors
from tldops.catalog.lookup import resolve_tld
from tldops.catalog.models import Tld
from tldops.directory.validation import PHONE_MAX_LENGTH
from tldops.kernel.errors import DirectoryError, NotFound
from tldops.playbooks import plans
from tldops.playbooks.catalogs import LANGUAGES
from tldops.playbooks.models import PlanVersion, SignOff

router = Router(auth=AUTH, tags=["plans"])

TLD_DESCRIPTION = "The ccTLD (fr, рф, xn--p1ai); you must be one of its active contacts."
LANGUAGE_DESCRIPTION = "The plan's language: " + ", ".join(LANGUAGES) + "."
T, L, U = plans.TEXT_MAX, plans.LONG_MAX, plans.URL_MAX


class RoleRow(InputSchema):
    role: str = Field(max_length=40, description="One of: " + ", ".join(plans.ROLES) + ".")
    person: str = Field(max_length=T)
    deputy: str = Field("", max_length=T)
    phone: str = Field("", max_length=PHONE_MAX_LENGTH, description="24/7 phone.")


class ServiceRow(InputSchema):
    service: str = Field(max_length=T)
    rto: str = Field("", max_length=T, description="Recovery time objective, as you say it.")
    rpo: str = Field("", max_length=T, description="Recovery point objective, as you say it.")


class SupplierRow(InputSchema):
    name: str = Field(max_length=T)
    service: str = Field("", max_length=T)
    contact: str = Field("", max_length=T, description="Contact person.")
    phone: str = Field("", max_length=PHONE_MAX_LENGTH)
    email: str = Field("", max_length=254)
    contract: str = Field("", max_length=T, description="Contract or reference.")


class SiteRow(InputSchema):
    name: str = Field(max_length=T)
    address: str = Field("", max_length=L)
    role: str = Field("", max_length=40, description="primary, backup or other.")
    notes: str = Field("", max_length=L)


class DnsProviderRow(InputSchema):
    name: str = Field(max_length=T)
    servers: str = Field("", max_length=L, description="Its name servers, comma-separated.")
    contact: str = Field("", max_length=L)


class PlanValues(InputSchema):
    """The ccTLD's specifics. The first six fill the playbook's placeholders."""

    registry: str = Field("", max_length=T, description="The registry's name.")
    incident_lead: str = Field("", max_length=T)
    top_manager: str = Field("", max_length=T)
    phone_24x7: str = Field("", max_length=PHONE_MAX_LENGTH)
    status_page: str = Field("", max_length=U, description="https://…")
    website: str = Field("", max_length=U, description="https://…")
    escrow_agent: str = Field("", max_length=T)
    escrow_contact: str = Field("", max_length=L)
    registrars_channel: str = Field("", max_length=L, description="How registrars are reached.")
    roles: list[RoleRow] = Field(default_factory=list, max_length=20)
    services: list[ServiceRow] = Field(default_factory=list, max_length=20)
    suppliers: list[SupplierRow] = Field(default_factory=list, max_length=30)
    sites: list[SiteRow] = Field(default_factory=list, max_length=10)
    dns_providers: list[DnsProviderRow] = Field(default_factory=list, max_length=10)


class PlanIn(InputSchema):
    language: str = Field("en", max_length=8, description=LANGUAGE_DESCRIPTION)
    base_version: int = Field(
        ge=0,
        le=2**31 - 1,
        description=(
            "The plan's `version` your change was made from (as `GET /plans/{tld}` gave it; 0 "
            "before the first save). Saved since: 409, nothing saved — read the plan again."
        ),
    )
    values: PlanValues


class SignOffOut(Schema):
    version: int
    name: str
    role: str
    signed_on: dt.date
    recorded_by: str | None = Field(description="The contact who recorded it.")
    recorded_at: dt.datetime


class CandidateOut(Schema):
    name: str
    email: str
    phone_24x7: str


class PlanOut(Schema):
    tld: TldRef
    saved: bool = Field(description="False: never saved; the values are prefilled suggestions.")
    version: int = Field(
        description="The current version (0 before the first save): send it back as "
        "`base_version` when you save your changes."
    )
    language: str
    values: PlanValues
    updated_at: dt.datetime | None
    updated_by: str | None
    signoffs: list[SignOffOut] = Field(description="Sign-offs of the current version.")
    last_signoff: SignOffOut | None = Field(description="The latest sign-off of any version.")
    candidates: list[CandidateOut] = Field(
        description="The ccTLD's active contacts, suggested as incident lead (directory)."
    )


class VersionOut(Schema):
    number: int
    language: str
    content_version: int = Field(
        description="The DR/BCP playbook's version of its text. Signed off: the version of the "
        "text it was signed with, which its PDF prints. Unsigned: the one it was saved with; "
        "its PDF prints today's text, so the PDF's cover gives today's content version and "
        "says it is printed with the current playbook text."
    )
    created_at: dt.datetime
    created_by: str | None
    signoffs: list[SignOffOut]


class SignOffIn(InputSchema):
    name: str = Field(max_length=T, description="Who signed (top management).")
    role: str = Field(max_length=T, description="Their role, e.g. Managing director.")
    signed_on: str = Field(max_length=10, description="The day they signed, YYYY-MM-DD.")
    version: int | None = Field(None, ge=1, description="The version signed; default the latest.")


class PdfQuery(Schema):
    language: str = Field("", max_length=8, description="Another language; default the plan's.")


def _tld(raw: str) -> Tld:
    try:
        return resolve_tld(raw[:64])
    except DirectoryError:
        raise NotFound("No such plan.") from None


def _signoff(s: SignOff) -> dict[str, Any]:
    return {
        "version": s.version.number,
        "name": s.name,
        "role": s.role,
        "signed_on": s.signed_on,
        "recorded_by": s.recorded_by.name if s.recorded_by else None,
        "recorded_at": s.recorded_at,
    }


def _plan(request: HttpRequest, tld: Tld) -> dict[str, Any]:
    person = caller(request)
    plan, values = plans.current_values(person, tld)
    found = plans.prefill(tld)
    current = []
    last = None
    if plan is not None:
        current = list(
            SignOff.objects.filter(version__plan=plan, version__number=plan.version).select_related(
                "version", "recorded_by"
            )
        )
        last = plans.last_signoff(plan)
    return {
        "tld": tld,
        "saved": plan is not None,
        "version": plan.version if plan else 0,
        "language": plan.language if plan else "en",
        "values": values,
        "updated_at": plan.updated_at if plan else None,
        "updated_by": plan.updated_by.name if plan and plan.updated_by else None,
        "signoffs": [_signoff(s) for s in current],
        "last_signoff": _signoff(last) if last else None,
        "candidates": [vars(c) for c in found.candidates],
    }


FILE_RESPONSE = {
    "200": {
        "description": "The plan as an A4 PDF (Content-Disposition: attachment).",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _pdf(src: plans.Source) -> HttpResponse:
    response = HttpResponse(plans.pdf(src), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{plans.pdf_filename(src)}"'
    response["Cache-Control"] = "private, no-store"
    return response


# The PDF paths first: /plans/{tld} would otherwise take "fr.pdf" as a ccTLD.
@router.get(
    "/plans/{tld}.pdf",
    response={**errors(400, 404, *AUTH_ERRORS)},
    openapi_extra={"responses": FILE_RESPONSE},
    summary="Your ccTLD's plan as PDF",
)
def plan_pdf(request: HttpRequest, tld: str, query: Query[PdfQuery]) -> HttpResponse:
    """The current plan (or the prefilled one, before the first save) as a printable PDF, in its
    language or in `language`. 404 unless you are an active contact of the ccTLD."""
    found = _tld(tld)
    plan, values = plans.current_values(caller(request), found)
    language = plans.clean_language(query.language) if query.language else None
    return _pdf(plans.source(plan, found, values, language))


@router.get(
    "/plans/{tld}/versions/{number}.pdf",
    response={**errors(404, *AUTH_ERRORS)},
    openapi_extra={"responses": FILE_RESPONSE},
    summary="One version of your ccTLD's plan as PDF",
)
def version_pdf(request: HttpRequest, tld: str, number: int) -> HttpResponse:
    """A saved version exactly as it was saved (values, language) with its sign-offs; a signed
    version with the playbook's text it was signed with."""
    saved = plans.version(caller(request), _tld(tld), number)
    return _pdf(plans.version_source(saved))


@router.get(
    "/plans/{tld}",
    response={200: PlanOut, **errors(404, *AUTH_ERRORS)},
    summary="Your ccTLD's DR/BCP plan",
)
def get_plan(request: HttpRequest, tld: str) -> dict[str, Any]:
    """The plan's values, version and sign-offs; before the first save, the values tldops knows
    already (catalog, directory) with `saved: false`. 404 unless you are an active contact of
    the ccTLD (staff included: a plan is its ccTLD's only)."""
    return _plan(request, _tld(tld))


@router.put(
    "/plans/{tld}",
    response={200: PlanOut, **errors(400, 404, 409, *AUTH_ERRORS)},
    summary="Save your ccTLD's DR/BCP plan",
)
def put_plan(request: HttpRequest, tld: str, body: PlanIn) -> dict[str, Any]:
    """Save every value of the plan at once, as its next version; every problem is reported at
    once (`errors`, `field` as `part.column`, `index` the row from 0) and nothing is stored.
    `base_version` is the version you read: when someone saved the plan since, 409 (`field`
    `base_version`) and nothing is stored, rather than undoing their changes unseen."""
    found = _tld(tld)
    data = body.dict()
    plans.save(
        caller(request),
        found,
        data["values"],
        language=data["language"],
        base_version=data["base_version"],
        actor=actor(request),
    )
    return _plan(request, found)


@router.get(
    "/plans/{tld}/versions",
    response={200: list[VersionOut], **errors(404, *AUTH_ERRORS)},
    summary="Versions of your ccTLD's plan",
)
@paginate(Pagination)
def list_versions(request: HttpRequest, tld: str) -> list[dict[str, Any]]:
    """Every saved version, newest first, with its sign-offs, `{"items", "count"}`."""
    rows: list[PlanVersion] = plans.versions(caller(request), _tld(tld))
    return [
        {
            "number": v.number,
            "language": v.language,
            "content_version": v.content_version,
            "created_at": v.created_at,
            "created_by": v.created_by.name if v.created_by else None,
            "signoffs": [_signoff(s) for s in v.signoffs.all()],
        }
        for v in rows
    ]


@router.post(
    "/plans/{tld}/signoffs",
    response={201: SignOffOut, **errors(400, 404, *AUTH_ERRORS)},
    summary="Record top management's sign-off",
)
def add_signoff(request: HttpRequest, tld: str, body: SignOffIn) -> tuple[int, dict[str, Any]]:
    """Record that top management (`name`, `role`) signed a version of the plan (default the
    latest) on `signed_on`."""
    signed = plans.sign_off(
        caller(request),
        _tld(tld),
        name=body.name,
        role=body.role,
        signed_on=body.signed_on,
        version_number=body.version,
        actor=actor(request),
    )
    return 201, _signoff(signed)
