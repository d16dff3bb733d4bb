"""The CLI's tables (tldops.cli.emit) show data as data: names from DNS servers and text from
probes or members may hold Rich markup or terminal escapes."""

from __future__ import annotations

from io import StringIO

from tldops.cli import emit


def test_markup_and_control_characters_are_shown_not_obeyed():
    out = StringIO()
    rows = [{"server": "ns.[bold]x", "note": "[/x]", "detail": "\x1b]52;c;ZXZpbA==\x07\x1b[31mred"}]
    emit(rows, ["server", "note", "detail"], "table", title="[/t]", out=out)
    text = out.getvalue()
    assert "ns.[bold]x" in text and "[/x]" in text  # no MarkupError, nothing swallowed
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b]52;c;ZXZpbA==\\x07\\x1b[31mred" in text
