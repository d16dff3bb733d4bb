"""``tldops repository``: export, send, list and re-send the monthly contact repository."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops.cli import EXIT_ERROR, add_format_argument, fail, subcommand
from tldops.directory.management.common import cli_actor, error, no_rows, write_rows
from tldops.directory.queries import members
from tldops.kernel.errors import DirectoryError
from tldops.repository import editions, reachability, signing


class Command(BaseCommand):
    help = (
        "The monthly contact repository: export it on demand (text, CSV, vCard, PDF), send an "
        "edition now, list the editions sent, send a past edition again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

        p = subcommand(
            sub,
            "export",
            "Write the contact repository: the current directory, or a stored edition "
            "exactly as it was sent.",
        )
        p.add_argument(
            "--format",
            required=True,
            choices=list(editions.FORMATS),
            help="txt (the mail body), csv, vcf (vCard 4.0) or pdf.",
        )
        p.add_argument(
            "--period", help="A stored edition, e.g. 2026-11. Default: the current directory."
        )
        p.add_argument(
            "-o",
            "--output",
            metavar="FILE",
            help="Write to FILE (default: standard output; a PDF needs -o or a redirection).",
        )

        p = subcommand(
            sub,
            "send",
            "Send an edition to every active member now (once per period: refused when that "
            "period was already sent).",
        )
        p.add_argument(
            "--period", help="The edition, e.g. 2026-11. Default: the current month (UTC)."
        )
        p.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

        p = subcommand(
            sub,
            "schedule",
            "When the worker next sends an edition and starts a reachability round by itself "
            "(nothing is due before the first contact confirms; see TLDOPS_SCHEDULE_FROM).",
        )
        add_format_argument(p)

        p = subcommand(sub, "editions", "List the editions sent, newest first.")
        add_format_argument(p)

        p = subcommand(
            sub,
            "resend",
            "Send a stored edition again, byte for byte (still signed), to every active "
            "member or to the members named with --to.",
        )
        p.add_argument("period", help="The edition, e.g. 2026-11.")
        p.add_argument(
            "--to",
            action="append",
            default=[],
            metavar="EMAIL",
            help="An active member's address; repeat for several. Default: every active member.",
        )

    def handle(self, *args: object, **options: object) -> None:
        try:
            getattr(self, "do_" + str(options["action"]))(options)
        except DirectoryError as exc:
            raise error(exc) from None
        except signing.SigningError as exc:
            raise fail(str(exc), EXIT_ERROR) from None

    def do_export(self, options: dict) -> None:
        content, _type, name = editions.export(options["format"], period=options["period"])
        output = options["output"]
        if output:
            Path(output).write_bytes(content)
            self.stderr.write(
                _("Wrote %(file)s (%(n)d bytes).") % {"file": output, "n": len(content)}
            )
            return
        if options["format"] == "pdf" and sys.stdout.isatty():
            raise fail(_("A PDF is not for the terminal: add -o %(name)s.") % {"name": name})
        out = getattr(self.stdout, "_out", sys.stdout)
        if hasattr(out, "buffer"):  # a real stream: the bytes as they are
            out.flush()
            out.buffer.write(content)
            out.buffer.flush()
        else:  # e.g. call_command(stdout=StringIO())
            out.write(content.decode("utf-8"))

    def do_schedule(self, options: dict) -> None:

        now = timezone.now()
        edition = editions.next_due(now)
        rnd = reachability.next_due(now)
        waiting = _("not before the first contact confirms")
        rows = []
        for what, period, at in (
            (_("monthly edition"), f"{edition:%Y-%m}" if edition else "", edition),
            (_("reachability round"), rnd[0] if rnd else "", rnd[1] if rnd else None),
        ):
            note = (
                waiting
                if at is None
                else _("due now, at the worker's next minute")
                if at <= now
                else ""
            )
            rows.append(
                {
                    "what": what,
                    "period": period,
                    "due_at": f"{at:%Y-%m-%d %H:%M} UTC"
                    if at and options["format"] == "table"
                    else at,
                    "note": note,
                }
            )
        columns = ["what", "period", "due_at", "note"]
        write_rows(self, rows, columns, options["format"], title=_("Schedule"))

    def do_send(self, options: dict) -> None:
        period = editions.check_period(options["period"] or f"{timezone.now():%Y-%m}")
        existing = editions.history().filter(period=period).first()
        if existing is not None:
            raise fail(
                _(
                    "Edition %(p)s was already sent on %(when)s to %(n)d members; it is sent once. "
                    "To send it again: tldops repository resend %(p)s [--to EMAIL]."
                )
                % {
                    "p": period,
                    "when": f"{existing.sent_at or existing.generated_at:%Y-%m-%d %H:%M} UTC",
                    "n": existing.recipients,
                }
            )
        count = members().count()
        if not options["yes"]:
            if not sys.stdin.isatty():
                raise fail(_("Not sent: add --yes to send without being asked."))
            answer = input(
                _("Send edition %(p)s to %(n)d active members now? [y/N] ")
                % {"p": period, "n": count}
            )
            if answer.strip().lower() not in ("y", "yes"):
                self.stdout.write(_("Not sent."))
                return
        edition = editions.publish(period, trigger="cli")
        if edition is None:
            raise fail(_("Edition %(p)s was sent by another process meanwhile.") % {"p": period})
        signed = (
            _("signed with %(fpr)s") % {"fpr": edition.signer} if edition.signer else _("unsigned")
        )
        self.stdout.write(
            _(
                "Edition %(p)s queued for %(n)d members (%(people)d people, %(cctlds)d ccTLDs, "
                "%(signed)s)."
            )
            % {
                "p": period,
                "n": edition.recipients,
                "people": edition.people,
                "cctlds": edition.cctlds,
                "signed": signed,
            }
        )

    def do_editions(self, options: dict) -> None:
        rows = [
            {
                "period": e.period,
                "generated_at": f"{e.generated_at:%Y-%m-%d %H:%M}",
                "sent_at": f"{e.sent_at:%Y-%m-%d %H:%M}" if e.sent_at else "",
                "people": e.people,
                "cctlds": e.cctlds,
                "recipients": e.recipients,
                "signed_by": e.signer,
                "trigger": e.trigger,
            }
            for e in editions.history()
        ]
        columns = [
            "period",
            "generated_at",
            "sent_at",
            "people",
            "cctlds",
            "recipients",
            "signed_by",
            "trigger",
        ]
        if not rows and no_rows(self, options["format"], _("No edition has been sent yet.")):
            return
        write_rows(self, rows, columns, options["format"], title=_("Contact repository editions"))

    def do_resend(self, options: dict) -> None:
        out = editions.resend(options["period"], to=options["to"] or None, actor=cli_actor())
        self.stdout.write(
            _("Edition %(p)s queued again for %(n)d address(es).")
            % {"p": options["period"], "n": out.deliveries.count()}
        )
