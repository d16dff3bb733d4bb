"""``tldops worker``: outgoing mail, inbound mail left unprocessed, invitation reminders."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from tldops.cli import fail
from tldops.ops.management.common import outgoing_mail
from tldops.ops.supervisor import run_worker_until_signal
from tldops.ops.worker import Worker


class Command(BaseCommand):
    help = (
        "Run the background jobs: deliver the outbox, process inbound mail still waiting, and "
        "hourly send the invitation reminders that are due. Every job is idempotent, so a worker "
        "killed at any point resumes where it was."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="Run one round of every job and exit (for cron and tests).",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=5.0,
            help="Seconds between two rounds (default 5).",
        )

    def handle(self, *args: object, **options: object) -> None:
        if not options["once"]:
            self.stdout.write(
                f"Worker running; outgoing mail goes {outgoing_mail()}. Stop with Ctrl+C."
            )
            self.stdout.flush()
            run_worker_until_signal(float(options["interval"]))
            return
        report = Worker().run_once()
        self.stdout.write(
            f"delivered: {report.delivered}, inbound processed: {report.processed}, "
            f"reminders sent: {report.reminders or 0}"
        )
        if report.errors:
            raise fail(f"these jobs failed (see the log): {', '.join(report.errors)}")
