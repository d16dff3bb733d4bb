"""Renderings: the text body, CSV, vCard 4.0 and PDF hold the same contacts, in any script."""

from __future__ import annotations

import csv
import io
import subprocess

import phonenumbers
import pytest
import vobject

from tests.repository.conftest import ARABIC, CJK, CYRILLIC, HEBREW
from tldops import csvcells
from tldops.repository import render, snapshot


@pytest.fixture
def data(people):
    return snapshot.take()


def _expected(data):
    """(ccTLD, number, name, emails, E.164 phones) for every contact of the snapshot."""
    return sorted(
        (t["alabel"], c["number"], c["name"], tuple(c["emails"]), tuple(p["number"] for p in c["phones"]))
        for t, c in snapshot.contacts(data)
    )  # fmt: skip


def test_text_has_one_line_per_contact_grouped_by_a_label(data):
    changes = {"joined": [], "left": [], "changed": [], "previous": None}
    body = render.text(data, "2026-11", changes)
    lines = body.splitlines()
    assert lines[0] == "TLD-OPS contact repository, edition 2026-11"
    assert "5 people, 4 ccTLDs" in body
    assert "No earlier edition to compare with." in body
    headings = [line for line in lines if line.startswith("== ")]
    assert headings == [
        "== .br · Brazil ==",
        "== .fr · France ==",
        "== .nl · Netherlands ==",
        "== .рф (xn--p1ai) · Russian Federation ==",  # the U-label, with the A-label
    ]
    contact_lines = [
        line for line in lines if line.count(" | ") >= 4 and "contact number" not in line
    ]
    assert len(contact_lines) == data["contacts"] == 6
    assert (
        "Ana Lopez | 1 | .fr | +33 1 23 45 67 89 (office), +33 6 12 34 56 78 (24/7) | ana@nic.fr "
        "| TZ Europe/Paris"
    ) in contact_lines
    olga = next(line for line in contact_lines if CYRILLIC in line)
    assert olga.startswith(
        f"{CYRILLIC} | 1 | .рф (xn--p1ai) | +7 495 123-45-67 (24/7) | olga@nic.ru"
    )
    # No phone: said so, still one line.
    wei = next(line for line in contact_lines if CJK in line)
    assert " | no phone | wei@nic.nl" in wei
    # Right-to-left names are isolated so the rest of the line keeps its order.
    mohammed = [line for line in contact_lines if ARABIC in line]
    assert len(mohammed) == 2  # listed under .fr and .nl
    assert all(line.startswith(f"\u2068{ARABIC}\u2069 | ") for line in mohammed)
    assert next(line for line in contact_lines if HEBREW in line).startswith(
        f"\u2068{HEBREW}\u2069"
    )
    # The Cyrillic and CJK names are left as they are.
    assert "\u2068" not in olga and "\u2068" not in wei


def test_text_header_says_what_changed(data):
    changes = {
        "previous": "2026-10",
        "joined": [{"person": 1, "name": "Ana Lopez", "tlds": ["fr"]}],
        "left": [{"person": 2, "name": "Bruno Silva", "tlds": ["br"]}],
        "changed": [{"person": 3, "name": CYRILLIC, "tlds": ["xn--p1ai"], "fields": ["phones"]}],
    }
    body = render.text(data, "2026-11", changes)
    assert "Since edition 2026-10: 1 joined, 1 left, 1 changed their details." in body
    assert "Joined: Ana Lopez (.fr)" in body
    assert "Left: Bruno Silva (.br)" in body
    assert f"Changed: {CYRILLIC} (.xn--p1ai): phone numbers" in body


def test_key_fingerprint_is_shown_when_known(data):
    contact = data["tlds"][0]["contacts"][0]
    contact["key"] = "0123456789ABCDEF0123456789ABCDEF01234567"
    line = render.contact_line(data["tlds"][0], contact)
    assert line.endswith("| key 0123 4567 89AB CDEF 0123  4567 89AB CDEF 0123 4567")
    assert "KEY;VALUE=uri:openpgp4fpr:0123456789ABCDEF0123456789ABCDEF01234567" in render.vcard(
        data
    )
    assert "0123456789ABCDEF0123456789ABCDEF01234567" in render.csv(data)


def test_csv_round_trips(data):
    rows = [
        {k: csvcells.restore(v) for k, v in r.items()}
        for r in csv.DictReader(io.StringIO(render.csv(data)))
    ]
    assert list(rows[0]) == render.CSV_COLUMNS
    got = sorted(
        (
            r["tld"],
            int(r["contact_number"]),
            r["name"],
            tuple([r["email"], *filter(None, r["other_emails"].split("; "))]),
            tuple(
                phonenumbers.format_number(
                    phonenumbers.parse(p.rsplit(" (", 1)[0]), phonenumbers.PhoneNumberFormat.E164
                )
                for p in filter(None, r["phones"].split("; "))
            ),
        )
        for r in rows
    )
    assert got == _expected(data)
    idn = next(r for r in rows if r["tld"] == "xn--p1ai")
    assert idn["tld_unicode"] == "рф"
    assert {r["person_id"] for r in rows if r["name"] == ARABIC} == {
        str(c["person"]) for _t, c in snapshot.contacts(data) if c["name"] == ARABIC
    }


FORMULAS = [
    '=HYPERLINK("http://evil.example","x")',
    '+HYPERLINK("http://evil.example";"x")',
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def test_csv_neutralises_cells_a_spreadsheet_would_run_as_formulas(data):
    """OWASP's CSV injection rule: a cell starting with = + - @ tab or CR gets a leading '."""
    names = [*FORMULAS, "Ana;=1+1"]  # the last is split at ';' where ';' is the separator
    ana = next(c for _t, c in snapshot.contacts(data) if c["name"] == "Ana Lopez")
    tld = data["tlds"][0]
    tld["contacts"] += [dict(ana, name=n, number=9 + i) for i, n in enumerate(names)]
    rows = list(csv.DictReader(io.StringIO(render.csv(data))))
    got = [r["name"] for r in rows if r["tld"] == tld["alabel"] and r["email"] == "ana@nic.fr"]
    assert got == [
        '\'=HYPERLINK("http://evil.example","x")',
        '\'+HYPERLINK("http://evil.example";"x")',
        "'-2+3+cmd|' /C calc'!A0",
        "'@SUM(1+1)*cmd|' /C calc'!A0",
        "'\t'=1+1",  # the tab separates cells where the tab is the separator
        "'\r=1+1",
        "Ana;'=1+1",
    ]
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
            assert not any(cell.partition(sep)[2].lstrip(" ").startswith("=") for sep in ",;\t")
    # Phone cells are neutralised too (E.164 starts with '+'); restore() gives the value back.
    assert {r["phones"] for r in rows if r["email"] == "ana@nic.fr"} == {
        "'+33 1 23 45 67 89 (office); '+33 6 12 34 56 78 (24/7)"
    }
    assert [csvcells.restore(n) for n in got] == names


def test_vcard_is_version_4_and_parses_with_vobject(data):
    text = render.vcard(data)
    assert text.count("BEGIN:VCARD\r\nVERSION:4.0\r\n") == data["contacts"]
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    cards = list(vobject.readComponents(text))
    assert len(cards) == data["contacts"]
    got = []
    for card in cards:
        tld = card.org.value[0]
        alabel = tld.split("(")[-1].rstrip(")") if "(" in tld else tld.lstrip(".")
        number = int(card.title.value.rsplit(" ", 1)[1])
        emails = tuple(e.value for e in card.contents.get("email", []))
        phones = tuple(t.value.removeprefix("tel:") for t in card.contents.get("tel", []))
        got.append((alabel, number, card.fn.value, emails, phones))
        assert card.version.value == "4.0"
    assert sorted(got) == _expected(data)
    uids = [card.uid.value for card in cards]
    assert len(set(uids)) == len(uids)  # a person under two ccTLDs has two distinct cards
    olga = next(c for c in cards if c.fn.value == CYRILLIC)
    assert olga.org.value == [".рф (xn--p1ai)"]
    assert olga.tz.value == "Europe/Paris"
    assert olga.tel.params["TYPE"] == ["work,voice,x-24x7"]  # her only number is the 24/7 one
    ana = next(c for c in cards if c.fn.value == "Ana Lopez")
    office, h24 = ana.contents["tel"]
    assert office.params["TYPE"] == ["work,voice"] and office.params["PREF"] == ["1"]
    assert h24.params["TYPE"] == ["work,voice,x-24x7"] and h24.value == "tel:+33612345678"


def test_vcard_escapes_and_folds():
    assert render._escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    folded = render._fold("NOTE:" + "é" * 60)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == "NOTE:" + "é" * 60


def test_pdf_renders_every_script(data, tmp_path):
    pdf = render.pdf(data, "2026-11", {"previous": None})
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "edition.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True
    ).stdout.decode("utf-8")
    flat = " ".join(text.split())
    assert "TLD-OPS contact repository, edition 2026-11" in flat
    for word in ("Ольга", "Смирнова", "王伟", "olga@nic.ru", "wei@nic.nl", ".рф (xn--p1ai)"):
        assert word in flat, word
    # Right-to-left words: pdftotext may give them in either direction; each word is there.
    for word in [*ARABIC.split(), *HEBREW.split()]:
        assert word in flat or word[::-1] in flat, word
