"""``tldops alert raise|list|show|react|close|status|export|import|filters``: the command line's door onto
:mod:`tldops.alerts.services`.

The command line runs on the server, as its operator; TLP still applies. Every subcommand acts as
a person named with ``--as EMAIL`` (a member or staff) and shows only what that person may read:
an operator who is not named on a RED alert cannot print it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from tldops.alerts import exchange, notify, services, slices
from tldops.alerts.models import Alert, AlertFilter, Reaction
from tldops.cli import EXIT_NOT_FOUND, add_format_argument, fail
from tldops.directory.management.common import cli_actor, error, no_rows, write_rows
from tldops.directory.models import Person
from tldops.kernel.errors import DirectoryError

LIST_COLUMNS = [
    "id",
    "tlp",
    "kind",
    "category",
    "severity",
    "status",
    "title",
    "affected",
    "created",
]


def _person(email: str) -> Person:
    person = Person.objects.filter(email__iexact=(email or "").strip()).first()
    if person is None:
        raise fail(
            _("Nobody in the directory has the address %(a)s.") % {"a": email}, EXIT_NOT_FOUND
        )
    return person


def add_subcommands(sub: Any, make: Callable[..., argparse.ArgumentParser]) -> None:
    """Add the subcommands to the ``alert`` command's subparsers (``make`` is its ``_sub``)."""
    tlp_help = "CLEAR, GREEN, AMBER, AMBER+STRICT or RED (required)."

    p = make(sub, "raise", "Raise an alert, a query or an advisory as a member or staff.")
    p.add_argument("--as", dest="as_", metavar="EMAIL", required=True, help="The author's address.")
    p.add_argument("--title", required=True)
    p.add_argument("--category", required=True, help=", ".join(Alert.Category.values) + ".")
    p.add_argument("--tlp", required=True, help=tlp_help)
    p.add_argument("--kind", default="alert", help="alert, query or advisory (default alert).")
    p.add_argument("--severity", default="medium", help="low, medium, high or critical.")
    p.add_argument("--body", default="", help="The text (Markdown); - reads standard input.")
    p.add_argument("--affected", action="append", default=[], metavar="TLD", help="Repeatable.")
    p.add_argument("--to", action="append", default=[], metavar="EMAIL", help="RED: a reader.")
    p.add_argument("--to-affected", action="store_true", help="RED: the affected ccTLDs' contacts.")
    p.add_argument("--public", action="store_true", help="CLEAR only: shown on public pages.")
    p.add_argument("--indicators", metavar="FILE", help="A list of indicators, one a line.")
    add_format_argument(p)

    p = make(sub, "list", "The alerts a person may read, newest first, with filters.")
    p.add_argument("--as", dest="as_", metavar="EMAIL", required=True, help="The reader.")
    for name in ("category", "tld", "tlp", "status", "text"):
        p.add_argument(f"--{name}", default="")
    add_format_argument(p)

    p = make(sub, "show", "One alert, as a person may read it.")
    p.add_argument("id", type=int)
    p.add_argument("--as", dest="as_", metavar="EMAIL", required=True, help="The reader.")
    p.add_argument("--format", choices=("table", "json"), default="table")

    p = make(
        sub, "react", "Answer an alert: seen (with --count), not-seen, false-positive, mitigated."
    )
    p.add_argument("id", type=int)
    p.add_argument("kind", choices=Reaction.Kind.values)
    p.add_argument("--as", dest="as_", metavar="EMAIL", required=True)
    p.add_argument("--count", type=int)
    p.add_argument("--note", default="")

    p = make(
        sub,
        "export",
        "One alert as a STIX 2.1 bundle or a MISP event (JSON), TLP marked, as a person may read it.",
    )
    p.add_argument("id", type=int)
    p.add_argument("--format", choices=exchange.FORMATS, required=True)
    p.add_argument("--as", dest="as_", metavar="EMAIL", required=True, help="The reader.")
    p.add_argument("-o", "--output", metavar="FILE", help="Write to FILE (default: stdout).")

    p = make(
        sub,
        "import",
        "Raise an alert from a STIX 2.1 bundle or a MISP event: its title, text, TLP, indicators.",
    )
    p.add_argument("file", metavar="FILE", help="The document; - reads standard input.")
    p.add_argument("--format", choices=exchange.FORMATS, required=True)
    p.add_argument("--as", dest="as_", metavar="EMAIL", required=True, help="The author.")
    p.add_argument("--to", action="append", default=[], metavar="EMAIL", help="RED: a reader.")
    p.add_argument("--to-affected", action="store_true", help="RED: the affected ccTLDs' contacts.")
    p.add_argument("--dry-run", action="store_true", help="Read the document, store nothing.")

    p = make(
        sub,
        "filters",
        "A person's personal alert filters: list them, --add one or --delete one.",
        "Examples:\n"
        "  tldops alert filters --as jan@nic.nl\n"
        "  tldops alert filters --as jan@nic.nl --add --category ddos --tld nl "
        "--min-severity high --mode digest\n"
        "  tldops alert filters --as jan@nic.nl --delete 12",
    )
    p.add_argument("--as", dest="as_", metavar="EMAIL", required=True, help="Whose filters.")
    action = p.add_mutually_exclusive_group()
    action.add_argument("--add", action="store_true", help="Add a filter (then list them).")
    action.add_argument("--delete", type=int, metavar="ID", help="Delete filter ID (theirs).")
    p.add_argument(
        "--category",
        action="append",
        default=[],
        metavar="CATEGORY",
        help="Repeatable; none: every category. " + ", ".join(Alert.Category.values) + ".",
    )
    p.add_argument(
        "--tld", action="append", default=[], metavar="TLD", help="Repeatable; none: all."
    )
    p.add_argument("--min-severity", default="low", help="low, medium, high or critical.")
    p.add_argument(
        "--mode",
        default=AlertFilter.Mode.IMMEDIATE,
        help="immediate (one mail per alert) or digest (one mail a day).",
    )
    add_format_argument(p)

    p = make(sub, "close", "Mark an alert resolved (its author or staff).")
    p.add_argument("id", type=int)
    p.add_argument("--as", dest="as_", metavar="EMAIL", required=True)

    p = make(
        sub, "status", "Change an alert's status (its author or staff): open, monitoring, resolved."
    )
    p.add_argument("id", type=int)
    p.add_argument("status", choices=Alert.Status.values)
    p.add_argument("--as", dest="as_", metavar="EMAIL", required=True)


def _row(a: Alert) -> dict[str, Any]:
    return {
        "id": a.pk,
        "tlp": a.label.tag,
        "kind": a.kind,
        "category": a.category,
        "severity": a.severity,
        "status": a.status,
        "title": a.title,
        "affected": " ".join(services.affected_alabels(a)),
        "created": f"{a.created_at:%Y-%m-%d %H:%M}",
    }


def run(command: BaseCommand, options: dict[str, Any]) -> bool:
    """Run the subcommand if it is one of these; ``False`` if it is not."""
    handler = HANDLERS.get(str(options["action"]))
    if handler is None:
        return False
    try:
        handler(command, options)
    except DirectoryError as exc:
        messages = [f"{e.field}: {e.message}" if e.field else e.message for e in exc.errors]
        exc.message = "\n".join(messages)
        raise error(exc) from None
    return True


def _raise(command: BaseCommand, options: dict[str, Any]) -> None:
    author = _person(options["as_"])
    body = sys.stdin.read(200_001) if options["body"] == "-" else options["body"]
    data = services.AlertInput(
        title=options["title"],
        category=options["category"],
        tlp=options["tlp"],
        kind=options["kind"],
        severity=options["severity"],
        body=body,
        affected=options["affected"],
        public=options["public"],
        recipients=options["to"],
        red_to_affected=options["to_affected"],
    )
    alert = services.raise_alert(author, data, actor=cli_actor())
    if options["indicators"]:
        with open(options["indicators"], "rb") as stream:
            result = services.add_indicators(author, alert.pk, stream, actor=cli_actor())
        for line, message in result.errors:
            command.stderr.write(_("line %(n)d: %(m)s") % {"n": line, "m": message})
    write_rows(command, [_row(alert)], LIST_COLUMNS, options["format"], title=_("Alert raised"))


def _list(command: BaseCommand, options: dict[str, Any]) -> None:
    reader = _person(options["as_"])
    filters = services.Filters(
        **{k: options[k] for k in ("category", "tld", "tlp", "status", "text")}
    )
    rows = [_row(a) for a in services.search(reader, filters)[:1000]]
    if not rows and no_rows(command, options["format"], _("No alert matches.")):
        return
    write_rows(command, rows, LIST_COLUMNS, options["format"], title=_("Alerts"))


def _show(command: BaseCommand, options: dict[str, Any]) -> None:
    alert = services.get(_person(options["as_"]), options["id"])
    detail = {
        **_row(alert),
        "author": alert.author.name,
        "author_tld": alert.author_tld.alabel if alert.author_tld else "",
        "body": alert.body,
        "reactions": services.reactions_by_tld(alert),
        "indicators": [f"{i.kind}:{i.value}" for i in alert.indicators.all()[:1000]],
        "indicator_count": alert.indicators.count(),
        "slices": _slices_of(alert),
    }
    if options["format"] == "json":
        command.stdout.write(json.dumps(detail, ensure_ascii=False, indent=2))
        return
    # The label first and last, as on every page and export.
    lines = [f"[{alert.label.tag}] #{alert.pk} {alert.title}"]
    for key in (
        "kind",
        "category",
        "severity",
        "status",
        "affected",
        "author",
        "author_tld",
        "created",
    ):
        lines.append(f"  {key}: {detail[key]}")
    lines += ["", alert.body, ""]
    for tld, counts in detail["reactions"].items():
        lines.append(f"  {tld or '-'}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    lines += [f"  {i}" for i in detail["indicators"]]
    lines += _slice_lines(detail["slices"])
    lines.append(f"[{alert.label.tag}]")
    command.stdout.write("\n".join(lines))


def _slices_of(alert: Alert) -> dict[str, Any]:
    """:func:`tldops.alerts.slices.summary`, its times written as ISO 8601 (UTC) for JSON."""
    summary = slices.summary(alert).as_json()
    for s in summary["cctlds"]:
        s["sent_at"] = s["sent_at"].isoformat() if s["sent_at"] else None
    return summary


def _slice_lines(summary: dict[str, Any]) -> list[str]:
    """The per-ccTLD slices sent, for ``show``'s text (nothing when the alert has none)."""
    if not (summary["cctlds"] or summary["not_cctld"] or summary["invalid"] or summary["pending"]):
        return []
    lines = ["", _("Slices sent to each ccTLD:")]
    for s in summary["cctlds"]:
        to = _("contacts") if s["member"] else _("secretariat (no member)")
        sent = s["sent_at"][:16].replace("T", " ") if s["sent_at"] else _("not sent")
        row = _(".%(tld)s: %(n)d names, %(to)s (%(people)d), %(sent)s") % {
            "tld": s["cctld"],
            "n": s["names"],
            "to": to,
            "people": s["recipients"],
            "sent": sent,
        }
        lines.append(f"  {row}" + (f" — {s['note']}" if s["note"] else ""))
    lines.append("  " + _("not under a ccTLD: %(n)d, invalid: %(i)d")
                 % {"n": summary["not_cctld"], "i": summary["invalid"]})  # fmt: skip
    if summary["pending"]:
        lines.append("  " + _("new names wait for the worker"))
    if summary["note"]:
        lines.append("  " + summary["note"])
    return lines


def _react(command: BaseCommand, options: dict[str, Any]) -> None:
    reader = _person(options["as_"])
    data = services.ReactionInput(options["kind"], count=options["count"], note=options["note"])
    services.react(reader, options["id"], data, actor=cli_actor())
    command.stdout.write(_("Answer recorded."))


def _status(command: BaseCommand, options: dict[str, Any]) -> None:
    status = options.get("status") or Alert.Status.RESOLVED
    alert = services.change_status(
        _person(options["as_"]), options["id"], status, actor=cli_actor()
    )
    command.stdout.write(_("Alert %(pk)d is %(s)s.") % {"pk": alert.pk, "s": alert.status})


def _export(command: BaseCommand, options: dict[str, Any]) -> None:
    alert = services.get(_person(options["as_"]), options["id"])
    text = exchange.export(alert, options["format"])
    if options["output"]:
        with open(options["output"], "w", encoding="utf-8") as out:
            out.write(text + "\n")
        command.stderr.write(
            _("%(tag)s: alert %(pk)d written to %(f)s.")
            % {"tag": alert.label.tag, "pk": alert.pk, "f": options["output"]}
        )
        return
    command.stdout.write(text)


def _import(command: BaseCommand, options: dict[str, Any]) -> None:
    author = _person(options["as_"])
    limit = exchange.document_max_bytes()
    if options["file"] == "-":
        data = sys.stdin.buffer.read(limit + 1)
    else:
        with open(options["file"], "rb") as stream:
            data = stream.read(limit + 1)  # one byte over: refused, never read whole
    draft = exchange.load(data, options["format"])
    draft.recipients = options["to"]
    draft.red_to_affected = options["to_affected"]
    for line in draft.skipped:
        command.stderr.write(_("skipped %(what)s") % {"what": line})
    if draft.skipped_count > len(draft.skipped):
        command.stderr.write(_("… %(n)d indicator(s) skipped in all.") % {"n": draft.skipped_count})
    if options["dry_run"]:
        command.stdout.write(
            _("[%(tag)s] %(title)s: %(n)d indicator(s); nothing stored (dry run).")
            % {"tag": f"TLP:{draft.tlp}", "title": draft.title, "n": len(draft.indicators)}
        )
        return
    alert = services.raise_alert(author, draft, actor=cli_actor())
    command.stdout.write(
        _("[%(tag)s] Alert %(pk)d raised: %(title)s (%(n)d indicator(s)).")
        % {
            "tag": alert.label.tag,
            "pk": alert.pk,
            "title": alert.title,
            "n": alert.indicators.count(),
        }
    )


FILTER_COLUMNS = ["id", "categories", "tlds", "min_severity", "mode"]


def _filters(command: BaseCommand, options: dict[str, Any]) -> None:
    person = _person(options["as_"])
    if options["delete"] is not None:
        notify.delete_filter(person, options["delete"], actor=cli_actor())
        command.stderr.write(_("Alert filter %(pk)d deleted.") % {"pk": options["delete"]})
    elif options["add"]:
        data = notify.FilterInput(
            categories=options["category"],
            tlds=options["tld"],
            min_severity=options["min_severity"],
            mode=options["mode"],
        )
        flt = notify.save_filter(person, data, actor=cli_actor())
        command.stderr.write(_("Alert filter %(pk)d added.") % {"pk": flt.pk})
    shown = [
        {k: v for k, v in notify.describe(f).items() if k != "created_at"}
        for f in notify.list_filters(person)
    ]
    if options["format"] == "json":  # lists as lists, for scripts
        command.stdout.write(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    # For a table or CSV, an empty list (every category, every ccTLD) shows as "*".
    rows = [
        {k: (" ".join(v) or "*") if isinstance(v, list) else v for k, v in row.items()}
        for row in shown
    ]
    if not rows and no_rows(command, options["format"], _("No alert filter.")):
        return
    write_rows(command, rows, FILTER_COLUMNS, options["format"], title=_("Alert filters"))


HANDLERS: dict[str, Callable[[BaseCommand, dict[str, Any]], None]] = {
    "raise": _raise,
    "list": _list,
    "show": _show,
    "react": _react,
    "status": _status,
    "close": _status,
    "export": _export,
    "import": _import,
    "filters": _filters,
}
