"""The playbooks as blocks and as PDF (playbooks.document), read back with pdftotext."""

from __future__ import annotations

import re
import subprocess

import pytest

from tldops.kernel import typeset
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


# --- Arabic and Chinese, read back from the PDF (issue 12: "PDFs render Arabic and Chinese
# correctly; a test checks the text layer with pdftotext") -----------------------------------------
# The real ar/zh catalogs are being translated; these tests translate a few units themselves, in a
# scratch catalog folder, so that what they check does not move with the translators' work.

SCRATCH = {
    "ar": {
        "drbcp/title": "دليل التعافي من الكوارث واستمرارية الأعمال",
        "what-is-drbcp/title": "ماذا يعني التعافي من الكوارث لسجل النطاق",
        "what-is-drbcp/text#1": "الخدمة الحرجة بسيطة: يجب أن تبقى منطقة {{ tld }} قابلة للحل "
        "خلال 24 ساعة، مع توقيع DNSSEC صالح.",
        "top-management/text#2": "- اعتماد الخطة والأولويات كل سنة.\n- تمويل ما تحتاجه الخطة.\n"
        "- تعيين قائد للحادث ونائب له.\n- المشاركة في تمرين واحد على الأقل كل سنة.",
        "contact-tree/columns": ["الدور", "الاسم", "النائب", "الهاتف", "يتصل بـ"],
        "contact-tree/rows": ["الشخص المناوب", "مثال: مهندس مناوب", "مهندس مناوب ثان", None],
    },
    "zh": {
        "drbcp/title": "小型国家顶级域名注册机构灾难恢复与业务连续性手册",
        "what-is-drbcp/title": "灾难恢复与业务连续性对国家顶级域名意味着什么",
        "what-is-drbcp/text#0": "业务连续性是指注册管理机构在发生严重问题时如何保持其关键服务运行，"
        "或者如何尽快恢复这些服务。灾难恢复是其中的技术部分：从备份、托管或第二站点恢复系统、"
        "数据和区域文件。每一个小型注册管理机构都应该事先写下这些步骤，定期演练，"
        "并且在灾难发生时按照步骤执行，而不是临时决定。领导层必须批准计划，提供资金，"
        "并且每年至少参加一次演练（包括桌面演练和实际切换）。",
        "what-is-drbcp/text#1": "对国家顶级域名来说，关键服务很简单：{{ tld }} 区域必须在 24 "
        "小时内保持可解析，并且签名有效。",
        "top-management/text#2": "- 每年批准计划和优先级。\n- 为计划提供资金。\n"
        "- 任命事件负责人和副手。\n- 每年至少参加一次演练。",
        "contact-tree/columns": ["角色", "姓名", "副手", "电话", "通知"],
        "contact-tree/rows": ["值班人员", "例如：值班工程师", "第二值班工程师", None],
    },
}


@pytest.fixture
def scratch_catalogs(tmp_path, monkeypatch):
    """ar and zh catalogs in a scratch folder: the real labels, and a few DR/BCP units
    translated by :data:`SCRATCH` (``context#n``: the n-th unit of that context)."""
    import shutil

    monkeypatch.setattr(catalogs, "LOCALE", tmp_path)
    catalogs._catalog.cache_clear()
    for language, translations in SCRATCH.items():
        (tmp_path / language).mkdir()
        shutil.copy(content.CONTENT / "locale" / language / "labels.po", tmp_path / language)
        po = catalogs.merged("drbcp", language)
        seen: dict[str, int] = {}
        for entry in po:
            n = seen[entry.msgctxt] = seen.get(entry.msgctxt, -1) + 1
            wanted = translations.get(f"{entry.msgctxt}#{n}", translations.get(entry.msgctxt))
            if isinstance(wanted, list):
                wanted = wanted[n] if n < len(wanted) else None
            if wanted:
                entry.msgstr = wanted
        po.save(str(tmp_path / language / "drbcp.po"))
    catalogs._catalog.cache_clear()
    yield tmp_path
    catalogs._catalog.cache_clear()


def _print(language: str, tmp_path) -> tuple[catalogs.Localized, bytes]:
    doc = catalogs.localize("drbcp", language)
    values = {name: f"<{name}>" for name in content.PLACEHOLDERS} | {"tld": ".example"}
    blocks = document.playbook_blocks(doc, values)
    return doc, document.pdf(blocks, title=doc.book["title"], language=language)


def pdftotext_boxes(data: bytes, tmp_path) -> list[tuple[float, float, str]]:
    """(xMin, xMax, word) of every word pdftotext finds."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    html = subprocess.run(
        ["pdftotext", "-bbox", "-enc", "UTF-8", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [
        (float(m["x1"]), float(m["x2"]), m["word"])
        for m in re.finditer(
            r'<word xMin="(?P<x1>[\d.]+)" yMin="[\d.]+" xMax="(?P<x2>[\d.]+)" yMax="[\d.]+">'
            r"(?P<word>[^<]*)</word>",
            html,
        )
    ]


def _within_margins(data: bytes, tmp_path) -> None:
    left, right = 18 * document.MM, A4_WIDTH - 18 * document.MM
    for x1, x2, word in pdftotext_boxes(data, tmp_path):
        assert left - 1 <= x1 and x2 <= right + 1, (word, x1, x2)


A4_WIDTH = 595.28


def as_poppler_reads(word: str) -> str:
    """``word`` as pdftotext gives it back. The PDF maps the lam-alef ligature (one glyph for
    two letters, which Arabic requires) to its two letters in logical order, as the PDF
    standard says; poppler spreads a glyph's letters from left to right over its width and then
    reads the right-to-left line from right to left, so it gives them swapped."""
    return re.sub("\u0644([\u0622\u0623\u0625\u0627])", "\\1\u0644", word)


def test_an_arabic_playbook_reads_back_from_the_pdf(scratch_catalogs, tmp_path):
    doc, data = _print("ar", tmp_path)
    assert doc.book["title"] == SCRATCH["ar"]["drbcp/title"]
    # pdftotext frames right-to-left lines with embedding marks (RLE … PDF): not text.
    flat = " ".join(re.sub("[\u202a-\u202e]", "", pdftotext(data, tmp_path)).split())
    # pdftotext gives right-to-left text in reading order, word by word: each word is there,
    # and the Latin word, the number and the value filled in keep their own order.
    for text in (
        SCRATCH["ar"]["drbcp/title"],
        SCRATCH["ar"]["what-is-drbcp/title"],
        *(line[2:] for line in SCRATCH["ar"]["top-management/text#2"].split("\n")),
        *SCRATCH["ar"]["contact-tree/columns"],
        "الشخص المناوب",
    ):
        for word in text.split():
            # Punctuation at a line's end is at its left: pdftotext puts it first.
            assert as_poppler_reads(word.strip(".،:")) in flat, word
    assert "DNSSEC" in flat and "24" in flat and ".example" in flat
    assert flat.count("الصفحة") == data.count(b"/Type /Page ")  # the footer, on each page
    _within_margins(data, tmp_path)


def test_a_chinese_playbook_reads_back_from_the_pdf_and_long_paragraphs_wrap(
    scratch_catalogs, tmp_path
):
    doc, data = _print("zh", tmp_path)
    text = pdftotext(data, tmp_path)
    squeezed = "".join(text.split())  # Chinese has no spaces; lines break anywhere
    for key in ("drbcp/title", "what-is-drbcp/title", "what-is-drbcp/text#0"):
        assert "".join(SCRATCH["zh"][key].split()) in squeezed, key
    assert (
        "".join(document.fill(SCRATCH["zh"]["what-is-drbcp/text#1"], {"tld": ".example"}).split())
        in squeezed
    )
    for line in SCRATCH["zh"]["top-management/text#2"].split("\n"):
        assert line[2:] in squeezed
    for word in [*SCRATCH["zh"]["contact-tree/columns"], "例如：值班工程师"]:
        assert word in squeezed, word
    assert "第1页，共" in squeezed
    # The long paragraph takes several lines, none of them outside the margins, and no line
    # starts with closing punctuation.
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    paragraph = SCRATCH["zh"]["what-is-drbcp/text#0"]
    wrapped = [line for line in lines if len(line) > 8 and line in paragraph]
    assert len(wrapped) > 2 and "".join(wrapped) == paragraph
    assert not any(line[0] in "。，、；：？！）」』】" for line in wrapped)
    _within_margins(data, tmp_path)


def test_values_in_a_right_to_left_playbook_are_bidi_isolates(scratch_catalogs):
    # Without the isolate, the dot of ".example" inside Arabic text is drawn after the name
    # ("example.") by the bidi rules.
    blocks = document.playbook_blocks(catalogs.localize("drbcp", "ar"), {"tld": ".example"})
    text = next(b.text for b in blocks if "قابلة للحل" in b.text)
    assert "\u2068.example\u2069" in text
    runs = [(run, rtl) for run, rtl, _ in typeset.visual_runs(text, True)]
    assert (".example", False) in runs
    english = document.playbook_blocks(catalogs.localize("drbcp", "en"), {"tld": ".example"})
    assert not any("\u2068" in b.text for b in english)


@pytest.mark.parametrize("language", ["ar", "zh", "ru"])
def test_the_shipped_translations_print_in_their_script(language, tmp_path):
    """The real catalogs, not a scratch one: every scenario title of the DR/BCP playbook comes
    back from the PDF's text layer (pdftotext), word by word, in its own script."""
    doc = catalogs.localize("drbcp", language)
    assert doc.complete
    data = document.pdf(document.playbook_blocks(doc), title=doc.book["title"], language=language)
    text = re.sub("[\u202a-\u202e]", "", pdftotext(data, tmp_path))
    flat = " ".join(text.split())
    squeezed = "".join(text.split())  # Chinese has no spaces; a line may break inside a title
    for scenario in doc.book["scenarios"]:
        title = scenario["title"]
        if language == "zh":
            assert "".join(title.split()) in squeezed, title
        else:
            # Words, not their punctuation: brackets are mirrored in a right-to-left line.
            for word in re.findall(r"\w+", title):
                assert as_poppler_reads(word) in flat, (title, word)
