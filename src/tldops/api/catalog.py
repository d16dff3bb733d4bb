"""Catalog endpoints: every ccTLD with its IANA data, the committee's regional tags, and the
staff's hand-set contacts (one ccTLD, or a CSV of admin contacts: :mod:`tldops.catalog.editing`)."""

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from tldops.api.auth import AUTH, actor, require_committee, require_member
from tldops.api.schemas import AUTH_ERRORS, InputSchema, Pagination, errors
from tldops.catalog import editing, services
from tldops.catalog.models import Tld
from tldops.kernel.errors import InvalidInput

router = Router(auth=AUTH, tags=["catalog"])


class TldSummary(Schema):
    alabel: str = Field(description="A-label, the ASCII key (`fr`, `xn--p1ai`).")
    ulabel: str = Field(description="U-label, as people write it (`fr`, `рф`).")
    display: str = Field(description="`.fr`, or `.рф (xn--p1ai)` for IDNs.")
    kind: str = Field(description="ascii or idn.")
    iso_code: str = Field(
        description="The officially assigned ISO 3166-1 alpha-2 code of the country or territory "
        "(`GB` for .uk, `SH` for .ac), empty where there is none (.eu, .su)."
    )
    reserved_code: str = Field(
        description="The exceptionally reserved ISO 3166-1 code the ccTLD is named after, where it "
        "is one (`UK`, `AC`, `EU`, `SU`); empty otherwise."
    )
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


class ProvenanceOut(Schema):
    field: str = Field(description="The field set by hand, e.g. `admin_email`.")
    source: str = Field(description="`hand` (CLI, API, portal) or `csv` (an import).")
    by: str = Field(description="Who set it (role:email, or cli:user).")
    at: str = Field(description="When (ISO 8601).")
    iana: str | None = Field(
        description="IANA's value when a sync last saw it differ; null if no sync has seen one."
    )


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
    hand_set: list[ProvenanceOut] = Field(
        description="The fields set by hand, which `catalog sync` keeps (reporting where IANA "
        "differs); the others come from IANA."
    )

    @staticmethod
    def resolve_nameservers(obj: Tld) -> list[Any]:
        return list(obj.nameservers.all())

    @staticmethod
    def resolve_hand_set(obj: Tld) -> list[Any]:
        return [p for p in editing.provenance(obj) if p.source != "iana"]


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


# --- Hand-set contacts (secretariat and committee) ------------------------------------------------


def _text(description: str) -> Any:
    return Field(None, max_length=editing.TEXT_MAX_LENGTH, description=description)


def _email(description: str) -> Any:
    return Field(None, max_length=editing.EMAIL_MAX_LENGTH, description=description)


class TldContactsIn(InputSchema):
    manager: str | None = _text("The ccTLD manager.")
    admin_org: str | None = _text("IANA administrative contact: organisation.")
    admin_email: str | None = _email("IANA administrative contact: email.")
    tech_org: str | None = _text("IANA technical contact: organisation.")
    tech_email: str | None = _email("IANA technical contact: email.")
    from_iana: bool = Field(
        False,
        description="Give every hand-set field back to IANA instead (no other field with it).",
    )


@router.patch(
    "/catalog/tlds/{tld}",
    response={200: TldDetail, **errors(400, 404, *AUTH_ERRORS)},
    summary="Set a ccTLD's manager or contacts by hand (staff)",
)
def edit_tld(request: HttpRequest, tld: str, body: TldContactsIn) -> Tld:
    """Set some of the ccTLD's manager and IANA contact fields; omitted or null fields stay as they
    are, `""` clears one. The values are marked as set by hand (`hand_set`): a later `catalog sync`
    keeps them and reports where IANA differs. With `from_iana: true`, the marks are dropped and
    IANA's values (as the last sync saw them) come back. Audited."""
    who = actor(request)
    editing.require_editor(who)
    target = services.tld_detail(tld)
    values = body.dict(exclude={"from_iana"})
    if body.from_iana:
        if any(v is not None for v in values.values()):
            raise InvalidInput(
                _("Give either values to set or from_iana, not both."), field="from_iana"
            )
        editing.accept_iana(target, actor=who)
    else:
        editing.set_contacts(target, values, actor=who)
    return services.tld_detail(target.alabel)


class AdminImportIn(InputSchema):
    csv: str = Field(
        max_length=editing.CSV_MAX_BYTES,
        description="The CSV text: a header `tld` plus any of manager, admin_org (or admin_name), "
        "admin_email, tech_org (or tech_name), tech_email; `,` or `;` separated.",
    )
    dry_run: bool = Field(True, description="true (default): only say what would change.")
    digest: str | None = Field(
        None,
        max_length=64,
        description="The `digest` of the dry run being confirmed: the import is refused if the "
        "catalog changed since.",
    )


class FieldChangeOut(Schema):
    field: str
    before: str
    after: str


class TldChangeOut(Schema):
    tld: str = Field(description="A-label.")
    display: str
    changes: list[FieldChangeOut]


class ImportOut(Schema):
    applied: bool = Field(description="Whether the changes were written (false for a dry run).")
    rows: int
    changed: list[TldChangeOut]
    unchanged: int
    digest: str = Field(description="Identifies this set of changes; send it back to apply it.")
    summary: list[str] = Field(description="The changes as `catalog sync` shows a diff.")


class RowErrorOut(Schema):
    line: int = Field(description="The line of the file (1 is the header).")
    column: str
    message: str


class ImportErrorOut(Schema):
    detail: str
    field: str | None = None
    errors: list[RowErrorOut] = Field(description="Every error of the file, with its line.")


@router.post(
    "/catalog/admin-contacts/import",
    response={200: ImportOut, 400: ImportErrorOut, **errors(*AUTH_ERRORS)},
    summary="Import admin contacts from CSV (staff)",
)
def import_admin_contacts(request: HttpRequest, body: AdminImportIn) -> Any:
    """Check a CSV of ccTLD contacts and say what it would change (`dry_run`, the default); with
    `dry_run: false`, write all of it in one transaction, or nothing when any row is wrong (400
    lists every error with its line). Written values are marked as set by CSV. Audited."""
    who = actor(request)
    editing.require_editor(who)
    try:
        if body.dry_run:
            plan = editing.plan_import(body.csv, actor=who)
        else:
            plan = editing.apply_import(body.csv, actor=who, expected=body.digest)
    except editing.ImportRefused as exc:
        return 400, {
            "detail": exc.message,
            "field": "csv",
            "errors": [
                {"line": e.line, "column": e.column, "message": e.message} for e in exc.row_errors
            ],
        }
    return {
        **plan.as_dict(),
        "unchanged": len(plan.unchanged),
        "applied": not body.dry_run,
        "summary": plan.summary_lines(),
    }
