"""One alert as the tools CSIRTs already use read it: a STIX 2.1 bundle, a MISP event (JSON); and
back, a bundle or an event read into a draft alert.

Pure functions over the models: the reader's right to read an alert is checked by the door, which
gets the alert through :func:`tldops.alerts.services.get` (TLP applies: a RED alert is exported
only to its named readers); an import becomes an alert through
:func:`tldops.alerts.services.raise_alert`, with the importer as its author.

**TLP travels with the alert.** A STIX bundle carries FIRST's TLP 2.0 marking-definition object
(the fixed ids OASIS publishes with the TLP 2.0 extension, ``extension-definition--60a3c5c5…``) in
``object_marking_refs`` of every object; a MISP event carries the ``tlp:*`` tag of MISP's TLP
taxonomy (``tlp:clear``, ``tlp:green``, ``tlp:amber``, ``tlp:amber+strict``, ``tlp:red``) and a
distribution no wider than the label allows (:data:`MISP_DISTRIBUTION`). An import without a TLP
label, or with one it does not know, is refused: an alert never exists without its label.

**Ids are stable.** Every id is a UUIDv5 of the site (``BASE_URL``), the alert's number and the
object's natural key, so a re-export gives the same ids and a receiving MISP or OpenCTI updates its
objects instead of piling up copies. No personal data goes out: the author is represented by their
ccTLD (or the community), never by a name or an address.

**Bad input.** A document is bounded before it is parsed (:func:`document_max_bytes`); a
malformed one is refused with the path of its first error (``objects[3].pattern: …``,
``Event.Attribute[2].type: …``) and nothing is created. Indicators that tldops does not read (a
STIX pattern on a process, a MISP ``yara`` attribute) are skipped and listed in
:attr:`Draft.skipped`; the rest are kept.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import stix2
from django.conf import settings
from django.utils.translation import gettext as _

from tldops.alerts import indicators
from tldops.alerts.indicators import Kind
from tldops.alerts.models import Alert
from tldops.alerts.services import AlertInput
from tldops.alerts.tlp import Tlp
from tldops.kernel.errors import InvalidInput, shown

FORMATS = ("stix", "misp")

#: The TLP 2.0 extension definition (OASIS, cti-stix-common-objects).
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
#: FIRST's TLP 2.0 marking definitions for STIX 2.1: fixed ids, as OASIS publishes them.
TLP2_MARKING_IDS: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
#: TLP 1.0 marking definitions (STIX 2.1's own, in ``stix2``): read on import, WHITE as CLEAR.
TLP1_MARKING_IDS: dict[str, Tlp] = {
    stix2.v21.TLP_WHITE.id: Tlp.CLEAR,
    stix2.v21.TLP_GREEN.id: Tlp.GREEN,
    stix2.v21.TLP_AMBER.id: Tlp.AMBER,
    stix2.v21.TLP_RED.id: Tlp.RED,
}
#: From the least to the most restrictive: a document with several labels gets the strictest.
STRICTNESS = [Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED]

#: MISP distribution per label: 3 all communities (CLEAR), 1 this community only (GREEN), 0 your
#: organisation only (AMBER, AMBER+STRICT, RED: MISP has no "named people" and no "organisation
#: and its clients"; the narrowest level is the only one that does not widen the label).
MISP_DISTRIBUTION: dict[Tlp, str] = {
    Tlp.CLEAR: "3",
    Tlp.GREEN: "1",
    Tlp.AMBER: "0",
    Tlp.AMBER_STRICT: "0",
    Tlp.RED: "0",
}
#: MISP threat level: 1 high, 2 medium, 3 low (4 undefined).
MISP_THREAT_LEVEL = {"critical": "1", "high": "1", "medium": "2", "low": "3"}
#: MISP analysis: 0 initial, 1 ongoing, 2 completed.
MISP_ANALYSIS = {"open": "0", "monitoring": "1", "resolved": "2"}
#: MISP attribute category per MISP type.
MISP_CATEGORIES = {
    "domain": "Network activity",
    "ip-dst": "Network activity",
    "url": "Network activity",
    "AS": "Network activity",
    "md5": "Payload delivery",
    "sha1": "Payload delivery",
    "sha256": "Payload delivery",
    "email-src": "Payload delivery",
}
#: MISP attribute types read on import, and the kind each one is (``None``: read from the value:
#: an address or a prefix, IPv4 or IPv6).
MISP_KINDS: dict[str, Kind | None] = {
    "domain": Kind.DOMAIN,
    "hostname": Kind.DOMAIN,
    "ip-dst": None,
    "ip-src": None,
    "url": Kind.URL,
    "link": Kind.URL,
    "AS": Kind.ASN,
    "md5": Kind.MD5,
    "sha1": Kind.SHA1,
    "sha256": Kind.SHA256,
    "email": Kind.EMAIL,
    "email-src": Kind.EMAIL,
    "email-dst": Kind.EMAIL,
}

#: STIX report types (report-type-ov) per category; the category itself travels as a label.
REPORT_TYPES = {"malware": ["malware"], "vulnerability": ["vulnerability"]}
LABEL_PREFIX = "tldops-"
#: MISP machine tags of our own for what MISP has no field for.
MISP_TAG_PREFIX = "tldops:"

#: Largest document read (bytes): the indicator upload limit, but never more than this (a JSON
#: document is parsed whole).
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
#: Most STIX objects or MISP attributes read from one document.
MAX_OBJECTS = 100_000


def document_max_bytes() -> int:
    return min(settings.ALERT_UPLOAD_MAX_BYTES, DOCUMENT_MAX_BYTES)


class DocumentTooLarge(InvalidInput):
    status = 413


@dataclass
class Draft(AlertInput):
    """An alert read from a document, not yet raised: what :func:`services.raise_alert` takes,
    and the indicators skipped (``"objects[4].pattern: …"``), said to the importer."""

    skipped: list[str] = field(default_factory=list)
    skipped_count: int = 0

    def skip(self, message: str) -> None:
        """Note an indicator not read; the first :data:`indicators.ERRORS_KEPT` are kept (all
        counted), as for the lines of a list."""
        self.skipped_count += 1
        if len(self.skipped) < indicators.ERRORS_KEPT:
            self.skipped.append(message)


# --- ids -----------------------------------------------------------------------------------------


def _namespace() -> uuid.UUID:
    """This site's namespace: two tldops sites never give the same id to their alert 1."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{settings.BASE_URL}/tldops/alerts")


def _uuid(*key: object) -> str:
    return str(uuid.uuid5(_namespace(), "/".join(str(k) for k in key)))


def _stix_id(kind: str, *key: object) -> str:
    return f"{kind}--{_uuid(kind, *key)}"


# --- export --------------------------------------------------------------------------------------


def marking(label: Tlp) -> stix2.v21.MarkingDefinition:
    """FIRST's TLP 2.0 marking-definition object for ``label``, exactly as OASIS publishes it."""
    return stix2.v21.MarkingDefinition(
        id=TLP2_MARKING_IDS[label],
        created="2022-10-01T00:00:00.000Z",
        name=label.tag,
        extensions={
            TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": label.value.lower()}
        },
    )


def _organisation(alert: Alert) -> tuple[str, str]:
    """(key, name) of who stands for the author: their ccTLD, or the community. Never a person."""
    if alert.author_tld is not None:
        return (
            f"tld/{alert.author_tld.alabel}",
            f"ccTLD .{alert.author_tld.alabel} (TLD-OPS member)",
        )
    return "community", "TLD-OPS"


def _stored(alert: Alert) -> list[indicators.Indicator]:
    return [
        indicators.Indicator(Kind(i.kind), i.value)
        for i in alert.indicators.order_by("id").iterator(chunk_size=5000)
    ]


def to_stix(alert: Alert) -> str:
    """``alert`` as a STIX 2.1 bundle (JSON): the TLP 2.0 marking definition, an Identity for the
    author's ccTLD (or the community), one Indicator per indicator and a Report that refers to
    them, every object marked with the alert's label."""
    label = alert.label
    mark = marking(label)
    marks = [mark.id]
    org_key, org_name = _organisation(alert)
    identity = stix2.v21.Identity(
        id=_stix_id("identity", org_key),
        created=alert.created_at,
        modified=alert.created_at,
        name=org_name,
        identity_class="organization",
        sectors=["communications"],
        object_marking_refs=marks,
    )
    found = [
        stix2.v21.Indicator(
            id=_stix_id("indicator", alert.pk, i.kind.value, i.value),
            created=alert.created_at,
            modified=alert.created_at,
            created_by_ref=identity.id,
            name=f"{i.kind.value}: {i.value}"[:250],
            indicator_types=["malicious-activity"],
            pattern=i.stix_pattern,
            pattern_type="stix",
            valid_from=alert.created_at,
            object_marking_refs=marks,
        )
        for i in _stored(alert)
    ]
    report = stix2.v21.Report(
        id=_stix_id("report", alert.pk),
        created=alert.created_at,
        modified=max(alert.updated_at, alert.created_at),
        created_by_ref=identity.id,
        name=f"[{label.tag}] {alert.title}",
        description=alert.body or alert.title,
        published=alert.created_at,
        report_types=REPORT_TYPES.get(alert.category, ["threat-report"]),
        labels=[
            f"{LABEL_PREFIX}category:{alert.category}",
            f"{LABEL_PREFIX}kind:{alert.kind}",
            f"{LABEL_PREFIX}severity:{alert.severity}",
        ],
        object_refs=[identity.id, *(i.id for i in found)],
        object_marking_refs=marks,
    )
    bundle = stix2.v21.Bundle(
        id=_stix_id("bundle", alert.pk),
        objects=[mark, identity, report, *found],
        allow_custom=True,
    )
    return bundle.serialize(pretty=True, ensure_ascii=False)


def _misp_time(moment: datetime) -> str:
    return str(int(moment.timestamp()))


#: The colours of MISP's TLP taxonomy (``tlp:*`` tags), as a MISP shows them.
MISP_TLP_COLOURS: dict[Tlp, str] = {
    Tlp.CLEAR: "#ffffff",
    Tlp.GREEN: "#33ff00",
    Tlp.AMBER: "#ffc000",
    Tlp.AMBER_STRICT: "#ffc000",
    Tlp.RED: "#ff2b2b",
}
#: The colour of our own machine tags (``tldops:category="…"``).
MISP_TAG_COLOUR = "#0088cc"


def misp_event_uuid(alert_id: int) -> str:
    """The uuid of alert ``alert_id``'s MISP event: the same in every export and in the feed."""
    return _uuid("misp-event", alert_id)


def _misp_head(alert: Alert) -> dict[str, Any]:
    """The event without its attributes: what a MISP feed's ``manifest.json`` says of it, read
    from the alert's own columns only (no query beyond the alert and its author's ccTLD)."""
    label = alert.label
    org_key, org_name = _organisation(alert)
    return {
        "uuid": misp_event_uuid(alert.pk),
        "info": f"[{label.tag}] {alert.title}",
        "date": alert.created_at.astimezone(UTC).date().isoformat(),
        "timestamp": _misp_time(max(alert.updated_at, alert.created_at)),
        "published": False,
        "threat_level_id": MISP_THREAT_LEVEL.get(alert.severity, "4"),
        "analysis": MISP_ANALYSIS.get(alert.status, "0"),
        "distribution": MISP_DISTRIBUTION[label],
        "Orgc": {"name": org_name, "uuid": _uuid("misp-org", org_key)},
        "Tag": [
            {"name": f"tlp:{label.value.lower()}", "colour": MISP_TLP_COLOURS[label]},
            {"name": f'{MISP_TAG_PREFIX}category="{alert.category}"', "colour": MISP_TAG_COLOUR},
            {"name": f'{MISP_TAG_PREFIX}kind="{alert.kind}"', "colour": MISP_TAG_COLOUR},
            {"name": f'{MISP_TAG_PREFIX}severity="{alert.severity}"', "colour": MISP_TAG_COLOUR},
        ],
    }


#: The fields of an event that a MISP feed's ``manifest.json`` carries for it.
MANIFEST_FIELDS = (
    "info",
    "Orgc",
    "Tag",
    "date",
    "analysis",
    "threat_level_id",
    "timestamp",
    "published",
    "distribution",
)


def misp_manifest_entry(alert: Alert) -> dict[str, Any]:
    """``alert``'s entry in a MISP feed's ``manifest.json`` (keyed by :func:`misp_event_uuid`):
    the same values as its event, by construction, so a MISP that compares the manifest's
    ``timestamp`` with its copy fetches the event again exactly when it changed."""
    head = _misp_head(alert)
    return {name: head[name] for name in MANIFEST_FIELDS}


def misp_event(alert: Alert) -> dict[str, Any]:
    """``alert`` as a MISP event (the dict inside ``{"Event": …}``); see :func:`to_misp`."""
    event = _misp_head(alert)
    attributes: list[dict[str, Any]] = []
    if alert.body:
        attributes.append(
            {
                "uuid": _uuid("misp-attribute", alert.pk, "body"),
                "type": "text",
                "category": "Other",
                "value": alert.body,
                "to_ids": False,
                "distribution": "5",
                "comment": "alert text",
            }
        )
    for i in _stored(alert):
        attributes.append(
            {
                "uuid": _uuid("misp-attribute", alert.pk, i.kind.value, i.value),
                "type": i.misp_type,
                "category": MISP_CATEGORIES[i.misp_type],
                "value": i.misp_value,
                "to_ids": True,
                "distribution": "5",  # inherit the event's
                "timestamp": _misp_time(alert.created_at),
            }
        )
    event["Attribute"] = attributes
    return event


def misp_hash(kind: str, value: str) -> str:
    """The MD5 of an indicator's value as MISP stores it: a line of a MISP feed's ``hashes.csv``
    (``<md5>,<event uuid>``), which a MISP reads to correlate without fetching every event."""
    shown_value = indicators.Indicator(Kind(kind), value).misp_value
    return hashlib.md5(shown_value.encode(), usedforsecurity=False).hexdigest()


def to_misp(alert: Alert) -> str:
    """``alert`` as a MISP event (JSON ``{"Event": {…}}``): the ``tlp:*`` tag, a distribution no
    wider than the label, one attribute per indicator (``to_ids``), stable uuids."""
    return json.dumps({"Event": misp_event(alert)}, ensure_ascii=False, indent=2)


def export(alert: Alert, fmt: str) -> str:
    """:func:`to_stix` or :func:`to_misp`, by name."""
    return {"stix": to_stix, "misp": to_misp}[check_format(fmt)](alert)


def filename(alert: Alert, fmt: str) -> str:
    """``alert-12-TLP-AMBER+STRICT.stix.json``: the label is in the name of every download."""
    return f"alert-{alert.pk}-TLP-{alert.label.value}.{check_format(fmt)}.json"


def content_type(fmt: str) -> str:
    return "application/stix+json;version=2.1" if fmt == "stix" else "application/json"


def check_format(fmt: str) -> str:
    text = (fmt or "").strip().lower()
    if text not in FORMATS:
        raise InvalidInput(
            _("“%(f)s” is not a format; use stix or misp.") % {"f": shown(fmt or "")},
            field="format",
        )
    return text


# --- import --------------------------------------------------------------------------------------


def _refuse(path: str, message: str) -> InvalidInput:
    return InvalidInput(
        _("%(path)s: %(message)s Nothing was imported.") % {"path": path, "message": message},
        field="document",
    )


def _load(data: bytes | str, root: str) -> Any:
    raw = data.encode() if isinstance(data, str) else bytes(data)
    limit = document_max_bytes()
    if len(raw) > limit:
        raise DocumentTooLarge(
            _("The document is over the limit of %(n)d bytes; nothing was imported.")
            % {"n": limit},
            field="document",
        )
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        raise _refuse(root, _("the document is not UTF-8 text.")) from None
    except json.JSONDecodeError as exc:
        raise _refuse(
            root,
            _("not JSON (line %(line)d, column %(col)d: %(why)s).")
            % {"line": exc.lineno, "col": exc.colno, "why": exc.msg},
        ) from None


def _strictest(labels: list[Tlp]) -> Tlp | None:
    return max(labels, key=STRICTNESS.index) if labels else None


def _no_label(where: str) -> InvalidInput:
    return InvalidInput(
        _(
            "The %(where)s carries no TLP label tldops knows (CLEAR, GREEN, AMBER, AMBER+STRICT, "
            "RED): an alert cannot exist without one. Nothing was imported."
        )
        % {"where": where},
        field="tlp",
    )


def _string(value: Any, path: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise _refuse(path, _("a string is required."))
    return value


def _list(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _refuse(path, _("a list is required."))
    if len(value) > MAX_OBJECTS:
        raise _refuse(path, _("more than %(n)d items.") % {"n": MAX_OBJECTS})
    return value


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _refuse(path, _("an object is required."))
    return value


def _stix_error(exc: Exception, path: str) -> InvalidInput:
    """The path of the property at fault in a ``stix2`` error, and its message."""
    prop = getattr(exc, "prop_name", None)
    props = getattr(exc, "properties", None)
    if prop:
        return _refuse(f"{path}.{prop}", getattr(exc, "reason", "") or str(exc))
    if props:
        return _refuse(f"{path}.{sorted(props)[0]}", _("required, missing."))
    return _refuse(path, str(exc))


#: One comparison of a STIX pattern: ``path op literal``.
_COMPARISON = re.compile(
    r"([a-z0-9-]+:[A-Za-z0-9_.'\-]+)\s*(=|ISSUBSET)\s*('(?:[^'\\]|\\.)*'|[0-9]+)"
)
#: Object paths tldops reads, hash names with and without quotes (``file:hashes.'SHA-256'``).
_STIX_KINDS: dict[str, Kind | None] = {
    "domain-name:value": Kind.DOMAIN,
    "ipv4-addr:value": None,
    "ipv6-addr:value": None,
    "url:value": Kind.URL,
    "autonomous-system:number": Kind.ASN,
    "email-addr:value": Kind.EMAIL,
    "file:hashes.md5": Kind.MD5,
    "file:hashes.sha-1": Kind.SHA1,
    "file:hashes.sha1": Kind.SHA1,
    "file:hashes.sha-256": Kind.SHA256,
    "file:hashes.sha256": Kind.SHA256,
}


def _read_indicator(
    kind: Kind | None, value: str, path: str, draft: Draft, seen: set[indicators.Indicator]
) -> None:
    try:
        found = indicators.parse_one(f"AS{value}" if kind is Kind.ASN else value, kind)
    except InvalidInput as exc:
        draft.skip(f"{path}: {exc.message}")
        return
    if kind is None and found.kind not in (
        Kind.IPV4,
        Kind.IPV6,
        Kind.IPV4_PREFIX,
        Kind.IPV6_PREFIX,
    ):
        draft.skip(f"{path}: " + _("“%(v)s” is not an IP address.") % {"v": shown(value)})
        return
    if found not in seen:
        seen.add(found)
        draft.indicators.append(f"{found.kind.value},{found.value}")


def _from_pattern(pattern: str, path: str, draft: Draft, seen: set[indicators.Indicator]) -> None:
    comparisons = _COMPARISON.findall(pattern)
    if not comparisons:
        draft.skip(
            f"{path}: " + _("no comparison tldops reads in “%(p)s”.") % {"p": shown(pattern)}
        )
    for object_path, _operator, literal in comparisons:
        key = object_path.replace("'", "").lower()
        if key not in _STIX_KINDS:
            draft.skip(
                f"{path}: " + _("%(p)s is not an indicator tldops reads.") % {"p": object_path}
            )
            continue
        value = (
            literal[1:-1].replace("\\'", "'").replace("\\\\", "\\")
            if literal[0] == "'"
            else literal
        )
        _read_indicator(_STIX_KINDS[key], value, path, draft, seen)


def _labels(values: list[str], prefix: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        if isinstance(v, str) and v.startswith(prefix) and ":" in v[len(prefix) :]:
            name, _sep, rest = v[len(prefix) :].partition(":")
            out.setdefault(name, rest)
    return out


def from_stix(data: bytes | str) -> Draft:
    """A STIX 2.1 bundle → a draft alert: the title and text of its (first) Report, the TLP of
    its markings (TLP 2.0 or 1.0; the strictest if several), the indicators of its Indicator
    patterns. Every object is checked with ``stix2``; the first error is refused with its path."""
    doc = _object(_load(data, "bundle"), "bundle")
    if doc.get("type") != "bundle":
        raise _refuse("type", _("a STIX bundle is required (“type”: “bundle”)."))
    objects = _list(doc.get("objects"), "objects")
    parsed = []
    for n, obj in enumerate(objects):
        path = f"objects[{n}]"
        _object(obj, path)
        _string(obj.get("type"), f"{path}.type")
        if obj.get("spec_version") not in (None, "2.1"):
            raise _refuse(f"{path}.spec_version", _("only STIX 2.1 is read."))
        try:
            parsed.append(stix2.parse(obj, allow_custom=True, version="2.1"))
        except Exception as exc:  # noqa: BLE001 - stix2 raises many kinds; each is a refusal
            raise _stix_error(exc, path) from None
    # Labels: the marking definitions of the bundle that are TLP, and those referenced by id.
    tlp_of: dict[str, Tlp] = {v: k for k, v in TLP2_MARKING_IDS.items()} | TLP1_MARKING_IDS
    for obj in parsed:
        if obj.get("type") == "marking-definition":
            level = (obj.get("extensions") or {}).get(TLP2_EXTENSION, {}).get("tlp_2_0")
            if level:
                try:
                    tlp_of[obj["id"]] = Tlp(str(level).upper())
                except ValueError:
                    pass
    used = [
        tlp_of[ref] for obj in parsed for ref in obj.get("object_marking_refs", []) if ref in tlp_of
    ]
    label = _strictest(used)
    if label is None:
        raise _no_label(_("bundle"))
    reports = [o for o in parsed if o.get("type") == "report"]
    report = reports[0] if reports else None
    tags = _labels(list(report.get("labels", [])) if report else [], LABEL_PREFIX)
    title = str(report["name"]) if report else _("STIX bundle %(id)s") % {"id": doc.get("id", "")}
    title = re.sub(r"^\[TLP:[A-Z+]+\]\s*", "", title)
    category = tags.get("category") or next(
        (c for c, types in REPORT_TYPES.items() if report and types[0] in report["report_types"]),
        "other",
    )
    draft = Draft(
        title=title,
        category=category if category in Alert.Category.values else "other",
        tlp=label.value,
        kind=tags.get("kind") if tags.get("kind") in Alert.Kind.values else Alert.Kind.ALERT,
        severity=(
            tags.get("severity")
            if tags.get("severity") in Alert.Severity.values
            else Alert.Severity.MEDIUM
        ),
        body=str(report.get("description", "")) if report else "",
    )
    if draft.body == title:
        draft.body = ""
    seen: set[indicators.Indicator] = set()
    for n, obj in enumerate(parsed):
        if obj.get("type") != "indicator":
            continue
        path = f"objects[{n}].pattern"
        if obj.get("pattern_type") != "stix":
            draft.skip(
                f"{path}: " + _("a %(t)s pattern, not a STIX one.") % {"t": obj["pattern_type"]}
            )
            continue
        _from_pattern(obj["pattern"], path, draft, seen)
    return draft


def _misp_tlp(tags: list[Any], path: str) -> list[Tlp]:
    found = []
    for n, tag in enumerate(tags):
        name = _string(_object(tag, f"{path}[{n}]").get("name"), f"{path}[{n}].name")
        text = name.strip().lower()
        if text.startswith("tlp:"):
            level = text.removeprefix("tlp:").strip('"')
            if level == "white":
                found.append(Tlp.CLEAR)
            elif level.upper() in {t.value for t in Tlp}:
                found.append(Tlp(level.upper()))
    return found


def from_misp(data: bytes | str) -> Draft:
    """A MISP event (``{"Event": {…}}``) → a draft alert: ``info`` as the title, the ``tlp:*``
    tags as the label (the strictest if several, ``tlp:white`` read as CLEAR), the attributes of
    the event and of its objects as indicators, a ``text`` attribute as the text."""
    doc = _object(_load(data, "Event"), "Event")
    event = _object(doc.get("Event", doc), "Event")
    info = _string(event.get("info"), "Event.info")
    tags = _list(event.get("Tag"), "Event.Tag")
    label = _strictest(_misp_tlp(tags, "Event.Tag"))
    machine: dict[str, str] = {}
    for tag in tags:
        name = tag["name"]
        if name.startswith(MISP_TAG_PREFIX) and "=" in name:
            key, _sep, value = name[len(MISP_TAG_PREFIX) :].partition("=")
            machine.setdefault(key, value.strip('"'))
    # Attributes first, so that a malformed one is refused before a missing label is reported.
    attributes: list[tuple[str, dict[str, Any]]] = []

    def attribute(attr: Any, path: str) -> None:
        _object(attr, path)
        _string(attr.get("type"), f"{path}.type")
        value = attr.get("value")
        if isinstance(value, int) and not isinstance(value, bool):
            attr["value"] = str(value)  # an AS number written as a number
        _string(attr.get("value"), f"{path}.value")
        attributes.append((path, attr))
        if len(attributes) > MAX_OBJECTS:
            raise _refuse(path, _("more than %(n)d attributes.") % {"n": MAX_OBJECTS})

    for n, attr in enumerate(_list(event.get("Attribute"), "Event.Attribute")):
        attribute(attr, f"Event.Attribute[{n}]")
    for m, obj in enumerate(_list(event.get("Object"), "Event.Object")):
        path = f"Event.Object[{m}]"
        for n, attr in enumerate(_list(_object(obj, path).get("Attribute"), f"{path}.Attribute")):
            attribute(attr, f"{path}.Attribute[{n}]")
    if label is None:
        raise _no_label(_("MISP event"))
    title = re.sub(r"^\[TLP:[A-Z+]+\]\s*", "", info)
    draft = Draft(
        title=title,
        category=machine.get("category")
        if machine.get("category") in Alert.Category.values
        else "other",
        tlp=label.value,
        kind=machine.get("kind") if machine.get("kind") in Alert.Kind.values else Alert.Kind.ALERT,
        severity=(
            machine.get("severity")
            if machine.get("severity") in Alert.Severity.values
            else {"1": "high", "2": "medium", "3": "low"}.get(
                str(event.get("threat_level_id", "")), Alert.Severity.MEDIUM
            )
        ),
    )
    seen: set[indicators.Indicator] = set()
    texts = []
    for path, attr in attributes:
        kind_name = attr["type"]
        if kind_name == "text":
            texts.append(attr["value"])
            continue
        if kind_name not in MISP_KINDS:
            draft.skip(
                f"{path}.type: "
                + _("%(t)s is not an indicator tldops reads.") % {"t": shown(kind_name)}
            )
            continue
        _read_indicator(MISP_KINDS[kind_name], attr["value"], f"{path}.value", draft, seen)
    draft.body = "\n\n".join(texts)
    return draft


def load(data: bytes | str, fmt: str) -> Draft:
    """:func:`from_stix` or :func:`from_misp`, by name."""
    return {"stix": from_stix, "misp": from_misp}[check_format(fmt)](data)
