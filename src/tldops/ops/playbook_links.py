"""The bridge between the playbooks' live incidents and the alerts and the monitor.

A live DDoS incident run with the DDoS playbook (:mod:`tldops.playbooks.exercises`) may name the
community alert raised about it and the monitor incident that saw it. The playbooks, the alerts
and the monitor are capabilities side by side and never import each other
(tests/test_layers.py): the playbooks store the two ids as plain integers, and this door checks
them before they are stored. Every door (the exercise's page, the API) calls :func:`start` and
:func:`link` here, never :func:`tldops.playbooks.exercises.link` directly.

The checks:

- the **alert** exists and the person linking it may read it (:func:`tldops.alerts.access.can_read`,
  the one TLP rule): an alert they may not read is answered as if it did not exist, so that a
  link does not tell them a RED alert's number is taken;
- the **monitor incident** exists and is about the exercise's own ccTLD.

Once linked, the alert stays under its TLP: every contact of the ccTLD reads the exercise, not all
of them the alert (a RED alert is for its author and named recipients). The doors show the
alert's number and link only through :func:`readable_alert_id` / :func:`readable_alert_ids`, and
the exercise's own timeline never names it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from tldops.alerts import access as alert_access
from tldops.alerts.models import Alert
from tldops.catalog.models import Tld
from tldops.directory.audit import Actor
from tldops.directory.models import Person
from tldops.kernel.errors import InvalidInput, NotFound, raise_all
from tldops.monitor.models import Incident
from tldops.playbooks import exercises
from tldops.playbooks.models import Exercise


def check(
    person: Person,
    tld: Tld,
    *,
    alert_id: int | None = None,
    monitor_incident_id: int | None = None,
) -> None:
    """Refuse an alert ``person`` may not read or a monitor incident not about ``tld``."""
    errors: list[InvalidInput | NotFound] = []
    if alert_id is not None:
        alert = Alert.objects.filter(pk=alert_id).first()
        if alert is None or not alert_access.can_read(person, alert):
            errors.append(
                NotFound(
                    _("No alert %(id)d that you may read.") % {"id": alert_id}, field="alert_id"
                )
            )
    if monitor_incident_id is not None:
        incident = Incident.objects.filter(pk=monitor_incident_id).first()
        if incident is None:
            errors.append(
                NotFound(
                    _("No monitor incident %(id)d.") % {"id": monitor_incident_id},
                    field="monitor_incident_id",
                )
            )
        elif incident.tld_id != tld.pk:
            errors.append(
                InvalidInput(
                    _("Monitor incident %(id)d is about another ccTLD, not .%(tld)s.")
                    % {"id": monitor_incident_id, "tld": tld.alabel},
                    field="monitor_incident_id",
                )
            )
    raise_all(errors)


def readable_alert_ids(person: Person | None, alert_ids: Iterable[int | None]) -> set[int]:
    """Those of ``alert_ids`` (linked alerts of exercises) that ``person`` may read, in one query
    (:func:`tldops.alerts.access.visible_to`, the one TLP rule); none asked, no query."""
    wanted = {pk for pk in alert_ids if pk}
    if not wanted:
        return set()
    return set(alert_access.visible_to(person).filter(pk__in=wanted).values_list("pk", flat=True))


def readable_alert_id(person: Person | None, exercise: Exercise) -> int | None:
    """The exercise's linked alert as ``person`` may see it: its id if they may read the alert,
    ``None`` otherwise (or when none is linked). Every page, report and API answer about an
    exercise shows the alert through this."""
    if exercise.alert_id and readable_alert_ids(person, [exercise.alert_id]):
        return exercise.alert_id
    return None


def link(
    exercise: Exercise,
    person: Person,
    *,
    alert_id: int | None = None,
    monitor_incident_id: int | None = None,
    now: datetime | None = None,
    actor: Actor | None = None,
) -> Exercise:
    """Link a live DDoS incident to an alert and/or a monitor incident, once they are checked."""
    exercises.get(person, exercise.pk)  # not the ccTLD's contact: no such exercise, whatever ids
    check(person, exercise.tld, alert_id=alert_id, monitor_incident_id=monitor_incident_id)
    return exercises.link(
        exercise,
        person,
        alert_id=alert_id,
        monitor_incident_id=monitor_incident_id,
        now=now,
        actor=actor,
    )


def start(
    person: Person,
    tld: Tld,
    *,
    alert_id: int | None = None,
    monitor_incident_id: int | None = None,
    now: datetime | None = None,
    actor: Actor | None = None,
    **fields: str,
) -> Exercise:
    """Start an exercise or a live incident (:func:`tldops.playbooks.exercises.start`), linked at
    once to an alert and a monitor incident when they are given. The service refuses anyone but
    the ccTLD's contacts before any id is looked at; the ids are checked in the same transaction,
    so a refused link starts nothing."""
    if alert_id is None and monitor_incident_id is None:
        return exercises.start(person, tld, now=now, actor=actor, **fields)
    with transaction.atomic():
        exercise = exercises.start(person, tld, now=now, actor=actor, **fields)
        check(person, tld, alert_id=alert_id, monitor_incident_id=monitor_incident_id)
        return exercises.link(
            exercise,
            person,
            alert_id=alert_id,
            monitor_incident_id=monitor_incident_id,
            now=now,
            actor=actor,
        )
