"""Agreement between vantage points, and the incidents it opens and closes: one per ccTLD.

One probe's view is never enough to alarm a ccTLD: its own network may be the one in trouble.
:func:`evaluate` (run after every stored sweep, by whichever door stored it) looks, for every
(ccTLD, code, server) of severity ERROR or worse, at the **latest sweep of each probe that covers
the ccTLD** among the sweeps started within ``MONITOR_WINDOW`` seconds (revoked probes left out):

- seen by at least ``MONITOR_AGREEMENT`` vantage points (the hub's probe, or one person's probes,
  however many: :mod:`tldops.monitor.vantage`): an *agreed problem*;
- seen by fewer: a *local* problem (:func:`local_problems`), shown, never alarmed.

The incident belongs to the ccTLD (one live incident per ccTLD); the agreed problems are its
:class:`~tldops.monitor.models.IncidentProblem` rows. One outage of six servers is one incident,
one mail per contact, one draft alert:

- agreed problems on a ccTLD with no live incident open one (timeline: opened, seen by each
  probe), its own contacts are mailed at once and a draft alert is prepared;
- a problem agreed later joins the live incident (a PROBLEM event, the draft rewritten) without
  a mail — unless the incident becomes CRITICAL from below: then one "worse" mail;
- a problem that ``MONITOR_AGREEMENT`` vantage points covering the ccTLD no longer see (and
  fewer still see) is cleared; all cleared, the incident has *recovered* and is closed;
- an incident nobody has confirmed for ``MONITOR_STALE_HOURS`` (its probes stopped reporting):
  the hub alone seeing a problem clear is enough then, and what is not cleared is closed as
  *stale* rather than left open for ever.

Drafts and mails list problems by code, server, the code's explanation and RFC and the names of
the probes that see them — never the ``detail`` a probe sent (members' probes may send anything).

A ccTLD whose incident a member closed by hand while the probes still agree is not given a new
one until the probes have seen its problems clear (otherwise closing would open a new incident
five minutes later), or nobody confirmed anything for ``MONITOR_STALE_HOURS``.

Running :func:`evaluate` twice changes nothing the second time; two processes running it at once
open one incident (the ``one_live_incident_per_tld`` constraint decides), add a problem once
(``uniq_incident_problem``) and clear, recover, worsen or close it once (conditional updates).
Members of the affected ccTLD acknowledge, annotate and close incidents (:func:`acknowledge`,
:func:`add_note`, :func:`close`); staff only if they are also its contacts. Raising the draft
alert is a door's job (``tldops.ops.incident_alerts``): the monitor and the alerts are
capabilities side by side and never import each other.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops.catalog.models import Tld
from tldops.directory.audit import Actor
from tldops.directory.models import Membership, Person
from tldops.directory.validation import has_forbidden
from tldops.kernel.audit import record
from tldops.kernel.errors import InvalidInput, NotAuthorised, NotFound
from tldops.mail import outbox
from tldops.mail.community import subject as community_subject
from tldops.monitor import vantage
from tldops.monitor.codes import CODES, Severity
from tldops.monitor.models import (
    NOTE_MAX_LENGTH,
    Finding,
    Incident,
    IncidentEvent,
    IncidentProblem,
    Observation,
    Probe,
    Sweep,
)

log = logging.getLogger(__name__)

#: Findings of this severity and above can become incidents; below, they are only shown.
ALARM = Severity.ERROR
LIVE = (Incident.Status.OPEN, Incident.Status.ACKNOWLEDGED)
#: The TLP labels a monitor alert may carry (RED needs named readers: see :func:`alert_tlp`).
ALERT_TLPS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT")
#: Codes that mean "packets lost": with slow answers beside them, the draft says DDoS.
LOSS_CODES = frozenset({"ALL_SERVERS_DOWN", "SERVER_NO_RESPONSE_UDP", "SERVER_NO_RESPONSE_TCP"})
SLOW_CODE = "SLOW_RESPONSE"
PURPOSE = "monitor-incident"

Key = tuple[int, str, str]  # (tld id, code, server)


@dataclass
class View:
    """What the vantage points see now: for each problem, the probes whose latest sweep shows it;
    for each ccTLD, the probes that have a latest sweep of it in the window."""

    seen: dict[Key, set[int]] = field(default_factory=lambda: defaultdict(set))
    covering: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    latest: dict[tuple[int, int], int] = field(default_factory=dict)  # (probe, tld) -> sweep
    points: dict[int, int] = field(default_factory=dict)  # probe -> its vantage point

    def count(self, probes: set[int]) -> int:
        """How many vantage points these probes are (:mod:`tldops.monitor.vantage`)."""
        return vantage.count(probes, self.points)


@dataclass
class Changes:
    """What one :func:`evaluate` did (empty when nothing changed)."""

    opened: list[Incident] = field(default_factory=list)
    recovered: list[Incident] = field(default_factory=list)
    seen: int = 0  # SEEN events added to incidents already open
    suppressed: int = 0  # ccTLDs with agreed problems whose incident a member closed by hand
    problems: int = 0  # problems added to (or back in) incidents already open
    cleared: int = 0  # problems the vantage points agree are gone
    worsened: list[Incident] = field(default_factory=list)  # became CRITICAL: mailed again
    stale: list[Incident] = field(default_factory=list)  # closed as stale

    def __bool__(self) -> bool:
        return bool(
            self.opened
            or self.recovered
            or self.seen
            or self.problems
            or self.cleared
            or self.worsened
            or self.stale
        )


def _view(now: datetime, tld_ids: list[int] | None = None) -> View:
    """The latest sweep of each (probe, ccTLD) in the window, and the alarming findings in them."""
    start = now - timedelta(seconds=settings.MONITOR_WINDOW)
    sweeps = {
        pk: (probe, started)
        for pk, probe, started in Sweep.objects.filter(
            started_at__gte=start, started_at__lte=now, probe__revoked_at__isnull=True
        ).values_list("id", "probe_id", "started_at")
    }
    view = View()
    if not sweeps:
        return view
    view.points = vantage.of_probes(probe for probe, _started in sweeps.values())
    covered: set[tuple[int, int]] = set()
    for model in (Observation, Finding):
        rows = model.objects.filter(sweep_id__in=list(sweeps))
        if tld_ids is not None:
            rows = rows.filter(tld_id__in=tld_ids)
        covered.update(rows.values_list("sweep_id", "tld_id").distinct())
    best: dict[tuple[int, int], tuple[datetime, int]] = {}
    for sweep_id, tld_id in covered:
        probe, started = sweeps[sweep_id]
        key = (probe, tld_id)
        if key not in best or (started, sweep_id) > best[key]:
            best[key] = (started, sweep_id)
    for (probe, tld_id), (_started, sweep_id) in best.items():
        view.latest[(probe, tld_id)] = sweep_id
        view.covering[tld_id].add(probe)
    findings = Finding.objects.filter(
        sweep_id__in={s for _t, s in best.values()}, severity__gte=int(ALARM)
    )
    if tld_ids is not None:
        findings = findings.filter(tld_id__in=tld_ids)
    for sweep_id, tld_id, code, server in findings.values_list(
        "sweep_id", "tld_id", "code", "server"
    ).distinct():
        probe = sweeps[sweep_id][0]
        if view.latest.get((probe, tld_id)) == sweep_id:
            view.seen[(tld_id, code, server)].add(probe)
    return view


@dataclass(frozen=True)
class LocalProblem:
    """A problem fewer probes than ``MONITOR_AGREEMENT`` see: shown, not alarmed."""

    code: str
    server: str
    severity: Severity
    probes: list[str]  # the names of the probes that see it


def local_problems(tld: Tld, now: datetime | None = None) -> list[LocalProblem]:
    """The ccTLD's problems that only some vantage points see (for the read side's pages)."""
    view = _view(now or timezone.now(), [tld.pk])
    names = dict(Probe.objects.values_list("id", "name"))
    out = [
        LocalProblem(code, server, CODES[code].severity, sorted(names[p] for p in probes))
        for (tld_id, code, server), probes in view.seen.items()
        if tld_id == tld.pk and 0 < view.count(probes) < settings.MONITOR_AGREEMENT
    ]
    return sorted(out, key=lambda p: (-p.severity, p.code, p.server))


def alert_tlp() -> str:
    """The TLP label of the monitor's alerts (``MONITOR_ALERT_TLP``), checked: CLEAR, GREEN,
    AMBER or AMBER+STRICT. RED is refused: a RED alert is read only by the readers its author
    names, and a draft the monitor prepares names none (raised, it would reach nobody but its
    author, or need readers the monitor cannot choose). Raises :class:`InvalidInput`."""
    label = str(settings.MONITOR_ALERT_TLP or "").strip().upper().removeprefix("TLP:")
    if label == "RED":
        raise InvalidInput(
            _(
                "MONITOR_ALERT_TLP is RED: a RED alert is read only by the people its author "
                "names, and an incident's draft names nobody. Set CLEAR, GREEN, AMBER or "
                "AMBER+STRICT."
            ),
            field="tlp",
        )
    if label not in ALERT_TLPS:
        raise InvalidInput(
            _(
                "MONITOR_ALERT_TLP %(v)s is not a TLP label: set CLEAR, GREEN, AMBER or AMBER+STRICT."
            )
            % {"v": _safe(label, 40)},
            field="tlp",
        )
    return label


def _safe(text: str, limit: int = 253) -> str:
    """Printable characters only, at most ``limit``: server and probe names reach mails and
    drafts, and come (indirectly) from members' probes and forms."""
    return "".join(c for c in str(text) if c.isprintable())[:limit]


def _label(code: str, server: str) -> str:
    return f"{code} {_safe(server)}".strip()


def evaluate(now: datetime | None = None) -> Changes:
    """Open, keep, add to, clear, recover and close as stale the ccTLDs' incidents, from what the
    vantage points agree on now (one live incident per ccTLD)."""
    now = now or timezone.now()
    k = settings.MONITOR_AGREEMENT
    view = _view(now)
    changes = Changes()
    agreed: dict[int, dict[tuple[str, str], set[int]]] = defaultdict(dict)
    for (tld_id, code, server), probes in view.seen.items():
        if view.count(probes) >= k:
            agreed[tld_id][(code, server)] = probes
    stale_since = now - timedelta(hours=settings.MONITOR_STALE_HOURS)
    live = {i.tld_id: i for i in Incident.objects.filter(status__in=LIVE).select_related("tld")}
    # Closed by hand while the probes agreed, not yet seen recovering, and confirmed recently
    # (once nobody has confirmed it for MONITOR_STALE_HOURS, it no longer holds new ones back).
    waiting: dict[int, Incident] = {}
    for i in (
        Incident.objects.filter(
            status=Incident.Status.CLOSED, recovered_at__isnull=True, closed_by__isnull=False
        )
        .select_related("tld")
        .order_by("closed_at", "pk")
    ):
        if (i.confirmed_at or i.closed_at or i.opened_at) >= stale_since:
            waiting[i.tld_id] = i
    confirmed = [i.pk for i in [*live.values(), *waiting.values()] if i.tld_id in agreed]
    Incident.objects.filter(pk__in=confirmed).filter(
        Q(confirmed_at__isnull=True) | Q(confirmed_at__lt=now)
    ).update(confirmed_at=now)
    for tld_id, problems in sorted(agreed.items()):
        incident = live.get(tld_id)
        if incident is not None:
            _keep(incident, problems, now, view, changes)
        elif tld_id in waiting:
            changes.suppressed += 1
        else:
            opened = _open(tld_id, problems, now, view)
            if opened is not None:
                changes.opened.append(opened)
    for incident in [*live.values(), *waiting.values()]:
        _clear(incident, incident.tld_id in agreed, now, view, stale_since, changes)
    return changes


def _worst(problems: list[IncidentProblem]) -> IncidentProblem | None:
    return min(problems, key=lambda p: (-p.severity, p.first_seen, p.code, p.server), default=None)


def _seen(incident: Incident, probes: set[int], now: datetime) -> int:
    """A SEEN event for each probe that sees the incident for the first time."""
    known = set(
        incident.events.filter(kind=IncidentEvent.Kind.SEEN).values_list("probe_id", flat=True)
    )
    new = sorted(probes - known)
    IncidentEvent.objects.bulk_create(
        [
            IncidentEvent(incident=incident, at=now, kind=IncidentEvent.Kind.SEEN, probe_id=p)
            for p in new
        ]
    )
    return len(new)


def _open(
    tld_id: int, problems: dict[tuple[str, str], set[int]], now: datetime, view: View
) -> Incident | None:
    """One incident for the ccTLD with all the problems the vantage points agree on, one mail
    to each contact, one draft alert; ``None`` when another process opened it first."""
    tld = Tld.objects.get(pk=tld_id)
    rows = [
        IncidentProblem(
            code=code, server=server, severity=int(CODES[code].severity), first_seen=now
        )
        for code, server in sorted(problems)
    ]
    worst = _worst(rows)
    assert worst is not None  # noqa: S101 - only agreed problems open an incident
    with transaction.atomic():
        try:
            with transaction.atomic():
                incident = Incident.objects.create(
                    tld=tld,
                    code=worst.code,
                    server=worst.server,
                    severity=worst.severity,
                    opened_at=now,
                    confirmed_at=now,
                )
        except IntegrityError:  # opened meanwhile by another process (one_live_incident_per_tld)
            return None
        for row in rows:
            row.incident = incident
        IncidentProblem.objects.bulk_create(rows)
        IncidentEvent.objects.create(
            incident=incident,
            at=now,
            kind=IncidentEvent.Kind.OPENED,
            text=", ".join(_label(p.code, p.server) for p in rows),
        )
        _seen(incident, set().union(*problems.values()), now)
        _redraft(incident, view)
        record(
            Actor.system(),
            "incident-opened",
            f"Incident {incident.pk} opened for .{tld.alabel}: "
            + ", ".join(_label(p.code, p.server) for p in rows)[:500],
            tld=tld,
        )
        _notify(incident, now)
    return incident


def _keep(
    incident: Incident,
    problems: dict[tuple[str, str], set[int]],
    now: datetime,
    view: View,
    changes: Changes,
) -> None:
    """The live incident of a ccTLD the vantage points still agree on: new problems join it
    (a PROBLEM event each; no mail unless it becomes CRITICAL), cleared ones that came back are
    open again, each new probe seeing it gets a SEEN event."""
    with transaction.atomic():
        existing = {(p.code, p.server): p for p in incident.problems.all()}
        added: list[tuple[str, str]] = []
        for code, server in sorted(problems):
            problem = existing.get((code, server))
            if problem is None:
                try:
                    with transaction.atomic():
                        IncidentProblem.objects.create(
                            incident=incident,
                            code=code,
                            server=server,
                            severity=int(CODES[code].severity),
                            first_seen=now,
                        )
                except IntegrityError:  # added meanwhile by another process
                    continue
                added.append((code, server))
            elif problem.cleared_at is not None and IncidentProblem.objects.filter(
                pk=problem.pk, cleared_at__isnull=False
            ).update(cleared_at=None):
                added.append((code, server))
        IncidentEvent.objects.bulk_create(
            [
                IncidentEvent(
                    incident=incident,
                    at=now,
                    kind=IncidentEvent.Kind.PROBLEM,
                    text=_label(code, server),
                )
                for code, server in added
            ]
        )
        changes.problems += len(added)
        changes.seen += _seen(incident, set().union(*problems.values()), now)
        if added:
            _summarise(incident, now, changes, notify=True)
            _redraft(incident, view)


def _summarise(incident: Incident, now: datetime, changes: Changes, *, notify: bool) -> None:
    """The incident's code, server and severity: its worst problem not cleared. Becoming
    CRITICAL from below mails the contacts once more ("worsened"); nothing else does."""
    worst = _worst(list(incident.problems.filter(cleared_at__isnull=True)))
    if worst is None:
        return
    fields = {"code": worst.code, "server": worst.server, "severity": worst.severity}
    if notify and worst.severity >= Severity.CRITICAL:
        if Incident.objects.filter(pk=incident.pk, severity__lt=int(Severity.CRITICAL)).update(
            **fields
        ):
            for name, value in fields.items():
                setattr(incident, name, value)
            IncidentEvent.objects.create(
                incident=incident,
                at=now,
                kind=IncidentEvent.Kind.WORSENED,
                text=_label(worst.code, worst.server),
            )
            _notify(incident, now, worsened=True)
            changes.worsened.append(incident)
            return
    Incident.objects.filter(pk=incident.pk).update(**fields)
    for name, value in fields.items():
        setattr(incident, name, value)


def _clear(
    incident: Incident,
    confirmed: bool,
    now: datetime,
    view: View,
    stale_since: datetime,
    changes: Changes,
) -> None:
    """Problems at least ``MONITOR_AGREEMENT`` vantage points covering the ccTLD no longer see
    (and fewer than that still see) are cleared; with all cleared the incident has recovered.
    An incident nobody has confirmed for ``MONITOR_STALE_HOURS`` (its probes stopped
    reporting, say): a problem the hub covers and does not see counts as cleared then, and if
    some remain the incident is closed as stale rather than left open for ever."""
    k = settings.MONITOR_AGREEMENT
    stale = not confirmed and (incident.confirmed_at or incident.opened_at) < stale_since
    covering = view.covering.get(incident.tld_id, set())
    problems = list(incident.problems.all())
    cleared = 0
    with transaction.atomic():
        for problem in problems:
            if problem.cleared_at is not None:
                continue
            probes = view.seen.get((incident.tld_id, problem.code, problem.server), set())
            clear = covering - probes
            if view.count(probes) >= k:
                continue
            hub_clear = any(view.points.get(p) == vantage.HUB for p in clear)
            if view.count(clear) < k and not (stale and hub_clear):
                continue
            if not IncidentProblem.objects.filter(pk=problem.pk, cleared_at__isnull=True).update(
                cleared_at=now
            ):
                continue
            problem.cleared_at = now
            cleared += 1
            IncidentEvent.objects.create(
                incident=incident,
                at=now,
                kind=IncidentEvent.Kind.CLEARED,
                text=_("%(p)s: %(n)d vantage point(s) no longer see it")
                % {"p": _label(problem.code, problem.server), "n": view.count(clear)},
            )
        changes.cleared += cleared
        if all(p.cleared_at is not None for p in problems):
            if _recover(incident, covering, now):
                changes.recovered.append(incident)
        elif stale and incident.status in LIVE:
            if _close_stale(incident, now):
                changes.stale.append(incident)
        elif cleared and incident.status in LIVE:
            _summarise(incident, now, changes, notify=False)
            _redraft(incident, view)


def _close_stale(incident: Incident, now: datetime) -> bool:
    """Closed as stale once; ``False`` when another process did it (or a person closed it)."""
    done = Incident.objects.filter(pk=incident.pk, status__in=LIVE).update(
        status=Incident.Status.CLOSED, closed_at=now
    )
    if not done:
        return False
    incident.status, incident.closed_at = Incident.Status.CLOSED, now
    IncidentEvent.objects.create(
        incident=incident,
        at=now,
        kind=IncidentEvent.Kind.STALE,
        text=_(
            "Fewer than %(k)d vantage points have seen it for %(h)d hours: closed as stale. "
            "If they agree on a problem again, a new incident opens."
        )
        % {"k": settings.MONITOR_AGREEMENT, "h": settings.MONITOR_STALE_HOURS},
    )
    record(
        Actor.system(),
        "incident-stale",
        f"Incident {incident.pk} closed as stale: .{incident.tld.alabel}",
        tld=incident.tld,
    )
    return True


def draft_category(code: str, slow: bool) -> str:
    """The draft alert's category (a value of the alerts' categories): ``ddos`` when the probes
    agree that packets are lost (:data:`LOSS_CODES`) and the same sweeps show the ccTLD's servers
    that still answer answering slowly (congestion, the mark of a flood); ``outage`` otherwise
    (lame servers, broken DNSSEC, a missing delegation are not attacks we can see)."""
    return "ddos" if code in LOSS_CODES and slow else "outage"


def _names(view: View) -> dict[int, str]:
    probes = set().union(*view.seen.values()) if view.seen else set()
    return {
        pk: _safe(name, 64)
        for pk, name in Probe.objects.filter(pk__in=probes).values_list("pk", "name")
    }


def problem_rows(incident: Incident, view: View | None = None) -> list[dict[str, object]]:
    """The incident's problems for mails, drafts and pages: code, severity, server, the code's
    explanation and RFC, and (with ``view``) the names of the probes that see it now. Never the
    ``detail`` a probe sent: that text comes from members' probes and may carry anything."""
    names = _names(view) if view is not None else {}
    rows = []
    for p in incident.problems.all():
        what = CODES.get(p.code)
        seers = view.seen.get((incident.tld_id, p.code, p.server), set()) if view else set()
        rows.append(
            {
                "code": p.code,
                "severity": Severity(p.severity).name
                if p.severity in Severity._value2member_map_
                else "",
                "server": _safe(p.server),
                "text": what.text if what else "",
                "rfc": what.rfc if what else "",
                "first_seen": p.first_seen,
                "cleared_at": p.cleared_at,
                "probes": sorted(names[s] for s in seers if s in names),
            }
        )
    return rows


@outbox.mail_language()
def _redraft(incident: Incident, view: View) -> None:
    """The alert prepared for the list, in the site's language, rewritten when the problems
    change until it is raised (what was raised then stays as it was)."""
    if incident.alert_id is not None:
        return
    tld = incident.tld
    rows = problem_rows(incident, view)
    live = [r for r in rows if r["cleared_at"] is None]
    probes = set().union(*(view.seen.get((tld.pk, r["code"], r["server"]), set()) for r in live))
    sweeps = [view.latest[(p, tld.pk)] for p in probes if (p, tld.pk) in view.latest]
    slow = Finding.objects.filter(sweep_id__in=sweeps, tld=tld, code=SLOW_CODE).exists()
    category = (
        "ddos" if any(draft_category(str(r["code"]), slow) == "ddos" for r in live) else "outage"
    )
    title = (
        _("Possible DDoS against .%(tld)s: %(code)s")
        if category == "ddos"
        else _("Outage of .%(tld)s: %(code)s")
    ) % {"tld": tld.alabel, "code": incident.code}
    if len(live) > 1:
        title = _("%(title)s and %(n)d more") % {"title": title, "n": len(live) - 1}
    lines = [
        _("%(n)d vantage points of the TLD-OPS monitor agree on these problems of .%(tld)s:")
        % {"n": view.count(probes), "tld": tld.alabel},
        "",
    ]
    for r in rows:
        where = r["server"] or _("the whole ccTLD")
        lines.append(f"- {r['code']} ({r['severity']}), {where}: {r['text']}")
        lines.append("  " + _("Reference: %(r)s") % {"r": r["rfc"]})
        lines.append(
            "  " + _("Since: %(t)s UTC") % {"t": r["first_seen"].strftime("%Y-%m-%d %H:%M")}
        )
        if r["cleared_at"] is not None:
            lines.append(
                "  " + _("Cleared: %(t)s UTC") % {"t": r["cleared_at"].strftime("%Y-%m-%d %H:%M")}
            )
        elif r["probes"]:
            lines.append("  " + _("Seen by: %(p)s") % {"p": ", ".join(r["probes"])})
    Incident.objects.filter(pk=incident.pk).update(
        draft_title=title[:200], draft_body="\n".join(lines), draft_category=category
    )
    incident.draft_title, incident.draft_body, incident.draft_category = (
        title[:200],
        "\n".join(lines),
        category,
    )


def contacts(tld: Tld) -> QuerySet[Person]:
    """The ccTLD's own contacts: the people with an active membership of it (the directory's
    rule for who speaks for a ccTLD)."""
    return Person.objects.filter(
        memberships__tld=tld, memberships__status=Membership.Status.ACTIVE
    ).order_by("email")


@outbox.mail_language()
def _notify(incident: Incident, now: datetime, *, worsened: bool = False) -> None:
    """Mail the ccTLD's own contacts at once (each their own copy, to their directory address
    only), listing the incident's problems (never what a probe wrote), and say so on the
    timeline. ``worsened``: the incident became CRITICAL after it opened."""
    tld = incident.tld
    people = list(contacts(tld))
    try:
        tlp = alert_tlp()
    except InvalidInput:
        tlp = ""
    subject = community_subject(
        (_("Monitor: .%(tld)s worse: %(code)s") if worsened else _("Monitor: .%(tld)s %(code)s"))
        % {"tld": tld.alabel, "code": incident.code}
    )
    problems = [r for r in problem_rows(incident) if r["cleared_at"] is None]
    for person in people:
        outbox.send_template(
            "monitor/email/incident_opened.txt",
            {
                "person": person,
                "incident": incident,
                "tld": tld,
                "problems": problems,
                "worsened": worsened,
                "tlp": tlp,
                "url": f"{settings.BASE_URL}/monitor/incidents/{incident.pk}/",
                "auto": settings.MONITOR_AUTO_ALERT
                and bool(settings.MONITOR_ALERT_AUTHOR)
                and bool(tlp),
            },
            subject=subject,
            to=[person.email],
            purpose=PURPOSE,
        )
    if people:
        IncidentEvent.objects.create(
            incident=incident,
            at=now,
            kind=IncidentEvent.Kind.NOTIFIED,
            text=_("%(n)d contact(s) of .%(tld)s mailed") % {"n": len(people), "tld": tld.alabel},
        )


def _recover(incident: Incident, covering: set[int], now: datetime) -> bool:
    """Recovered (and closed if live) once; ``False`` when another process did it first."""
    with transaction.atomic():
        updates: dict[str, object] = {"recovered_at": now}
        if incident.status in LIVE:
            updates.update(status=Incident.Status.CLOSED, closed_at=now)
        done = Incident.objects.filter(pk=incident.pk, recovered_at__isnull=True).update(**updates)
        if not done:
            return False
        for name, value in updates.items():
            setattr(incident, name, value)
        IncidentEvent.objects.create(
            incident=incident,
            at=now,
            kind=IncidentEvent.Kind.RECOVERED,
            text=_("All its problems are cleared (%(n)d vantage point(s) covering the ccTLD)")
            % {"n": len(covering)},
        )
        record(
            Actor.system(),
            "incident-recovered",
            f"Incident {incident.pk} recovered: .{incident.tld.alabel}",
            tld=incident.tld,
        )
    return True


# --- Reading -------------------------------------------------------------------------------------


def get(pk: int) -> Incident:
    """One incident (members and staff may read every incident: the community watches together)."""
    incident = Incident.objects.select_related("tld").filter(pk=pk).first()
    if incident is None:
        raise NotFound(_("No incident %(id)s.") % {"id": pk})
    return incident


def search(*, tld: Tld | None = None, live: bool = False) -> QuerySet[Incident]:
    """Incidents, newest first; of one ccTLD with ``tld``; only open and acknowledged with ``live``.
    Each carries ``open_problems``: how many of its problems are not cleared."""
    qs = (
        Incident.objects.select_related("tld")
        .annotate(open_problems=Count("problems", filter=Q(problems__cleared_at__isnull=True)))
        .order_by("-opened_at", "-pk")
    )
    if tld is not None:
        qs = qs.filter(tld=tld)
    if live:
        qs = qs.filter(status__in=LIVE)
    return qs


def timeline(incident: Incident) -> list[IncidentEvent]:
    return list(incident.events.select_related("person", "probe"))


# --- Members' actions ----------------------------------------------------------------------------


def may_act(incident: Incident, person: Person | None) -> bool:
    """Only the affected ccTLD's own contacts act on its incidents; staff too only if they are."""
    if person is None:
        return False
    return Membership.objects.filter(
        person=person, tld_id=incident.tld_id, status=Membership.Status.ACTIVE
    ).exists()


def require_may_act(incident: Incident, person: Person | None) -> None:
    if not may_act(incident, person):
        raise NotAuthorised(
            _("Only the contacts of .%(tld)s may act on its incidents.")
            % {"tld": incident.tld.alabel}
        )


def _locked(incident: Incident) -> Incident:
    return Incident.objects.select_for_update().select_related("tld").get(pk=incident.pk)


def _not_closed(incident: Incident) -> None:
    if incident.status == Incident.Status.CLOSED:
        raise InvalidInput(_("The incident is closed."), field="status")


def acknowledge(incident: Incident, person: Person, *, actor: Actor | None = None) -> Incident:
    """The contact says "we know, we are on it": the incident is acknowledged (once)."""
    require_may_act(incident, person)
    actor = actor or Actor.of(person, "system")
    with transaction.atomic():
        current = _locked(incident)
        _not_closed(current)
        if current.status == Incident.Status.ACKNOWLEDGED:
            return current
        current.status = Incident.Status.ACKNOWLEDGED
        current.acknowledged_by = person
        current.acknowledged_at = timezone.now()
        current.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
        IncidentEvent.objects.create(
            incident=current, kind=IncidentEvent.Kind.ACKNOWLEDGED, person=person
        )
        record(
            actor, "incident-acknowledged", f"Incident {current.pk} acknowledged", tld=current.tld
        )
    return current


def _note_text(text: str, *, required: bool) -> str:
    if text is not None and len(text) > NOTE_MAX_LENGTH:
        raise InvalidInput(
            _("A note may be at most %(n)d characters; shorten it.") % {"n": NOTE_MAX_LENGTH},
            field="text",
        )
    clean = (text or "").strip()
    if required and not clean:
        raise InvalidInput(_("The note cannot be empty."), field="text")
    if has_forbidden(clean, lines=True):
        # Notes are printed by tldops monitor incident: no terminal escapes in them.
        raise InvalidInput(_("A note cannot hold control characters."), field="text")
    return clean


def add_note(
    incident: Incident, person: Person, text: str, *, actor: Actor | None = None
) -> IncidentEvent:
    """A note on the timeline (closed incidents too: what was learnt afterwards)."""
    require_may_act(incident, person)
    clean = _note_text(text, required=True)
    actor = actor or Actor.of(person, "system")
    with transaction.atomic():
        event = IncidentEvent.objects.create(
            incident=incident, kind=IncidentEvent.Kind.NOTE, person=person, text=clean
        )
        record(actor, "incident-note", f"Note on incident {incident.pk}", tld=incident.tld)
    return event


def close(
    incident: Incident, person: Person, text: str = "", *, actor: Actor | None = None
) -> Incident:
    """The contact closes the incident (with an optional word why)."""
    require_may_act(incident, person)
    clean = _note_text(text, required=False)
    actor = actor or Actor.of(person, "system")
    with transaction.atomic():
        current = _locked(incident)
        _not_closed(current)
        current.status = Incident.Status.CLOSED
        current.closed_at = timezone.now()
        current.closed_by = person
        current.save(update_fields=["status", "closed_at", "closed_by"])
        IncidentEvent.objects.create(
            incident=current, kind=IncidentEvent.Kind.CLOSED, person=person, text=clean
        )
        record(actor, "incident-closed", f"Incident {current.pk} closed", tld=current.tld)
    return current


def claim_alert(incident: Incident) -> Incident:
    """The incident, locked for raising its alert (call inside a transaction); refused when its
    alert was raised already, so two clicks raise one alert."""
    current = _locked(incident)
    if current.alert_id is not None:
        raise InvalidInput(
            _("The alert for this incident was raised already (alert %(id)s).")
            % {"id": current.alert_id},
            field="alert",
        )
    if not current.draft_title:
        raise InvalidInput(_("This incident has no draft alert."), field="alert")
    return current


def record_alert(
    incident: Incident, alert_id: int, person: Person, *, actor: Actor | None = None
) -> Incident:
    """Remember the alert raised for the incident (call in the transaction that raised it)."""
    actor = actor or Actor.of(person, "system")
    Incident.objects.filter(pk=incident.pk).update(alert_id=alert_id)
    incident.alert_id = alert_id
    IncidentEvent.objects.create(
        incident=incident,
        kind=IncidentEvent.Kind.ALERT,
        person=person,
        text=_("Alert %(id)d raised") % {"id": alert_id},
    )
    record(
        actor,
        "incident-alert",
        f"Alert {alert_id} raised for incident {incident.pk}",
        tld=incident.tld,
    )
    return incident
