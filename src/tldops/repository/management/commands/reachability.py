"""``tldops reachability``: the rounds, the report, starting a round, sending what is due."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from tldops.cli import EXIT_USAGE, DescriptionHelpFormatter, add_format_argument, fail
from tldops.directory.management.common import cli_actor, error, no_rows, write_rows
from tldops.kernel.errors import DirectoryError
from tldops.repository import reachability, schedule

DESCRIPTION = """\
Reachability checks: every REACHABILITY_INTERVAL_MONTHS months each active contact gets a short
mail and answers with one click or one reply; unanswered after REACHABILITY_GRACE_DAYS a reminder,
after REACHABILITY_ESCALATE_DAYS more their colleagues and the secretariat are told. The worker
does all of this by itself; these commands show where things stand and act by hand.

  tldops reachability status                 every round: checked, answered, reminded, told
  tldops reachability report                 per ccTLD: contacts, reachable, percentage
  tldops reachability report --by region     per regional organisation
  tldops reachability report --by oldest     the contacts unverified for longest
  tldops reachability report --by at-risk    member ccTLDs without a reachable contact
  tldops reachability start                  start the round that is due now, if not yet run
  tldops reachability start --period 2026-11-extra
                                             start an extra round under a name of your choice
  tldops reachability remind                 send the reminders and escalations due now
"""

ROUND_COLUMNS = [
    "period",
    "started",
    "trigger",
    "challenged",
    "answered",
    "answered_pct",
    "on_time",
    "on_time_pct",
    "reminded",
    "escalated",
]
SHARE_COLUMNS = ["key", "label", "tlds", "contacts", "reachable", "percent", "at_risk"]
OLDEST_COLUMNS = ["tld", "number", "name", "email", "last_reachable", "bounced", "challenge"]


class Command(BaseCommand):
    help = "Reachability checks: rounds, report, start a round, send due reminders."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = DescriptionHelpFormatter
        parser.description = DESCRIPTION
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", metavar="status|report|start|remind")
        sub.required = True
        status = sub.add_parser(
            "status", help="Every round with its answers, reminders and escalations."
        )
        add_format_argument(status)
        report = sub.add_parser("report", help="Who is reachable, per ccTLD or region.")
        report.add_argument(
            "--by",
            choices=["tld", "region", "oldest", "at-risk"],
            default="tld",
            help="Rows per ccTLD (default), per region, the oldest unverified contacts, or the "
            "member ccTLDs at risk.",
        )
        report.add_argument(
            "--limit",
            type=int,
            default=reachability.OLDEST_LIMIT,
            help="With --by oldest: how many contacts (default %(default)s; 0 for all).",
        )
        add_format_argument(report)
        start = sub.add_parser(
            "start",
            help="Start a round now: one check mail per active contact.",
            description="Start a round now. Without --period, the round the schedule says is due "
            "(e.g. 2026-Q4), unless it already ran. Each period runs once.",
        )
        start.add_argument(
            "--period",
            help="A name for the round: 1–16 letters, digits, dots, dashes (e.g. 2026-11-extra).",
        )
        add_format_argument(start)
        sub.add_parser(
            "remind",
            help="Send the reminders and escalations that are due now (the worker does this "
            "every minute).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "status":
            return self.status(options["format"])
        if action == "report":
            return self.report(options)
        if action == "start":
            return self.start(options)
        if action == "remind":
            reminders, escalations = reachability.send_due_reminders()
            self.stdout.write(
                _("%(r)d reminder(s) and %(e)d escalation(s) sent.")
                % {"r": reminders, "e": escalations}
            )
            return None
        raise fail(_("Unknown action; see tldops reachability --help."), EXIT_USAGE)

    def status(self, fmt: str) -> None:
        rows = [
            {
                "period": s.period,
                "started": s.started_at.strftime("%Y-%m-%d %H:%M"),
                "trigger": s.trigger,
                "challenged": s.challenged,
                "answered": s.answered,
                "answered_pct": s.percent,
                "on_time": s.on_time,
                "on_time_pct": s.percent_on_time,
                "reminded": s.reminded,
                "escalated": s.escalated,
            }
            for s in reversed(reachability.trend())
        ]
        if not rows and no_rows(self, fmt, _("No reachability round has run yet.")):
            return
        write_rows(self, rows, ROUND_COLUMNS, fmt, title=_("Reachability rounds"))

    def report(self, options: dict[str, Any]) -> None:
        fmt, by = options["format"], options["by"]
        if by == "oldest":
            limit = options["limit"] or None
            states = reachability.oldest_unverified(reachability.contact_states(), limit)
            rows = [
                {
                    "tld": s.tld,
                    "number": s.number,
                    "name": s.name,
                    "email": s.email,
                    "last_reachable": (
                        s.last_reachable.strftime("%Y-%m-%d") if s.last_reachable else ""
                    ),
                    "bounced": s.bounced,
                    "challenge": s.challenge,
                }
                for s in states
            ]
            if not rows and no_rows(self, fmt, _("Every contact answered the latest round.")):
                return
            write_rows(self, rows, OLDEST_COLUMNS, fmt, title=_("Oldest unverified contacts"))
            return
        rep = reachability.report(oldest=0)
        shares = {"tld": rep.by_tld, "region": rep.by_region, "at-risk": rep.at_risk}[by]
        rows = [
            {c: getattr(s, c) for c in SHARE_COLUMNS if c != "percent"} | {"percent": s.percent}
            for s in shares
        ]
        empty = {
            "tld": _("No member ccTLD yet."),
            "region": _("No member ccTLD is tagged with a region."),
            "at-risk": _("No member ccTLD is at risk."),
        }[by]
        if not rows and no_rows(self, fmt, empty):
            return
        if fmt == "table":
            o = rep.overall
            self.stdout.write(
                _("Overall: %(r)d of %(c)d contacts reachable (%(p)s %%); %(a)d of %(t)d member "
                  "ccTLDs at risk.")
                % {"r": o.reachable, "c": o.contacts, "p": o.percent, "a": o.at_risk, "t": o.tlds}
            )  # fmt: skip
        write_rows(self, rows, SHARE_COLUMNS, fmt, title=_("Reachability"))

    def start(self, options: dict[str, Any]) -> None:
        from django.utils import timezone

        period = options["period"] or schedule.due_round(timezone.now())[0]
        try:
            rnd = reachability.start_round(period, trigger="cli", actor=cli_actor())
        except DirectoryError as exc:
            message = exc.message
            if not options["period"] and isinstance(exc, reachability.AlreadyStarted):
                message += " " + _("Give --period with a new name to start an extra round.")
            exc.message = message
            raise error(exc) from None
        rows = [
            {"period": rnd.period, "challenged": rnd.challenges.count(), "trigger": rnd.trigger}
        ]
        write_rows(
            self, rows, ["period", "challenged", "trigger"], options["format"], title=_("Started")
        )
