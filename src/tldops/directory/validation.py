"""Validation of what people type: names, email addresses, phone numbers, time zones, languages,
ccTLDs and the short free texts staff write (reasons, notes, labels).

Each function returns the clean value or raises :class:`~tldops.kernel.errors.InvalidInput` with a
message a person can act on. The doors call these through the actions; none validates on its own.

Every value has a bound (the ``*_MAX_*`` constants below, and ``TLDOPS_MAX_PHONES_PER_PERSON``),
checked before any costly parsing: what a member types ends up in mail subjects, every member's
directory page and the monthly PDF, so one oversized value must not cost everyone. The API schemas
state the same bounds in the OpenAPI document by importing these constants.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TypeVar

import idna
import phonenumbers
import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email as django_validate_email
from django.utils.translation import gettext as _

from tldops.directory.models import Invitation, Person, Phone
from tldops.kernel.errors import DirectoryError, InvalidInput, raise_all, shown

PHONE_LABELS = {choice for choice, _label in Phone.Label.choices}

#: A person's name, as the directory, the mail subjects and the repository show it.
NAME_MAX_LENGTH = Person._meta.get_field("name").max_length
#: An email address (RFC 5321 path limit).
EMAIL_MAX_LENGTH = 254
#: A phone number as typed, spaces and punctuation included (E.164 itself has at most 15 digits).
PHONE_MAX_LENGTH = 40
#: A phone label as typed (``office``, ``24/7`` …, or an alias such as ``noc``).
PHONE_LABEL_MAX_LENGTH = 16
#: An IANA time zone name (the longest today is 32 characters).
TIMEZONE_MAX_LENGTH = Person._meta.get_field("timezone").max_length
#: How many languages a person may list, and the length of each as typed (a code or a name).
MAX_LANGUAGES = 10
LANGUAGE_MAX_LENGTH = 40
#: A reason or note staff give (removing a contact, rejecting a post, a sender override).
REASON_MAX_LENGTH = 300
#: A label for an invitation batch.
BATCH_MAX_LENGTH = Invitation._meta.get_field("batch").max_length
#: How much of a refused value an error message repeats.

#: Characters refused in names and short texts: control characters (C0, C1) and the bidirectional
#: embeddings, overrides and isolates, which would reorder what is shown around the value.
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: The same, but tab and line breaks allowed (a text of several lines).
_FORBIDDEN_IN_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def has_forbidden(text: str, *, lines: bool = False) -> bool:
    """Whether ``text`` holds a character refused in what people and machines send us: control
    characters (terminal escapes among them) and bidirectional overrides; with ``lines``, tab
    and line breaks are allowed."""
    return bool((_FORBIDDEN_IN_LINES if lines else _FORBIDDEN).search(text))


T = TypeVar("T")


class Checks:
    """Runs several checks and keeps every refusal instead of stopping at the first, so that a
    person is told everything wrong with what they sent at once (:meth:`done` raises them
    together as :class:`~tldops.kernel.errors.InvalidInputs`)."""

    def __init__(self) -> None:
        self.errors: list[DirectoryError] = []

    def run(self, check: Callable[..., T], *args: object, **kwargs: object) -> T | None:
        """``check(*args, **kwargs)``, or ``None`` when it refuses (the refusal is kept)."""
        try:
            return check(*args, **kwargs)
        except InvalidInput as exc:
            self.errors.append(exc)
            return None

    def done(self) -> None:
        """Raise every refusal kept, if any."""
        raise_all(self.errors)


def max_phones() -> int:
    """How many phone numbers a person may have (``TLDOPS_MAX_PHONES_PER_PERSON``)."""
    return settings.MAX_PHONES_PER_PERSON


def _too_long(what: str, limit: int, field_name: str) -> InvalidInput:
    return InvalidInput(
        _("%(what)s may be at most %(n)d characters; shorten it.") % {"what": what, "n": limit},
        field=field_name,
    )


def clean_name(raw: str | None, *, field_name: str = "name") -> str:
    """A person's name on one line: runs of white space become one space; at most
    :data:`NAME_MAX_LENGTH` characters, no control or bidi-override characters."""
    if raw is not None and len(raw) > 4 * NAME_MAX_LENGTH:  # refuse before splitting a megabyte
        raise _too_long(_("A name"), NAME_MAX_LENGTH, field_name)
    name = " ".join((raw or "").split())
    if not name:
        raise InvalidInput(_("A name is needed; it cannot be empty."), field=field_name)
    if len(name) > NAME_MAX_LENGTH:
        raise _too_long(_("A name"), NAME_MAX_LENGTH, field_name)
    if _FORBIDDEN.search(name):
        raise InvalidInput(
            _("A name may not contain control or text-direction characters; retype it."),
            field=field_name,
        )
    return name


def clean_text(
    raw: str | None,
    *,
    field_name: str,
    max_length: int = REASON_MAX_LENGTH,
    required: bool = False,
    what: str | None = None,
    lines: bool = False,
) -> str:
    """A free text (a reason, a note, a label): at most ``max_length`` characters, no control or
    text-direction characters. On one line, white space collapsed; with ``lines``, a text of
    several lines: its line breaks kept, spaces at the ends of lines and around it dropped.
    Empty is allowed unless ``required``."""
    what = what or _("This text")
    if raw is not None and len(raw) > 4 * max_length:
        raise _too_long(what, max_length, field_name)
    if lines:
        # Only CR LF and CR become line breaks: str.splitlines() would also break at form feeds,
        # separators and NEL, turning characters refused below into accepted line breaks.
        lined = (raw or "").replace("\r\n", "\n").replace("\r", "\n").strip()
        text = "\n".join(line.rstrip() for line in lined.split("\n"))
    else:
        text = " ".join((raw or "").split())
    if required and not text:
        raise InvalidInput(_("%(what)s cannot be empty.") % {"what": what}, field=field_name)
    if len(text) > max_length:
        raise _too_long(what, max_length, field_name)
    if has_forbidden(text, lines=lines):
        raise InvalidInput(
            _("%(what)s may not contain control or text-direction characters.") % {"what": what},
            field=field_name,
        )
    return text


def clean_choice(raw: str | None, choices: type, field_name: str) -> str:
    """One of the values of ``choices`` (a Django ``TextChoices``), as people type it (any case,
    white space around): "“x” is not a <field>; use one of: …" otherwise."""
    allowed = [c.value for c in choices]
    text = (raw or "").strip().lower()
    if text not in allowed:
        raise InvalidInput(
            _("“%(v)s” is not a %(name)s; use one of: %(allowed)s.")
            % {"v": shown(raw or ""), "name": field_name, "allowed": ", ".join(allowed)},
            field=field_name,
        )
    return text


def clean_email(raw: str, *, field_name: str = "email") -> str:
    """A syntactically valid address, domain lower-cased and IDNA-encoded."""
    value = (raw or "").strip()
    if len(value) > EMAIL_MAX_LENGTH:
        raise _too_long(_("An email address"), EMAIL_MAX_LENGTH, field_name)
    local, sep, domain = value.rpartition("@")
    if not sep or not local or not domain:
        raise InvalidInput(
            _("“%(v)s” is not an email address.") % {"v": shown(value)}, field=field_name
        )
    try:
        domain = idna.encode(domain.rstrip(".").lower(), uts46=True).decode("ascii")
    except idna.IDNAError:
        raise InvalidInput(
            _("The domain of “%(v)s” is not a valid domain name.") % {"v": shown(value)},
            field=field_name,
        ) from None
    address = f"{local}@{domain}"
    try:
        django_validate_email(address)
    except ValidationError:
        raise InvalidInput(
            _("“%(v)s” is not an email address.") % {"v": shown(value)}, field=field_name
        ) from None
    return address


def clean_phone(raw: str, *, region: str | None = None, field_name: str = "phone") -> str:
    """The number in E.164 (``+33123456789``). Numbers without ``+`` are read in ``region``."""
    value = (raw or "").strip()
    if len(value) > PHONE_MAX_LENGTH:
        raise _too_long(_("A phone number"), PHONE_MAX_LENGTH, field_name)
    try:
        number = phonenumbers.parse(value, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        raise InvalidInput(
            _(
                "“%(v)s” is not a phone number; write it in international form, e.g. +33 1 23 45 67 89."
            )
            % {"v": shown(value)},
            field=field_name,
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(
            _("“%(v)s” is not a valid phone number for its country.") % {"v": shown(value)},
            field=field_name,
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=16384)
def format_phone(e164: str) -> str:
    """E.164 shown the international way (``+33 1 23 45 67 89``).

    Cached: parsing is the costliest step of rendering the directory, and numbers rarely change.
    """
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return e164


def clean_phone_label(raw: str) -> str:
    """One of :data:`PHONE_LABELS`, or an alias of one (``noc`` is ``24/7``)."""
    if len(raw or "") > PHONE_LABEL_MAX_LENGTH:
        raise _too_long(_("A phone label"), PHONE_LABEL_MAX_LENGTH, "phones")
    value = (raw or "office").strip().lower()
    aliases = {"24x7": "24/7", "247": "24/7", "noc": "24/7", "cell": "mobile", "work": "office"}
    value = aliases.get(value, value)
    if value not in PHONE_LABELS:
        raise InvalidInput(
            _("Unknown phone label “%(v)s”; use one of: %(labels)s.")
            % {"v": shown(raw), "labels": ", ".join(sorted(PHONE_LABELS))},
            field="phones",
        )
    return value


def clean_phones(
    raw: Sequence[tuple[str, str]], *, region: str | None = None
) -> list[tuple[str, str]]:
    """Each (number, label) cleaned, empty numbers skipped; at most :func:`max_phones` of them,
    counted before any is parsed."""
    entries = list(raw or [])
    limit = max_phones()
    if len(entries) > 4 * limit or sum(1 for n, _lbl in entries if (n or "").strip()) > limit:
        raise InvalidInput(
            _("At most %(n)d phone numbers may be given; remove some.") % {"n": limit},
            field="phones",
        )
    checks = Checks()
    cleaned = [
        (checks.run(clean_phone, number, region=region), checks.run(clean_phone_label, label))
        for number, label in entries
        if (number or "").strip()
    ]
    checks.done()
    return cleaned  # type: ignore[return-value]  # every value is set once done() passes


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def clean_timezone(raw: str) -> str:
    value = (raw or "").strip()
    if not value:
        return ""
    if value not in _timezones():  # a bounded set of names: this also bounds the length
        raise InvalidInput(
            _("Unknown time zone “%(v)s”; use an IANA name such as Europe/Paris.")
            % {"v": shown(value)},
            field="timezone",
        )
    return value


def clean_languages(raw: list[str] | str) -> list[str]:
    """ISO 639 codes (``en``, ``fr``, ``ar``…); names such as ``French`` are accepted too."""
    if isinstance(raw, str) and len(raw) > MAX_LANGUAGES * (LANGUAGE_MAX_LENGTH + 2):
        raise _too_long(
            _("The list of languages"), MAX_LANGUAGES * LANGUAGE_MAX_LENGTH, "languages"
        )
    items = raw.split(",") if isinstance(raw, str) else list(raw or [])
    items = [i.strip() for i in items if isinstance(i, str) and i.strip()]
    if len(items) > MAX_LANGUAGES:
        raise InvalidInput(
            _("At most %(n)d languages may be given; keep the ones you work in.")
            % {"n": MAX_LANGUAGES},
            field="languages",
        )
    out: list[str] = []
    for item in items:
        if len(item) > LANGUAGE_MAX_LENGTH:
            raise _too_long(_("A language"), LANGUAGE_MAX_LENGTH, "languages")
        lang = (
            pycountry.languages.get(alpha_2=item.lower())
            or pycountry.languages.get(alpha_3=item.lower())
            or pycountry.languages.get(name=item.capitalize())
        )
        if lang is None:
            raise InvalidInput(
                _("Unknown language “%(v)s”; use an ISO 639 code such as en, fr, es.")
                % {"v": shown(item)},
                field="languages",
            )
        code = getattr(lang, "alpha_2", None) or lang.alpha_3
        if code not in out:
            out.append(code)
    return out


@dataclass
class ContactInput:
    """A contact as an authoriser names it, before validation."""

    name: str
    email: str
    phones: list[tuple[str, str]] = field(default_factory=list)  # (number, label)
    timezone: str = ""
    languages: list[str] | str = field(default_factory=list)


@dataclass
class CleanContact:
    name: str
    email: str
    phones: list[tuple[str, str]]
    timezone: str
    languages: list[str]


def clean_contact(contact: ContactInput, *, region: str | None = None) -> CleanContact:
    """A contact named by an authoriser or the secretariat, every field checked and bounded.

    Every field is checked before anything is refused: the error gathers each field's problem."""
    checks = Checks()
    clean = CleanContact(
        name=checks.run(clean_name, contact.name),
        email=checks.run(clean_email, contact.email),
        phones=checks.run(clean_phones, contact.phones, region=region),
        timezone=checks.run(clean_timezone, contact.timezone),
        languages=checks.run(clean_languages, contact.languages),
    )
    checks.done()
    return clean


def clean_contacts(
    contacts: Sequence[ContactInput], *, region: str | None = None
) -> list[CleanContact]:
    """Several contacts named together (an authorisation): each checked by :func:`clean_contact`,
    and no address named twice. Every refusal of every contact is raised together, each error's
    ``index`` saying which contact (from 0) it is about."""
    errors: list[DirectoryError] = []
    cleaned: list[CleanContact] = []
    seen: set[str] = set()
    for index, contact in enumerate(contacts):
        try:
            clean = clean_contact(contact, region=region)
        except InvalidInput as exc:
            errors.append(exc.at(index))
            continue
        if clean.email.lower() in seen:
            errors.append(
                InvalidInput(
                    _("The same email address is named twice."), field="email", index=index
                )
            )
        seen.add(clean.email.lower())
        cleaned.append(clean)
    raise_all(errors)
    return cleaned


@dataclass
class ProfileChange:
    """What a member may change about themselves. ``None`` leaves a field as it is."""

    phones: list[tuple[str, str]] | None = None
    timezone: str | None = None
    languages: list[str] | str | None = None
    name: str | None = None
    family_name: str | None = None


def clean_family_name(raw: str | None, name: str) -> str:
    """The part of ``name`` that is the person's family name, or ``""``: one line, bounded like a
    name, and written in ``name`` exactly as there (so the two can never disagree)."""
    if raw is not None and len(raw) > 4 * NAME_MAX_LENGTH:
        raise _too_long(_("A family name"), NAME_MAX_LENGTH, "family_name")
    family = " ".join((raw or "").split())
    if not family:
        return ""
    if len(family) > NAME_MAX_LENGTH:
        raise _too_long(_("A family name"), NAME_MAX_LENGTH, "family_name")
    if _FORBIDDEN.search(family):
        raise InvalidInput(
            _("A name may not contain control or text-direction characters; retype it."),
            field="family_name",
        )
    if family not in name or family == name:
        raise InvalidInput(
            _(
                "The family name must be part of your full name, written as there (“%(name)s”), "
                "and not all of it; or leave it empty."
            )
            % {"name": name},
            field="family_name",
        )
    return family


def clean_profile_change(
    change: ProfileChange,
    *,
    region: str | None = None,
    name: str = "",
    family_name: str = "",
) -> ProfileChange:
    """``change`` with every given field cleaned by the same rules as :func:`clean_contact`, so a
    member cannot store through their profile what an authoriser could not. ``name`` and
    ``family_name`` are the stored ones: a new full name must still hold the family name (or the
    change clears it explicitly)."""
    checks = Checks()
    new_name = checks.run(clean_name, change.name) if change.name is not None else None
    family = change.family_name if change.family_name is not None else family_name
    if new_name is not None or change.family_name is not None:
        family = checks.run(clean_family_name, family, new_name or name)
    else:
        family = None
    clean = ProfileChange(
        name=new_name,
        family_name=family,
        phones=(
            checks.run(clean_phones, change.phones, region=region)
            if change.phones is not None
            else None
        ),
        timezone=(
            checks.run(clean_timezone, change.timezone) if change.timezone is not None else None
        ),
        languages=(
            checks.run(clean_languages, change.languages) if change.languages is not None else None
        ),
    )
    checks.done()
    return clean
