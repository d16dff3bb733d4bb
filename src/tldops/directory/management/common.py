"""What the directory's CLI commands share: the actor, error → exit code, phone options, output."""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tldops.catalog.lookup import resolve_tld
from tldops.catalog.models import Tld
from tldops.cli import EXIT_ERROR, EXIT_LINK, EXIT_NOT_FOUND, emit, fail
from tldops.directory.audit import Actor
from tldops.kernel.errors import DirectoryError, LinkInvalid, NotFound


def cli_actor() -> Actor:
    """The person at the terminal, known by their OS account: ``cli:<user>``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(label=f"cli:{user}", door="cli")


def error(exc: DirectoryError) -> CommandError:
    """A directory error as a command error with the matching exit code."""
    if isinstance(exc, NotFound):
        code = EXIT_NOT_FOUND
    elif isinstance(exc, LinkInvalid):
        code = EXIT_LINK
    else:
        code = EXIT_ERROR
    return fail(exc.message, code)


def tld_arg(raw: str, *, delegated_only: bool = True) -> Tld:
    """A ccTLD named on the command line (fr, .FR, рф, xn--p1ai)."""
    try:
        return resolve_tld(raw, delegated_only=delegated_only)
    except DirectoryError as exc:
        raise fail(exc.message, EXIT_NOT_FOUND) from None


def phone_arg(raw: str) -> tuple[str, str]:
    """``"+33 1 23 45 67 89:office"`` → ``("+33 1 23 45 67 89", "office")`` (label defaults to office)."""
    number, sep, label = raw.rpartition(":")
    if not sep:
        return raw.strip(), "office"
    return number.strip(), label.strip() or "office"


def write_rows(
    command: BaseCommand,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    fmt: str,
    *,
    title: str | None = None,
) -> None:
    # emit() writes in pieces; give it the raw stream, not Django's line-ending wrapper.
    emit(rows, columns, fmt, title=title, out=getattr(command.stdout, "_out", command.stdout))


def no_rows(command: BaseCommand, fmt: str, message: str) -> bool:
    """For a table, say that nothing matched (json/csv still print their empty document)."""
    if fmt == "table":
        command.stdout.write(message)
        return True
    return False


__all__ = ["cli_actor", "error", "no_rows", "phone_arg", "tld_arg", "write_rows"]
