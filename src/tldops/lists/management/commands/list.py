"""``tldops list``: the list's per-sender DMARC overrides, pinned senders and bounce scores, and
the archive's reindex."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops.cli import add_format_argument
from tldops.directory import bounces
from tldops.directory.management.common import cli_actor, error, no_rows, write_rows
from tldops.directory.models import BounceScore
from tldops.kernel.errors import DirectoryError
from tldops.lists import archive, overrides


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


class Command(BaseCommand):
    help = (
        "The mailing list's settings per sender and its bounce scores: DMARC overrides "
        "(always/never rewrite an author's From) and which addresses bounce or are unreachable."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

        p = sub.add_parser("overrides", help="List the per-sender DMARC overrides.")
        add_format_argument(p)

        p = sub.add_parser(
            "override",
            help="Set how an author's From is treated: always rewrite, never rewrite, or auto "
            "(by the author's DMARC policy; removes the override).",
        )
        p.add_argument("address", help="The author's address.")
        p.add_argument("dmarc", choices=overrides.CHOICES, help="always | never | auto")
        p.add_argument("--note", default="", help="Why (kept with the override).")

        p = sub.add_parser(
            "pin",
            help="Pin a sender: their posts are not held merely because their domain offers no "
            "way to verify them (no DMARC, no SPF -all, no signature). A proven forgery still is.",
        )
        p.add_argument("address", help="The author's address.")
        p.add_argument("--off", action="store_true", help="Unpin instead.")
        p.add_argument("--note", default="", help="Why (kept with the override).")

        p = sub.add_parser(
            "bounces", help="Addresses with a bounce score, highest first (score decays)."
        )
        p.add_argument(
            "--unreachable", action="store_true", help="Only the addresses marked unreachable."
        )
        add_format_argument(p)

        p = sub.add_parser(
            "reachable",
            help="Clear an address's bounce score and mark it reachable again "
            "(after the member fixed their mail).",
        )
        p.add_argument("address", help="The address.")

        sub.add_parser(
            "reindex",
            help="Read the archived posts' text again as their authors wrote it (without the "
            "list footer) and update the search index; safe to interrupt and run again.",
        )

    def handle(self, *args: object, **options: object) -> None:
        try:
            getattr(self, f"do_{options['action']}")(options)
        except DirectoryError as exc:
            raise error(exc) from None

    def do_overrides(self, options: dict) -> None:
        rows = [
            {"address": o.address, "dmarc": o.dmarc, "pinned": o.pinned, "note": o.note}
            for o in overrides.all_overrides()
        ]
        if not rows and no_rows(self, options["format"], _("No sender override is set.")):
            return
        write_rows(self, rows, ["address", "dmarc", "pinned", "note"], options["format"])

    def do_override(self, options: dict) -> None:
        row = overrides.set_override(
            options["address"], options["dmarc"], note=options["note"], actor=cli_actor()
        )
        self.stdout.write(
            _("DMARC treatment of %(a)s is now “%(d)s”.") % {"a": row.address, "d": row.dmarc}
        )

    def do_pin(self, options: dict) -> None:
        row = overrides.pin_sender(
            options["address"], not options["off"], note=options["note"], actor=cli_actor()
        )
        if options["off"]:
            self.stdout.write(_("%(a)s is no longer pinned.") % {"a": row.address})
        else:
            self.stdout.write(
                _("%(a)s is pinned: their posts are held only on a proven forgery.")
                % {"a": row.address}
            )

    def do_bounces(self, options: dict) -> None:
        now = timezone.now()
        rows = []
        qs = BounceScore.objects.select_related("person")
        if options["unreachable"]:
            qs = qs.filter(unreachable_since__isnull=False)
        for row in qs:
            rows.append(
                {
                    "address": row.address,
                    "person": row.person.name if row.person else "",
                    "score": round(bounces.decayed(row.score, row.updated_at, now), 2),
                    "last_bounce": _when(row.last_bounce_at),
                    "unreachable_since": _when(row.unreachable_since),
                }
            )
        rows.sort(key=lambda r: (-r["score"], r["address"]))
        if not rows and no_rows(self, options["format"], _("No address has bounced.")):
            return
        columns = ["address", "person", "score", "last_bounce", "unreachable_since"]
        write_rows(self, rows, columns, options["format"], title=_("Bounce scores"))

    def do_reachable(self, options: dict) -> None:
        row = bounces.record_success(options["address"], why=_("cleared on the command line"))
        if row is None:
            self.stdout.write(_("%(a)s has no bounce score.") % {"a": options["address"]})
            return
        self.stdout.write(_("%(a)s is marked reachable again.") % {"a": row.address})

    def do_reindex(self, options: dict) -> None:
        changed = archive.reindex()
        self.stdout.write(
            _("%(n)d archived post(s) read again; the others were already right.") % {"n": changed}
        )
