"""``tldops invite``: invite ccTLDs, track the invitations, send the reminders that are due."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops.catalog.models import Tld
from tldops.cli import (
    EXIT_ERROR,
    EXIT_USAGE,
    DescriptionHelpFormatter,
    add_format_argument,
    fail,
    progress,
)
from tldops.directory import actions, queries
from tldops.directory.management.common import cli_actor, error, no_rows, tld_arg, write_rows
from tldops.directory.models import Invitation
from tldops.kernel.errors import DirectoryError

USAGE = """tldops invite TLD [TLD …] [--batch NAME] [--dry-run]
       tldops invite --from A --to C [--batch NAME] [--dry-run] [--include-invited]
       tldops invite status [--status S] [--batch NAME] [--format table|json|csv]
       tldops invite remind"""

DESCRIPTION = """\
Invite ccTLDs to name their security contacts: each invitation is mailed to the ccTLD's IANA
administrative contact, with a signed link that expires and works once; the admin contact may
also reply by mail. Inviting a ccTLD again replaces its open invitation.

  tldops invite fr .nl рф            invite these ccTLDs (A-label, U-label, any case)
  tldops invite --from a --to c      every delegated ccTLD from a… to c… (by A-label) that has no
                                     contact yet and no open invitation
  tldops invite status               who was invited, reminded, answered
  tldops invite remind               send the reminders that are due now and expire old
                                     invitations (the worker does this every hour)
"""


class Command(BaseCommand):
    help = "Invite ccTLDs, track invitations, send due reminders."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: object) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = DescriptionHelpFormatter
        parser.usage = USAGE
        parser.description = DESCRIPTION
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "words",
            nargs="*",
            metavar="TLD|status|remind",
            help="ccTLDs to invite, or the word status or remind.",
        )
        parser.add_argument(
            "--from", dest="first", metavar="A", help="First ccTLD of an alphabetical batch."
        )
        parser.add_argument(
            "--to", dest="last", metavar="C", help="Last ccTLD (or prefix) of the batch."
        )
        parser.add_argument(
            "--batch", default="", help="A name for this batch, to track it (e.g. 2025-06-africa)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would be invited; send nothing."
        )
        parser.add_argument(
            "--include-invited",
            action="store_true",
            help="With --from/--to: also re-invite ccTLDs whose invitation is still open.",
        )
        parser.add_argument(
            "--status",
            choices=Invitation.Status.values,
            help="With status: only invitations in this state.",
        )
        add_format_argument(parser)

    def handle(self, *args: object, **options: object) -> None:
        words: list[str] = list(options["words"])  # type: ignore[arg-type]
        if words[:1] == ["status"]:
            if len(words) > 1:
                raise fail(_("`tldops invite status` takes no other argument."), EXIT_USAGE)
            return self.status(options)
        if options["status"]:
            raise fail(_("--status goes with `tldops invite status`."), EXIT_USAGE)
        if words[:1] == ["remind"]:
            if len(words) > 1:
                raise fail(_("`tldops invite remind` takes no other argument."), EXIT_USAGE)
            sent = actions.send_due_reminders()
            self.stdout.write(_("%(n)d reminder(s) sent.") % {"n": sent})
            return None
        batch = bool(options["first"] or options["last"])
        if batch and words:
            raise fail(_("Name ccTLDs or give --from/--to, not both."), EXIT_USAGE)
        if batch:
            tlds = self.batch_tlds(options)
        elif words:
            tlds = [tld_arg(w) for w in words]  # all resolved before anything is sent
        else:
            raise fail(
                _("Name the ccTLDs to invite, or give --from and --to. See tldops invite --help."),
                EXIT_USAGE,
            )
        return self.invite(tlds, options, skip_covered=batch)

    def batch_tlds(self, options: dict) -> list[Tld]:
        first = (options["first"] or "a").strip(".").lower()
        last = (options["last"] or "z").strip(".").lower()
        if first > last:
            raise fail(_("--from must come before --to in the alphabet."), EXIT_USAGE)
        return list(
            queries.invitation_candidates(
                first, last, include_invited=bool(options["include_invited"])
            )
        )

    def invite(self, tlds: list[Tld], options: dict, *, skip_covered: bool) -> None:
        fmt = options["format"]
        columns = ["tld", "admin_contact", "result", "detail"]
        if options["dry_run"]:
            rows = [
                {
                    "tld": t.display,
                    "admin_contact": t.admin_email,
                    "result": "would invite" if t.admin_email else "would skip",
                    "detail": "" if t.admin_email else _("no admin contact address"),
                }
                for t in tlds
            ]
            write_rows(self, rows, columns, fmt, title=_("Dry run: nothing sent"))
            return
        if not tlds:
            if not no_rows(self, fmt, _("No ccTLD to invite.")):
                write_rows(self, [], columns, fmt)
            return
        try:
            invited, skipped = actions.invite_batch(
                progress(tlds, total=len(tlds), description=_("Inviting")),
                actor=cli_actor(),
                batch=options["batch"],
                skip_covered=skip_covered,
            )
        except DirectoryError as exc:
            raise error(exc) from None
        rows = [
            {"tld": i.tld.display, "admin_contact": i.sent_to, "result": "invited", "detail": ""}
            for i in invited
        ] + [
            {"tld": t.display, "admin_contact": t.admin_email, "result": "skipped", "detail": why}
            for t, why in skipped
        ]
        write_rows(self, rows, columns, fmt, title=_("Invitations"))
        # Named ccTLDs that could not be invited are an error; a batch skips by design.
        if skipped and not skip_covered:
            raise fail(
                _("%(n)d ccTLD(s) could not be invited; see above.") % {"n": len(skipped)},
                EXIT_ERROR,
            )

    def status(self, options: dict) -> None:
        now = timezone.now()
        rows = [
            {
                "tld": i.tld.display,
                "sent_to": i.sent_to,
                "batch": i.batch,
                "status": (
                    "expired"
                    if i.status == Invitation.Status.SENT and i.expires_at <= now
                    else i.status
                ),
                "invited": i.created_at.strftime("%Y-%m-%d"),
                "reminders": i.reminders_sent,
                "last_sent": i.last_sent_at.strftime("%Y-%m-%d"),
                "expires": i.expires_at.strftime("%Y-%m-%d"),
                "answered": i.answered_at.strftime("%Y-%m-%d") if i.answered_at else "",
            }
            for i in queries.invitation_tracking(
                status=options["status"] or "", batch=options["batch"]
            )
        ]
        columns = [
            "tld",
            "sent_to",
            "batch",
            "status",
            "invited",
            "reminders",
            "last_sent",
            "expires",
            "answered",
        ]
        if not rows and no_rows(self, options["format"], _("No invitation matches.")):
            return
        write_rows(self, rows, columns, options["format"], title=_("Invitations"))
