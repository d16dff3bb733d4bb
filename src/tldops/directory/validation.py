"""Validation of what people type: email addresses, phone numbers, time zones, languages, ccTLDs.

Each function returns the clean value or raises :class:`~tldops.directory.errors.InvalidInput` with a
message a person can act on. The doors call these through the actions; none validates on its own.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from functools import lru_cache

import idna
import phonenumbers
import pycountry
from confusable_homoglyphs import confusables
from django.core.exceptions import ValidationError
from django.core.validators import validate_email as django_validate_email
from django.utils.translation import gettext as _

from tldops.catalog.models import Tld
from tldops.directory.errors import InvalidInput
from tldops.directory.models import Phone

PHONE_LABELS = {choice for choice, _label in Phone.Label.choices}


def clean_email(raw: str, *, field_name: str = "email") -> str:
    """A syntactically valid address, domain lower-cased and IDNA-encoded."""
    value = (raw or "").strip()
    local, sep, domain = value.rpartition("@")
    if not sep or not local or not domain:
        raise InvalidInput(_("“%(v)s” is not an email address.") % {"v": value}, field=field_name)
    try:
        domain = idna.encode(domain.rstrip(".").lower(), uts46=True).decode("ascii")
    except idna.IDNAError:
        raise InvalidInput(
            _("The domain of “%(v)s” is not a valid domain name.") % {"v": value}, field=field_name
        ) from None
    address = f"{local}@{domain}"
    try:
        django_validate_email(address)
    except ValidationError:
        raise InvalidInput(
            _("“%(v)s” is not an email address.") % {"v": value}, field=field_name
        ) from None
    return address


def clean_phone(raw: str, *, region: str | None = None, field_name: str = "phone") -> str:
    """The number in E.164 (``+33123456789``). Numbers without ``+`` are read in ``region``."""
    value = (raw or "").strip()
    try:
        number = phonenumbers.parse(value, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        raise InvalidInput(
            _(
                "“%(v)s” is not a phone number; write it in international form, e.g. +33 1 23 45 67 89."
            )
            % {"v": value},
            field=field_name,
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(
            _("“%(v)s” is not a valid phone number for its country.") % {"v": value},
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
    value = (raw or "office").strip().lower()
    aliases = {"24x7": "24/7", "247": "24/7", "noc": "24/7", "cell": "mobile", "work": "office"}
    value = aliases.get(value, value)
    if value not in PHONE_LABELS:
        raise InvalidInput(
            _("Unknown phone label “%(v)s”; use one of: %(labels)s.")
            % {"v": raw, "labels": ", ".join(sorted(PHONE_LABELS))},
            field="phones",
        )
    return value


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def clean_timezone(raw: str) -> str:
    value = (raw or "").strip()
    if not value:
        return ""
    if value not in _timezones():
        raise InvalidInput(
            _("Unknown time zone “%(v)s”; use an IANA name such as Europe/Paris.") % {"v": value},
            field="timezone",
        )
    return value


def clean_languages(raw: list[str] | str) -> list[str]:
    """ISO 639 codes (``en``, ``fr``, ``ar``…); names such as ``French`` are accepted too."""
    items = raw.split(",") if isinstance(raw, str) else list(raw or [])
    out: list[str] = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        lang = (
            pycountry.languages.get(alpha_2=item.lower())
            or pycountry.languages.get(alpha_3=item.lower())
            or pycountry.languages.get(name=item.capitalize())
        )
        if lang is None:
            raise InvalidInput(
                _("Unknown language “%(v)s”; use an ISO 639 code such as en, fr, es.")
                % {"v": item},
                field="languages",
            )
        code = getattr(lang, "alpha_2", None) or lang.alpha_3
        if code not in out:
            out.append(code)
    return out


def resolve_tld(raw: str, *, delegated_only: bool = True) -> Tld:
    """The ccTLD named by ``raw``: ``fr``, ``.FR``, ``рф``, ``xn--p1ai`` all work.

    Look-alikes are refused with a hint: ``.uа`` typed with a Cyrillic ``а`` is not ``.ua``.
    """
    text = (raw or "").strip().strip(".")
    if not text:
        raise InvalidInput(_("Name a ccTLD, e.g. fr or рф."), field="tld")
    try:
        alabel = idna.encode(text, uts46=True).decode("ascii").lower()
    except idna.IDNAError:
        alabel = ""
    tld = Tld.objects.filter(alabel=alabel).first() if alabel else None
    if tld is None:
        if not text.isascii():
            skeleton = _latin_skeleton(text)
            if skeleton and skeleton != text and Tld.objects.filter(alabel=skeleton).exists():
                raise InvalidInput(
                    _(
                        "“%(v)s” looks like .%(s)s but is written with non-Latin look-alike letters; "
                        "type .%(s)s with Latin letters."
                    )
                    % {"v": text, "s": skeleton},
                    field="tld",
                )
        raise InvalidInput(_("“%(v)s” is not a known ccTLD.") % {"v": text}, field="tld")
    if confusables.is_mixed_script(tld.ulabel):
        raise InvalidInput(_("“%(v)s” mixes scripts.") % {"v": text}, field="tld")
    if delegated_only and not tld.delegated:
        raise InvalidInput(
            _(".%(v)s is no longer delegated (retired).") % {"v": tld.alabel}, field="tld"
        )
    return tld


def _latin_skeleton(text: str) -> str:
    """Each character replaced by an ASCII Latin homoglyph where it has one."""
    out = []
    for ch in text.lower():
        if ch.isascii():
            out.append(ch)
            continue
        found = confusables.is_confusable(ch, preferred_aliases=["latin"], greedy=True) or []
        latin = [g["c"] for f in found for g in f["homoglyphs"] if g["c"].isascii()]
        out.append(latin[0].lower() if latin else ch)
    return "".join(out)


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
    name = " ".join((contact.name or "").split())
    if not name:
        raise InvalidInput(_("Every contact needs a name."), field="name")
    if len(name) > 200:
        raise InvalidInput(_("A name may be at most 200 characters."), field="name")
    phones = [
        (clean_phone(number, region=region), clean_phone_label(label))
        for number, label in contact.phones
        if (number or "").strip()
    ]
    return CleanContact(
        name=name,
        email=clean_email(contact.email),
        phones=phones,
        timezone=clean_timezone(contact.timezone),
        languages=clean_languages(contact.languages),
    )
