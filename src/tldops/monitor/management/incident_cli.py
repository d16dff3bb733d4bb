"""``tldops monitor run|incidents|incident|ack|note|close|raise-alert``: the command line's door onto
the scheduled monitor (:mod:`tldops.ops.monitor_process`) and the incidents
(:mod:`tldops.monitor.incidents`, :mod:`tldops.ops.incident_alerts`).

The actions act as a person named with ``--as EMAIL``, like ``tldops alert``: the contact of the
incident's ccTLD on whose behalf the operator types (staff only if they are its contacts too).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from tldops.catalog.lookup import resolve_tld
from tldops.cli import EXIT_NOT_FOUND, add_format_argument, emit, fail, subcommand
from tldops.directory.management.common import cli_actor, error
from tldops.directory.models import Person
from tldops.kernel.errors import DirectoryError
from tldops.monitor import incidents
from tldops.monitor.codes import Severity
from tldops.monitor.models import NOTE_MAX_LENGTH, Incident
from tldops.ops import incident_alerts

COLUMNS = [
    "id",
    "tld",
    "code",
    "server",
    "severity",
    "status",
    "opened_at",
    "recovered_at",
    "alert",
]

RUN_EPILOG = """The schedule is in the database: a restarted monitor sweeps when the last sweep's
start plus TLDOPS_MONITOR_INTERVAL has passed. `tldops run` starts it by itself
(TLDOPS_MONITOR_ENABLED=false turns that off). Stop with Ctrl+C or SIGTERM.
"""

INCIDENTS_EPILOG = """examples:
  tldops monitor incidents --open
  tldops monitor incidents --tld fr --format json
  tldops monitor incident 12
  tldops monitor ack 12 --as ana@nic.fr
  tldops monitor note 12 --as ana@nic.fr "Our upstream is filtering; on it."
  tldops monitor close 12 --as ana@nic.fr --text "Fixed."
  tldops monitor raise-alert 12 --as ana@nic.fr
"""


def add_subcommands(sub: Any) -> None:
    """Add these subcommands to the ``monitor`` command's subparsers."""
    subcommand(
        sub, "run", "Sweep every ccTLD on the schedule, store, open/close incidents.", RUN_EPILOG
    )
    p = subcommand(sub, "incidents", "List incidents, newest first.", INCIDENTS_EPILOG)
    p.add_argument("--tld", default="", metavar="TLD", help="Only this ccTLD's.")
    p.add_argument("--open", action="store_true", help="Only open and acknowledged ones.")
    p.add_argument("--limit", type=int, default=100, help="At most this many (default 100).")
    add_format_argument(p)
    p = subcommand(
        sub, "incident", "Show one incident with its problems, timeline and draft alert."
    )
    p.add_argument("id", type=int)
    p.add_argument("--format", choices=("table", "json"), default="table")
    for name, text in (
        ("ack", "Acknowledge an incident (a contact of its ccTLD)."),
        ("note", "Add a note to an incident's timeline (a contact of its ccTLD)."),
        ("close", "Close an incident (a contact of its ccTLD)."),
        ("raise-alert", "Raise the incident's draft alert to the community (a contact)."),
    ):
        p = subcommand(sub, name, text, INCIDENTS_EPILOG)
        p.add_argument("id", type=int)
        p.add_argument("--as", dest="as_", metavar="EMAIL", required=True, help="The contact.")
        if name == "note":
            p.add_argument("text", help=f"The note (at most {NOTE_MAX_LENGTH} characters).")
        if name == "close":
            p.add_argument("--text", default="", help="Why (optional).")


def _person(email: str) -> Person:
    person = Person.objects.filter(email__iexact=(email or "").strip()).first()
    if person is None:
        raise fail(
            _("Nobody in the directory has the address %(a)s.") % {"a": email}, EXIT_NOT_FOUND
        )
    return person


def row(i: Incident) -> dict[str, Any]:
    return {
        "id": i.pk,
        "tld": i.tld.alabel,
        "code": i.code,
        "server": i.server,
        "severity": Severity(i.severity).name,
        "status": i.status,
        "opened_at": i.opened_at.isoformat(),
        "recovered_at": i.recovered_at.isoformat() if i.recovered_at else None,
        "alert": i.alert_id,
    }


def problems(i: Incident) -> list[dict[str, Any]]:
    return [
        {
            "code": p.code,
            "server": p.server,
            "severity": Severity(p.severity).name,
            "first_seen": p.first_seen.isoformat(),
            "cleared_at": p.cleared_at.isoformat() if p.cleared_at else None,
        }
        for p in i.problems.all()
    ]


def detail(i: Incident) -> dict[str, Any]:
    return {
        **row(i),
        "problems": problems(i),
        "acknowledged_by": i.acknowledged_by.name if i.acknowledged_by else None,
        "closed_at": i.closed_at.isoformat() if i.closed_at else None,
        "closed_by": i.closed_by.name if i.closed_by else None,
        "draft": {"title": i.draft_title, "category": i.draft_category, "body": i.draft_body},
        "timeline": [
            {
                "at": e.at.isoformat(),
                "kind": e.kind,
                "person": e.person.name if e.person else None,
                "probe": e.probe.name if e.probe else None,
                "text": e.text,
            }
            for e in incidents.timeline(i)
        ],
    }


def _run(command: BaseCommand, options: dict[str, Any]) -> None:
    from tldops.ops import monitor_process  # lazy: only the process needs the sweep engine

    monitor_process.run_until_signal()


def _list(command: BaseCommand, options: dict[str, Any]) -> None:
    tld = resolve_tld(options["tld"]) if options["tld"] else None
    rows = incidents.search(tld=tld, live=options["open"])[: max(1, min(options["limit"], 10_000))]
    emit(
        [row(i) for i in rows], COLUMNS, options["format"], title=_("Incidents"), out=command.stdout
    )


def _show(command: BaseCommand, options: dict[str, Any]) -> None:
    data = detail(incidents.get(options["id"]))
    if options["format"] == "json":
        command.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for key in COLUMNS + ["acknowledged_by", "closed_at", "closed_by"]:
        command.stdout.write(f"{key}: {data[key] if data[key] is not None else ''}")
    command.stdout.write("")
    command.stdout.write(_("Problems:"))
    for p in data["problems"]:
        cleared = _("cleared %(t)s") % {"t": p["cleared_at"]} if p["cleared_at"] else ""
        where = p["server"] or "-"
        command.stdout.write(
            f"  {p['code']:<24} {p['severity']:<8} {where:<30} {p['first_seen']}  {cleared}".rstrip()
        )
    command.stdout.write("")
    for e in data["timeline"]:
        who = e["person"] or e["probe"] or ""
        command.stdout.write(f"{e['at']}  {e['kind']:<12} {who}  {e['text']}".rstrip())
    if data["draft"]["title"]:
        command.stdout.write("")
        command.stdout.write(_("Draft alert (%(c)s):") % {"c": data["draft"]["category"]})
        command.stdout.write(data["draft"]["title"])
        command.stdout.write(data["draft"]["body"])


def _act(action: Callable[[Incident, Person, dict[str, Any]], object], done: str):
    def handler(command: BaseCommand, options: dict[str, Any]) -> None:
        person = _person(options["as_"])
        incident = incidents.get(options["id"])
        action(incident, person, options)
        command.stdout.write(done % {"id": incident.pk})

    return handler


HANDLERS: dict[str, Callable[[BaseCommand, dict[str, Any]], None]] = {
    "run": _run,
    "incidents": _list,
    "incident": _show,
    "ack": _act(
        lambda i, p, o: incidents.acknowledge(i, p, actor=cli_actor()),
        "Incident %(id)s acknowledged.",
    ),
    "note": _act(
        lambda i, p, o: incidents.add_note(i, p, o["text"], actor=cli_actor()),
        "Note added to incident %(id)s.",
    ),
    "close": _act(
        lambda i, p, o: incidents.close(i, p, o["text"], actor=cli_actor()),
        "Incident %(id)s closed.",
    ),
    "raise-alert": _act(
        lambda i, p, o: incident_alerts.raise_for(i, p, actor=cli_actor()),
        "Alert raised for incident %(id)s.",
    ),
}


def run(command: BaseCommand, options: dict[str, Any]) -> bool:
    """Run the subcommand if it is one of these; ``False`` if it is not."""
    handler = HANDLERS.get(str(options["action"]))
    if handler is None:
        return False
    try:
        handler(command, options)
    except DirectoryError as exc:
        raise error(exc) from None
    return True
