"""``tldops mail``: the SMTP and LMTP intake alone."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from tldops.ops.management.common import add_listen_arguments, build_plan, describe, serve


class Command(BaseCommand):
    help = (
        "Run the mail intake alone: SMTP and LMTP servers that accept mail for tldops' addresses, "
        "store every message first, then process it. Point Postfix's transport for those "
        "addresses at the LMTP address."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_listen_arguments(parser, web=False, mail=True)

    def handle(self, *args: object, **options: object) -> None:
        plan = build_plan(options, web=False, mail=True, worker=False)

        def ready() -> None:
            for line in describe(plan):
                self.stdout.write(line)
            self.stdout.flush()

        serve(plan, on_ready=ready)
