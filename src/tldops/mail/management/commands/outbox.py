"""``tldops outbox``: how the outbox stands, its failed deliveries, and sending them again."""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from tldops.cli import EXIT_ERROR, EXIT_NOT_FOUND, add_format_argument, emit, fail
from tldops.kernel.audit import SystemActor
from tldops.kernel.errors import DirectoryError, NotFound
from tldops.mail import outbox, queries

LIST_LIMIT = 200


def _cli_actor() -> SystemActor:
    """The person at the terminal, known by their OS account (as the directory's commands)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return SystemActor(label=f"cli:{user}", door="cli")


class Command(BaseCommand):
    help = (
        "The outbox: how many deliveries are queued, retrying and failed (status), the failed "
        "ones (failed), and sending failed deliveries again once their cause is fixed (retry)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        p = sub.add_parser("status", help="Count the queued, retrying and failed deliveries.")
        add_format_argument(p)
        p = sub.add_parser("failed", help="List the failed deliveries, newest first.")
        add_format_argument(p)
        p = sub.add_parser(
            "retry", help="Send failed deliveries again: by id (see `failed`), or --all."
        )
        p.add_argument("ids", nargs="*", type=int, metavar="ID", help="Failed delivery ids.")
        p.add_argument("--all", action="store_true", help="Every failed delivery.")

    def _out(self):  # type: ignore[no-untyped-def]
        # emit() writes in pieces; give it the raw stream, not Django's line-ending wrapper.
        return getattr(self.stdout, "_out", self.stdout)

    def handle(self, *args: object, **options: object) -> None:
        action = options["action"]
        if action == "status":
            c = queries.outbox_counts()
            rows = [{"queued": c.queued, "retrying": c.retrying, "failed": c.failed}]
            emit(
                rows,
                ["queued", "retrying", "failed"],
                options["format"],
                title=_("Outbox"),
                out=self._out(),
            )
        elif action == "failed":
            rows = [
                {
                    "id": d.pk,
                    "recipient": d.recipient,
                    "subject": d.message.subject,
                    "purpose": d.message.purpose,
                    "attempts": d.attempts,
                    "last_error": d.last_error[:200],
                }
                for d in queries.failed_deliveries()[:LIST_LIMIT]
            ]
            columns = ["id", "recipient", "subject", "purpose", "attempts", "last_error"]
            emit(rows, columns, options["format"], title=_("Failed deliveries"), out=self._out())
        else:
            try:
                done = outbox.retry_failed(
                    actor=_cli_actor(), ids=options["ids"], all_failed=options["all"]
                )
            except NotFound as exc:
                raise fail(exc.message, EXIT_NOT_FOUND) from None
            except DirectoryError as exc:
                raise fail(exc.message, EXIT_ERROR) from None
            self.stdout.write(
                _("%(n)d deliveries queued again; the worker sends them on its next round.")
                % {"n": len(done)}
            )
