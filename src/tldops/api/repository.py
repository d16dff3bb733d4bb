"""Contact repository endpoints: the editions sent, their downloads, the current directory's
downloads (members and staff), and re-sending an edition (staff).

A thin door onto :mod:`tldops.repository.editions`; the rules live there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from tldops.api.auth import AUTH, actor, require_member, require_staff
from tldops.api.schemas import AUTH_ERRORS, InputSchema, Pagination, Shaped, errors
from tldops.repository import editions
from tldops.repository.models import Edition

router = Router(auth=AUTH, tags=["repository"])

FORMAT_DESCRIPTION = "txt (the mail body), csv, vcf (vCard 4.0) or pdf."


class PersonChange(Schema):
    person: int = Field(description="The person's id (stable across editions).")
    name: str
    tlds: list[str] = Field(description="A-labels of the ccTLDs they are a contact of.")
    fields: list[str] | None = Field(
        None, description="For changed: name, emails, phones, timezone, languages, key, cctlds."
    )


class ChangesOut(Schema):
    previous: str | None = Field(description="The edition compared with; null for the first.")
    joined: list[PersonChange]
    left: list[PersonChange]
    changed: list[PersonChange]


class EditionOut(Schema):
    period: str = Field(description="The edition, e.g. `2026-11`.")
    generated_at: datetime
    sent_at: datetime | None
    people: int = Field(description="Distinct people listed.")
    cctlds: int = Field(description="ccTLDs listed.")
    recipients: int = Field(description="Active members it was sent to.")
    signer: str = Field(description="OpenPGP fingerprint it was signed with; empty: unsigned.")
    trigger: str = Field(description="schedule, cli, web or api.")
    downloads: dict[str, str] = Field(description="Format → download path under /api/v1.")


class EditionDetailOut(EditionOut):
    changes: ChangesOut


def _edition(e: Edition) -> dict[str, Any]:
    return {
        "period": e.period,
        "generated_at": e.generated_at,
        "sent_at": e.sent_at,
        "people": e.people,
        "cctlds": e.cctlds,
        "recipients": e.recipients,
        "signer": e.signer,
        "trigger": e.trigger,
        "downloads": {
            fmt: f"/api/v1/repository/editions/{e.period}/{fmt}" for fmt in editions.FORMATS
        },
    }


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


# A download is a file, not JSON: documented as such for the OpenAPI document.
FILE_RESPONSE = {
    "200": {
        "description": "The file (Content-Disposition: attachment).",
        "content": {
            ct.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
            for ct, _ext in editions.FORMATS.values()
        },
    }
}


@router.get(
    "/repository/editions",
    response={200: list[EditionOut], **errors(*AUTH_ERRORS)},
    summary="Contact repository editions",
)
@paginate(Pagination)
def list_editions(request: HttpRequest) -> Shaped:
    """Every edition sent, newest first: `{"items", "count"}`, paginated. Members, secretariat
    and committee only."""
    require_member(request)
    return Shaped(editions.history(), _edition)


@router.get(
    "/repository/editions/{period}",
    response={200: EditionDetailOut, **errors(400, 404, *AUTH_ERRORS)},
    summary="One contact repository edition",
)
def get_edition(request: HttpRequest, period: str) -> dict[str, Any]:
    """An edition's counts and what changed since the previous edition (who joined, left, or
    changed which details)."""
    require_member(request)
    e = editions.get(period)
    changes = {"previous": None, "joined": [], "left": [], "changed": [], **(e.changes or {})}
    return {**_edition(e), "changes": changes}


class ResendIn(InputSchema):
    to: list[str] | None = Field(
        None,
        description="Addresses of active members; omit to send to every active member.",
        examples=[["ana@nic.fr"]],
    )


class ResendOut(Schema):
    period: str
    recipients: int = Field(description="How many copies were queued.")
    message_id: int = Field(description="The outbox message id.")


# Before the download route: "/editions/{period}/{fmt}" would otherwise take ".../resend".
@router.post(
    "/repository/editions/{period}/resend",
    response={200: ResendOut, **errors(400, 404, *AUTH_ERRORS)},
    summary="Send an edition again (staff)",
)
def resend(request: HttpRequest, period: str, body: ResendIn) -> dict[str, Any]:
    """Queue the stored message again, byte for byte (a signed edition stays signed)."""
    require_staff(request)
    out = editions.resend(period, to=body.to, actor=actor(request))
    return {"period": period, "recipients": out.deliveries.count(), "message_id": out.pk}


@router.get(
    "/repository/editions/{period}/{fmt}",
    response={**errors(400, 404, *AUTH_ERRORS)},
    openapi_extra={"responses": FILE_RESPONSE},
    summary="Download an edition",
)
def download_edition(request: HttpRequest, period: str, fmt: str) -> HttpResponse:
    """The edition exactly as it was sent, as `txt`, `csv`, `vcf` or `pdf`."""
    require_member(request)
    return _download(*editions.export(fmt, period=period))


@router.get(
    "/repository/current/{fmt}",
    response={**errors(400, *AUTH_ERRORS)},
    openapi_extra={"responses": FILE_RESPONSE},
    summary="Download the current directory",
)
def download_current(request: HttpRequest, fmt: str) -> HttpResponse:
    """The contact repository made now from the current directory (not stored), as `txt`,
    `csv`, `vcf` or `pdf`."""
    require_member(request)
    return _download(*editions.export(fmt))
