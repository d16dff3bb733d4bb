"""Indicators of compromise an alert carries, validated and normalised (issue 10).

One spelling per indicator, so that the same domain, address or hash written three ways by three
CSIRTs is one row, one STIX object and one MISP attribute, and so that a search finds it:

- domain names: UTS 46 mapped (IDN → A-label, lower case, full-width dots read as dots), one
  trailing dot removed; each label at most 63 octets, letters/digits/hyphens once encoded, no
  leading or trailing hyphen, an ``xn--`` label must decode; at most 253 octets; at least two
  labels; the last label not all digits (``1.2.3.999`` is a mistyped address, not a name);
- IPv4 and IPv6 addresses as :mod:`ipaddress` writes them (IPv6 compressed, lower case; an
  IPv4-mapped one ``::ffff:192.0.2.1``, RFC 5952); no leading zeros in IPv4 (``010`` is octal to
  some tools, decimal to others); no zone index (``fe80::1%eth0`` means something on one machine
  only);
- prefixes ``10.0.0.0/8``, ``2001:db8::/32``: a prefix with bits set after its length is
  *refused*, naming the network it probably means (``192.0.2.1/24`` could be the address or the
  network; guessing would put the wrong one in everyone's block list). A full-length prefix
  (``/32``, ``/128``) stays a prefix. Prefixes broader than ``/8`` (IPv4) or ``/16`` (IPv6) are
  refused: they would match a large part of the Internet in every tool that imports them;
- URLs with scheme http, https or ftp: scheme and host lower case, an IDN host as A-labels, an
  IPv6 host compressed, the rest (user information, port, path, query, fragment) kept as given;
  at most :data:`URL_MAX_LENGTH` characters;
- AS numbers ``AS64500`` (also ``ASN 64500``, ``as64500``, asdot ``AS1.10``), 1 to 4294967295;
  a bare number is *not* read as an AS number (it is as likely a count or a port) unless the kind
  is given;
- MD5, SHA-1 and SHA-256 hashes: 32, 40 or 64 hexadecimal digits, lower case;
- email addresses: exactly one ``@``; the local part kept as written (its case may matter to the
  receiving server), the domain as a domain name above; at most 254 characters.

Defanged forms, as CSIRTs write indicators in mail so that nobody clicks them, are refanged
first: ``hxxp://`` / ``hxxps://`` / ``fxp://`` → ``http://`` / ``https://`` / ``ftp://``;
``[.]`` ``(.)`` ``{.}`` ``[dot]`` → ``.``; ``[:]`` → ``:``; ``[/]`` → ``/``; ``[://]`` → ``://``;
``[@]`` ``(@)`` ``{@}`` ``[at]`` → ``@``. Anywhere in the text (a URL's path included), brackets
required: a bare ``dot`` or ``at`` is left alone.

Lists (:func:`parse_lines`) are read from a stream one line at a time, each line bounded, and the
reading stops at a byte and an item limit: a file of any size costs at most the limit to refuse.

Pure: no database, no settings. The callers (alerts services) pass the limits
(``TLDOPS_ALERT_UPLOAD_MAX_BYTES``, ``TLDOPS_ALERT_MAX_INDICATORS``) and store ``kind`` and
``value`` as returned here.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import IO

import idna
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tldops.kernel.errors import InvalidInput, shown


class Kind(StrEnum):
    """What an indicator is. The values are stored (``Indicator.kind``) and appear in files
    (``kind,value`` lines, CSV exports): never rename one."""

    DOMAIN = "domain"
    IPV4 = "ipv4"
    IPV6 = "ipv6"
    IPV4_PREFIX = "ipv4-prefix"
    IPV6_PREFIX = "ipv6-prefix"
    URL = "url"
    ASN = "asn"
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    EMAIL = "email"

    @property
    def label(self) -> str:
        """The kind as a person reads it (``Domain name``), translated."""
        return _(_LABELS[self])


_LABELS = {
    Kind.DOMAIN: gettext_noop("Domain name"),
    Kind.IPV4: gettext_noop("IPv4 address"),
    Kind.IPV6: gettext_noop("IPv6 address"),
    Kind.IPV4_PREFIX: gettext_noop("IPv4 prefix"),
    Kind.IPV6_PREFIX: gettext_noop("IPv6 prefix"),
    Kind.URL: gettext_noop("URL"),
    Kind.ASN: gettext_noop("AS number"),
    Kind.MD5: gettext_noop("MD5 hash"),
    Kind.SHA1: gettext_noop("SHA-1 hash"),
    Kind.SHA256: gettext_noop("SHA-256 hash"),
    Kind.EMAIL: gettext_noop("Email address"),
}

#: MISP attribute type of each kind. Addresses and prefixes are ``ip-dst`` (MISP takes CIDR
#: there): an alert's addresses are what members should look for in traffic towards them.
MISP_TYPES: dict[Kind, str] = {
    Kind.DOMAIN: "domain",
    Kind.IPV4: "ip-dst",
    Kind.IPV6: "ip-dst",
    Kind.IPV4_PREFIX: "ip-dst",
    Kind.IPV6_PREFIX: "ip-dst",
    Kind.URL: "url",
    Kind.ASN: "AS",
    Kind.MD5: "md5",
    Kind.SHA1: "sha1",
    Kind.SHA256: "sha256",
    Kind.EMAIL: "email-src",
}

#: STIX 2.1 object path of each kind in a pattern (hash names from the spec's
#: hashing-algorithm-ov: ``MD5``, ``SHA-1``, ``SHA-256``; the hyphenated ones quoted).
STIX_PATHS: dict[Kind, str] = {
    Kind.DOMAIN: "domain-name:value",
    Kind.IPV4: "ipv4-addr:value",
    Kind.IPV6: "ipv6-addr:value",
    Kind.IPV4_PREFIX: "ipv4-addr:value",
    Kind.IPV6_PREFIX: "ipv6-addr:value",
    Kind.URL: "url:value",
    Kind.ASN: "autonomous-system:number",
    Kind.MD5: "file:hashes.MD5",
    Kind.SHA1: "file:hashes.'SHA-1'",
    Kind.SHA256: "file:hashes.'SHA-256'",
    Kind.EMAIL: "email-addr:value",
}


@dataclass(frozen=True, slots=True)
class Indicator:
    """One indicator, normalised: equal indicators are equal values (dedup, search, storage)."""

    kind: Kind
    value: str

    @property
    def misp_type(self) -> str:
        return MISP_TYPES[self.kind]

    @property
    def misp_value(self) -> str:
        """The value as MISP stores it: an AS number without ``AS`` (MISP strips it)."""
        return self.value[2:] if self.kind is Kind.ASN else self.value

    @property
    def stix_pattern(self) -> str:
        """A STIX 2.1 pattern matching this indicator: ``[domain-name:value = 'x.example']``; a
        prefix matches the addresses in it (``ISSUBSET``); an AS number is an integer."""
        path = STIX_PATHS[self.kind]
        if self.kind is Kind.ASN:
            return f"[{path} = {self.value[2:]}]"
        literal = "'" + self.value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        operator = "ISSUBSET" if self.kind in (Kind.IPV4_PREFIX, Kind.IPV6_PREFIX) else "="
        return f"[{path} {operator} {literal}]"


#: Longest text :func:`parse_one` looks at (characters); longer is refused before any parsing.
TEXT_MAX_LENGTH = 4096
#: Longest URL kept (characters, once normalised): what browsers and most tools handle.
URL_MAX_LENGTH = 2048
#: An email address (RFC 5321 path limit) and its local part (octets).
EMAIL_MAX_LENGTH = 254
EMAIL_LOCAL_MAX_OCTETS = 64
#: Broadest prefixes accepted.
IPV4_PREFIX_MIN_LENGTH = 8
IPV6_PREFIX_MIN_LENGTH = 16
#: Longest line :func:`parse_lines` reads (bytes); a longer one is an error on its line.
LINE_MAX_BYTES = 8192
#: Line errors a :class:`ParseResult` keeps (all are counted).
ERRORS_KEPT = 1000

#: Control characters (C0, C1) and bidirectional overrides: refused, and escaped when shown.
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_REFANG = [
    (re.compile(r"^h[xX]{2}p(s?)(?=\[?:)", re.IGNORECASE), r"http\1"),
    (re.compile(r"^fxp(?=\[?:)", re.IGNORECASE), "ftp"),
    (re.compile(r"\[://\]"), "://"),
    (re.compile(r"\[\.\]|\(\.\)|\{\.\}|\[dot\]", re.IGNORECASE), "."),
    (re.compile(r"\[:\]"), ":"),
    (re.compile(r"\[/\]"), "/"),
    (re.compile(r"\[@\]|\(@\)|\{@\}|\[at\]", re.IGNORECASE), "@"),
]
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_URL_SCHEMES = ("http", "https", "ftp")
_HASH_KINDS = {32: Kind.MD5, 40: Kind.SHA1, 64: Kind.SHA256}
_HEX = re.compile(r"[0-9a-fA-F]+")
_ASN = re.compile(r"(?:ASN?\s?)([0-9]+)(?:\.([0-9]+))?", re.IGNORECASE)
_ASN_BARE = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
_LDH = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_ATEXT = r"(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]|[^\x00-\x7f])+"
_LOCAL = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*")
_DIGITS_AND_DOTS = re.compile(r"[0-9.]+")
_IPV6_CHARS = re.compile(r"[0-9a-fA-F:.]+")
_SPACE = re.compile(r"\s")
#: What every defanged form starts with; a text without any is left as it is, unsearched.
_DEFANGED = re.compile(r"[\[({]|^[hHfF]")


class _Refused(Exception):
    """Why a text is not a valid indicator of the kind expected; :func:`parse_one` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _safe(text: str) -> str:
    """``text`` as an error message may repeat it: control and text-direction characters written
    as ``\\u…`` escapes (so that a message cannot be reordered or cut by what it quotes), then
    cut short (:func:`~tldops.kernel.errors.shown`)."""
    return shown(_FORBIDDEN.sub(lambda m: f"\\u{ord(m.group()):04x}", text[:200]))


def refang(text: str) -> str:
    """``hxxps://evil[.]example`` → ``https://evil.example`` (the forms in the module doc)."""
    if not _DEFANGED.search(text):
        return text
    for pattern, replacement in _REFANG:
        text = pattern.sub(replacement, text)
    return text


def parse_one(text: str, kind: Kind | None = None) -> Indicator:
    """The normalised indicator written in ``text`` (surrounding white space ignored, defanged
    forms refanged). With ``kind``, ``text`` must be one of that kind; without, the kind is read
    from the text (see :func:`detect`).

    Raises :class:`InvalidInput` naming the kind expected and the text (shortened, control
    characters escaped), and why.
    """
    raw = text or ""
    if len(raw) > TEXT_MAX_LENGTH:
        raise InvalidInput(
            _("“%(text)s” is too long for an indicator (at most %(max)s characters).")
            % {"text": _safe(raw), "max": TEXT_MAX_LENGTH},
            field="indicators",
        )
    raw = raw.strip()
    if not raw:
        raise InvalidInput(_("An indicator cannot be empty."), field="indicators")
    if _FORBIDDEN.search(raw):
        raise InvalidInput(
            _("“%(text)s” contains control or text-direction characters; it is not an indicator.")
            % {"text": _safe(raw)},
            field="indicators",
        )
    value = refang(raw)
    kind = detect(value) if kind is None else Kind(kind)
    try:
        normalised = _NORMALISERS[kind](value)
    except _Refused as refused:
        raise InvalidInput(
            _("%(kind)s expected: “%(text)s” %(reason)s.")
            % {"kind": kind.label, "text": _safe(raw), "reason": refused.reason},
            field="indicators",
        ) from None
    return Indicator(kind, normalised)


def detect(value: str) -> Kind:
    """The kind a (stripped, refanged) text is written as, for :func:`parse_one` to validate.

    In order: a scheme (``…://``) is a URL; 32/40/64 hexadecimal digits a hash; ``AS…`` an AS
    number; a ``/`` a prefix; digits and dots an IPv4 address; an IPv6 address; an ``@`` an email
    address; anything else a domain name. Raises :class:`InvalidInput` for what is none of them
    (a bare number, a hexadecimal string of another length, ``host:port`` …).
    """
    if _SCHEME.match(value):
        return Kind.URL
    if _HEX.fullmatch(value) and len(value) in _HASH_KINDS:
        return _HASH_KINDS[len(value)]
    if _ASN.fullmatch(value):
        return Kind.ASN
    if "/" in value:
        address = value.split("/", 1)[0]
        if _DIGITS_AND_DOTS.fullmatch(address):
            return Kind.IPV4_PREFIX
        if ":" in address and _IPV6_CHARS.fullmatch(address):
            return Kind.IPV6_PREFIX
        raise _unknown(value)
    if value.isdigit():
        raise InvalidInput(
            _(
                "“%(text)s” is a bare number: write an AS number as AS%(text)s, an address in "
                "full (192.0.2.1)."
            )
            % {"text": _safe(value)},
            field="indicators",
        )
    if _DIGITS_AND_DOTS.fullmatch(value):
        return Kind.IPV4
    if ":" in value and _IPV6_CHARS.fullmatch(value.split("%", 1)[0]):
        return Kind.IPV6
    if _HEX.fullmatch(value) and len(value) >= 16:
        raise InvalidInput(
            _(
                "“%(text)s” is not a hash tldops knows: MD5 has 32 hexadecimal digits, SHA-1 40, "
                "SHA-256 64 (this has %(n)s)."
            )
            % {"text": _safe(value), "n": len(value)},
            field="indicators",
        )
    if "@" in value:
        return Kind.EMAIL
    if ":" in value or _SPACE.search(value):
        raise _unknown(value)
    return Kind.DOMAIN


def _unknown(value: str) -> InvalidInput:
    return InvalidInput(
        _(
            "“%(text)s” is not an indicator tldops knows: write one domain name, IP address or "
            "prefix, URL (with http://, https:// or ftp://), AS number (AS64500), MD5/SHA-1/"
            "SHA-256 hash or email address."
        )
        % {"text": _safe(value)},
        field="indicators",
    )


# -- one normaliser per kind: the normalised text, or _Refused(why) ---------------------------


def _domain(value: str) -> str:
    if _SPACE.search(value):
        raise _Refused(_("contains a space"))
    if value.isascii():  # what UTS 46 does to ASCII, without its cost per character
        mapped = value.lower()
    else:
        try:
            mapped = idna.uts46_remap(value, std3_rules=False, transitional=False)
        except (idna.IDNAError, ValueError):
            raise _Refused(_("contains characters not allowed in a domain name")) from None
    mapped = mapped.removesuffix(".")
    labels = mapped.split(".")
    if len(labels) < 2:
        raise _Refused(_("has a single label; a domain name has at least two (name.tld)"))
    encoded = []
    for label in labels:
        if not label:
            raise _Refused(_("has an empty label"))
        if label.isascii():  # lower case already
            if not _LDH.fullmatch(label):
                if label.startswith("-") or label.endswith("-"):
                    raise _Refused(
                        _("has a label that starts or ends with a hyphen (“%(label)s”)")
                        % {"label": _safe(label)}
                    )
                raise _Refused(
                    _("has characters other than letters, digits and hyphens (“%(label)s”)")
                    % {"label": _safe(label)}
                )
            if label.startswith("xn--") and not _decodes(label):
                raise _Refused(
                    _("has a label that is not a valid A-label (“%(label)s”)")
                    % {"label": _safe(label)}
                )
            alabel = label
        else:
            alabel = _alabel(label)
            if alabel is None:
                if len(label.encode("punycode")) > 63 - len("xn--"):
                    raise _Refused(_("has a label longer than 63 characters once encoded"))
                raise _Refused(
                    _("has a label that is not a valid internationalised label (“%(label)s”)")
                    % {"label": _safe(label)}
                )
        if len(alabel) > 63:
            raise _Refused(_("has a label longer than 63 characters once encoded"))
        encoded.append(alabel)
    name = ".".join(encoded)
    if len(name) > 253:
        raise _Refused(_("is longer than 253 characters once encoded"))
    if encoded[-1].isdigit():
        raise _Refused(_("ends with a numeric label; a top-level domain has letters"))
    return name


@lru_cache(maxsize=4096)
def _decodes(label: str) -> bool:
    """Whether an ``xn--`` label is a valid A-label (cached: the same TLDs come again and
    again in a list, and the idna package is pure Python)."""
    try:
        idna.ulabel(label)
    except (idna.IDNAError, UnicodeError, ValueError):
        return False
    return True


@lru_cache(maxsize=4096)
def _alabel(label: str) -> str | None:
    """The A-label of a (UTS 46 mapped) non-ASCII label, ``None`` if it is not a valid one."""
    try:
        return idna.alabel(label).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return None


def _ipv4(value: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise _Refused(
            _("is not four numbers from 0 to 255 separated by dots, without leading zeros")
        ) from None


def _ipv6(value: str) -> str:
    if "%" in value:
        raise _Refused(_("has a zone index (%…), which means something on one machine only"))
    try:
        address = ipaddress.IPv6Address(value)
    except ValueError:
        raise _Refused(_("is not an IPv6 address")) from None
    if address.ipv4_mapped is not None:  # RFC 5952 section 5, whatever Python version prints
        return f"::ffff:{address.ipv4_mapped}"
    return address.compressed


def _prefix(value: str, version: int) -> str:
    network_class = ipaddress.IPv4Network if version == 4 else ipaddress.IPv6Network
    minimum = IPV4_PREFIX_MIN_LENGTH if version == 4 else IPV6_PREFIX_MIN_LENGTH
    maximum = 32 if version == 4 else 128
    address, _slash, length = value.partition("/")
    if "%" in address:
        raise _Refused(_("has a zone index (%…), which means something on one machine only"))
    if not (length.isascii() and length.isdigit()) or int(length) > maximum:
        raise _Refused(
            _("needs a prefix length from 0 to %(max)s after the “/”") % {"max": maximum}
        )
    try:
        network = network_class(value, strict=True)
    except ValueError:
        try:
            loose = network_class(value, strict=False)
        except ValueError:
            raise _Refused(_("is not an address followed by “/” and a prefix length")) from None
        raise _Refused(
            _("has bits set after its prefix length (its network is %(network)s)")
            % {"network": loose.compressed}
        ) from None
    if network.prefixlen < minimum:
        raise _Refused(
            _("is broader than /%(min)s, which would match a large part of the Internet")
            % {"min": minimum}
        )
    return network.compressed


def _asn(value: str) -> str:
    match = _ASN.fullmatch(value) or _ASN_BARE.fullmatch(value)
    if not match:
        raise _Refused(_("is not written AS64500 (or AS1.10, asdot)"))
    high, low = match.groups()
    if low is None:
        number = int(high) if len(high) <= 10 else 0
    elif int(high) <= 65535 and int(low) <= 65535:
        number = int(high) * 65536 + int(low)
    else:
        raise _Refused(_("is asdot with a part above 65535"))
    if not 1 <= number <= 4294967295:
        raise _Refused(_("is not between 1 and 4294967295"))
    return f"AS{number}"


def _hash(length: int) -> Callable[[str], str]:
    def normalise(value: str) -> str:
        if len(value) != length or not _HEX.fullmatch(value):
            raise _Refused(_("is not %(n)s hexadecimal digits") % {"n": length})
        return value.lower()

    return normalise


def _url(value: str) -> str:
    if len(value) > URL_MAX_LENGTH:
        raise _Refused(_("is longer than %(max)s characters") % {"max": URL_MAX_LENGTH})
    if _SPACE.search(value):
        raise _Refused(_("contains a space (write it %(code)s)") % {"code": "%20"})
    scheme, separator, rest = value.partition("://")
    scheme = scheme.lower()
    if not separator or scheme not in _URL_SCHEMES:
        raise _Refused(_("does not start with http://, https:// or ftp://"))
    authority = re.match(r"[^/?#]*", rest).group()  # type: ignore[union-attr]  # always matches
    tail = rest[len(authority) :]
    userinfo, at, hostport = authority.rpartition("@")
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise _Refused(_("has an IPv6 host without its closing “]”"))
        try:
            host = "[" + _ipv6(hostport[1:end]) + "]"
        except _Refused as refused:
            raise _Refused(
                _("has an invalid IPv6 host (%(why)s)") % {"why": refused.reason}
            ) from None
        rest_of_host = hostport[end + 1 :]
        if rest_of_host and not rest_of_host.startswith(":"):
            raise _Refused(_("has text after its IPv6 host"))
        colon, port = rest_of_host[:1], rest_of_host[1:]
    else:
        name, colon, port = hostport.partition(":")
        if not name:
            raise _Refused(_("has no host"))
        try:
            host = _ipv4(name) if _DIGITS_AND_DOTS.fullmatch(name) else _domain(name)
        except _Refused as refused:
            raise _Refused(
                _("has an invalid host (“%(host)s” %(why)s)")
                % {"host": _safe(name), "why": refused.reason}
            ) from None
    if colon:
        if not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
            raise _Refused(_("has a port that is not a number from 1 to 65535"))
        port = str(int(port))
    url = f"{scheme}://{userinfo}{at}{host}{colon}{port}{tail}"
    if len(url) > URL_MAX_LENGTH:
        raise _Refused(_("is longer than %(max)s characters") % {"max": URL_MAX_LENGTH})
    return url


def _email(value: str) -> str:
    if len(value) > EMAIL_MAX_LENGTH:
        raise _Refused(_("is longer than %(max)s characters") % {"max": EMAIL_MAX_LENGTH})
    if value.count("@") != 1:
        raise _Refused(_("does not have exactly one “@”"))
    if _SPACE.search(value):
        raise _Refused(_("contains a space"))
    local, _at, domain = value.partition("@")
    if not local:
        raise _Refused(_("has nothing before the “@”"))
    if len(local.encode("utf-8")) > EMAIL_LOCAL_MAX_OCTETS:
        raise _Refused(_("has more than 64 octets before the “@”"))
    if not _LOCAL.fullmatch(local):
        raise _Refused(
            _(
                "has characters before the “@” that an address cannot have unquoted, or a dot at "
                "an end of it or doubled"
            )
        )
    try:
        domain = _domain(domain)
    except _Refused as refused:
        raise _Refused(
            _("has an invalid domain (“%(domain)s” %(why)s)")
            % {"domain": _safe(domain), "why": refused.reason}
        ) from None
    address = f"{local}@{domain}"
    if len(address) > EMAIL_MAX_LENGTH:
        raise _Refused(_("is longer than %(max)s characters") % {"max": EMAIL_MAX_LENGTH})
    return address


_NORMALISERS = {
    Kind.DOMAIN: _domain,
    Kind.IPV4: _ipv4,
    Kind.IPV6: _ipv6,
    Kind.IPV4_PREFIX: lambda value: _prefix(value, 4),
    Kind.IPV6_PREFIX: lambda value: _prefix(value, 6),
    Kind.URL: _url,
    Kind.ASN: _asn,
    Kind.MD5: _hash(32),
    Kind.SHA1: _hash(40),
    Kind.SHA256: _hash(64),
    Kind.EMAIL: _email,
}


# -- lists ----------------------------------------------------------------------------------


@dataclass
class ParseResult:
    """What a list held: its valid indicators (each once, in the order first seen), the lines
    refused as ``(line number, message)`` (the first :data:`ERRORS_KEPT`, with ``error_count``
    counting them all: a person fixes a bad export from the first few, and a million messages
    would cost more than the list), how many indicators of each kind were kept, and how many lines
    were read."""

    indicators: list[Indicator] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    error_count: int = 0
    counts: dict[Kind, int] = field(default_factory=dict)
    lines: int = 0


def _over_size(max_bytes: int) -> InvalidInput:
    return InvalidInput(
        _("The file is over the limit of %(size)s; nothing was kept.")
        % {"size": filesizeformat(max_bytes)},
        field="indicators",
    )


def _read_lines(
    stream: IO[bytes] | IO[str], max_bytes: int
) -> Iterator[tuple[int, str | None, str]]:
    """``(line number, text, "")`` for each line of ``stream``, or ``(number, None, why)`` for a
    line that cannot be read (not UTF-8, too long). Never asks the stream for more than
    ``max_bytes + 1`` bytes (characters, for a text stream) in all, nor for more than
    :data:`LINE_MAX_BYTES` + 1 at a time; raises :class:`InvalidInput` once past ``max_bytes``."""
    consumed = 0
    number = 0

    def more() -> bytes | str:
        nonlocal consumed
        try:
            chunk = stream.readline(min(LINE_MAX_BYTES + 1, max_bytes - consumed + 1))
        except UnicodeDecodeError:  # a text stream the caller opened with the wrong encoding
            raise InvalidInput(
                _("Line %(n)s of the file is not UTF-8 text; nothing was kept.") % {"n": number},
                field="indicators",
            ) from None
        if isinstance(chunk, bytes):
            consumed += len(chunk)
        else:
            consumed += len(chunk.encode("utf-8", "surrogatepass"))
        if consumed > max_bytes:
            raise _over_size(max_bytes)
        return chunk

    while True:
        chunk = more()
        if not chunk:
            return
        number += 1
        newline = b"\n" if isinstance(chunk, bytes) else "\n"
        if len(chunk) > LINE_MAX_BYTES and not chunk.endswith(newline):
            while (rest := more()) and not rest.endswith(newline):
                pass
            yield number, None, _("the line is longer than %(max)s bytes") % {"max": LINE_MAX_BYTES}
            continue
        if isinstance(chunk, bytes):
            try:
                text = chunk.decode("utf-8")
            except UnicodeDecodeError:
                yield number, None, _("the line is not UTF-8 text")
                continue
        else:
            text = chunk
        if number == 1:
            text = text.removeprefix("\ufeff")
        yield number, text, ""


def parse_lines(
    stream: IO[bytes] | IO[str],
    *,
    kind: Kind | None = None,
    max_bytes: int,
    max_items: int,
) -> ParseResult:
    """The indicators of a list, one per line, read from ``stream`` line by line.

    ``stream`` is anything with ``readline(size)``: an uploaded file, an attachment in a
    ``BytesIO``, an open file (binary preferred: a line that is not UTF-8 is then an error on its
    line; a text stream is read as the caller decoded it). Blank lines and lines starting with
    ``#`` are skipped. A line is ``value`` or ``kind,value`` (``ipv4,192.0.2.1``; ``kind`` one of
    the :class:`Kind` values) for a value whose kind cannot be told from its text (a bare AS
    number); with ``kind`` given, every line is of that kind and a line naming another is an
    error. Nothing else (CSV columns, comments after a value) is read: a line is one indicator.

    A refused line is recorded with its number and why, and the reading goes on. Past
    ``max_bytes`` bytes read, or past ``max_items`` distinct indicators, the reading stops and
    :class:`InvalidInput` is raised: the caller keeps nothing of the list.
    """
    result = ParseResult()
    seen: dict[Indicator, None] = {}
    counts: dict[Kind, int] = {}

    def refuse(number: int, message: str) -> None:
        result.error_count += 1
        if len(result.errors) < ERRORS_KEPT:
            result.errors.append((number, message))

    for number, text, problem in _read_lines(stream, max_bytes):
        result.lines = number
        if text is None:
            refuse(number, problem)
            continue
        line = text.strip()
        if not line or line.startswith("#"):
            continue
        line_kind = kind
        head, comma, rest = line.partition(",")
        if comma and head.strip().lower() in _KIND_VALUES:
            named = Kind(head.strip().lower())
            if kind is not None and named is not kind:
                refuse(
                    number,
                    _("The line names the kind “%(named)s”, but the list is of “%(kind)s”.")
                    % {"named": named.value, "kind": kind.value},
                )
                continue
            line_kind, line = named, rest
        try:
            indicator = parse_one(line, line_kind)
        except InvalidInput as error:
            refuse(number, error.message)
            continue
        if indicator in seen:
            continue
        if len(seen) >= max_items:
            raise InvalidInput(
                _("The list has more than %(max)s indicators, the limit; nothing was kept.")
                % {"max": max_items},
                field="indicators",
            )
        seen[indicator] = None
        counts[indicator.kind] = counts.get(indicator.kind, 0) + 1
    result.indicators = list(seen)
    result.counts = counts
    return result


_KIND_VALUES = frozenset(Kind)
