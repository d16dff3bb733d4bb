"""What every ``tldops`` command shares: output as a table, JSON or CSV, progress bars, exit codes.

CSV is written through :mod:`tldops.csvcells`, like every CSV of tldops: a text cell that a
spreadsheet would run as a formula starts with ``'``.

Commands are Django management commands (one per app); this module keeps their output uniform.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from django.core.management.base import CommandError, CommandParser, DjangoHelpFormatter
from rich.console import Console
from rich.markup import escape as rich_escape
from rich.table import Table

from tldops import csvcells
from tldops.kernel.progress import progress  # noqa: F401 - the commands' progress bar

FORMATS = ("table", "json", "csv")

# Exit codes, the same for every command.
EXIT_OK = 0
EXIT_ERROR = 1  # bad input or refused action (CommandError's default)
EXIT_USAGE = 2  # argparse's code for a wrong command line
EXIT_NOT_FOUND = 3
EXIT_LINK = 4  # invalid / expired / used link


class DescriptionHelpFormatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Django's layout for a command's --help that keeps the line breaks of its description, so
    a description can show examples one per line."""


def subcommand(sub: Any, name: str, text: str, epilog: str = "") -> argparse.ArgumentParser:
    """A subcommand whose help text shows both in its parent's list and in its own --help (with
    the description's and the epilog's line breaks kept, for examples)."""
    return sub.add_parser(
        name, help=text, description=text, epilog=epilog, formatter_class=DescriptionHelpFormatter
    )


def add_format_argument(parser: CommandParser) -> None:
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="Output format: a table for people (default), json or csv for scripts.",
    )


def emit(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    fmt: str,
    *,
    title: str | None = None,
    out: TextIO | None = None,
) -> None:
    """Write ``rows`` (dicts) with ``columns`` in the chosen format."""
    out = out or sys.stdout
    if fmt == "json":
        json.dump(
            [{c: r.get(c) for c in columns} for r in rows],
            out,
            ensure_ascii=False,
            indent=2,
            default=str,
        )
        out.write("\n")
    elif fmt == "csv":
        # Subjects, names and addresses come from people: no cell may run as a formula.
        writer = csvcells.writer(out)
        writer.writerow(columns)
        for r in rows:
            writer.writerow(_csv_value(r.get(c)) for c in columns)
    else:
        table = Table(title=_cell(title) if title else None, show_lines=False)
        for c in columns:
            table.add_column(c.replace("_", " "))
        for r in rows:
            table.add_row(*(_cell(_flat(r.get(c))) for c in columns))
        Console(file=out, soft_wrap=True, width=200 if not out.isatty() else None).print(table)


#: C0 and C1 control characters but tab and newline: never written to a terminal as they are.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _cell(text: str) -> str:
    """A table cell as text, whatever it holds: Rich's markup escaped (a DNS name such as
    ``ns.[bold]x`` or ``[/x]`` is data, not style, and must not crash the table) and control
    characters shown as ``\\xNN`` (terminal escapes from a hostile name server or a probe's text
    reach no one's terminal)."""
    return rich_escape(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text))


def _csv_value(value: Any) -> Any:
    """Lists joined by ``; ``; the rest as it is, so ``csvcells`` can tell numbers from text."""
    return _flat(value) if isinstance(value, list | tuple) else value


def _flat(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "; ".join(_flat(v) for v in value)
    return str(value)


def fail(message: str, code: int = EXIT_ERROR) -> CommandError:
    """A CommandError with the given exit code: ``raise fail("…", EXIT_NOT_FOUND)``."""
    return CommandError(message, returncode=code)
