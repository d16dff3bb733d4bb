"""The PDF typesetter's bidirectional ordering (what the pdftotext test cannot see: the order in
which runs are drawn) and its font choice per script."""

from __future__ import annotations

import pytest

from tldops.repository import typeset

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
