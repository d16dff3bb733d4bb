"""An edition's renderings, each made from the snapshot alone so they all hold the same data.

- :func:`text`: the mail body, plain text readable offline and on a phone: a short header (edition,
  counts, what changed since the last edition), then the contacts grouped by ccTLD in A-label
  order, **one line per contact** in the community's historic style::

      Bruno Silva | 1 | .br | +55 11 2345-6789 (office) | bruno@nic.br | TZ America/Sao_Paulo

  (name | contact number within the ccTLD | ccTLD | international phone numbers | email
  addresses | time zone | OpenPGP key fingerprint, the last two when known). A name written in a
  right-to-left script is wrapped in Unicode isolates (FSI … PDI) so the rest of its line keeps
  its order in any bidi-aware reader.
- :func:`csv`: one row per contact, a header row (:data:`CSV_COLUMNS`), RFC 4180, UTF-8; a cell a
  spreadsheet would run as a formula starts with ``'`` (:mod:`tldops.csvcells`).
- :func:`vcard`: vCard 4.0 (RFC 6350), one card per contact, CRLF lines folded at 75 octets.
- :func:`pdf`: a printable document for the binder: a title, the same header, then per ccTLD a
  heading (U-label with the A-label for IDN ccTLDs, and the country) and one line per contact
  (wrapped when too long). Laid out by :mod:`tldops.kernel.typeset` (HarfBuzz shaping, a
  font stack covering Latin, Greek, Cyrillic, Arabic, Hebrew, CJK, Indic and other scripts).

  **Why not WeasyPrint** (which the SPEC recommends; measured on the 1,000-contact bench edition,
  CPU seconds on one core, see docs/benchmarks.md): WeasyPrint took 2.5–3.0 s for the PDF alone,
  cold or warm, whatever the template or options (reused ``FontConfiguration``,
  ``presentational_hints``/``optimize_images`` off, no ``dir=auto``, ``hyphens: none``: at most
  0.4 s less), so the edition (budget 2 s) could not be met; fpdf2 with text shaping took 15–17 s,
  without shaping 5 s; ReportLab cannot embed the CFF-based Noto CJK fonts nor shape Arabic. The
  typesetter takes about 0.7 s with the same content and scripts.

``period`` is the edition label (``2026-11``), or ``None`` for an on-demand export of the current
directory. ``changes`` is :func:`tldops.repository.snapshot.changes`' result, plus ``previous``
(the period compared with) when there was one.
"""

from __future__ import annotations

import io
import unicodedata
import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from tldops import csvcells
from tldops.directory.models import split_name
from tldops.kernel import typeset
from tldops.repository.snapshot import contacts, tld_label

FSI, PDI = "\u2068", "\u2069"  # first-strong isolate, pop directional isolate

CSV_COLUMNS = [
    "tld",
    "tld_unicode",
    "country",
    "contact_number",
    "name",
    "email",
    "other_emails",
    "phones",
    "timezone",
    "languages",
    "openpgp_fingerprint",
    "person_id",
]

FIELD_NAMES = {
    "name": gettext_noop("name"),
    "emails": gettext_noop("email addresses"),
    "phones": gettext_noop("phone numbers"),
    "timezone": gettext_noop("time zone"),
    "languages": gettext_noop("languages"),
    "key": gettext_noop("OpenPGP key"),
    "cctlds": gettext_noop("ccTLDs"),
}


def is_rtl(text: str) -> bool:
    """True when ``text`` holds a right-to-left letter (Arabic, Hebrew, Syriac, Thaana …)."""
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def isolate(text: str) -> str:
    """``text`` wrapped in bidi isolates when it contains right-to-left letters."""
    return f"{FSI}{text}{PDI}" if is_rtl(text) else text


def fingerprint_display(fpr: str) -> str:
    """``0123 4567 89AB CDEF 0123  4567 89AB CDEF 0123 4567`` (how gpg prints it)."""
    groups = [fpr[i : i + 4] for i in range(0, len(fpr), 4)]
    if len(groups) == 10:
        return " ".join(groups[:5]) + "  " + " ".join(groups[5:])
    return " ".join(groups)


def phone_text(phone: dict[str, Any]) -> str:
    return f"{phone['display']} ({_(phone['label'])})"


def _generated(data: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(data["generated_at"])


def title(period: str | None, data: dict[str, Any]) -> str:
    if period:
        return _("TLD-OPS contact repository, edition %(period)s") % {"period": period}
    return _("TLD-OPS contact repository, current directory on %(date)s") % {
        "date": f"{_generated(data):%Y-%m-%d}"
    }


def _who(entry: dict[str, Any]) -> str:
    tlds = ", ".join(f".{t}" for t in entry["tlds"])
    return f"{isolate(entry['name'])} ({tlds})"


def summary_lines(data: dict[str, Any], changes: dict[str, Any] | None) -> list[str]:
    """The header's sentences, shared by the text body and the PDF."""
    lines = [
        _("Generated %(when)s UTC: %(people)s, %(cctlds)s.")
        % {
            "when": f"{_generated(data):%Y-%m-%d %H:%M}",
            "people": ngettext("%(n)d person", "%(n)d people", data["people"])
            % {"n": data["people"]},
            "cctlds": ngettext("%(n)d ccTLD", "%(n)d ccTLDs", data["cctlds"])
            % {"n": data["cctlds"]},
        }
    ]
    changes = changes or {}
    previous = changes.get("previous")
    if not previous:
        lines.append(_("No earlier edition to compare with."))
        return lines
    joined, left, changed = (changes.get(k, []) for k in ("joined", "left", "changed"))
    if not (joined or left or changed):
        lines.append(_("No change since edition %(p)s.") % {"p": previous})
        return lines
    lines.append(
        _("Since edition %(p)s: %(j)d joined, %(l)d left, %(c)d changed their details.")
        % {"p": previous, "j": len(joined), "l": len(left), "c": len(changed)}
    )
    if joined:
        lines.append(_("Joined: %(who)s") % {"who": "; ".join(_who(e) for e in joined)})
    if left:
        lines.append(_("Left: %(who)s") % {"who": "; ".join(_who(e) for e in left)})
    if changed:
        lines.append(
            _("Changed: %(who)s")
            % {
                "who": "; ".join(
                    f"{_who(e)}: {', '.join(_(FIELD_NAMES.get(f, f)) for f in e['fields'])}"
                    for e in changed
                )
            }
        )
    return lines


def contact_line(tld: dict[str, Any], c: dict[str, Any]) -> str:
    """One contact on one line: name | number | ccTLD | phones | emails [| TZ …] [| key …]."""
    phones = ", ".join(phone_text(p) for p in c["phones"]) or _("no phone")
    parts = [isolate(c["name"]), str(c["number"]), tld_label(tld), phones, ", ".join(c["emails"])]
    if c.get("timezone"):
        parts.append(f"TZ {c['timezone']}")
    if c.get("key"):
        parts.append(_("key %(fpr)s") % {"fpr": fingerprint_display(c["key"])})
    return " | ".join(parts)


def tld_heading(tld: dict[str, Any]) -> str:
    heading = tld_label(tld)
    if tld.get("country"):
        heading += f" · {tld['country']}"
    return heading


def text(data: dict[str, Any], period: str | None, changes: dict[str, Any] | None) -> str:
    """The plain-text body (see the module docstring)."""
    out = [title(period, data), ""]
    out += summary_lines(data, changes)
    out += [
        "",
        _(
            "Keep this message: it lets you reach the security contacts of every member ccTLD "
            "even when your own systems are down. The CSV, vCard and PDF attachments hold the same "
            "contacts."
        ),
        _(
            "One line per contact: name | contact number | ccTLD | phone numbers | email addresses "
            "| time zone | OpenPGP key (the last two when known)."
        ),
    ]
    for tld in data.get("tlds", []):
        out += ["", f"== {tld_heading(tld)} =="]
        out += [contact_line(tld, c) for c in tld["contacts"]]
    out += [
        "",
        "-- ",
        _("Contacts are kept up to date by the members themselves: %(url)s/profile/")
        % {"url": settings.BASE_URL},
        "",
    ]
    return "\n".join(out)


def csv(data: dict[str, Any]) -> str:
    """One row per contact with a header row (:data:`CSV_COLUMNS`); list fields joined by ``; ``.

    Written through :mod:`tldops.csvcells`: a name like ``=HYPERLINK(…)`` becomes ``'=HYPERLINK(…)``
    so a spreadsheet shows it as text instead of running it."""
    buffer = io.StringIO()
    writer = csvcells.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for tld, c in contacts(data):
        writer.writerow(
            [
                tld["alabel"],
                tld["ulabel"],
                tld.get("country", ""),
                c["number"],
                c["name"],
                c["emails"][0] if c["emails"] else "",
                "; ".join(c["emails"][1:]),
                "; ".join(phone_text(p) for p in c["phones"]),
                c.get("timezone", ""),
                "; ".join(c.get("languages", [])),
                c.get("key", ""),
                c["person"],
            ]
        )
    return buffer.getvalue()


# --- vCard 4.0 (RFC 6350) --------------------------------------------------------------------------

#: Phone labels as vCard TYPE values (RFC 6350 §6.4.1); the label itself is also in NOTE.
# vCard TEL types per phone label. RFC 6350 has no type for "staffed around the clock", so the
# 24/7 number carries the extension value ``x-24x7`` (§5.6 allows x-names in TYPE) besides
# work,voice: an address book that knows nothing of it still files it as a work voice number,
# and one that reads it (or a script) can tell it from the office line. Documented in
# docs/repository.md.
TEL_TYPES = {
    "office": "work,voice",
    "mobile": "cell,voice",
    "24/7": "work,voice,x-24x7",
    "other": "voice",
}


def _escape(value: str) -> str:
    """A TEXT value (RFC 6350 §3.4): backslash, comma, semicolon and newline escaped."""
    return (
        value.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Fold at 75 octets (RFC 6350 §3.2) without splitting a UTF-8 character."""
    if len(line.encode("utf-8")) <= 75:
        return line
    pieces, current, size, limit = [], [], 0, 75
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            pieces.append("".join(current))
            current, size, limit = [], 0, 74  # continuation lines start with a space
        current.append(ch)
        size += n
    pieces.append("".join(current))
    return "\r\n ".join(pieces)


def _card(tld: dict[str, Any], c: dict[str, Any], rev: str) -> list[str]:
    label = tld_label(tld)
    uid = uuid.uuid5(
        uuid.NAMESPACE_URL, f"{settings.BASE_URL}/person/{c['person']}/{tld['alabel']}"
    )
    note = _("Security contact %(n)s of %(tld)s (TLD-OPS).") % {"n": c["number"], "tld": label}
    labels = ", ".join(phone_text(p) for p in c["phones"])
    if labels:
        note += " " + _("Phones: %(phones)s.") % {"phones": labels}
    lines = [
        "BEGIN:VCARD",
        "VERSION:4.0",
        "PRODID:-//tldops//contact repository//EN",
        f"UID:urn:uuid:{uid}",
        f"REV:{rev}",
        "KIND:individual",
        f"FN:{_escape(c['name'])}",
        # N (RFC 6350 §6.2.2) is structured only as far as the person said: family;given when
        # they marked their family name, else empty components (FN holds the whole name). No
        # rule splits every culture's names right, so tldops never guesses.
        "N:{};{};;;".format(
            *(_escape(part) for part in split_name(c["name"], c.get("family_name") or ""))
        ),
        f"ORG:{_escape(label)}",
        f"TITLE:{_escape(_('Security contact %(n)s') % {'n': c['number']})}",
    ]
    for i, address in enumerate(c["emails"]):
        pref = ";PREF=1" if i == 0 else ""
        lines.append(f"EMAIL;TYPE=work{pref}:{_escape(address)}")
    for i, phone in enumerate(c["phones"]):
        types = TEL_TYPES.get(phone["label"], "voice")
        pref = ";PREF=1" if i == 0 else ""
        lines.append(f'TEL;VALUE=uri;TYPE="{types}"{pref}:tel:{phone["number"]}')
    if c.get("timezone"):
        lines.append(f"TZ;VALUE=text:{_escape(c['timezone'])}")
    for i, lang in enumerate(c.get("languages", [])):
        lines.append(f"LANG;PREF={i + 1}:{_escape(lang)}")
    if c.get("key"):
        lines.append(f"KEY;VALUE=uri:openpgp4fpr:{c['key']}")
    lines += [f"NOTE:{_escape(note)}", "CATEGORIES:TLD-OPS", "END:VCARD"]
    return lines


def vcard(data: dict[str, Any]) -> str:
    """Every contact as a vCard 4.0 card (one per contact: a person who is a contact of two
    ccTLDs has two cards, one per ccTLD, with distinct UIDs)."""
    rev = f"{_generated(data):%Y%m%dT%H%M%SZ}"
    lines: list[str] = []
    for tld, c in contacts(data):
        lines += _card(tld, c, rev)
    return "".join(_fold(line) + "\r\n" for line in lines)


# --- PDF ----------------------------------------------------------------------------------------


def pdf_line(c: dict[str, Any]) -> str:
    """A contact in the PDF, under its ccTLD's heading: ``1. Name · phones · emails · TZ · key``."""
    parts = [
        f"{c['number']}. {isolate(c['name'])}",
        ", ".join(phone_text(p) for p in c["phones"]) or _("no phone"),
        ", ".join(c["emails"]),
    ]
    if c.get("timezone"):
        parts.append(f"TZ {c['timezone']}")
    if c.get("key"):
        parts.append(_("key %(fpr)s") % {"fpr": fingerprint_display(c["key"])})
    return " · ".join(parts)


#: The PDF's paragraph styles (sizes in points).
_TITLE = typeset.Style(size=13, bold=True, leading=1.2, after=2 * typeset.MM)
_SUMMARY = typeset.Style(size=8, after=1 * typeset.MM)
_LEGEND = typeset.Style(size=8, gray=0.27, before=1 * typeset.MM, after=1 * typeset.MM)
_HEADING = typeset.Style(size=9.5, bold=True, before=2.5 * typeset.MM, after=2.2, rule=True)
_LINE = typeset.Style(size=8)


def pdf(data: dict[str, Any], period: str | None, changes: dict[str, Any] | None) -> bytes:
    """The printable PDF (A4): title, header, then per ccTLD its heading and one line per contact
    (:func:`pdf_line`); every page's footer names the edition and the page."""
    doc_title = title(period, data)
    doc = typeset.Document(doc_title, footer=f"{doc_title} · {{page}} / {{pages}}")
    doc.add(doc_title, _TITLE)
    for line in summary_lines(data, changes):
        doc.add(line, _SUMMARY)
    doc.add(
        _(
            "Per ccTLD, one line per contact: contact number, name · phone numbers · email "
            "addresses · time zone · OpenPGP key (the last two when known)."
        ),
        _LEGEND,
    )
    keep = _LINE.size * _LINE.leading  # a heading stays with its first contact
    for tld in data.get("tlds", []):
        doc.add(tld_heading(tld), _HEADING, keep=keep)
        for c in tld["contacts"]:
            doc.add(pdf_line(c), _LINE)
    return doc.render()
