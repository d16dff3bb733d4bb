"""Every CSV tldops writes, written so that a spreadsheet shows its cells as text, never formulas.

CSV injection (OWASP): a spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``,
``-`` or ``@`` (or a tab or carriage return followed by one) as a formula — ``=HYPERLINK(…)`` as
a contact's name, ``=cmd|' /C calc'!A0`` as a post's subject. Names, subjects and addresses come
from members and strangers, so every text cell goes through :func:`neutralise`, which puts a single
quote ``'`` in front, as OWASP recommends. The same is done after a ``,``, ``;`` or tab inside a
cell (and the spaces after it): a spreadsheet that expects another separator than the comma (``;``
in French, German… Excel) splits the cell there and would otherwise start a new cell with the
formula.

This applies to validated values too: a phone number in international format starts with ``+``
and is written ``'+33 1 23 45 67 89``. One rule for every cell cannot be forgotten for a new
column, and the spreadsheet then keeps the phone number as text instead of turning it into a
number (losing its ``+``) or an error.

Numbers (``int``, ``float``, ``Decimal``) are written as they are: they come from our code, not
from people, and ``-3`` must stay a number.

:func:`restore` undoes :func:`neutralise` exactly, for a script reading our CSV back: a value
that already started with quotes followed by one of those characters gets one more quote, so
``'=x`` typed by someone comes back as ``'=x``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TextIO

#: What a spreadsheet reads as the start of a formula (OWASP's list).
TRIGGERS = "=+-@\t\r"
#: Where a spreadsheet may start a new cell inside ours: at the start and after a separator.
_START = r"(?:^|[,;\t])[ ]*"
_NEUTRALISE = re.compile(rf"({_START})(?='*[{re.escape(TRIGGERS)}])")
_RESTORE = re.compile(rf"({_START})'(?='*[{re.escape(TRIGGERS)}])")


def neutralise(text: str) -> str:
    """``text`` with a ``'`` wherever a spreadsheet would start a formula (see the module)."""
    return _NEUTRALISE.sub(r"\1'", text)


def restore(text: str) -> str:
    """The value :func:`neutralise` was given: ``restore(neutralise(x)) == x`` for every ``x``."""
    return _RESTORE.sub(r"\1", text)


def cell(value: Any) -> Any:
    """A value ready for a CSV cell: ``None`` is empty, a number stays a number, the rest is
    text, neutralised."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    return neutralise(str(value))


class Writer:
    """:func:`csv.writer` (RFC 4180, ``\\r\\n`` line ends) whose every cell goes through
    :func:`cell`."""

    def __init__(self, out: TextIO) -> None:
        self._writer = csv.writer(out)

    def writerow(self, values: Iterable[Any]) -> None:
        self._writer.writerow([cell(v) for v in values])


def writer(out: TextIO) -> Writer:
    """The writer every CSV of tldops goes through: ``writer(buffer).writerow([...])``."""
    return Writer(out)
