"""Reading the headers of a received message, and copying their values into headers of ours.

A received header is whatever its sender wrote. An encoded word may decode to a line break or a
control character (``Subject: =?utf-8?q?hi=0D=0ABcc:_x@evil.example?=`` reads ``hi``, CR LF,
``Bcc: x@evil.example``), and a quoted local part may look like a list of addresses
(``"x,a@one.example,b@two.example"@evil.example`` is one address). So that one received mail can
neither add a header to a mail we send nor make us write to several people:

- :func:`author` is how a door reads who wrote a message: the one mailbox of its one From field;
  :func:`addresses` reads the mailboxes of other address fields (To, Cc). Both parse with the
  email library (never by splitting on commas), and a display name whose encoded words hide a
  line break does not make the message unreadable.
- :func:`one_line` turns a received value into one bounded line before it goes into a header of
  ours; :func:`message_ids` keeps only the ``<…>`` identifiers of Message-ID and References.
- :func:`one_address` is the single address an answer may go to, normalised (lower case, quoted
  only where needed), which is also the key an answer's rate limit counts by.
"""

from __future__ import annotations

import re
from email import _header_value_parser as _parser
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage

#: C0 and C1 control characters (CR and LF among them), DEL, and the Unicode line and paragraph
#: separators: none of them belongs in a header line.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: Bidirectional marks and overrides, which make a subject or name read differently from what it is
#: (``\u202e`` turns "fdp.exe" into "exe.pdf"): dropped from what is shown or copied, never needed.
_BIDI = re.compile(r"[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
#: The longest address an answer is sent to (RFC 5321's path limit, less the brackets).
MAX_ADDRESS = 254
#: How many identifiers of the References chain an answer keeps (the first and the latest).
MAX_REFERENCES = 10


def one_line(value: object, limit: int = 200) -> str:
    """``value`` as one line of at most ``limit`` characters: control characters and line breaks
    become spaces and runs of white space one space. For any received value copied into a header
    of ours (a Subject, a name), which the email library would otherwise refuse (CR, LF) or pass on
    as the sender wrote it."""
    text = _BIDI.sub("", _UNSAFE.sub(" ", str(value or "")))
    return " ".join(text.split())[:limit].rstrip()


def storable(text: str) -> str:
    """``text`` as every database stores it: NUL, which PostgreSQL refuses in text and JSON
    columns, becomes U+FFFD. For received text kept whole (a body, an excerpt, a result)."""
    return text.replace("\x00", "\ufffd")


def message_ids(value: object) -> list[str]:
    """The ``<…>`` message identifiers in a Message-ID, In-Reply-To or References value; anything
    else in it (comments, text an encoded word decoded to) is dropped."""
    return _MESSAGE_ID.findall(_UNSAFE.sub(" ", str(value or "")))


def one_address(value: str) -> str:
    """``value`` (``a@b``, ``<a@b>``, ``"quoted local part"@b``) as one normalised address, or ``""``
    when it is not exactly one address with a local part and a domain that we may write to.

    Lower case and quoted only where needed (``"Ana"@NIC.fr`` is ``ana@nic.fr``), so the same
    mailbox always gives the same text: the recipient of an answer and the key its rate limit
    counts by."""
    text = str(value or "").strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    if not text or len(text) > MAX_ADDRESS or _UNSAFE.search(text):
        return ""
    try:
        parsed = Address(addr_spec=text)
    except (ValueError, IndexError, HeaderParseError):
        return ""
    if not parsed.username or not parsed.domain:
        return ""
    return Address(username=parsed.username, domain=parsed.domain).addr_spec.lower()


def _mailboxes(msg: EmailMessage, name: str) -> list[list[tuple[str, str]]]:
    """For each ``name`` field of ``msg``, its (display name on one line, address) pairs.

    The email library refuses to build an address whose display name decodes to a line break
    (``ValueError``); such a field is read again with the same parser the library uses, without
    that check, and its name is then put on one line. Never by splitting on commas."""
    fields = []
    for key, raw in msg.raw_items():
        if key.lower() != name.lower():
            continue
        try:
            header = msg.policy.header_fetch_parse(key, raw)
            pairs = [(a.display_name, a.addr_spec) for a in header.addresses]
        except (ValueError, IndexError, HeaderParseError):
            pairs = _parsed_mailboxes(str(raw))
        fields.append([(one_line(n, 100), a.strip()) for n, a in pairs if a and a.strip()])
    return fields


def _parsed_mailboxes(value: str) -> list[tuple[str, str]]:
    """(display name, address) of each mailbox in an address-list ``value``, by the parser of
    :mod:`email.headerregistry` (its tokens, before it builds :class:`Address` objects)."""
    try:
        address_list, _rest = _parser.get_address_list(" ".join(value.splitlines()))
    except (ValueError, IndexError, HeaderParseError):
        return []
    return [
        (mailbox.display_name or "", mailbox.addr_spec or "")
        for address in address_list.addresses
        for mailbox in address.all_mailboxes
    ]


def author(msg: EmailMessage) -> tuple[str, str]:
    """(name, address) of who wrote ``msg``: the one mailbox of its one From field, the name on
    one line. ``("", "")`` without one: no From, two From fields, or a From naming several
    mailboxes (``x,a@one.example`` is two), whose answer would have no single recipient."""
    fields = _mailboxes(msg, "From")
    if len(fields) != 1 or len(fields[0]) != 1 or "@" not in fields[0][0][1]:
        return "", ""
    return fields[0][0]


def addresses(msg: EmailMessage, *names: str) -> list[str]:
    """The addresses of every mailbox in the ``names`` fields of ``msg`` (e.g. To and Cc)."""
    return [a for name in names for field in _mailboxes(msg, name) for _n, a in field]


__all__ = ["addresses", "author", "message_ids", "one_address", "one_line", "storable"]
