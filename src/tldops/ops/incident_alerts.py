"""The bridge between the monitor's incidents and the alerts: raising an incident's draft alert.

The monitor and the alerts are capabilities side by side and never import each other
(tests/test_layers.py); this module is a door (ops) and may use both. Every door that stores a
sweep (the scheduled monitor, a probe's report through the API) calls :func:`store_and_evaluate`,
so agreement, incidents and the automatic alert happen alike whoever reported.

Who raises the alert:

- a contact of the affected ccTLD, from the incident's page, the API or the CLI
  (:func:`raise_for`): they are its author;
- with ``MONITOR_AUTO_ALERT``, the monitor itself as soon as an incident opens, in the name of the
  account ``MONITOR_ALERT_AUTHOR`` names (a member or staff the community knows is behind the
  automatic alerts). An alert always has a person as its author, whom members can answer; we do
  not invent one. Without that setting, or if it names nobody who may raise alerts, the automatic
  raising is skipped with a logged warning and the draft waits for a contact.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from tldops.alerts import services as alert_services
from tldops.alerts.models import Alert
from tldops.directory.audit import Actor
from tldops.directory.models import Person
from tldops.kernel.errors import DirectoryError
from tldops.monitor import incidents, ingest
from tldops.monitor.models import Incident, Probe, Sweep
from tldops.monitor.results import SweepResult

log = logging.getLogger(__name__)


def raise_for(incident: Incident, person: Person, *, actor: Actor | None = None) -> Alert:
    """Raise the incident's draft alert with ``person`` (a contact of its ccTLD) as its author:
    TLP from ``MONITOR_ALERT_TLP`` (checked by :func:`incidents.alert_tlp`: never RED, which
    needs named readers a draft has not), the incident's ccTLD as the affected one. Once per
    incident."""
    incidents.require_may_act(incident, person)
    return _raise(incident, person, actor or Actor.of(person, "system"))


def _raise(incident: Incident, author: Person, actor: Actor) -> Alert:
    tlp = incidents.alert_tlp()  # RED or a typo: refused, nothing raised
    with transaction.atomic():
        current = incidents.claim_alert(incident)
        alert = alert_services.raise_alert(
            author,
            alert_services.AlertInput(
                title=current.draft_title,
                body=current.draft_body,
                category=current.draft_category or "outage",
                tlp=tlp,
                severity=_severity(current),
                affected=[current.tld.alabel],
            ),
            actor=actor,
        )
        incidents.record_alert(current, alert.pk, author, actor=actor)
    incident.alert_id = alert.pk
    return alert


def _severity(incident: Incident) -> str:
    return "critical" if incident.severity >= 50 else "high"


def auto_author() -> Person | None:
    """The account automatic alerts are raised in the name of; ``None`` (logged) when unset."""
    address = (settings.MONITOR_ALERT_AUTHOR or "").strip()
    if not address:
        log.warning(
            "MONITOR_AUTO_ALERT is on but MONITOR_ALERT_AUTHOR is not set: incidents' draft "
            "alerts wait for a contact to raise them"
        )
        return None
    person = Person.objects.filter(email__iexact=address).first()
    if person is None:
        log.warning(
            "MONITOR_ALERT_AUTHOR %s is nobody in the directory: no automatic alert", address
        )
    return person


def after_evaluate(changes: incidents.Changes) -> list[Alert]:
    """Raise the alerts of the incidents just opened when ``MONITOR_AUTO_ALERT`` says so."""
    if not settings.MONITOR_AUTO_ALERT or not changes.opened:
        return []
    author = auto_author()
    if author is None:
        return []
    raised = []
    for incident in changes.opened:
        try:
            raised.append(_raise(incident, author, Actor(label="system:monitor", door="system")))
        except DirectoryError as exc:  # e.g. the author may no longer raise alerts
            log.warning("incident %s: automatic alert not raised: %s", incident.pk, exc.message)
    return raised


def evaluate() -> incidents.Changes:
    """Open or close incidents with what the vantage points now say, then raise the automatic
    alerts: after a sweep was stored by another way (a probe's report checked by the API)."""
    changes = incidents.evaluate()
    after_evaluate(changes)
    return changes


def store_and_evaluate(
    probe: Probe, result: SweepResult, report_id: str
) -> tuple[Sweep, incidents.Changes]:
    """Store a sweep, then open or close incidents and raise automatic alerts: what every door
    does with a report (a duplicate report changes nothing)."""
    sweep = ingest.store(probe, result, report_id)
    if getattr(sweep, "duplicate", False):
        return sweep, incidents.Changes()
    return sweep, evaluate()
