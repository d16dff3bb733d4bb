"""The PDF typesetter's bidirectional ordering (what the pdftotext test cannot see: the order in
which runs are drawn) and its font choice per script."""

from __future__ import annotations

import pytest

from tldops.kernel import typeset

FSI, PDI = "\u2068", "\u2069"


def runs(text: str) -> list[tuple[str, bool]]:
    return [(run, rtl) for run, rtl, _indices in typeset.visual_runs(text)]


def test_left_to_right_text_is_one_run():
    assert runs("Ana Lopez, 1, .fr") == [("Ana Lopez, 1, .fr", False)]


def test_a_right_to_left_name_in_an_isolate_is_one_rtl_run_between_ltr_text():
    assert runs(f"Name: {FSI}אב גד{PDI} (+1)") == [
        ("Name: ", False),
        ("אב גד", True),  # the space between two Hebrew words belongs to the Hebrew run
        (" (+1)", False),
    ]


def test_numbers_inside_a_right_to_left_isolate_are_drawn_to_its_left():
    # Logical order: Hebrew letters, then 12. Drawn right to left, the number comes first
    # (leftmost) and keeps its own left-to-right order.
    assert runs(f"{FSI}אב 12{PDI}") == [("12", False), ("אב ", True)]


def test_an_arabic_name_keeps_its_place_in_a_left_to_right_line():
    assert runs(f"{FSI}سارا أحمد{PDI} 2 {FSI}Ivan{PDI}") == [
        ("سارا أحمد", True),
        (" 2 ", False),
        ("Ivan", False),
    ]


def test_isolate_marks_are_not_drawn():
    drawn = "".join(run for run, _ in runs(f"{FSI}Ivan{PDI} {FSI}אב{PDI}"))
    assert FSI not in drawn and PDI not in drawn


@pytest.mark.parametrize("text", ["Иван", "Ελένη", "李小龙", "سارا", "דוד", "सुनीता", "สมชาย"])
def test_every_script_gets_a_font_that_has_its_glyphs(text):
    pieces = typeset.shape(text)
    assert pieces, text
    # Glyph 0 is .notdef, the empty box of a font that lacks the character.
    assert all(gid != 0 for piece in pieces for gid in piece.gids), text


# --- Linear in its input (issue 7, item 4): a 200,000-character name took 258 s ----------------


class ShapingBudget:
    """Wraps :func:`typeset.shape` and counts the characters it is given; fails as soon as they
    exceed ``budget``, so that a quadratic layout fails the test quickly instead of running for
    minutes."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.shaped = 0
        self.calls = 0
        self.real = typeset.shape

    def __call__(self, text: str, bold: bool = False) -> list[typeset.Glyphs]:
        self.calls += 1
        self.shaped += len(text)
        assert self.shaped <= self.budget, f"shaped {self.shaped} characters, budget {self.budget}"
        return self.real(text, bold)


@pytest.mark.parametrize(
    "name",
    [
        "A" * 200_000,  # one unbroken word
        f"{FSI}{'ب' * 200_000}{PDI}",  # the same in Arabic, in its isolate as the edition writes it
        " ".join(["Ana"] * 50_000),  # many short words
    ],
    ids=["latin-word", "arabic-word", "many-words"],
)
def test_a_200000_character_name_is_shaped_a_bounded_number_of_times(monkeypatch, name):
    text = f"1. {name} · +33 1 23 45 67 89 · ana@nic.fr"
    budget = ShapingBudget(4 * len(text))  # once whole, once line by line, and some slack
    monkeypatch.setattr(typeset, "shape", budget)
    style = typeset.Style(size=8)
    doc = typeset.Document("t")
    doc.add(text, style)
    lines = [line for page in doc.pages for line in page.lines]
    assert len(lines) > 100
    # The whole paragraph once, then each line once (again for a line found too wide at its end).
    assert len(lines) + 1 <= budget.calls <= 2 * len(lines) + 1
    # Each line fits: the first in the measure, the others in the measure less their indent.
    for n, line in enumerate(lines):
        room = doc.measure - (style.indent if n else 0.0)
        assert typeset.width(line.pieces, style.size) <= room + 0.01, n
    drawn = sum(len(t) for line in lines for g in line.pieces for t in g.texts)
    assert drawn >= len(name) - name.count(" ")  # nothing is lost but the spaces broken at


def test_an_overlong_word_is_broken_into_lines_each_within_the_width():
    style = typeset.Style(size=8)
    doc = typeset.Document("t")
    doc.add("W" * 5_000, style)
    lines = [line for page in doc.pages for line in page.lines]
    widths = [typeset.width(line.pieces, style.size) for line in lines]
    assert len(lines) > 10
    assert widths[0] <= doc.measure and all(w <= doc.measure - style.indent for w in widths[1:])
    # Full lines, not a character per line: each takes most of its room.
    assert all(w > (doc.measure - style.indent) * 0.9 for w in widths[:-1])
    assert "".join(t for line in lines for g in line.pieces for t in g.texts) == "W" * 5_000


def test_isolates_nested_deeper_than_the_bidi_limit_are_ignored():
    # Each nesting level would be one more reordering pass (rule L2) over the line.
    text = FSI * 10_000 + "אב" + PDI * 10_000 + " x"
    levels = typeset._levels(text)
    assert max(levels) <= typeset.MAX_DEPTH + 1
    assert [run for run, _rtl in runs(text)] == ["אב", " x"]


# --- Chinese/Japanese line breaking, right-to-left paragraphs, tables (issue 12) -------------------


def _text(line: typeset._Line) -> str:
    return "".join(t for g in line.pieces for t in g.texts)


def _lines(doc: typeset.Document) -> list[typeset._Line]:
    return [line for page in doc.pages for line in page.lines]


CHINESE = (
    "业务连续性是指注册管理机构在发生严重问题时如何保持其关键服务运行，或者如何尽快恢复这些服务。"
    "灾难恢复是其中的技术部分：从备份、托管或第二站点恢复系统、数据和区域文件（包括「签名密钥」）。"
)


def test_chinese_text_without_spaces_breaks_between_characters_within_the_measure():
    style = typeset.Style(size=10, indent=0)
    doc = typeset.Document("t")
    text = CHINESE * 8
    doc.add(text, style)
    lines = _lines(doc)
    assert len(lines) > 5
    assert "".join(_text(line) for line in lines) == text  # nothing lost, nothing added
    for line in lines:
        assert typeset.width(line.pieces, style.size) <= doc.measure + 0.01
        drawn = _text(line)
        assert drawn[0] not in typeset.NO_START, drawn  # no line starts with 。，、） …
        assert drawn[-1] not in typeset.NO_END, drawn  # nor ends with （「 …
    # Full lines: the break is at the last allowed place, not at the last space (there is none).
    widths = [typeset.width(line.pieces, style.size) for line in lines[:-1]]
    assert all(w > doc.measure - 3 * style.size for w in widths)


def test_a_closing_mark_stays_on_the_line_of_the_character_before_it():
    style = typeset.Style(size=10, indent=0)
    doc = typeset.Document("t")
    # Ideographs filling the line exactly up to where the closing marks come.
    per_line = int(doc.measure // typeset.width(typeset.shape("中"), style.size))
    doc.add("中" * (per_line - 1) + "文。」" + "后" * 10, style)
    first, second = (_text(line) for line in _lines(doc))
    assert not second.startswith(("。", "」")), second
    assert first.endswith("中") and second.startswith("文。」")  # taken over with the ideograph


def test_breakable_rules():
    assert typeset.breakable("中", "文") and typeset.breakable("。", "A")
    assert typeset.breakable("a", "中") and typeset.breakable("中", "a")
    assert not typeset.breakable("中", "。") and not typeset.breakable("中", "）")
    assert not typeset.breakable("（", "中") and not typeset.breakable("「", "中")
    assert not typeset.breakable("a", "b")  # Latin breaks at spaces only


def test_a_200000_character_chinese_paragraph_is_shaped_a_bounded_number_of_times(monkeypatch):
    text = "中文，" * 70_000
    budget = ShapingBudget(4 * len(text))
    monkeypatch.setattr(typeset, "shape", budget)
    doc = typeset.Document("t")
    doc.add(text, typeset.Style(size=8))
    lines = _lines(doc)
    assert len(lines) > 100 and len(lines) + 1 <= budget.calls <= 2 * len(lines) + 1


ARABIC = "الخدمة الحرجة بسيطة: يجب أن تبقى المنطقة قابلة للحل خلال 24 ساعة مع DNSSEC صالح"


def test_a_right_to_left_paragraph_is_right_aligned_with_its_indent_on_the_right():
    style = typeset.Style(size=10, indent=12)
    doc = typeset.Document("t", rtl=True)
    doc.add(" ".join([ARABIC] * 6), style)
    lines = _lines(doc)
    assert len(lines) > 2
    right = doc.left + doc.measure
    ends = [line.x + typeset.width(line.pieces, style.size) for line in lines]
    assert abs(ends[0] - right) < 0.01  # the first line starts at the right margin
    assert all(abs(end - (right - style.indent)) < 0.01 for end in ends[1:])
    assert all(line.x >= doc.left - 0.01 for line in lines)
    # A left-to-right paragraph in the same document stays at the left.
    doc.add("English text", style, rtl=False)
    assert abs(_lines(doc)[-1].x - doc.left) < 0.01


def _rtl_runs(text: str) -> list[tuple[str, bool]]:
    return [(run, rtl) for run, rtl, _ in typeset.visual_runs(text, True)]


def test_a_right_to_left_line_keeps_numbers_and_latin_words_in_order_and_the_bullet_at_its_right():
    assert _rtl_runs("• مرحبا 24 ساعة DNSSEC صالح") == [
        (" صالح", True),  # each run's text in logical order, its glyphs drawn reversed
        ("DNSSEC", False),
        (" ساعة ", True),
        ("24", False),
        ("• مرحبا ", True),  # drawn right to left: the bullet is the rightmost glyph
    ]
    # Latin text alone in a right-to-left paragraph: its full stop goes to the left.
    assert _rtl_runs("Call us.") == [(".", True), ("Call us", False)]


def test_each_wrapped_line_of_a_right_to_left_paragraph_is_reordered_at_level_one():
    style = typeset.Style(size=10, indent=0)
    doc = typeset.Document("t", rtl=True)
    doc.add("• " + " ".join([ARABIC] * 5), style)
    lines = _lines(doc)
    assert len(lines) > 1
    # Drawn from left to right: the bullet is the last glyph of the first line (its right end).
    assert lines[0].pieces[-1].texts[-1] == "•"
    for line in lines:
        # Every line, not only the first, runs right to left: its rightmost run holds the
        # line's first character (a line starting with "24" has that number at its right).
        assert 0 in line.pieces[-1].sources, _text(line)
    assert any("DNSSEC" in _text(line) for line in lines)  # Latin words keep their order


def _table_doc(rows: int, long_cell: str = "", rtl: bool = False) -> typeset.Document:
    doc = typeset.Document("t", rtl=rtl)
    body = [[f"service {n}", str(n), long_cell or "short"] for n in range(rows)]
    doc.table(["Service", "Priority", "How it is met"], body)
    return doc


def test_a_table_repeats_its_header_on_every_page_it_continues_on():
    doc = _table_doc(200)
    assert len(doc.pages) > 2
    for page in doc.pages:
        texts = [_text(line) for line in page.lines]
        assert texts[:3] == ["Service", "Priority", "How it is met"]
        assert all(
            g.face in typeset.font_stack(True) for line in page.lines[:3] for g in line.pieces
        )
        assert len(page.rules) >= 2  # above and below the header, then one under every row
    drawn = [_text(line) for line in _lines(doc)]
    assert [t for t in drawn if t.startswith("service ")] == [f"service {n}" for n in range(200)]
    for page in doc.pages:  # nothing below the bottom margin
        assert all(line.y >= doc.bottom for line in page.lines)


def test_table_cells_wrap_inside_their_column_and_columns_follow_their_content():
    long_cell = "Name servers at two or more independent providers, checked every day " * 4
    doc = _table_doc(3, long_cell)
    lines = _lines(doc)
    x_of = {_text(line): line.x for line in lines[:3]}
    third = x_of["How it is met"]
    assert x_of["Service"] < x_of["Priority"] < third
    wrapped = [line for line in lines[3:] if line.x >= third - 0.01 and _text(line) != "short"]
    assert len(wrapped) > 3 * 3  # each long cell takes several lines
    right = doc.left + doc.measure
    for line in lines:
        assert line.x >= doc.left and line.x + typeset.width(line.pieces, 9) <= right + 0.01
    # The column of long text is the widest; the one of numbers is narrow but fits its header.
    priority = third - x_of["Priority"]
    assert third - doc.left > priority and right - third > doc.measure / 2
    assert priority >= typeset.width(typeset.shape("Priority", True), 9)


def test_a_right_to_left_table_runs_from_right_to_left():
    doc = typeset.Document("t", rtl=True)
    doc.table(["الخدمة", "العدد"], [["نظام التسجيل", "2"], ["الموقع", "Website"]])
    lines = _lines(doc)
    service, count = lines[0], lines[1]  # the header cells, in column order
    assert service.x > count.x  # the first column is at the right
    right = doc.left + doc.measure
    # Arabic cells end at their column's right (less the padding); Latin and digits start at
    # their column's left.
    assert abs(service.x + typeset.width(service.pieces, 9) - (right - 3)) < 0.01
    two, website = (line for line in lines if _text(line) in ("2", "Website"))
    assert abs(two.x - website.x) < 0.01 and two.x < service.x
