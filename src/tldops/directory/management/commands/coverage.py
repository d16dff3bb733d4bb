"""``tldops coverage``: how many ccTLDs are members, overall, by kind and by region."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from tldops.cli import add_format_argument
from tldops.directory import queries
from tldops.directory.management.common import write_rows


class Command(BaseCommand):
    help = (
        "Coverage of the community: member ccTLDs (with at least one active contact) against all "
        "delegated ccTLDs, overall, ASCII/IDN and by regional organisation. Public information."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tlds",
            action="store_true",
            help="List every delegated ccTLD with whether it is a member, instead of the totals.",
        )
        add_format_argument(parser)

    def handle(self, *args: object, **options: object) -> None:
        cov = queries.coverage()
        fmt = options["format"]
        if options["tlds"]:
            rows = [
                {
                    "tld": t.display,
                    "country": t.country_name,
                    "kind": t.kind,
                    "member": t in cov.members,
                }
                for t in sorted([*cov.members, *cov.not_subscribed], key=lambda t: t.alabel)
            ]
            write_rows(self, rows, ["tld", "country", "kind", "member"], fmt, title=_("ccTLDs"))
            return
        rows = [{"scope": "overall", **_share(cov.overall)}]
        rows += [{"scope": kind, **_share(share)} for kind, share in cov.by_kind.items()]
        rows += [
            {"scope": f"region:{code}", **_share(share)} for code, share in cov.by_region.items()
        ]
        write_rows(self, rows, ["scope", "covered", "total", "percent"], fmt, title=_("Coverage"))


def _share(share: queries.Share) -> dict[str, object]:
    return {"covered": share.covered, "total": share.total, "percent": share.percent}
