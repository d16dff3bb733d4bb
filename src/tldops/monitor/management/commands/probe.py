"""``tldops probe``: a vantage point in a member's network, reporting signed sweeps to the hub.

Each run sweeps the ccTLDs (``--tld``, or the hub's list, ``GET /api/v1/monitor/tlds``, kept in
the state directory for when the hub is out of reach), signs the result with the probe's key,
puts it in the spool and sends the spool oldest first (:mod:`tldops.monitor.probe_client`). It
needs no database: it runs on a fresh data directory with the default settings.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from tldops.cli import DescriptionHelpFormatter, fail
from tldops.kernel.errors import InvalidInput
from tldops.monitor import probe_client as client
from tldops.monitor import sweep as sweeping
from tldops.monitor.management import sweep_arguments

EPILOG = """examples:
  tldops probe --hub https://tldops.example.org --token tldprobe_…
  tldops probe --hub https://tldops.example.org --token tldprobe_… --once --tld fr --tld be
  tldops probe --state /var/lib/tldops-probe --show-key

The token is the one shown once when the probe was created (portal: Monitor → Probes). The key
the reports are signed with is made in --state on the first run; its public half is registered
by the first report, or beforehand in the portal (--show-key prints it).
"""


class Command(BaseCommand):
    help = "Run a probe: sweep the ccTLDs from this network and send signed reports to the hub."
    requires_system_checks: list[str] = []  # no database, nothing of the hub's to check

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.epilog = EPILOG
        parser.formatter_class = DescriptionHelpFormatter  # the examples as written
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--hub", metavar="URL", help="The hub's address (https://…).")
        parser.add_argument("--token", metavar="T", help="The probe's token (tldprobe_…).")
        parser.add_argument(
            "--state",
            type=Path,
            default=None,
            metavar="DIR",
            help="Where the key, the ccTLD list and the spool live (default: DATA_DIR/probe).",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            metavar="S",
            help=f"Seconds between sweeps (default {settings.MONITOR_INTERVAL}).",
        )
        parser.add_argument("--once", action="store_true", help="One sweep, send, and exit.")
        parser.add_argument(
            "--show-key", action="store_true", help="Print the probe's public key and exit."
        )
        parser.add_argument(
            "--tld",
            action="append",
            default=[],
            metavar="TLD",
            help="A ccTLD to sweep (repeat for several); default: the hub's list.",
        )
        sweep_arguments.add(parser)
        parser.add_argument(
            "--http-timeout",
            type=float,
            default=30.0,
            metavar="S",
            help="Seconds to wait for the hub (default 30).",
        )
        parser.add_argument(
            "--spool-max",
            type=int,
            default=1000,
            metavar="N",
            help="Reports kept at most while the hub is out of reach (default 1000).",
        )

    def handle(self, *args: object, **options: Any) -> None:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        state: Path = options["state"] or Path(settings.DATA_DIR) / "probe"
        try:
            key = client.load_key(state)
        except (OSError, ValueError) as exc:
            raise fail(f"Cannot read or make the probe's key in {state}: {exc}") from exc
        public_key = client.public_key_b64(key)
        if options["show_key"]:
            self.stdout.write(public_key)
            return
        if not options["hub"] or not options["token"]:
            raise fail("Give the hub's address (--hub URL) and the probe's token (--token T).")
        try:
            hub = client.check_hub(options["hub"])
        except client.HubRefused as exc:
            raise fail(str(exc)) from exc
        try:
            sweep_options = sweep_arguments.options(options)
        except InvalidInput as exc:
            raise fail(exc.message) from exc
        run = _Run(
            hub=hub,
            token=options["token"].strip(),
            state=state,
            key=key,
            public_key=public_key,
            tlds=[t.strip().strip(".").lower() for t in options["tld"] if t.strip()],
            sweep_options=sweep_options,
            http_timeout=options["http_timeout"],
            outbox=client.Outbox(
                state / client.OUTBOX,
                max_files=max(1, options["spool_max"]),
                max_age_s=settings.MONITOR_RAW_DAYS * 86400,
            ),
            out=self,
        )
        if options["once"]:
            if not run.cycle():
                raise fail("No sweep was made: see the messages above.")
            return
        interval = options["interval"] or settings.MONITOR_INTERVAL
        stop = threading.Event()
        try:
            while not stop.is_set():
                began = time.monotonic()
                try:
                    run.cycle()
                except Exception as exc:  # noqa: BLE001 - a probe keeps going; the next cycle may work
                    self.stderr.write(f"This cycle failed ({exc}); trying again next interval.")
                stop.wait(max(0.0, interval - (time.monotonic() - began)))
        except KeyboardInterrupt:
            self.stderr.write("Stopped.")


@dataclass
class _Run:
    """One probe's state between its cycles."""

    hub: str
    token: str
    state: Path
    key: Ed25519PrivateKey
    public_key: str
    tlds: list[str]
    sweep_options: sweeping.Options
    http_timeout: float
    outbox: client.Outbox
    out: BaseCommand

    def _tlds(self) -> list[str]:
        """--tld, or the hub's list (kept in the state directory), or the last one kept."""
        if self.tlds:
            return list(self.tlds)
        cached = self.state / client.TLDS_FILE
        answer = client.fetch_tlds(self.hub, self.token, self.http_timeout)
        if answer.status == 200 and isinstance(answer.data, dict):
            names = [str(t) for t in answer.data.get("tlds", [])][:5000]
            cached.write_text(json.dumps(names))
            return names
        why = f"HTTP {answer.status}: {answer.error}" if answer.status else answer.error
        if answer.status in (401, 403):
            self.out.stderr.write(f"The hub refused the probe's token ({why}).")
        if cached.exists():
            self.out.stderr.write(f"The hub's ccTLD list is out of reach ({why}); using the last.")
            return [str(t) for t in json.loads(cached.read_text())]
        self.out.stderr.write(f"No ccTLD to sweep: the hub's list is out of reach ({why}).")
        return []

    def cycle(self) -> bool:
        """Sweep, spool, send the spool; whether a sweep was made."""
        tlds = self._tlds()
        made = False
        if tlds:
            try:
                result = sweeping.sweep(tlds, self.sweep_options)
            except sweeping.RootUnreachable as exc:
                # Our own network is out: no report (it would blame every ccTLD); the spool is
                # still offered to the hub below, in case only the DNS is cut.
                self.out.stderr.write(exc.message)
            else:
                for warning in result.warnings:
                    self.out.stderr.write(f"Warning: {warning}")
                body, signature = client.make_report(result, self.key)
                self.outbox.put(body, signature)
                made = True
        self.outbox.prune()
        done = client.flush(self.hub, self.token, self.outbox, self.public_key, self.http_timeout)
        self.out.stdout.write(
            f"{len(tlds)} ccTLDs swept; {len(done.sent)} reports sent, "
            f"{len(done.dropped)} refused, {done.waiting} waiting"
            + (f" ({done.error})" if done.error else "")
        )
        return made
