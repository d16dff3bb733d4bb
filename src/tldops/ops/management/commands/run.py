"""``tldops run``: the whole system in one command, on the embedded default."""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from tldops.catalog.models import Tld
from tldops.cli import fail
from tldops.directory.models import Person, Role
from tldops.ops import supervisor
from tldops.ops.management.common import add_listen_arguments, build_plan, describe, serve


class Command(BaseCommand):
    help = (
        "Start tldops in one command: migrate the database, load the ccTLD catalog if it is empty, "
        "then run the web server (one process per CPU by default), the SMTP and LMTP intake and "
        "the worker until Ctrl+C or SIGTERM."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        add_listen_arguments(parser, web=True, mail=True)
        parser.add_argument(
            "--no-migrate", action="store_true", help="Do not apply database migrations first."
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=5.0,
            help="Seconds between two rounds of the worker (default 5).",
        )
        parser.add_argument(
            "--no-monitor",
            action="store_true",
            help="Do not start the scheduled monitor (default: TLDOPS_MONITOR_ENABLED).",
        )

    def handle(self, *args: object, **options: object) -> None:
        if not options["no_migrate"]:
            call_command("migrate", verbosity=0, interactive=False)
        self._load_catalog()
        try:
            workers = supervisor.web_workers(options["workers"])
        except supervisor.ListenError as exc:
            raise fail(str(exc)) from None
        plan = build_plan(options, web=True, mail=True, worker=True)
        plan.worker_interval = float(options["interval"])
        plan.web_workers = workers
        plan.monitor = settings.MONITOR_ENABLED and not options["no_monitor"]
        banner = [
            *supervisor.with_web_workers(describe(plan), plan),
            *self._first_account_hint(),
            "Stop with Ctrl+C.",
        ]

        def ready() -> None:
            self.stdout.write(self.style.SUCCESS("tldops is running."))
            for line in banner:
                self.stdout.write(line)
            self.stdout.flush()

        serve(plan, on_ready=ready)
        self.stdout.write("tldops stopped.")

    def _load_catalog(self) -> None:
        if Tld.objects.exists():
            return
        try:
            from tldops.catalog.baseline import load_baseline  # lazy: only for an empty catalog
        except ImportError:
            self.stderr.write("The ccTLD catalog is empty and no offline baseline is installed.")
            return
        self.stdout.write("Loading the ccTLD catalog from the offline baseline…")
        counts = load_baseline(progress=sys.stderr.isatty())
        total = counts.get("total") if isinstance(counts, dict) else None
        if total is not None:
            self.stdout.write(
                f"Catalog: {total} delegated ccTLDs "
                f"({counts.get('ascii', '?')} ASCII, {counts.get('idn', '?')} IDN)."
            )

    @staticmethod
    def _first_account_hint() -> list[str]:
        if Person.objects.filter(role=Role.COMMITTEE, user__isnull=False).exists():
            return []
        return [
            "",
            "No standing-committee account yet. Create the first one with:",
            "  tldops createadmin --role committee --position chair "
            '--email you@example.org --name "Your Name"',
            f"then log in at {settings.BASE_URL}/ and set up your authenticator app (TOTP).",
            "",
        ]
