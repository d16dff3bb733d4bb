"""A ccTLD's own DR/BCP plan: its values, versions, sign-off, the document and the yearly review.

A plan is the DR/BCP playbook with the ccTLD's specifics filled in. Its contacts type the specifics
once (:func:`save`); what tldops already knows is offered first (:func:`prefill`: the catalog's
sponsoring organisation and name servers, the directory's contacts and their 24/7 phones). Every
save is a numbered version (values, playbook content version, language), and top management's
sign-off (:func:`sign_off`) is recorded on one version: the plan is theirs, not an IT project's.
:func:`blocks` makes the document (cover, the playbook with every placeholder filled, the ccTLD's
own tables in place of the playbook's examples), printed by :func:`pdf` — because a disaster can
take the screens away. :func:`run_due` mails the yearly review reminder.

Who may do any of it is :mod:`tldops.playbooks.access` alone: every function here takes the person
and answers :class:`~tldops.kernel.errors.NotFound` to anyone but the ccTLD's active contacts
(staff included), so that no door can forget it and a plan's existence does not leak.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from publicsuffixlist import PublicSuffixList

from tldops.catalog.models import Tld
from tldops.directory.models import Membership, Person, Phone
from tldops.directory.validation import (
    PHONE_MAX_LENGTH,
    Checks,
    clean_email,
    clean_phone,
    clean_text,
    format_phone,
)
from tldops.kernel import audit
from tldops.kernel.errors import DirectoryError, InvalidInput, NotFound, raise_all, shown
from tldops.mail import outbox
from tldops.playbooks import access, catalogs, content, document
from tldops.playbooks.document import Block
from tldops.playbooks.models import Plan, PlanVersion, ReviewReminder, SignedText, SignOff

log = logging.getLogger(__name__)

PLAYBOOK = "drbcp"
#: The roles of the playbook's steps (content/schema.json), which the contact tree names.
ROLES = ("top-management", "incident-lead", "technical-lead", "communications", "legal",
         "registry-operations", "dns-operations")  # fmt: skip
SITE_ROLES = ("primary", "backup", "other")
TEXT_MAX = 200
LONG_MAX = 300
URL_MAX = 300
#: Sign-offs one version may carry (a board may sign with two or three people).
MAX_SIGNOFFS = 5
#: Versions one plan may gain in an hour: far more than people editing it save, few enough that
#: a script saving (and signing) in a loop cannot grow the table without bound.
MAX_SAVES_PER_HOUR = 30
#: How long after the last sign-off (or the plan's creation) the yearly review is due.
REVIEW_AFTER_MONTHS = 12
#: No second reminder within this many months of one (a back-dated sign-off can make a new
#: anniversary due at once, right after the reminder of the old one).
REMIND_AGAIN_AFTER_MONTHS = 11


class PlanChanged(InvalidInput):
    """The plan was saved again since the version a change was made from: saving it would undo
    those changes without anyone seeing them. 409 in the API; the person reloads and sees them."""

    status = 409


class TooManySaves(InvalidInput):
    """The plan was saved :data:`MAX_SAVES_PER_HOUR` times in the last hour: every save is a
    version kept for good, so a loop of saves is refused (409, nothing stored) rather than
    growing the plan's history without bound."""

    status = 409


def plan_url(tld: Tld) -> str:
    """The path of ``tld``'s plan page in the portal, for the links that mails and reports give
    (the playbooks do not import the web door; its URL names are the contract)."""
    return reverse("web:plan", args=[tld.alabel])


@dataclass(frozen=True)
class Column:
    """One value of a row (or of the plan itself): its kind decides how it is cleaned."""

    key: str
    label: Any
    kind: str = "text"  # text, long, phone, email, url, role, site_role
    required: bool = False

    @property
    def max_length(self) -> int:
        return {"text": TEXT_MAX, "long": LONG_MAX, "phone": PHONE_MAX_LENGTH,
                "email": 254, "url": URL_MAX}.get(self.kind, 40)  # fmt: skip


@dataclass(frozen=True)
class Part:
    """A list of rows of the plan (sites, suppliers …), at most ``max_rows``."""

    key: str
    label: Any
    columns: tuple[Column, ...]
    max_rows: int


#: The single values: the playbook's placeholders, then the escrow agent and registrars' channel.
SCALARS: tuple[Column, ...] = (
    Column("registry", gettext_lazy("Registry name")),
    Column("incident_lead", gettext_lazy("Incident lead")),
    Column("top_manager", gettext_lazy("Top manager")),
    Column("phone_24x7", gettext_lazy("24/7 phone"), "phone"),
    Column("status_page", gettext_lazy("Status page"), "url"),
    Column("website", gettext_lazy("Website"), "url"),
    Column("escrow_agent", gettext_lazy("Escrow agent")),
    Column("escrow_contact", gettext_lazy("Escrow agent's contact"), "long"),
    Column("registrars_channel", gettext_lazy("Registrars' channel"), "long"),
)
#: Which of :data:`SCALARS` fill the playbook's placeholders.
PLACEHOLDER_KEYS = ("registry", "incident_lead", "top_manager", "phone_24x7", "status_page",
                    "website")  # fmt: skip

PARTS: tuple[Part, ...] = (
    Part(
        "roles",
        gettext_lazy("Staff roles and deputies"),
        (
            Column("role", gettext_lazy("Role"), "role", required=True),
            Column("person", gettext_lazy("Person"), required=True),
            Column("deputy", gettext_lazy("Deputy")),
            Column("phone", gettext_lazy("Phone (24/7)"), "phone"),
        ),
        20,
    ),
    Part(
        "services",
        gettext_lazy("RTO and RPO per service"),
        (
            Column("service", gettext_lazy("Service"), required=True),
            Column("rto", gettext_lazy("RTO")),
            Column("rpo", gettext_lazy("RPO")),
        ),
        20,
    ),
    Part(
        "suppliers",
        gettext_lazy("Suppliers and their contacts"),
        (
            Column("name", gettext_lazy("Supplier"), required=True),
            Column("service", gettext_lazy("Service")),
            Column("contact", gettext_lazy("Contact person")),
            Column("phone", gettext_lazy("Phone"), "phone"),
            Column("email", gettext_lazy("Email"), "email"),
            Column("contract", gettext_lazy("Contract or reference")),
        ),
        30,
    ),
    Part(
        "sites",
        gettext_lazy("Sites"),
        (
            Column("name", gettext_lazy("Site"), required=True),
            Column("address", gettext_lazy("Address"), "long"),
            Column("role", gettext_lazy("Role of the site"), "site_role"),
            Column("notes", gettext_lazy("Notes"), "long"),
        ),
        10,
    ),
    Part(
        "dns_providers",
        gettext_lazy("DNS providers"),
        (
            Column("name", gettext_lazy("Provider"), required=True),
            Column("servers", gettext_lazy("Name servers"), "long"),
            Column("contact", gettext_lazy("Contact"), "long"),
        ),
        10,
    ),
)
PARTS_BY_KEY = {part.key: part for part in PARTS}


def role_labels(language: str | None = None) -> dict[str, str]:
    """The playbook's role names in ``language`` (the labels catalog)."""
    language = (
        language
        if language in catalogs.LANGUAGES
        else catalogs.from_django(language or translation.get_language())
    )
    return {role: catalogs.label(role, language) for role in ROLES}


def site_role_labels() -> dict[str, str]:
    return {"primary": _("primary"), "backup": _("backup"), "other": _("other")}


# --- Values -------------------------------------------------------------------------------------


def empty_values() -> dict[str, Any]:
    return {**{c.key: "" for c in SCALARS}, **{p.key: [] for p in PARTS}}


_url = URLValidator(schemes=["http", "https"])


def _clean(column: Column, raw: Any, *, field_name: str, region: str) -> str:
    """One value, cleaned, or :class:`InvalidInput` saying what is wrong with it."""
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise InvalidInput(_("%(what)s must be text.") % {"what": column.label}, field=field_name)
    what = str(column.label)
    text = clean_text(raw, field_name=field_name, max_length=column.max_length, what=what)
    if not text:
        if column.required:
            raise InvalidInput(_("%(what)s cannot be empty.") % {"what": what}, field=field_name)
        return ""
    if column.kind == "phone":
        return format_phone(clean_phone(text, region=region, field_name=field_name))
    if column.kind == "email":
        return clean_email(text, field_name=field_name)
    if column.kind == "url":
        try:
            _url(text)
        except ValidationError:
            raise InvalidInput(
                _("“%(v)s” is not a web address; write it as https://…") % {"v": shown(text)},
                field=field_name,
            ) from None
        return text
    if column.kind in ("role", "site_role"):
        allowed = ROLES if column.kind == "role" else SITE_ROLES
        value = text.lower()
        if value not in allowed:
            raise InvalidInput(
                _("“%(v)s” is not a %(what)s; use one of: %(allowed)s.")
                % {"v": shown(text), "what": what, "allowed": ", ".join(allowed)},
                field=field_name,
            )
        return value
    return text


def clean_values(raw: Mapping[str, Any], tld: Tld) -> dict[str, Any]:
    """The plan's values as stored: every scalar a cleaned text, every part a list of rows with
    every column; empty rows dropped. Every problem is reported at once
    (:class:`~tldops.kernel.errors.InvalidInputs`, ``field`` ``part.column`` and ``index`` the
    row from 0); nothing unknown is kept."""
    if not isinstance(raw, Mapping):
        raise InvalidInput(_("The plan's values must be an object."), field="values")
    errors: list[DirectoryError] = []
    unknown = set(raw) - {c.key for c in SCALARS} - set(PARTS_BY_KEY)
    if unknown:
        errors.append(
            InvalidInput(
                _("Unknown part of a plan: %(names)s.")
                % {"names": ", ".join(sorted(shown(str(u)) for u in unknown)[:5])},
                field="values",
            )
        )
    region = tld.phone_region
    out = empty_values()
    for column in SCALARS:
        try:
            out[column.key] = _clean(
                column, raw.get(column.key), field_name=column.key, region=region
            )
        except InvalidInput as exc:
            errors.extend(exc.errors)
    for part in PARTS:
        rows = raw.get(part.key) or []
        if not isinstance(rows, list):
            errors.append(
                InvalidInput(
                    _("%(what)s must be a list of rows.") % {"what": part.label}, field=part.key
                )
            )
            continue
        if len(rows) > part.max_rows:
            errors.append(
                InvalidInput(
                    _("%(what)s may have at most %(n)d rows.")
                    % {"what": part.label, "n": part.max_rows},
                    field=part.key,
                )
            )
            continue
        for index, row in enumerate(rows):
            if not isinstance(row, Mapping):
                errors.append(
                    InvalidInput(_("Each row must be an object."), field=part.key, index=index)
                )
                continue
            extra = set(row) - {c.key for c in part.columns}
            if extra:
                errors.append(
                    InvalidInput(
                        _("Unknown column: %(names)s.")
                        % {"names": ", ".join(sorted(shown(str(e)) for e in extra)[:5])},
                        field=part.key,
                        index=index,
                    )
                )
                continue
            if all(not (isinstance(v, str) and v.strip()) for v in row.values()):
                continue  # an empty row of a form: nothing to keep
            cleaned = {}
            for column in part.columns:
                try:
                    cleaned[column.key] = _clean(
                        column,
                        row.get(column.key),
                        field_name=f"{part.key}.{column.key}",
                        region=region,
                    )
                except InvalidInput as exc:
                    errors.extend(e.at(index) for e in exc.errors)
            out[part.key].append(cleaned)
    raise_all(errors)
    return out


def clean_language(raw: str | None) -> str:
    value = (raw or "en").strip().lower()
    if value not in catalogs.LANGUAGES:
        raise InvalidInput(
            _("“%(v)s” is not a language of the playbooks; use one of: %(allowed)s.")
            % {"v": shown(value), "allowed": ", ".join(catalogs.LANGUAGES)},
            field="language",
        )
    return value


# --- Prefill ------------------------------------------------------------------------------------


@dataclass
class Candidate:
    """An active contact of the ccTLD, offered as incident lead (with their 24/7 phone)."""

    name: str
    email: str
    phone_24x7: str


@dataclass
class Prefill:
    values: dict[str, Any]
    candidates: list[Candidate] = field(default_factory=list)


_psl = PublicSuffixList()


def _registered_domain(hostname: str) -> str:
    name = hostname.rstrip(".").lower()
    return _psl.privatesuffix(name) or name


def prefill(tld: Tld) -> Prefill:
    """What tldops knows of ``tld`` already, as plan values: the sponsoring organisation as the
    registry's name; the name servers as DNS providers, grouped by the registered domain of their
    names (``ns1.example.net`` and ``ns2.example.net`` are one provider); the active contacts as
    candidates for incident lead, the first of them (and their 24/7 phone) filled in. The
    catalog holds no website, so none is guessed."""
    values = empty_values()
    values["registry"] = tld.manager or tld.admin_org or ""
    groups: dict[str, list[str]] = {}
    for hostname in tld.nameservers.values_list("hostname", flat=True):
        groups.setdefault(_registered_domain(hostname), []).append(hostname.rstrip("."))
    values["dns_providers"] = [
        {"name": domain, "servers": ", ".join(sorted(hosts)), "contact": ""}
        for domain, hosts in sorted(groups.items())
    ][: PARTS_BY_KEY["dns_providers"].max_rows]
    candidates = []
    people = (
        Person.objects.filter(memberships__tld=tld, memberships__status=Membership.Status.ACTIVE)
        .order_by("memberships__number")
        .prefetch_related("phones")
        .distinct()
    )
    for person in people:
        h24 = next((p.number for p in person.phones.all() if p.label == Phone.Label.H24), "")
        candidates.append(Candidate(person.name, person.email, format_phone(h24) if h24 else ""))
    if candidates:
        lead = next((c for c in candidates if c.phone_24x7), candidates[0])
        values["incident_lead"] = lead.name
        values["phone_24x7"] = lead.phone_24x7
        values["roles"] = [
            {"role": "incident-lead", "person": lead.name, "deputy": "", "phone": lead.phone_24x7}
        ]
    return Prefill(values=values, candidates=candidates)


# --- Reading and changing -----------------------------------------------------------------------


def _own(person: Person | None, tld: Tld) -> None:
    """404 for anyone but the ccTLD's active contacts, whether it has a plan or not."""
    if not access.is_own(person, tld):
        raise NotFound(_("No such plan."))


def get(person: Person | None, tld: Tld) -> Plan | None:
    """``tld``'s plan (None before its first save), for one of its contacts."""
    _own(person, tld)
    return Plan.objects.filter(tld=tld).select_related("tld", "updated_by").first()


def current_values(person: Person | None, tld: Tld) -> tuple[Plan | None, dict[str, Any]]:
    """The plan and its values, or the prefilled values before its first save."""
    plan = get(person, tld)
    if plan is None:
        return None, prefill(tld).values
    return plan, {**empty_values(), **plan.values}


def versions(person: Person | None, tld: Tld) -> list[PlanVersion]:
    """The plan's versions, newest first, each with its sign-offs."""
    _own(person, tld)
    return list(
        PlanVersion.objects.filter(plan__tld=tld)
        .select_related("created_by")
        .prefetch_related("signoffs__recorded_by")
    )


def version(person: Person | None, tld: Tld, number: int) -> PlanVersion:
    _own(person, tld)
    found = (
        PlanVersion.objects.filter(plan__tld=tld, number=number)
        .prefetch_related("signoffs__recorded_by")
        .first()
    )
    if found is None:
        raise NotFound(_("The plan has no version %(n)s.") % {"n": number})
    return found


def save(
    person: Person,
    tld: Tld,
    values: Mapping[str, Any],
    *,
    language: str | None = None,
    base_version: int | None = None,
    actor: audit.Actor,
) -> PlanVersion:
    """Store the plan's values (all of them) as its next version; every problem at once,
    nothing stored then. ``base_version`` is the version the change was made from (0 before the
    first save), as every door sends it: when the plan has been saved since, :class:`PlanChanged`
    and nothing stored, so that two contacts editing at once do not silently undo each other's
    changes (the last save would win). ``None`` (scripts, tests) does not check."""
    _own(person, tld)
    errors: list[DirectoryError] = []
    cleaned = lang = None
    try:
        cleaned = clean_values(values, tld)
    except InvalidInput as exc:
        errors.extend(exc.errors)
    try:
        lang = clean_language(language)
    except InvalidInput as exc:
        errors.extend(exc.errors)
    raise_all(errors)
    now = timezone.now()
    with transaction.atomic():
        plan, created = Plan.objects.select_for_update().get_or_create(
            tld=tld, defaults={"created_at": now, "updated_at": now, "language": lang}
        )
        if base_version is not None and base_version != plan.version:
            raise PlanChanged(
                _(
                    "Version %(n)d of the plan was saved after you opened it; nothing is saved. "
                    "Reload the plan to see what changed, then make your changes again."
                )
                % {"n": plan.version},
                field="base_version",
            )
        recent = PlanVersion.objects.filter(
            plan=plan, created_at__gt=now - dt.timedelta(hours=1)
        ).count()
        if recent >= MAX_SAVES_PER_HOUR:
            raise TooManySaves(
                _(
                    "The plan was saved %(n)d times in the last hour; nothing is saved. Try again later."
                )
                % {"n": recent},
                field="values",
            )
        before = None if created else {"version": plan.version, "language": plan.language}
        plan.values = cleaned
        plan.language = lang
        plan.version += 1
        plan.updated_at = now
        plan.updated_by = person
        plan.save()
        saved = PlanVersion.objects.create(
            plan=plan,
            number=plan.version,
            values=cleaned,
            content_version=content.load(PLAYBOOK)["version"],
            language=lang,
            created_at=now,
            created_by=person,
        )
        audit.record(
            actor,
            "plan.saved",
            f"DR/BCP plan of {tld} saved as version {saved.number}",
            tld=tld,
            before=before,
            after={"version": saved.number, "language": lang},
        )
    return saved


def clean_signoff_date(raw: Any) -> dt.date:
    if isinstance(raw, dt.date):
        value = raw
    else:
        try:
            value = dt.date.fromisoformat(str(raw or "").strip()[:10])
        except ValueError:
            raise InvalidInput(
                _("Give the date of the sign-off as YYYY-MM-DD."), field="signed_on"
            ) from None
    if value > timezone.localdate():
        raise InvalidInput(_("A sign-off cannot be dated in the future."), field="signed_on")
    if value.year < 2000:
        raise InvalidInput(_("Give the date of the sign-off as YYYY-MM-DD."), field="signed_on")
    return value


def sign_off(
    person: Person,
    tld: Tld,
    *,
    name: str,
    role: str,
    signed_on: Any,
    version_number: int | None = None,
    actor: audit.Actor,
) -> SignOff:
    """Record top management's sign-off (``name``, ``role``, the day they signed) on a version of
    the plan (the latest by default). The first sign-off of a version freezes the playbook's
    text it prints with (:func:`freeze`), so that the signed version keeps printing what was
    signed when the playbook or its translations change. The audit entry says which version was
    signed, not by whom: staff read the audit log, and only the ccTLD's contacts read its plan."""
    _own(person, tld)
    checks = Checks()
    clean_name = checks.run(
        clean_text,
        name,
        field_name="name",
        max_length=TEXT_MAX,
        required=True,
        what=_("The signer's name"),
    )
    clean_role = checks.run(
        clean_text,
        role,
        field_name="role",
        max_length=TEXT_MAX,
        required=True,
        what=_("The signer's role"),
    )
    day = checks.run(clean_signoff_date, signed_on)
    checks.done()  # every refusal at once
    with transaction.atomic():
        plan = Plan.objects.select_for_update().filter(tld=tld).first()
        if plan is None:
            raise InvalidInput(_("Save the plan before it is signed off."), field="version")
        number = plan.version if version_number is None else version_number
        target = PlanVersion.objects.filter(plan=plan, number=number).first()
        if target is None:
            raise InvalidInput(_("The plan has no version %(n)s.") % {"n": number}, field="version")
        if day < timezone.localdate(target.created_at):
            raise InvalidInput(
                _("A sign-off cannot be dated before the version it signs (%(date)s).")
                % {"date": timezone.localdate(target.created_at).isoformat()},
                field="signed_on",
            )
        if target.signoffs.count() >= MAX_SIGNOFFS:
            raise InvalidInput(
                _("Version %(n)s already has %(max)d sign-offs.")
                % {"n": number, "max": MAX_SIGNOFFS},
                field="version",
            )
        if target.signed_text_id is None:
            freeze(target)
        signed = SignOff.objects.create(
            version=target,
            name=clean_name,
            role=clean_role,
            signed_on=day,
            recorded_at=timezone.now(),
            recorded_by=person,
        )
        audit.record(
            actor,
            "plan.signed_off",
            f"DR/BCP plan of {tld} version {number} signed off",
            tld=tld,
            after={"version": number, "signoff": signed.pk, "signed_on": day.isoformat()},
        )
    return signed


def text_digest(language: str, stored: Mapping[str, Any]) -> str:
    """sha256 (hex) of the canonical JSON (sorted keys, no spaces, UTF-8) of ``language`` and a
    frozen text ``stored``: equal texts, equal digests, so that :func:`freeze` stores each once.
    The language is in it so that two languages' identical texts (all in English) stay apart.
    Migration 0004 computes the same for the texts it moves: keep the two alike."""
    canonical = json.dumps(
        {"language": language, "text": stored},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def freeze(saved: PlanVersion) -> None:
    """Point ``saved`` to the playbook's text in its language as it is now — what top management
    reads and signs — and make its content version that text's (it may be newer than the one
    the version was saved with). The text is stored once (:class:`SignedText`, by digest):
    every version signed with the same text shares its row, so that saving and signing again
    and again does not store the 74–365 KB text again and again."""
    doc = catalogs.localize(PLAYBOOK, saved.language)
    stored = {
        "book": doc.book,
        "units": doc.units,
        "review": list(doc.review),
        "english": sorted(doc.english),
    }
    # The stored JSON is what the digest is of: a round trip makes tuples lists and so on.
    stored = json.loads(json.dumps(stored))
    content_version = int(doc.book.get("version", saved.content_version))
    text, _created = SignedText.objects.get_or_create(
        digest=text_digest(saved.language, stored),
        defaults={
            "language": saved.language,
            "content_version": content_version,
            "book": stored,
            "created_at": timezone.now(),
        },
    )
    saved.signed_text = text
    saved.content_version = text.content_version
    saved.save(update_fields=["signed_text", "content_version"])


def _frozen(saved: PlanVersion) -> catalogs.Localized | None:
    if saved.signed_text_id is None:
        return None
    stored = saved.signed_text.book
    return catalogs.Localized(
        PLAYBOOK,
        saved.language,
        stored["book"],
        stored.get("units", 0),
        list(stored.get("review", [])),
        set(stored.get("english", [])),
    )


def last_signoff(plan: Plan) -> SignOff | None:
    return (
        SignOff.objects.filter(version__plan=plan)
        .select_related("version")
        .order_by("-signed_on", "-recorded_at")
        .first()
    )


# --- The document -------------------------------------------------------------------------------


@dataclass
class Source:
    """What a document is made from: the current plan or one of its versions."""

    tld: Tld
    values: dict[str, Any]
    language: str
    number: int  # 0: not saved yet
    content_version: int
    signoffs: list[SignOff]
    #: The playbook's text as signed (:func:`freeze`); None: today's text.
    signed: catalogs.Localized | None = None


def source(
    plan: Plan | None, tld: Tld, values: dict[str, Any], language: str | None = None
) -> Source:
    """The current plan (or the prefilled values of a plan not saved yet). A signed current
    version shows the text it was signed with, in its language; in another language, or
    unsigned, today's text."""
    signoffs: list[SignOff] = []
    number = 0
    language = language or (plan.language if plan else "en")
    signed = None
    if plan is not None:
        number = plan.version
        signoffs = list(SignOff.objects.filter(version__plan=plan, version__number=number))
        current = PlanVersion.objects.filter(plan=plan, number=number).first()
        if signoffs and current is not None and current.language == language:
            signed = _frozen(current)
    return Source(
        tld=tld,
        values=values,
        language=language,
        number=number,
        content_version=int(
            signed.book.get("version", 0) if signed else content.load(PLAYBOOK)["version"]
        ),
        signoffs=signoffs,
        signed=signed,
    )


def version_source(saved: PlanVersion) -> Source:
    """One saved version: its values and language, and once signed the text it was signed with
    and its content version. Unsigned, today's text of the playbook — and so today's content
    version, not the one it was saved with: management may read and sign exactly that print,
    which must not claim an older text than it shows."""
    signed = _frozen(saved)
    return Source(
        tld=saved.plan.tld,
        values={**empty_values(), **saved.values},
        language=saved.language,
        number=saved.number,
        content_version=(
            saved.content_version if signed is not None else content.load(PLAYBOOK)["version"]
        ),
        signoffs=list(saved.signoffs.all()),
        signed=signed,
    )


def placeholder_values(src: Source) -> dict[str, str]:
    """What fills the playbook's placeholders: the plan's values, the ccTLD itself, and for the
    date and time (known only when the plan is used) a labelled line to write them on."""
    values = {key: src.values.get(key, "") for key in PLACEHOLDER_KEYS}
    values["tld"] = src.tld.display
    values["date"] = "__________ (" + _("date") + ")"
    values["time"] = "______ (" + _("time") + ")"
    return values


def _table(
    title: str, part: Part, rows: list[dict[str, Any]], render: Callable[[str, str], str]
) -> list[Block]:
    out = [Block("h2", title)]
    if not rows:
        out.append(Block("p", _("None recorded yet.")))
        return out
    out.append(
        Block(
            "table",
            columns=tuple(str(c.label) for c in part.columns),
            rows=tuple(
                tuple(render(c.kind, row.get(c.key, "")) for c in part.columns) for row in rows
            ),
        )
    )
    return out


def _cover(src: Source) -> list[Block]:
    words = catalogs.labels(src.language)
    registry = src.values.get("registry") or src.tld.display
    out = [
        Block("title", _("DR/BCP plan of %(tld)s") % {"tld": src.tld.display}),
        Block("subtitle", registry),
    ]
    if src.number:
        out.append(Block("meta", f"{words['version']} {src.number}"))
    else:
        out.append(Block("meta", _("Not saved yet: prefilled values")))
    out.append(Block("meta", _("Playbook content version %(n)s") % {"n": src.content_version}))
    if src.number and src.signed is None:
        # Not the text of a sign-off: say so, so that no one takes it for what was signed.
        out.append(Block("note", _("Printed with the current playbook text.")))
    if src.signoffs:
        for signed in src.signoffs:
            out.append(
                Block(
                    "meta",
                    _("Signed off by %(name)s (%(role)s) on %(date)s, recorded by %(by)s")
                    % {
                        "name": signed.name,
                        "role": signed.role,
                        "date": signed.signed_on.isoformat(),
                        "by": signed.recorded_by.name if signed.recorded_by else "—",
                    },
                )
            )
    else:
        out.append(Block("note", _("Not signed off by top management.")))
    out.append(
        Block("meta", _("Generated on %(date)s") % {"date": timezone.now().date().isoformat()})
    )
    return out


def blocks(src: Source) -> list[Block]:
    """The plan as a document, in its language: a cover, the playbook with every placeholder
    filled, then the ccTLD's own tables where the playbook has its example tables."""
    with translation.override(catalogs.django_language(src.language)):
        doc = src.signed or catalogs.localize(PLAYBOOK, src.language)
        values = placeholder_values(src)
        roles = role_labels(src.language)
        site_roles = site_role_labels()

        def render(kind: str, value: str) -> str:
            if kind == "role":
                return roles.get(value, value)
            if kind == "site_role":
                return site_roles.get(value, value)
            return value

        tables = {t["id"]: t for t in doc.book.get("tables", [])}
        book = {**doc.book, "tables": []}
        own = catalogs.Localized(
            doc.playbook, doc.language, book, doc.units, doc.review, doc.english
        )
        out = _cover(src)
        out += document.playbook_blocks(own, values)
        out.append(Block("h1", _("Our own tables")))
        for part in PARTS:
            example = {
                "roles": "contact-tree",
                "services": "rto-rpo",
                "suppliers": "suppliers",
            }.get(part.key)
            title = tables[example]["title"] if example in tables else str(part.label)
            out += _table(title, part, src.values.get(part.key, []), render)
        out.append(Block("h2", _("Escrow agent")))
        escrow = " — ".join(
            v for v in (src.values.get("escrow_agent"), src.values.get("escrow_contact")) if v
        )
        out.append(Block("p", escrow or _("None recorded yet.")))
        out.append(Block("h2", _("Registrars' channel")))
        out.append(Block("p", src.values.get("registrars_channel") or _("None recorded yet.")))
    return out


def title(src: Source) -> str:
    with translation.override(catalogs.django_language(src.language)):
        return _("DR/BCP plan of %(tld)s") % {"tld": src.tld.display}


def pdf(src: Source) -> bytes:
    """The plan as an A4 PDF (the typesetter of every printed playbook)."""
    return document.pdf(blocks(src), title=title(src), language=src.language)


def pdf_filename(src: Source) -> str:
    return f"drbcp-plan-{src.tld.alabel}-v{src.number}.pdf"


# --- The yearly review reminder -----------------------------------------------------------------


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def review_basis(plan: Plan) -> dt.date:
    """The day the yearly review counts from: the last sign-off, or the plan's creation."""
    signed = last_signoff(plan)
    return signed.signed_on if signed else timezone.localdate(plan.created_at)


def review_period(plan: Plan, today: dt.date) -> dt.date | None:
    """The anniversary of :func:`review_basis` the reminder is for today (the latest one passed),
    or None while the basis is less than 12 months old."""
    basis = review_basis(plan)
    due = _add_months(basis, REVIEW_AFTER_MONTHS)
    if today < due:
        return None
    n = 1
    while _add_months(basis, REVIEW_AFTER_MONTHS * (n + 1)) <= today:
        n += 1
    return _add_months(basis, REVIEW_AFTER_MONTHS * n)


def _reminded(plan: Plan, period: dt.date, today: dt.date) -> bool:
    """Whether the review of ``period`` needs no reminder: one went out for it, or for an
    anniversary less than :data:`REMIND_AGAIN_AFTER_MONTHS` before it (a sign-off back-dated
    after that reminder moved the anniversary a little), or any less than that long ago."""
    return ReviewReminder.objects.filter(
        Q(period__gt=_add_months(period, -REMIND_AGAIN_AFTER_MONTHS))
        | Q(sent_at__date__gt=_add_months(today, -REMIND_AGAIN_AFTER_MONTHS)),
        plan=plan,
    ).exists()


def _due(plan: Plan, today: dt.date) -> dt.date | None:
    """The period ``plan`` is to be reminded of today, or None."""
    period = review_period(plan, today)
    if period is None or _reminded(plan, period, today):
        return None
    return period


def send_review_reminder(plan_pk: int, today: dt.date) -> ReviewReminder | None:
    """Queue the review reminder of one plan if it is due and not yet sent for its period: the
    mark and the mail in one transaction, so a crash leaves neither or both. Nobody to tell (no
    active contact): no mark either, so that the reminder goes out once someone can read it."""
    with transaction.atomic():
        plan = Plan.objects.select_for_update().select_related("tld").filter(pk=plan_pk).first()
        if plan is None:
            return None
        period = _due(plan, today)
        if period is None:
            return None
        recipients = sorted({p.email for p in access.contacts(plan.tld)})
        if not recipients:
            return None
        try:
            with transaction.atomic():
                reminder = ReviewReminder.objects.create(
                    plan=plan, period=period, sent_at=timezone.now(), recipients=len(recipients)
                )
        except IntegrityError:  # another worker sent it in the meantime
            return None
        signed = last_signoff(plan)
        with outbox.mail_language():
            subject = _("[TLD-OPS] Time to review the DR/BCP plan of %(tld)s") % {
                "tld": plan.tld.display
            }
            outbox.send_template(
                "playbooks/email/review_reminder.txt",
                {
                    "tld": plan.tld.display,
                    "plan_url": settings.BASE_URL.rstrip("/") + plan_url(plan.tld),
                    "signed": signed,
                    "created": timezone.localdate(plan.created_at),
                    "version": plan.version,
                },
                subject=subject,
                to=recipients,
                purpose="plan-review",
            )
        audit.record(
            audit.SystemActor(),
            "plan.review_reminder",
            f"Yearly review reminder of the DR/BCP plan of {plan.tld} ({period.isoformat()})",
            tld=plan.tld,
            after={"period": period.isoformat(), "recipients": len(recipients)},
        )
    return reminder


def run_due(now: dt.datetime | None = None) -> int:
    """The worker's hook: every plan whose review is due gets its reminder, once per period; the
    number queued. Running it again sends nothing more. It runs every minute, so it reads first
    and locks (in :func:`send_review_reminder`, which checks again) only the plans that are due
    and have someone to tell."""
    today = timezone.localdate(now) if now else timezone.localdate()
    limit = _add_months(today, -REVIEW_AFTER_MONTHS)
    sent = 0
    for plan in Plan.objects.filter(created_at__date__lte=limit).select_related("tld"):
        if _due(plan, today) is None or not access.contacts(plan.tld).exists():
            continue
        if send_review_reminder(plan.pk, today) is not None:
            sent += 1
    return sent
