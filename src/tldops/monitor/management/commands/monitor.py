"""``tldops monitor``: the health of every ccTLD's name servers.

``sweep`` runs one sweep now and prints its findings (:mod:`tldops.monitor.sweep`). The scheduled
process (``run``) and the incidents' subcommands are in
:mod:`tldops.monitor.management.incident_cli`.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tldops.catalog.models import Tld
from tldops.cli import EXIT_ERROR, emit, fail, subcommand
from tldops.kernel.errors import InvalidInput
from tldops.monitor import sweep as sweeping
from tldops.monitor.codes import Severity
from tldops.monitor.management import incident_cli, sweep_arguments

SWEEP_EPILOG = """examples:
  tldops monitor sweep                         every ccTLD of the catalog
  tldops monitor sweep --tld fr --tld xn--p1ai --format json
  tldops monitor sweep --root-hints named.root --trust-anchor root-ds.txt --ipv4-only
"""


class Command(BaseCommand):
    help = (
        "Watch the name servers of every ccTLD: the scheduled monitor (no action, or run), one "
        "sweep now (sweep), the incidents."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        # Without an action: the scheduled monitor (``tldops monitor`` is the process).
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=False)
        p = subcommand(sub, "sweep", "Run one sweep now and print the findings.", SWEEP_EPILOG)
        p.add_argument(
            "--tld",
            action="append",
            default=[],
            metavar="TLD",
            help="A ccTLD to sweep (repeat for several); default: every ccTLD of the catalog.",
        )
        sweep_arguments.add(p)
        p.add_argument(
            "--min-severity",
            default="INFO",
            metavar="LEVEL",
            help="Print findings of this severity and above (INFO NOTICE WARNING ERROR CRITICAL).",
        )
        p.add_argument("--format", choices=["table", "json"], default="table")
        incident_cli.add_subcommands(sub)

    def handle(self, *args: object, **options: Any) -> None:
        options["action"] = options.get("action") or "run"
        if incident_cli.run(self, options):  # run, incidents, incident, ack, note, close …
            return
        getattr(self, "do_" + str(options["action"]))(options)

    def do_sweep(self, options: dict[str, Any]) -> None:
        try:
            opts = sweep_arguments.options(options)
            minimum = Severity.parse(options["min_severity"])
        except KeyError as exc:
            raise fail(f"Unknown severity {options['min_severity']!r}.") from exc
        except InvalidInput as exc:
            raise fail(exc.message) from exc
        tlds = [t.strip().strip(".").lower() for t in options["tld"]]
        if tlds:
            known = set(Tld.objects.filter(alabel__in=tlds).values_list("alabel", flat=True))
            unknown = sorted(set(tlds) - known)
            if unknown:
                raise fail("Not a ccTLD of the catalog: " + ", ".join(unknown), EXIT_ERROR)
        else:
            tlds = list(
                Tld.objects.filter(delegated=True)
                .order_by("alabel")
                .values_list("alabel", flat=True)
            )
        try:
            result = sweeping.sweep(tlds, opts)
        except sweeping.RootUnreachable as exc:
            raise fail(exc.message) from exc
        for warning in result.warnings:
            self.stderr.write(f"Warning: {warning}")
        findings = sorted(
            (f for f in result.findings if f.severity >= minimum),
            key=lambda f: (-f.severity, f.tld, f.server, f.address, f.code),
        )
        if options["format"] == "json":
            data = result.to_json(samples=False)
            data["findings"] = [f.as_dict() for f in findings]
            self.stdout.write(json.dumps(data, indent=2))
            return
        emit(
            [f.as_dict() for f in findings],
            ["tld", "server", "address", "severity", "code", "detail"],
            "table",
            title=(
                f"{result.stats.zones} ccTLDs, {result.stats.servers} name servers, "
                f"{result.stats.queries} queries in {result.stats.wall_s:.1f} s"
            ),
            out=self.stdout,
        )
