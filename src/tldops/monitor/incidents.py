"""Agreement between vantage points, and the incidents it opens and closes.

One probe's view is never enough to alarm a ccTLD: its own network may be the one in trouble.
:func:`evaluate` (run after every stored sweep, by whichever door stored it) looks, for every
(ccTLD, code, server) of severity ERROR or worse, at the **latest sweep of each probe that covers
the ccTLD** among the sweeps started within ``MONITOR_WINDOW`` seconds (revoked probes left out):

- seen by at least ``MONITOR_AGREEMENT`` vantage points (the hub's probe, or one person's probes,
  however many: :mod:`tldops.monitor.vantage`): an incident is opened (or kept open), with a
  timeline (opened, seen by each probe), the ccTLD's own contacts are mailed at once and a draft
  alert is prepared;
- seen by fewer: a *local* problem (:func:`local_problems`), shown, never alarmed;
- an open or acknowledged incident that at least ``MONITOR_AGREEMENT`` probes covering the ccTLD
  no longer see (and fewer than that still see) has *recovered*: ``recovered_at``, a RECOVERED
  event, and it is closed.

A problem a member closed by hand while the probes still agree on it is not opened again until
the probes have seen it recover (otherwise closing would open a new incident five minutes later).

Running :func:`evaluate` twice changes nothing the second time; two processes running it at once
open one incident (the ``one_live_incident`` constraint decides) and recover it once (a
conditional update decides). Members of the affected ccTLD acknowledge, annotate and close
incidents (:func:`acknowledge`, :func:`add_note`, :func:`close`); staff only if they are also its
contacts. Raising the draft alert is a door's job (``tldops.ops.incident_alerts``): the monitor
and the alerts are capabilities side by side and never import each other.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops.catalog.models import Tld
from tldops.directory.audit import Actor
from tldops.directory.models import Membership, Person
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
    Observation,
    Probe,
    Sweep,
)

log = logging.getLogger(__name__)

#: Findings of this severity and above can become incidents; below, they are only shown.
ALARM = Severity.ERROR
LIVE = (Incident.Status.OPEN, Incident.Status.ACKNOWLEDGED)
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
    suppressed: int = 0  # agreed problems a member closed by hand, not yet recovered

    def __bool__(self) -> bool:
        return bool(self.opened or self.recovered or self.seen)


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


def evaluate(now: datetime | None = None) -> Changes:
    """Open, keep and recover incidents from what the vantage points agree on now."""
    now = now or timezone.now()
    k = settings.MONITOR_AGREEMENT
    view = _view(now)
    changes = Changes()
    live = {(i.tld_id, i.code, i.server): i for i in Incident.objects.filter(status__in=LIVE)}
    waiting = {
        (i.tld_id, i.code, i.server): i
        for i in Incident.objects.filter(
            status=Incident.Status.CLOSED, recovered_at__isnull=True, closed_by__isnull=False
        ).order_by("closed_at")
    }
    for key, probes in view.seen.items():
        if view.count(probes) < k:
            continue
        incident = live.get(key)
        if incident is not None:
            changes.seen += _seen(incident, probes, now)
        elif key in waiting:
            changes.suppressed += 1
        else:
            opened = _open(key, probes, now, view)
            if opened is not None:
                changes.opened.append(opened)
    for key, incident in [*live.items(), *waiting.items()]:
        probes = view.seen.get(key, set())
        clear = view.covering.get(key[0], set()) - probes
        if view.count(probes) < k and view.count(clear) >= k and _recover(incident, clear, now):
            changes.recovered.append(incident)
    return changes


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


def _open(key: Key, probes: set[int], now: datetime, view: View) -> Incident | None:
    tld_id, code, server = key
    tld = Tld.objects.get(pk=tld_id)
    with transaction.atomic():
        try:
            with transaction.atomic():
                incident = Incident.objects.create(
                    tld=tld,
                    code=code,
                    server=server,
                    severity=int(CODES[code].severity),
                    opened_at=now,
                )
        except IntegrityError:  # opened meanwhile by another process (one_live_incident)
            return None
        sweeps = [view.latest[(p, tld_id)] for p in probes]
        incident.draft_title, incident.draft_body, incident.draft_category = _draft(
            incident, sweeps, view.count(probes)
        )
        incident.save(update_fields=["draft_title", "draft_body", "draft_category"])
        IncidentEvent.objects.create(incident=incident, at=now, kind=IncidentEvent.Kind.OPENED)
        _seen(incident, probes, now)
        record(
            Actor.system(),
            "incident-opened",
            f"Incident {incident.pk} opened for .{tld.alabel}: {code} {server}".strip(),
            tld=tld,
        )
        _notify(incident, now)
    return incident


def draft_category(code: str, slow: bool) -> str:
    """The draft alert's category (a value of the alerts' categories): ``ddos`` when the probes
    agree that packets are lost (:data:`LOSS_CODES`) and the same sweeps show the ccTLD's servers
    that still answer answering slowly (congestion, the mark of a flood); ``outage`` otherwise
    (lame servers, broken DNSSEC, a missing delegation are not attacks we can see)."""
    return "ddos" if code in LOSS_CODES and slow else "outage"


@outbox.mail_language()
def _draft(incident: Incident, sweeps: list[int], probes: int) -> tuple[str, str, str]:
    """The alert prepared for the list, in the site's language: title, body, category."""
    tld = incident.tld
    rows = Finding.objects.filter(sweep_id__in=sweeps, tld=tld)
    slow = rows.filter(code=SLOW_CODE).exists()
    details = sorted(
        set(
            rows.filter(code=incident.code, server=incident.server).values_list("address", "detail")
        )
    )[:20]
    category = draft_category(incident.code, slow)
    what = CODES[incident.code]
    where = incident.server or _("the whole ccTLD")
    title = (
        _("Possible DDoS against .%(tld)s: %(code)s")
        if category == "ddos"
        else _("Outage of .%(tld)s: %(code)s")
    ) % {"tld": tld.alabel, "code": incident.code}
    lines = [
        _("%(n)d vantage points of the TLD-OPS monitor agree:") % {"n": probes},
        "",
        f"{incident.code} ({Severity(incident.severity).name}): {what.text}",
        _("Server: %(s)s") % {"s": where},
        _("Since: %(t)s UTC") % {"t": incident.opened_at.strftime("%Y-%m-%d %H:%M")},
        _("Reference: %(r)s") % {"r": what.rfc},
    ]
    if details:
        lines += ["", _("Seen:")]
        lines += [f"- {a or where}: {d}" if d else f"- {a or where}" for a, d in details]
    return title[:200], "\n".join(lines), category


def contacts(tld: Tld) -> QuerySet[Person]:
    """The ccTLD's own contacts: the people with an active membership of it (the directory's
    rule for who speaks for a ccTLD)."""
    return Person.objects.filter(
        memberships__tld=tld, memberships__status=Membership.Status.ACTIVE
    ).order_by("email")


@outbox.mail_language()
def _notify(incident: Incident, now: datetime) -> None:
    """Mail the ccTLD's own contacts at once (each their own copy, to their directory address
    only), and say so on the timeline."""
    tld = incident.tld
    people = list(contacts(tld))
    subject = community_subject(
        _("Monitor: .%(tld)s %(code)s") % {"tld": tld.alabel, "code": incident.code}
    )
    for person in people:
        outbox.send_template(
            "monitor/email/incident_opened.txt",
            {
                "person": person,
                "incident": incident,
                "tld": tld,
                "code": CODES[incident.code],
                "severity": Severity(incident.severity).name,
                "url": f"{settings.BASE_URL}/monitor/incidents/{incident.pk}/",
                "auto": settings.MONITOR_AUTO_ALERT and bool(settings.MONITOR_ALERT_AUTHOR),
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


def _recover(incident: Incident, clear: set[int], now: datetime) -> bool:
    """Recovered (and closed) once; ``False`` when another process did it first."""
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
            text=_("%(n)d vantage points no longer see it") % {"n": len(clear)},
        )
        record(
            Actor.system(),
            "incident-recovered",
            f"Incident {incident.pk} recovered: .{incident.tld.alabel} {incident.code}",
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
    """Incidents, newest first; of one ccTLD with ``tld``; only open and acknowledged with ``live``."""
    qs = Incident.objects.select_related("tld").order_by("-opened_at", "-pk")
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
