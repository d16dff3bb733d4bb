"""Alert endpoints: list, read, raise, answer, change the status. A thin door onto
:mod:`tldops.alerts.services`; who may read what (TLP) is :mod:`tldops.alerts.access`'s rule.

Every answer carries the alert's TLP label (``tlp``, e.g. ``AMBER+STRICT``) and the list answers
say ``Cache-Control: private, no-store`` like every authenticated answer of the API.
"""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Response

from tldops.alerts import exchange, feed, notify, services, slices
from tldops.alerts.models import BODY_MAX_LENGTH, TITLE_MAX_LENGTH, Alert, AlertFilter
from tldops.alerts.services import MAX_AFFECTED, MAX_RECIPIENTS, NOTE_MAX_LENGTH
from tldops.api.auth import AUTH, actor, require_member
from tldops.api.schemas import AUTH_ERRORS, InputSchema, Pagination, Shaped, errors
from tldops.directory.cache import versioned
from tldops.directory.permissions import role_of

router = Router(auth=AUTH, tags=["alerts"])

TLP_DESCRIPTION = "TLP 2.0 label: CLEAR, GREEN, AMBER, AMBER+STRICT or RED (never translated)."


class AlertOut(Schema):
    id: int
    tlp: str = Field(description=TLP_DESCRIPTION)
    kind: str = Field(description="alert, query or advisory.")
    category: str
    severity: str
    status: str = Field(description="open, monitoring or resolved.")
    title: str
    author: str = Field(description="The author's name.")
    author_tld: str | None = Field(description="A-label of the author's ccTLD, if any.")
    affected: list[str] = Field(description="A-labels of the affected ccTLDs.")
    public: bool = Field(description="CLEAR only: shown on public pages.")
    created_at: datetime
    status_changed_at: datetime | None


class IndicatorOut(Schema):
    kind: str = Field(
        description="domain, ipv4, ipv6, ipv4-prefix, ipv6-prefix, url, asn, md5, sha1, sha256 or email."
    )
    value: str = Field(description="Normalised: IDN names as A-labels, lower case, refanged.")


class LineError(Schema):
    line: int
    message: str


#: How many indicators an alert's detail lists (the rest: GET .../indicators, to come).
INDICATORS_SHOWN = 1000


class SliceOut(Schema):
    cctld: str = Field(description="A-label of the ccTLD.")
    ulabel: str = Field(description="Its U-label (the A-label for an ASCII ccTLD).")
    names: int = Field(description="Names under it sent in all (every upload's new ones).")
    member: bool = Field(
        description="It has active contacts (the slices went to them); false: sent to the "
        "secretariat for outreach."
    )
    recipients: int = Field(description="People the last mail went to (0: not sent, see note).")
    mails: int = Field(description="Mails sent for it (one per run that found new names).")
    sent_at: datetime | None = Field(description="When the last one was queued.")
    note: str = Field(description="Why it was not sent, if it was not (e.g. TLP:RED).")


class SlicesOut(Schema):
    cctlds: list[SliceOut] = Field(description="One entry per ccTLD with names, A-label order.")
    not_cctld: int = Field(description="Domain names under other TLDs: counted, not sent.")
    invalid: int = Field(description="Domain names the splitter found invalid: not sent.")
    pending: bool = Field(description="New names wait for the worker to slice them.")
    note: str = Field(description="Why outreach was skipped, if it was (e.g. TLP:RED).")


class AlertDetailOut(AlertOut):
    body: str = Field(description="Markdown, as the author wrote it.")
    indicator_count: int
    indicators: list[IndicatorOut] = Field(description=f"The first {INDICATORS_SHOWN}.")
    reactions: dict[str, dict[str, int]] = Field(
        description='Per ccTLD A-label ("" for staff): how many answered each way, and '
        "`sightings`, the sum of the counts given."
    )
    history: list[dict[str, Any]] = Field(description="Status changes: before, after, by, at.")
    thread: list[dict[str, Any]] = Field(
        default_factory=list,
        description="The alert's mail and the replies attached to it by mail, oldest first: "
        "message_id, by (the sender's name), subject, text, at.",
    )
    slices: SlicesOut = Field(
        description="The alert's domain names split by ccTLD and sent by mail: each member "
        "ccTLD its own names, the secretariat the others (docs/alerts.md)."
    )


def _alert(a: Alert) -> dict[str, Any]:
    return {
        "id": a.pk,
        "tlp": a.tlp,
        "kind": a.kind,
        "category": a.category,
        "severity": a.severity,
        "status": a.status,
        "title": a.title,
        "author": a.author.name,
        "author_tld": a.author_tld.alabel if a.author_tld else None,
        "affected": services.affected_alabels(a),
        "public": a.public,
        "created_at": a.created_at,
        "status_changed_at": a.status_changed_at,
    }


def _detail(a: Alert) -> dict[str, Any]:
    return {
        **_alert(a),
        "body": a.body,
        "indicator_count": a.indicators.count(),
        "indicators": list(a.indicators.values("kind", "value")[:INDICATORS_SHOWN]),
        "reactions": services.reactions_by_tld(a),
        "history": [
            {"before": s.before, "after": s.after, "by": s.by.name if s.by else None, "at": s.at}
            for s in a.status_changes.select_related("by")
        ],
        "thread": [
            {
                "message_id": t.message_id,
                "by": t.person.name if t.person else t.sender,
                "subject": t.subject,
                "text": t.text,
                "at": t.at,
            }
            for t in services.thread(a)
        ],
        "slices": slices.summary(a).as_json(),
    }


class AlertFilters(Pagination.Input):
    category: str = Field("", max_length=20)
    tld: str = Field("", max_length=63, description="An affected ccTLD (fr, рф, xn--p1ai).")
    tlp: str = Field("", max_length=20)
    status: str = Field("", max_length=20)
    text: str = Field("", max_length=200, description="Words in the title or the text.")


class PagedAlertOut(Schema):
    items: list[AlertOut]
    count: int


JSON = "application/json"  # what ninja's Response (a JsonResponse) says
#: How long an answer kept for one reader may be served (it is also dropped at every change).
READER_CACHE_SECONDS = 600


def _kept_for(person: Any, name: str, parts: tuple[object, ...], build: Any) -> HttpResponse:
    """``build()``'s JSON, kept in the cache under a key of **this reader's own** (their id and
    the role they act with, and ``parts``) and the directory version, which every audited change
    bumps: only the person it was made for is ever served it (TLP: a RED alert's readers). The
    rows are serialised once, without ninja's per-field pass (the schemathesis test holds the
    answers to their schemas), as the directory's API does: ninja's pass was most of the list's
    time (bench/load_directory.py)."""
    body = versioned(
        f"api:{name}", (person.pk, role_of(person), *parts), build, READER_CACHE_SECONDS
    )
    return HttpResponse(body, content_type=JSON)


@router.get(
    "/alerts",
    response={200: PagedAlertOut, **errors(400, *AUTH_ERRORS)},
    summary="Alerts you may read",
)
def list_alerts(request: HttpRequest, filters: Query[AlertFilters]) -> HttpResponse:
    """The alerts you may read, newest first, `{"items", "count"}`, a page at a time (`limit`,
    `offset`): every CLEAR, GREEN, AMBER and AMBER+STRICT alert, and the RED ones that named you.
    Members and staff."""
    person = require_member(request)
    wanted = filters.dict()
    limit, offset = wanted.pop("limit"), wanted.pop("offset")

    def build() -> bytes:
        rows = services.search(person, services.Filters(**wanted), with_author=True)
        page = [_alert(a) for a in rows[offset : offset + limit]]
        return Response({"items": page, "count": rows.count()}).content

    return _kept_for(person, "alerts", (tuple(wanted.values()), limit, offset), build)


# --- Personal filters (declared before /alerts/{alert_id}) ----------------------------------------


class FilterOut(Schema):
    id: int
    categories: list[str] = Field(description="Categories it matches; empty: every category.")
    tlds: list[str] = Field(description="A-labels; empty: every alert. Any affected one matches.")
    min_severity: str = Field(description="low, medium, high or critical: this and above.")
    mode: str = Field(description="immediate (one mail per alert) or digest (one mail a day).")
    created_at: datetime


class FilterIn(InputSchema):
    categories: list[str] = Field(
        default_factory=list,
        max_length=len(Alert.Category.values),
        description="ddos, phishing, malware, hijack, vulnerability, outage, other; empty: all.",
    )
    tlds: list[str] = Field(
        default_factory=list,
        max_length=notify.MAX_FILTER_TLDS,
        description="ccTLDs (fr, рф, xn--p1ai); empty: all.",
    )
    min_severity: str = Field("low", max_length=20, description="low, medium, high or critical.")
    mode: str = Field(AlertFilter.Mode.IMMEDIATE, max_length=20, description="immediate or digest.")


@router.get(
    "/alerts/filters",
    response={200: list[FilterOut], **errors(*AUTH_ERRORS)},
    summary="Your alert filters",
)
@paginate(Pagination)
def list_filters(request: HttpRequest) -> Shaped:
    """Your personal alert filters, `{"items", "count"}`: the alerts that reach you by a personal
    mail at once (`immediate`) or in a daily digest (`digest`), in addition to the list's copy.
    TLP still decides: a RED alert reaches only the people it names."""
    return Shaped(notify.list_filters(require_member(request)), notify.describe)


@router.post(
    "/alerts/filters",
    response={201: FilterOut, **errors(400, *AUTH_ERRORS)},
    summary="Add an alert filter",
)
def add_filter(request: HttpRequest, body: FilterIn) -> tuple[int, dict[str, Any]]:
    """Add a personal alert filter (at most 20 each); every problem reported at once, nothing
    stored then."""
    person = require_member(request)
    flt = notify.save_filter(person, notify.FilterInput(**body.dict()), actor=actor(request))
    return 201, notify.describe(flt)


class Deleted(Schema):
    deleted: int


@router.delete(
    "/alerts/filters/{filter_id}",
    response={200: Deleted, **errors(404, *AUTH_ERRORS)},
    summary="Delete one of your alert filters",
)
def delete_filter(request: HttpRequest, filter_id: int) -> dict[str, int]:
    """Delete one of your filters; 404 for a filter that is not yours, whether it exists or not."""
    notify.delete_filter(require_member(request), filter_id, actor=actor(request))
    return {"deleted": filter_id}


@router.get(
    "/alerts/{alert_id}",
    response={200: AlertDetailOut, **errors(404, *AUTH_ERRORS)},
    summary="One alert",
)
def get_alert(request: HttpRequest, alert_id: int) -> HttpResponse:
    """An alert with its text, the answers per ccTLD and its status history; 404 for an alert you
    may not read, whether it exists or not."""
    person = require_member(request)
    alert = services.get(person, alert_id)
    return _kept_for(
        person,
        "alert",
        (alert.pk, alert.updated_at.isoformat()),
        lambda: Response(_detail(alert)).content,
    )


class AlertIn(InputSchema):
    title: str = Field(max_length=TITLE_MAX_LENGTH)
    category: str = Field(
        max_length=20,
        description="ddos, phishing, malware, hijack, vulnerability, outage or other.",
    )
    tlp: str = Field(max_length=20, description=TLP_DESCRIPTION)
    kind: str = Field("alert", max_length=20, description="alert, query or advisory.")
    severity: str = Field("medium", max_length=20, description="low, medium, high or critical.")
    body: str = Field("", max_length=BODY_MAX_LENGTH, description="Markdown.")
    affected: list[str] = Field(
        default_factory=list, max_length=MAX_AFFECTED, description="Affected ccTLDs."
    )
    public: bool = Field(False, description="CLEAR only: may be shown on public pages.")
    recipients: list[str] = Field(
        default_factory=list,
        max_length=MAX_RECIPIENTS,
        description="RED only: the members' addresses it goes to (and nobody else).",
    )
    red_to_affected: bool = Field(
        False, description="RED only: also the active contacts of the affected ccTLDs."
    )
    indicators: list[str] = Field(
        default_factory=list,
        max_length=10_000,
        description="One indicator per item, `value` or `kind,value`; bad ones are listed in "
        "`indicator_errors` and the others kept. Longer lists: upload them.",
    )


class RaisedOut(AlertDetailOut):
    indicator_errors: list[LineError] = Field(
        description="Indicators refused, by position in `indicators` (1 = the first)."
    )


@router.post(
    "/alerts",
    response={201: RaisedOut, **errors(400, *AUTH_ERRORS)},
    summary="Raise an alert",
)
def raise_alert(request: HttpRequest, body: AlertIn) -> tuple[int, dict[str, Any]]:
    """Raise an alert, a query or an advisory. A TLP label is required; a RED alert must name
    its readers; every problem is reported at once and nothing is stored then (bad indicators
    excepted: they are listed and the rest kept)."""
    person = require_member(request)
    alert = services.raise_alert(person, services.AlertInput(**body.dict()), actor=actor(request))
    refused = [{"line": n, "message": m} for n, m in alert.indicator_errors]
    return 201, {**_detail(alert), "indicator_errors": refused}


class IndicatorsAdded(Schema):
    added: int = Field(description="Valid indicators read (each once).")
    refused: int = Field(description="Lines refused, in all.")
    errors: list[LineError] = Field(description="The first refused lines, with their numbers.")
    indicator_count: int = Field(description="Indicators the alert has now.")


@router.post(
    "/alerts/{alert_id}/indicators",
    response={200: IndicatorsAdded, **errors(400, 404, 413, *AUTH_ERRORS)},
    summary="Add a list of indicators (upload)",
    openapi_extra={
        "requestBody": {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "One indicator per line (`value` or `kind,value`; `#` comments).",
        }
    },
)
def add_indicators(request: HttpRequest, alert_id: int) -> Any:
    """The author adds a list of indicators of any size, sent as the request body
    (`Content-Type: text/plain`), read line by line. Over `TLDOPS_ALERT_UPLOAD_MAX_BYTES`: 413,
    refused before it is read, nothing kept."""
    person = require_member(request)
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.ALERT_UPLOAD_MAX_BYTES:
        return 413, {
            "detail": _("The list is over the limit of %(n)d bytes; nothing was kept.")
            % {"n": settings.ALERT_UPLOAD_MAX_BYTES},
            "field": "indicators",
        }
    result = services.add_indicators(person, alert_id, request, actor=actor(request))
    return {
        "added": len(result.indicators),
        "refused": result.error_count,
        "errors": [{"line": n, "message": m} for n, m in result.errors],
        "indicator_count": services.get(person, alert_id).indicators.count(),
    }


class ReactionIn(InputSchema):
    kind: str = Field(max_length=20, description="seen, not-seen, false-positive or mitigated.")
    count: int | None = Field(None, ge=0, le=10**9, description="Sightings, for `seen`.")
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    note: str = Field("", max_length=NOTE_MAX_LENGTH)


@router.post(
    "/alerts/{alert_id}/reactions",
    response={200: AlertDetailOut, **errors(400, 404, *AUTH_ERRORS)},
    summary="Answer an alert",
)
def react(request: HttpRequest, alert_id: int, body: ReactionIn) -> dict[str, Any]:
    """Seen here too (with a count), not seen, false positive, mitigated: your answer replaces
    your previous one and counts for your ccTLD."""
    person = require_member(request)
    services.react(person, alert_id, services.ReactionInput(**body.dict()), actor=actor(request))
    return _detail(services.get(person, alert_id))


class StatusIn(InputSchema):
    status: str = Field(max_length=20, description="open, monitoring or resolved.")


@router.post(
    "/alerts/{alert_id}/status",
    response={200: AlertDetailOut, **errors(400, 404, *AUTH_ERRORS)},
    summary="Change an alert's status",
)
def change_status(request: HttpRequest, alert_id: int, body: StatusIn) -> dict[str, Any]:
    """Open, monitoring, resolved: the alert's author, or the secretariat and the committee."""
    person = require_member(request)
    return _detail(services.change_status(person, alert_id, body.status, actor=actor(request)))


# --- STIX 2.1 and MISP ---------------------------------------------------------------------------


# A download is a file, not JSON: documented as such for the OpenAPI document.
EXPORT_RESPONSE = {
    "200": {
        "description": "The STIX bundle or MISP event (Content-Disposition: attachment).",
        "content": {
            ct: {"schema": {"type": "string", "format": "binary"}}
            for ct in ("application/stix+json", "application/json")
        },
    }
}


@router.get(
    "/alerts/{alert_id}/export/{fmt}",
    response={**errors(400, 404, *AUTH_ERRORS)},
    summary="Download an alert as STIX 2.1 or MISP",
    openapi_extra={"responses": EXPORT_RESPONSE},
)
def export_alert(request: HttpRequest, alert_id: int, fmt: str) -> HttpResponse:
    """`fmt`: `stix` (a STIX 2.1 bundle with FIRST's TLP 2.0 marking on every object) or `misp`
    (a MISP event with its `tlp:*` tag). A download whose name carries the TLP label; 404 for an
    alert you may not read, whether it exists or not."""
    alert = services.get(require_member(request), alert_id)
    response = HttpResponse(exchange.export(alert, fmt), content_type=exchange.content_type(fmt))
    response["Content-Disposition"] = f'attachment; filename="{exchange.filename(alert, fmt)}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- The member's MISP feed ----------------------------------------------------------------------


def _feed_answer(parts: Any, content_type: str) -> StreamingHttpResponse:
    """A feed document, sent as it is generated (the manifest of 10,000 alerts is never held
    whole in memory), for this caller only."""
    response = StreamingHttpResponse(parts, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response


def _document(description: str, content_type: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "responses": {
            "200": {"description": description, "content": {content_type: {"schema": schema}}}
        }
    }


@router.get(
    "/alerts/feed/manifest.json",
    response={**errors(*AUTH_ERRORS)},
    summary="Your MISP feed: manifest.json",
    openapi_extra=_document(
        '`{"<event uuid>": {info, Orgc, Tag, date, analysis, threat_level_id, timestamp, '
        "published, distribution}, …}`",
        "application/json",
        {"type": "object"},
    ),
)
def feed_manifest(request: HttpRequest) -> StreamingHttpResponse:
    """The manifest of your MISP feed: one entry per alert you may read (TLP applies: the RED
    alerts that named you, no other), keyed by the uuid of its MISP event. In your MISP: Sync
    Actions → Feeds → Add feed, URL `…/api/v1/alerts/feed`, source format MISP Feed, header
    `Authorization: Bearer <your token>` (docs/alerts.md). Members and staff."""
    return _feed_answer(feed.manifest(require_member(request)), "application/json")


@router.get(
    "/alerts/feed/hashes.csv",
    response={**errors(*AUTH_ERRORS)},
    summary="Your MISP feed: hashes.csv",
    openapi_extra=_document(
        "`<md5 of a value>,<event uuid>` per indicator of your feed's alerts.",
        "text/csv",
        {"type": "string"},
    ),
)
def feed_hashes(request: HttpRequest) -> StreamingHttpResponse:
    """For your MISP's feed cache: one line per indicator of the alerts in your feed."""
    return _feed_answer(feed.hashes(require_member(request)), "text/csv; charset=utf-8")


@router.get(
    "/alerts/feed/{event_uuid}.json",
    response={**errors(404, *AUTH_ERRORS)},
    summary="Your MISP feed: one event",
    openapi_extra=_document(
        'The MISP event (`{"Event": {…}}`) of an alert in your feed.',
        "application/json",
        {"type": "object"},
    ),
)
def feed_event(request: HttpRequest, event_uuid: str) -> HttpResponse:
    """The MISP event of an alert you may read, as `GET /alerts/{id}/export/misp` gives it (the
    same uuid as in the manifest); 404 for a uuid not in your feed, whether its alert exists or
    not."""
    alert = feed.event(require_member(request), event_uuid)
    response = HttpResponse(exchange.to_misp(alert), content_type="application/json")
    response["Cache-Control"] = "private, no-store"
    return response


class ImportedOut(Schema):
    draft: dict[str, Any] | None = Field(
        description="With `dry_run`: the alert as it would be raised (nothing stored)."
    )
    alert: RaisedOut | None = Field(description="The alert raised (without `dry_run`).")
    skipped: list[str] = Field(
        description="Indicators of the document not read, with their path and why (the first 1000)."
    )
    skipped_count: int = Field(description="Indicators not read, in all.")


class ImportQuery(Schema):
    dry_run: bool = Field(False, description="Read the document, store nothing.")
    to: list[str] = Field(
        default_factory=list, max_length=MAX_RECIPIENTS, description="RED: the readers' addresses."
    )
    to_affected: bool = Field(False, description="RED: the affected ccTLDs' contacts.")


@router.post(
    "/alerts/import/{fmt}",
    response={200: ImportedOut, 201: ImportedOut, **errors(400, 413, *AUTH_ERRORS)},
    summary="Raise an alert from a STIX 2.1 bundle or a MISP event",
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": {"type": "object"}}},
            "description": 'The STIX bundle or the MISP event (`{"Event": {…}}`).',
        }
    },
)
def import_alert(
    request: HttpRequest, fmt: str, query: Query[ImportQuery]
) -> tuple[int, dict[str, Any]]:
    """The document's title, text, TLP label and indicators become an alert by you (201), or
    with `dry_run=true` the draft is returned and nothing stored (200). A document without a TLP
    label, or malformed (the path of the first error is given), is refused and nothing is stored;
    over the upload limit: 413, refused before it is read. A RED document needs `to` (or
    `to_affected`)."""
    person = require_member(request)
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > exchange.document_max_bytes():
        return 413, {
            "detail": _("The document is over the limit of %(n)d bytes; nothing was imported.")
            % {"n": exchange.document_max_bytes()},
            "field": "document",
        }
    # Read from the stream, one byte over the limit at most (not ``request.body``, which Django
    # bounds to DATA_UPLOAD_MAX_MEMORY_SIZE): a body without a length is refused the same way.
    draft = exchange.load(request.read(exchange.document_max_bytes() + 1), fmt)
    draft.recipients = list(query.to)
    draft.red_to_affected = query.to_affected
    skipped = draft.skipped
    if query.dry_run:
        fields = {k: v for k, v in vars(draft).items() if not k.startswith("skipped")}
        return 200, {
            "draft": fields,
            "alert": None,
            "skipped": skipped,
            "skipped_count": draft.skipped_count,
        }
    alert = services.raise_alert(person, draft, actor=actor(request))
    refused = [{"line": n, "message": m} for n, m in alert.indicator_errors]
    raised = {**_detail(alert), "indicator_errors": refused}
    return 201, {
        "draft": None,
        "alert": raised,
        "skipped": skipped,
        "skipped_count": draft.skipped_count,
    }
