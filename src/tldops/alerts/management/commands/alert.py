"""``tldops alert``: security alerts from the command line. ``raise``, ``list``, ``show``,
``react``, ``close``, ``status``, ``export``, ``import`` and ``filters`` are in
:mod:`tldops.alerts.management.cli_actions`; ``split``
(a list of domain names split by ccTLD, the same splitter that sends each ccTLD its slice of an
alert) is here."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from django.core.management.base import BaseCommand, CommandParser
from django.db import connections
from django.utils.translation import gettext as _

from tldops.alerts import split, tlp
from tldops.alerts.management import cli_actions
from tldops.catalog.models import Tld
from tldops.cli import (
    EXIT_ERROR,
    EXIT_NOT_FOUND,
    EXIT_OK,
    add_format_argument,
    emit,
    fail,
    progress,
    subcommand,
)
from tldops.kernel.errors import InvalidInput

#: Files of fewer chunks split in a moment: no progress bar.
PROGRESS_FROM = 8


def _progress(chunks: Iterable[bytes], total: int) -> Iterable[bytes]:
    """A progress bar on a terminal's stderr for the big files (tldops.kernel.progress)."""
    if total < PROGRESS_FROM:
        return chunks
    return progress(chunks, total=total, description=_("Splitting"))


class Command(BaseCommand):
    help = (
        "Security alerts and queries: raise one, list and show what a person may read (TLP), "
        "answer, close; split a list of domain names by ccTLD (the per-ccTLD slices of "
        "name-space abuse)."
    )
    #: ``split`` reads a file and the catalog; the whole-project checks would double its time on
    #: a big file's budget (docs/benchmarks.md) and ``tldops check`` runs them anyway.
    requires_system_checks: list[str] = []
    stealth_options = ("stdin",)  # call_command(stdin=…): what "-" reads in tests

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        p = subcommand(
            sub,
            "split",
            "Split a list of domain names (one a line; blank lines and lines starting with # are "
            "skipped) by ccTLD: names per ccTLD, names under other TLDs, invalid lines.",
            "Examples:\n"
            "  tldops alert split feed.txt\n"
            "  tldops alert split feed.txt --out slices/ --tlp amber\n"
            "  zcat dga.txt.gz | tldops alert split - --format json\n"
            "See docs/alerts.md for the rules.",
        )
        p.add_argument("file", metavar="FILE", help="The list; - reads standard input.")
        p.add_argument(
            "--out",
            metavar="DIR",
            help="Also write one <A-label>.csv per ccTLD into DIR (made if missing; files of the "
            "same name are replaced).",
        )
        p.add_argument(
            "--tlp",
            metavar="LABEL",
            help="Mark every slice written with --out with this TLP label (first line "
            "'# TLP:AMBER'): CLEAR, GREEN, AMBER, AMBER+STRICT or RED.",
        )
        add_format_argument(p)
        cli_actions.add_subcommands(sub, subcommand)

    def handle(self, *args: object, **options: object) -> None:
        if cli_actions.run(self, options):  # raise, list, show, react, close, status, …, filters
            return
        getattr(self, "do_" + str(options["action"]))(options)

    #: Set by a subcommand whose process may end without Python's teardown (see below).
    quick_exit = False

    def run_from_argv(self, argv: list[str]) -> None:
        """As Django's; then, from the command line only (not ``call_command``) and when the
        subcommand allows it (``split``), end the process at once: Python's teardown of every
        module Django loaded takes about 0.1 s, a tenth of the split's budget for a million
        names (docs/benchmarks.md), and does nothing a split needs. The output is flushed, the
        logs and the database connections closed first. An error ends as usual (exit code)."""
        super().run_from_argv(argv)
        if self.quick_exit:
            self.stdout.flush()
            self.stderr.flush()
            sys.stdout.flush()
            sys.stderr.flush()
            logging.shutdown()
            connections.close_all()
            os._exit(EXIT_OK)

    def do_split(self, options: dict) -> None:
        marking = None
        if options["tlp"]:
            try:
                marking = tlp.parse(options["tlp"])
            except InvalidInput as exc:
                raise fail(exc.message, EXIT_ERROR) from None
        if marking is not None and not options["out"]:
            raise fail(_("--tlp marks the files written with --out: give --out DIR too."))
        name = options["file"]
        if name == "-":  # call_command(stdin=…) in tests, the terminal's otherwise
            stdin = options.get("stdin") or sys.stdin
            stream: IO[bytes] | IO[str] = getattr(stdin, "buffer", stdin)
        else:
            try:
                stream = Path(name).open("rb")  # noqa: SIM115 - closed below
            except FileNotFoundError:
                raise fail(_("No such file: %(file)s") % {"file": name}, EXIT_NOT_FOUND) from None
            except OSError as exc:
                message = _("Cannot read %(file)s: %(error)s") % {
                    "file": name,
                    "error": exc.strerror,
                }
                raise fail(message) from None
        out_dir = Path(options["out"]) if options["out"] else None
        try:
            # One process per CPU for a big file: this command has no other thread, so it may fork.
            result = split.split(
                stream, out_dir=out_dir, tlp=marking, workers=0, progress=_progress
            )
        except OSError as exc:
            raise fail(str(exc)) from None
        finally:
            if name != "-":
                stream.close()
        self._show(result, options["format"])
        self.quick_exit = True

    def _show(self, result: split.SplitResult, fmt: str) -> None:
        for path in result.files.values():
            self.stderr.write(_("Wrote %(file)s") % {"file": path})
        out = getattr(self.stdout, "_out", self.stdout)
        if fmt == "json":
            out.write(json.dumps(result.as_json(), ensure_ascii=False) + "\n")
            return
        ulabels = dict(
            Tld.objects.filter(alabel__in=list(result.counts)).values_list("alabel", "ulabel")
        )
        rows: list[dict] = [
            {"cctld": alabel, "u_label": ulabels.get(alabel, alabel), "names": n}
            for alabel, n in sorted(result.counts.items(), key=lambda item: (-item[1], item[0]))
        ]
        rows += [
            {"cctld": _("(other TLDs)"), "u_label": "", "names": result.not_cctld},
            {"cctld": _("(invalid)"), "u_label": "", "names": result.invalid},
            {
                "cctld": _("(total under ccTLDs)"),
                "u_label": _("%(n)d ccTLDs") % {"n": len(result.counts)},
                "names": sum(result.counts.values()),
            },
        ]
        emit(rows, ["cctld", "u_label", "names"], fmt, title=_("Names by ccTLD"), out=out)
        if fmt == "table" and result.invalid_lines:
            shown = ", ".join(str(n) for n in result.invalid_lines[:20])
            more = result.invalid - min(20, len(result.invalid_lines))
            out.write(
                _("Invalid lines: %(lines)s") % {"lines": shown}
                + (_(" (and %(n)d more)") % {"n": more} if more else "")
                + "\n"
            )
