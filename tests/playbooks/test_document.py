"""The playbooks as blocks and as PDF (playbooks.document), read back with pdftotext."""

from __future__ import annotations

import subprocess

import pytest

from tldops.playbooks import catalogs, content, document


def pdftotext(data: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_fill_uses_values_and_leaves_a_visible_blank_otherwise():
    text = "Call {{ phone_24x7 }} for {{tld}}."
    assert document.fill(text, {"phone_24x7": "+1 555 0100"}) == "Call +1 555 0100 for [tld]."


@pytest.mark.parametrize("name", content.PLAYBOOKS)
def test_every_unit_of_the_playbook_is_in_its_blocks(name):
    doc = catalogs.localize(name, "en")
    blocks = document.playbook_blocks(doc)
    printed = "\n".join(
        [b.text for b in blocks] + [c for b in blocks for row in (b.columns, *b.rows) for c in row]
    )
    assert "{{" not in printed
    for unit in catalogs.units(name):
        for line in unit.text.split("\n"):
            line = document.fill(line.removeprefix("- "))
            assert line in printed, (unit.context, line[:60])


def test_the_english_pdf_carries_the_text(tmp_path):
    doc = catalogs.localize("drbcp", "en")
    values = {name: f"<{name}>" for name in content.PLACEHOLDERS}
    data = document.pdf(document.playbook_blocks(doc, values), title=doc.book["title"])
    assert data.startswith(b"%PDF-")
    text = " ".join(pdftotext(data, tmp_path).split())
    assert doc.book["title"] in text
    first = doc.book["scenarios"][0]
    assert " ".join(first["title"].split()) in text
    assert "<top_manager>" in text and "[tld]" not in text
    assert "Page 1 of" in text


def test_unknown_block_kind_is_refused():
    with pytest.raises(ValueError):
        document.Block("banner", "x")
