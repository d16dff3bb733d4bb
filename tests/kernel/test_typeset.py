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
