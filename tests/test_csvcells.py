"""The one CSV cell rule (CSV injection): neutralised wherever a spreadsheet may start a cell,
undone exactly by restore()."""

from __future__ import annotations

import csv
import io
import itertools
import re
from decimal import Decimal

from tldops import csvcells

CELL_START = re.compile(r"(?:^|[,;\t])[ ]*")


def starts_a_formula(text: str) -> bool:
    """Whether a cell a spreadsheet may cut out of ``text`` starts like a formula."""
    return any(
        m.end() < len(text) and text[m.end()] in csvcells.TRIGGERS
        for m in CELL_START.finditer(text)
    )


def test_neutralise_then_restore_for_every_short_string():
    alphabet = "a,;\t '=\r-+@"
    for size in range(6):
        for chars in itertools.product(alphabet, repeat=size):
            text = "".join(chars)
            safe = csvcells.neutralise(text)
            assert not starts_a_formula(safe), (text, safe)
            assert csvcells.restore(safe) == text, (text, safe)


def test_examples():
    assert csvcells.neutralise('=HYPERLINK("http://evil.example","x")') == (
        '\'=HYPERLINK("http://evil.example","x")'
    )
    assert csvcells.neutralise("Ana; =1+1") == "Ana; '=1+1"
    assert csvcells.neutralise("'t Hooft") == "'t Hooft"  # left alone: not a formula
    assert csvcells.neutralise("'=x") == "''=x"  # so that restore() gives "'=x" back
    assert csvcells.neutralise("Jean-Pierre, ana@nic.fr") == "Jean-Pierre, ana@nic.fr"


def test_writer_leaves_numbers_and_quotes_per_rfc_4180():
    buffer = io.StringIO()
    csvcells.writer(buffer).writerow([-3, 1.5, Decimal("-2.5"), None, True, "-3", 'say "hi"'])
    assert buffer.getvalue() == '-3,1.5,-2.5,,True,\'-3,"say ""hi"""\r\n'
    (row,) = csv.reader(io.StringIO(buffer.getvalue()))
    assert [csvcells.restore(c) for c in row] == ["-3", "1.5", "-2.5", "", "True", "-3", 'say "hi"']
