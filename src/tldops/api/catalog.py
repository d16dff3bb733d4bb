"""Catalog endpoints: every ccTLD with its IANA data, and the committee's regional tags."""

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from tldops.api.auth import AUTH, actor, require_committee, require_member
from tldops.api.schemas import AUTH_ERRORS, InputSchema, Pagination, errors
from tldops.catalog import services
from tldops.catalog.models import Tld

router = Router(auth=AUTH, tags=["catalog"])


class TldSummary(Schema):
    alabel: str = Field(description="A-label, the ASCII key (`fr`, `xn--p1ai`).")
    ulabel: str = Field(description="U-label, as people write it (`fr`, `рф`).")
    display: str = Field(description="`.fr`, or `.рф (xn--p1ai)` for IDNs.")
    kind: str = Field(description="ascii or idn.")
    iso_code: str = Field(description="ISO 3166 code, where the ccTLD has one.")
    country_name: str
    delegated: bool = Field(description="False for retired ccTLDs.")
    has_ds: bool | None = Field(description="Whether the root holds a DS record (null: unknown).")
    regions: list[str] = Field(description="Codes of the regional organisations it is tagged with.")

    @staticmethod
    def resolve_regions(obj: Tld) -> list[str]:
        return [r.code for r in obj.regions.all()]


class NameServerOut(Schema):
    hostname: str
    ipv4: list[str] = Field(description="IPv4 glue.")
    ipv6: list[str] = Field(description="IPv6 glue.")


class TldDetail(TldSummary):
    script: str = Field(description="Script or language of an IDN ccTLD.")
    manager: str = Field(description="The ccTLD manager (sponsoring organisation).")
    admin_org: str = Field(description="IANA administrative contact: organisation.")
    admin_email: str = Field(description="IANA administrative contact: email, where known.")
    tech_org: str = Field(description="IANA technical contact: organisation.")
    tech_email: str = Field(description="IANA technical contact: email, where known.")
    nameservers: list[NameServerOut]
    retired_at: datetime | None
    synced_at: datetime | None = Field(description="Last refresh from IANA.")

    @staticmethod
    def resolve_nameservers(obj: Tld) -> list[Any]:
        return list(obj.nameservers.all())


class TldFilter(Schema):
    kind: str | None = Field(None, description="ascii or idn.")
    region: str | None = Field(None, description="A regional organisation code, e.g. `centr`.")
    search: str | None = Field(
        None,
        description="Part of an A-label, a U-label, an ISO code, a country or a manager "
        "(`рф`, `.FR`, `france` all work).",
    )
    delegated: bool = Field(
        True, description="true (default): delegated ccTLDs; false: retired ones instead."
    )


@router.get(
    "/catalog/tlds",
    response={200: list[TldSummary], **errors(400, *AUTH_ERRORS)},
    summary="List ccTLDs",
)
@paginate(Pagination)
def list_tlds(request: HttpRequest, filters: Query[TldFilter]) -> QuerySet[Tld]:
    """Every ccTLD IANA delegates (or, with `delegated=false`, those it retired), in A-label order."""
    require_member(request)
    return services.list_tlds(
        kind=(filters.kind or "").strip().lower() or None,
        region=filters.region or None,
        search=filters.search or "",
    ).filter(delegated=filters.delegated)


@router.get(
    "/catalog/tlds/{tld}",
    response={200: TldDetail, **errors(404, *AUTH_ERRORS)},
    summary="One ccTLD",
)
def get_tld(request: HttpRequest, tld: str) -> Tld:
    """One ccTLD, named by A-label or U-label (`fr`, `рф`, `xn--p1ai`), retired ones included."""
    require_member(request)
    return services.tld_detail(tld)


class RegionIn(InputSchema):
    region: str = Field(description="Regional organisation code: aftld, aptld, centr or lactld.")


@router.post(
    "/catalog/tlds/{tld}/regions",
    response={200: TldDetail, **errors(400, 404, *AUTH_ERRORS)},
    summary="Tag a ccTLD with a regional organisation (committee)",
)
def add_region(request: HttpRequest, tld: str, body: RegionIn) -> Tld:
    """Tag the ccTLD with a regional organisation (AFTLD, APTLD, CENTR, LACTLD). Idempotent."""
    require_committee(request)
    target = services.tld_detail(tld)
    services.tag_region(target, body.region, actor=actor(request))
    return services.tld_detail(target.alabel)


@router.delete(
    "/catalog/tlds/{tld}/regions/{region}",
    response={200: TldDetail, **errors(400, 404, *AUTH_ERRORS)},
    summary="Remove a regional tag (committee)",
)
def remove_region(request: HttpRequest, tld: str, region: str) -> Tld:
    """Remove the ccTLD's tag with this regional organisation. Idempotent."""
    require_committee(request)
    target = services.tld_detail(tld)
    services.tag_region(target, region, actor=actor(request), remove=True)
    return services.tld_detail(target.alabel)
