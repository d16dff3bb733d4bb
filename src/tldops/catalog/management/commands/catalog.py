"""``tldops catalog``: load, refresh, list, show, edit and tag the ccTLD catalog.

A thin door: every subcommand parses its arguments and calls :mod:`tldops.catalog.baseline`,
:mod:`tldops.catalog.sync`, :mod:`tldops.catalog.editing` or :mod:`tldops.catalog.services`.
"""

from __future__ import annotations

import getpass
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from tldops.catalog import baseline, editing, services, sync
from tldops.catalog.models import Tld
from tldops.cli import EXIT_ERROR, EXIT_NOT_FOUND, add_format_argument, emit, fail
from tldops.directory.audit import Actor
from tldops.kernel.errors import DirectoryError, NotFound

LIST_COLUMNS_TABLE = [
    "alabel",
    "ulabel",
    "kind",
    "iso_code",
    "country_name",
    "manager",
    "regions",
    "nameservers",
    "has_ds",
    "delegated",
]
LIST_COLUMNS_FULL = [
    "alabel",
    "ulabel",
    "kind",
    "iso_code",
    "reserved_code",
    "country_name",
    "script",
    "manager",
    "admin_org",
    "admin_email",
    "tech_org",
    "tech_email",
    "hand_set",
    "has_ds",
    "delegated",
    "retired_at",
    "regions",
    "nameservers",
    "synced_at",
]


def tld_row(tld: Tld, *, full: bool) -> dict[str, Any]:
    """A ccTLD as a flat dict (name servers and regions from the prefetch)."""
    nameservers = list(tld.nameservers.all())
    row: dict[str, Any] = {
        name: getattr(tld, name)
        for name in LIST_COLUMNS_FULL
        if name not in ("regions", "nameservers")
    }
    row["regions"] = [r.code for r in tld.regions.all()]
    row["hand_set"] = [
        f"{p.field} ({p.source}, {p.by}, {p.at})"
        for p in editing.provenance(tld)
        if p.source != "iana"
    ]
    if full:
        row["nameservers"] = [
            {"hostname": ns.hostname, "ipv4": ns.ipv4, "ipv6": ns.ipv6} for ns in nameservers
        ]
    else:
        row["nameservers"] = len(nameservers)
    for name in ("retired_at", "synced_at"):
        row[name] = row[name].isoformat() if row[name] else None
    return row


def _cli_actor() -> Actor:
    """Whoever runs the command on the machine: trusted like the machine's operator."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(label=f"cli:{user}", door="cli")


def _dicts(changes: list[sync.FieldChange]) -> list[dict[str, Any]]:
    return [{"field": c.field, "before": c.before, "after": c.after} for c in changes]


def _read_limited(path: str, limit: int) -> bytes:
    """At most ``limit`` + 1 bytes of ``path`` (``-``: standard input), so that the size check sees
    an oversized file without reading all of it."""
    if path == "-":
        return sys.stdin.buffer.read(limit + 1)
    try:
        with open(path, "rb") as fh:
            return fh.read(limit + 1)
    except OSError as exc:
        raise fail(
            _("Cannot read %(p)s: %(e)s") % {"p": path, "e": exc.strerror or exc}, EXIT_ERROR
        ) from None


class Command(BaseCommand):
    @property
    def help(self) -> str:  # a property so that it is translated in the active language
        return _(
            "The ccTLD catalog: load it from packaged data, refresh it from IANA, list, show, "
            "set contacts by hand or from a CSV file, and tag ccTLDs with regional organisations."
        )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        p = sub.add_parser(
            "load",
            help=_("Load or refresh the catalog offline from packaged data (safe to repeat)."),
            description=_(
                "Build the catalog from the IANA TLD list, the Public Suffix List and pycountry "
                "shipped with tldops. Never deletes: ccTLDs no longer delegated are marked retired."
            ),
        )
        add_format_argument(p)

        p = sub.add_parser(
            "sync",
            help=_("Refresh the catalog from IANA online; shows the plan, applies with --yes."),
            description=_(
                "Read IANA's TLD list, Root Zone Database and root zone file, show what would "
                "change (new and retired ccTLDs, manager, contacts, name servers, DS), then apply "
                "it in one transaction after confirmation."
            ),
        )
        p.add_argument(
            "--dry-run", action="store_true", help=_("Only show the plan; change nothing.")
        )
        p.add_argument("--yes", "-y", action="store_true", help=_("Apply the plan without asking."))
        p.add_argument(
            "--allow-mass-retirement",
            action="store_true",
            help=_("Apply even a plan that retires many ccTLDs at once (normally refused)."),
        )
        p.add_argument(
            "--accept-iana",
            action="append",
            default=[],
            metavar="TLD",
            help=_(
                "Take IANA's manager and contacts for this ccTLD even where they were set by hand "
                "(repeatable). Without it, hand-set values are kept and the differences listed."
            ),
        )
        p.add_argument(
            "--format",
            choices=("table", "json"),
            default="table",
            help=_("How to show the plan: text for people (default) or json."),
        )

        p = sub.add_parser("list", help=_("List ccTLDs."), description=_("List ccTLDs."))
        p.add_argument("--kind", choices=("ascii", "idn"), help=_("Only ASCII or only IDN ccTLDs."))
        p.add_argument("--region", help=_("Only ccTLDs tagged with this region (e.g. centr)."))
        p.add_argument(
            "--search",
            default="",
            help=_("Match the A-label, U-label, ISO code, country or manager."),
        )
        p.add_argument("--delegated-only", action="store_true", help=_("Leave out retired ccTLDs."))
        add_format_argument(p)

        p = sub.add_parser(
            "show",
            help=_("Show one ccTLD with its contacts and name servers."),
            description=_("Show one ccTLD. Accepts fr, .FR, рф or xn--p1ai."),
        )
        p.add_argument("tld", help=_("The ccTLD, e.g. fr, .FR, рф or xn--p1ai."))
        add_format_argument(p)

        p = sub.add_parser(
            "tag",
            help=_("Tag a ccTLD with a regional organisation (or --remove the tag)."),
            description=_("Tag a ccTLD with a regional organisation: aftld, aptld, centr, lactld."),
        )
        p.add_argument("tld", help=_("The ccTLD, e.g. fr or рф."))
        p.add_argument("region", help=_("The region code: aftld, aptld, centr or lactld."))
        p.add_argument("--remove", action="store_true", help=_("Remove the tag instead."))

        p = sub.add_parser(
            "set",
            help=_("Set a ccTLD's manager or IANA contacts by hand (kept by later syncs)."),
            description=_(
                "Set a ccTLD's manager, administrative or technical contact by hand, e.g. when "
                "there is no Internet to run `catalog sync`. The values are marked as set by hand: "
                "a later `catalog sync` keeps them and reports where IANA differs. An empty value "
                "clears a field. --from-iana gives the fields back to IANA."
            ),
        )
        p.add_argument("tld", help=_("The ccTLD, e.g. fr, .FR, рф or xn--p1ai."))
        for name in editing.EDITABLE:
            p.add_argument(
                "--" + name.replace("_", "-"),
                dest=name,
                metavar="EMAIL" if name in editing.EMAIL_FIELDS else "TEXT",
                help=_("The %(f)s.") % {"f": editing.field_label(name)},
            )
        p.add_argument(
            "--from-iana",
            action="store_true",
            help=_(
                "Drop the hand-set marks and take IANA's values (as the last sync saw them; "
                "otherwise the next sync writes them)."
            ),
        )
        add_format_argument(p)

        p = sub.add_parser(
            "import-admins",
            help=_("Import ccTLD admin contacts from a CSV file: a dry run, or --apply."),
            description=_(
                "Read a CSV file whose header is tld and any of manager, admin_org (or admin_name), "
                "admin_email, tech_org (or tech_name), tech_email, and show what it would change. "
                "With --apply, write it all in one transaction, or nothing if any row is wrong. "
                "An empty cell leaves the field as it is."
            ),
        )
        p.add_argument("file", help=_("The CSV file (UTF-8), or - for standard input."))
        p.add_argument(
            "--apply", action="store_true", help=_("Write the changes (default: dry run).")
        )
        p.add_argument(
            "--format",
            choices=("table", "json"),
            default="table",
            help=_("How to show the changes: text for people (default) or json."),
        )

        p = sub.add_parser(
            "regions",
            help=_("List the regional organisations and how many ccTLDs each has."),
            description=_("List the regional organisations."),
        )
        add_format_argument(p)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            getattr(self, f"do_{action.replace('-', '_')}")(options)
        except NotFound as exc:
            raise fail(exc.message, EXIT_NOT_FOUND) from None
        except DirectoryError as exc:
            raise fail(exc.message, EXIT_ERROR) from None
        except sync.SyncError as exc:
            raise fail(str(exc), EXIT_ERROR) from None

    # --- subcommands ----------------------------------------------------------------------------

    def do_load(self, options: dict[str, Any]) -> None:
        counts = baseline.load_baseline(progress=True)
        if options["format"] == "table":
            self.stdout.write(
                _(
                    "Catalog loaded: %(total)d delegated ccTLDs (%(ascii)d ASCII, %(idn)d IDN); "
                    "%(created)d added, %(updated)d updated, %(retired)d retired, "
                    "%(restored)d delegated again."
                )
                % counts
            )
        else:
            emit([counts], list(counts), options["format"], out=self.stdout)

    def do_sync(self, options: dict[str, Any]) -> None:
        accept = [services.tld_detail(t).alabel for t in options["accept_iana"]]
        snapshot = sync.fetch_snapshot(progress=True)
        plan = sync.compute_plan(snapshot, accept_iana=accept)
        as_json = options["format"] == "json"
        if as_json:
            self.stdout.write(json.dumps(plan.as_dict(), ensure_ascii=False, indent=2, default=str))
        else:
            for line in plan.summary_lines():
                self.stdout.write(line)
        if plan.empty:
            if not as_json:
                self.stdout.write(_("The catalog already matches IANA; nothing to apply."))
            if not options["dry_run"]:
                sync.apply_plan(plan)  # records when each ccTLD was last confirmed (synced_at)
            return
        if options["dry_run"]:
            if not as_json:
                self.stdout.write(_("Dry run: nothing was changed."))
            return
        if not options["yes"]:
            if not sys.stdin.isatty():
                raise fail(
                    _("Nothing was applied: run again with --yes to apply this plan."), EXIT_ERROR
                )
            answer = input(_("Apply these changes? [y/N] ")).strip().lower()
            if answer not in ("y", "yes"):
                self.stdout.write(_("Nothing was changed."))
                return
        counts = sync.apply_plan(plan, allow_mass_retirement=options["allow_mass_retirement"])
        msg = _(
            "Applied: %(new)d new, %(restored)d delegated again, %(retired)d retired, "
            "%(changed)d changed."
        )
        (self.stderr if as_json else self.stdout).write(msg % counts)

    def do_list(self, options: dict[str, Any]) -> None:
        tlds = services.list_tlds(
            kind=options["kind"],
            region=options["region"],
            search=options["search"],
            delegated_only=options["delegated_only"],
        )
        fmt = options["format"]
        full = fmt != "table"
        rows = [tld_row(t, full=full) for t in tlds]
        if fmt == "csv":
            for row in rows:
                row["nameservers"] = [ns["hostname"] for ns in row["nameservers"]]
        emit(
            rows,
            LIST_COLUMNS_FULL if full else LIST_COLUMNS_TABLE,
            fmt,
            title=_("ccTLDs (%(n)d)") % {"n": len(rows)},
            out=self.stdout,
        )

    def do_show(self, options: dict[str, Any]) -> None:
        tld = services.tld_detail(options["tld"])
        row = tld_row(tld, full=True)
        fmt = options["format"]
        if fmt == "json":
            self.stdout.write(json.dumps(row, ensure_ascii=False, indent=2, default=str))
            return
        if fmt == "csv":
            row["nameservers"] = [ns["hostname"] for ns in row["nameservers"]]
            emit([row], LIST_COLUMNS_FULL, "csv", out=self.stdout)
            return
        pairs = [
            {"field": name, "value": row[name]}
            for name in LIST_COLUMNS_FULL
            if name != "nameservers"
        ]
        emit(pairs, ["field", "value"], "table", title=tld.display, out=self.stdout)
        emit(
            row["nameservers"],
            ["hostname", "ipv4", "ipv6"],
            "table",
            title=_("Name servers"),
            out=self.stdout,
        )

    def do_tag(self, options: dict[str, Any]) -> None:
        tld = services.tld_detail(options["tld"])
        changed = services.tag_region(
            tld, options["region"], actor=_cli_actor(), remove=options["remove"]
        )
        region = options["region"].lower()
        if options["remove"]:
            msg = _("Removed %(t)s from %(r)s.") if changed else _("%(t)s was not in %(r)s.")
        else:
            msg = _("Tagged %(t)s with %(r)s.") if changed else _("%(t)s was already in %(r)s.")
        self.stdout.write(msg % {"t": tld.display, "r": region})

    def do_set(self, options: dict[str, Any]) -> None:
        tld = services.tld_detail(options["tld"])
        values = {name: options[name] for name in editing.EDITABLE}
        given = {k: v for k, v in values.items() if v is not None}
        as_json = options["format"] == "json"
        if options["from_iana"]:
            if given:
                raise fail(_("Give either values to set or --from-iana, not both."), EXIT_ERROR)
            released, changes = editing.accept_iana(tld, actor=_cli_actor())
            if as_json:
                self._json({"tld": tld.alabel, "released": released, "changes": _dicts(changes)})
            elif not released:
                self.stdout.write(_("No field of %(t)s was set by hand.") % {"t": tld.display})
            else:
                for line in sync.change_lines([sync.TldChange(tld.alabel, tld.display, changes)]):
                    self.stdout.write(line)
                self.stdout.write(
                    _("%(t)s: %(f)s follow IANA again.")
                    % {"t": tld.display, "f": ", ".join(released)}
                )
            return
        if not given:
            raise fail(
                _("Give a value to set, e.g. --admin-email, or --from-iana. See --help."),
                EXIT_ERROR,
            )
        changes = editing.set_contacts(tld, given, actor=_cli_actor())
        if as_json:
            self._json({"tld": tld.alabel, "changes": _dicts(changes)})
            return
        if not changes:
            self.stdout.write(
                _("Nothing changed: %(t)s already has these values.") % {"t": tld.display}
            )
            return
        for line in sync.change_lines([sync.TldChange(tld.alabel, tld.display, changes)]):
            self.stdout.write(line)
        self.stdout.write(
            _(
                "Set by hand: a later `tldops catalog sync` keeps these values and reports where "
                "IANA differs."
            )
        )

    def do_import_admins(self, options: dict[str, Any]) -> None:
        data = _read_limited(options["file"], editing.CSV_MAX_BYTES)
        as_json = options["format"] == "json"
        try:
            if options["apply"]:
                plan = editing.apply_import(data, actor=_cli_actor())
            else:
                plan = editing.plan_import(data, actor=_cli_actor())
        except editing.ImportRefused as exc:
            if as_json:
                self._json({"errors": [e.__dict__ for e in exc.row_errors]})
            raise fail(exc.message, EXIT_ERROR) from None
        if as_json:
            self._json({**plan.as_dict(), "applied": bool(options["apply"])})
            return
        for line in plan.summary_lines():
            self.stdout.write(line)
        if not options["apply"]:
            self.stdout.write(
                _("Dry run: nothing was changed. Run again with --apply to write it.")
            )
        elif plan.empty:
            self.stdout.write(_("Nothing to change."))
        else:
            self.stdout.write(
                _("Applied: %(n)d ccTLDs changed, marked as set by CSV.") % {"n": len(plan.changed)}
            )

    def _json(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str))

    def do_regions(self, options: dict[str, Any]) -> None:
        rows = [
            {"code": r.code, "name": r.name, "cctlds": r.tld_count} for r in services.list_regions()
        ]
        emit(rows, ["code", "name", "cctlds"], options["format"], out=self.stdout)
