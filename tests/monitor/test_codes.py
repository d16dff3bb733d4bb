"""The finding codes: codes.py and the table of docs/monitor.md agree both ways, and the codes
keep a stable form (they are published: probes, incidents and filters keep them)."""

from __future__ import annotations

import re
from pathlib import Path

from tldops.monitor.codes import _CODES, CODES, Severity

DOCS = Path(__file__).resolve().parents[2] / "docs" / "monitor.md"
CODE_FORM = re.compile(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*")
RFC_FORM = re.compile(r"RFC \d{3,4}( §\d+(\.\d+)*)?(, RFC \d{3,4}( §\d+(\.\d+)*)?)*")


def documented() -> dict[str, tuple[str, str, str]]:
    """The "## Findings" table of docs/monitor.md: code -> (severity, explanation, RFC)."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("\n## Findings\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) != 4 or cells[0] in ("Code", "---"):
            continue
        code = cells[0].strip("`")
        assert code not in rows, f"{code} documented twice"
        rows[code] = (cells[1], cells[2], cells[3])
    return rows


def test_the_docs_have_a_findings_table():
    assert len(documented()) >= 20


def test_every_code_is_documented_with_its_severity_and_rfc():
    docs = documented()
    missing = sorted(set(CODES) - set(docs))
    assert not missing, f"codes missing from docs/monitor.md's Findings table: {missing}"
    for code, c in CODES.items():
        severity, explanation, rfc = docs[code]
        assert severity == c.severity.name, code
        assert rfc == c.rfc, code
        assert explanation == str(c.text), code


def test_no_documented_code_is_missing_from_codes_py():
    extra = sorted(set(documented()) - set(CODES))
    assert not extra, f"docs/monitor.md documents codes that codes.py does not have: {extra}"


def test_codes_are_unique_uppercase_and_well_formed():
    names = [c.code for c in _CODES]
    assert len(names) == len(set(names)), "a code is defined twice"
    for c in _CODES:
        assert CODE_FORM.fullmatch(c.code) and len(c.code) <= 40, c.code  # Finding.code's length
        assert isinstance(c.severity, Severity)
        assert RFC_FORM.fullmatch(c.rfc), (c.code, c.rfc)
        text = str(c.text)
        assert text and "\n" not in text and "|" not in text and text.endswith("."), c.code
