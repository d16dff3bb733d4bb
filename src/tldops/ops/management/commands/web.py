"""``tldops web``: the web server alone (the portal, the API and static files)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from tldops.cli import fail
from tldops.ops import supervisor
from tldops.ops.management.common import add_listen_arguments, build_plan, describe, serve


class Command(BaseCommand):
    help = (
        "Run the web server alone (gunicorn worker processes, one per CPU by default): the "
        "portal, the REST API and static files. For production behind a reverse proxy; "
        "`tldops run` starts everything at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_listen_arguments(parser, web=True, mail=False)

    def handle(self, *args: object, **options: object) -> None:
        try:
            workers = supervisor.web_workers(options["workers"])
        except supervisor.ListenError as exc:
            raise fail(str(exc)) from None
        plan = build_plan(options, web=True, mail=False, worker=False)
        plan.web_workers = workers

        def ready() -> None:
            for line in supervisor.with_web_workers(describe(plan), plan):
                self.stdout.write(line)
            self.stdout.flush()

        serve(plan, on_ready=ready)
