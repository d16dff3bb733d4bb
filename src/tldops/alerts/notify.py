"""Personal alert filters, the immediate notifications they ask for, and the daily alert digest.

A member keeps up to :data:`~tldops.alerts.models.MAX_FILTERS_PER_PERSON` filters: categories
(empty: all), ccTLDs (empty: all; an alert matches when any of its affected ccTLDs is one of
them), a minimum severity, and a mode — ``immediate`` (one personal mail per alert) or ``digest``
(one mail a day). This is *in addition to* the list's copy; every door (portal, API, CLI) calls
the functions here.

When an alert is raised, :func:`on_raised` runs in the same transaction (a rolled-back alert
notifies nobody). For each person with a matching filter who may read the alert — the one rule,
:func:`tldops.alerts.access.can_read`, so a RED alert reaches only the people it names — and who is
in the community (an active member or staff: filters are a member's tool), never its author:

- one immediate mail, however many of their filters match, if any matching filter is
  ``immediate`` (then the alert is not repeated in their digest);
- otherwise one :class:`~tldops.alerts.models.AlertDigestItem`.

What the mails carry (TLP 2.0):

- every mail goes to ``Person.email`` only, never to ``alt_emails`` (AMBER+STRICT must not reach a
  member's other addresses);
- the label (``TLP:AMBER``, never translated) is in the subject, ``[TLD-OPS][TLP:AMBER] title``,
  and is the first line of the body;
- CLEAR, GREEN, AMBER and AMBER+STRICT notifications carry the alert's text, its category,
  severity and affected ccTLDs and a link to its page; a RED notification carries only the label,
  the title and the link: the text of a RED alert stays on the portal, where only its named
  readers can open it;
- a digest lists each alert with its own label, title, category, severity, affected ccTLDs and
  link, grouped by label (the most restrictive first), never any alert's text; its subject and
  first line carry the most restrictive label it holds (``[TLD-OPS][TLP:AMBER] Alerts digest
  2026-12-05``), as TLP 2.0 asks of a document that mixes labels.

The digest (:func:`run_due`, run by the worker every minute) follows :mod:`tldops.lists.digest`:
from ``ALERT_DIGEST_HOUR`` (UTC) on, per person in ONE transaction, the
:class:`~tldops.alerts.models.AlertDigest` row for (person, today) is inserted first — unique, so
a second worker, or the same one again, fails there and sends nothing — then the mail is queued
and the items it carries deleted. Each item is checked again with ``can_read`` at send time: an
alert the person may no longer read (removed from a RED alert's readers, left the community) is
dropped, not sent. Mail is written in the site's language (:func:`tldops.mail.outbox.mail_language`),
as every mail tldops sends.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops.alerts import access, mailing
from tldops.alerts.models import (
    MAX_FILTERS_PER_PERSON,
    Alert,
    AlertDigest,
    AlertDigestItem,
    AlertFilter,
)
from tldops.alerts.tlp import Tlp
from tldops.catalog.lookup import resolve_tld
from tldops.catalog.models import Tld
from tldops.directory.models import Person
from tldops.directory.validation import Checks, clean_choice
from tldops.kernel.audit import Actor, record
from tldops.kernel.errors import InvalidInput, NotAuthorised, NotFound
from tldops.mail import community, outbox
from tldops.mail.headers import one_line
from tldops.mail.models import OutboundMessage

#: ccTLDs one filter may name.
MAX_FILTER_TLDS = 50
#: Alerts one digest carries at most; more wait for the next day's.
MAX_DIGEST_ITEMS = 200
NOTIFICATION_PURPOSE = "alert-notification"
DIGEST_PURPOSE = "alert-digest"
#: From the least to the most severe: a filter's minimum matches itself and everything above.
SEVERITIES: list[str] = list(Alert.Severity.values)
#: The labels from the most restrictive down: how a digest groups its items.
RESTRICTIVE_FIRST = [Tlp.RED, Tlp.AMBER_STRICT, Tlp.AMBER, Tlp.GREEN, Tlp.CLEAR]


@dataclass
class FilterInput:
    """A filter as a door received it, before validation."""

    categories: list[str] = field(default_factory=list)
    tlds: list[str] = field(default_factory=list)
    min_severity: str = Alert.Severity.LOW
    mode: str = AlertFilter.Mode.IMMEDIATE


# --- The filters -------------------------------------------------------------------------------


def list_filters(person: Person) -> QuerySet[AlertFilter]:
    """``person``'s filters, oldest first, with their ccTLDs."""
    return AlertFilter.objects.filter(person=person).prefetch_related("tlds").order_by("id")


def _categories(values: list[str]) -> list[str]:
    if len(values) > len(Alert.Category.values):
        raise InvalidInput(
            _("At most %(n)d categories.") % {"n": len(Alert.Category.values)}, field="categories"
        )
    checks = Checks()
    chosen = [checks.run(clean_choice, v, Alert.Category, "category") for v in values]
    for error in checks.errors:
        error.field = "categories"
    checks.done()
    return sorted({c for c in chosen if c})


def _tlds(names: list[str]) -> list[Tld]:
    if len(names) > MAX_FILTER_TLDS:
        raise InvalidInput(
            _("A filter may name at most %(n)d ccTLDs.") % {"n": MAX_FILTER_TLDS}, field="tlds"
        )
    checks = Checks()
    tlds = [checks.run(resolve_tld, n) for n in names]
    for error in checks.errors:
        error.field = "tlds"
    checks.done()
    return list(dict.fromkeys(t for t in tlds if t is not None))


def save_filter(person: Person, data: FilterInput, *, actor: Actor) -> AlertFilter:
    """Add a filter for ``person`` (an active member or staff): every problem reported at once,
    nothing stored when anything is wrong; at most ``MAX_FILTERS_PER_PERSON`` filters each."""
    if not access.in_community(person):
        raise NotAuthorised(
            _("Only active members, the secretariat and the committee may keep alert filters.")
        )
    checks = Checks()
    categories = checks.run(_categories, [c for c in data.categories if (c or "").strip()])
    tlds = checks.run(_tlds, [t for t in data.tlds if (t or "").strip()])
    severity = checks.run(clean_choice, data.min_severity, Alert.Severity, "min_severity")
    mode = checks.run(clean_choice, data.mode, AlertFilter.Mode, "mode")
    if AlertFilter.objects.filter(person=person).count() >= MAX_FILTERS_PER_PERSON:
        checks.errors.append(
            InvalidInput(
                _("You have %(n)d alert filters already, the most one may keep: delete one first.")
                % {"n": MAX_FILTERS_PER_PERSON}
            )
        )
    checks.done()
    with transaction.atomic():
        flt = AlertFilter.objects.create(
            person=person, categories=categories or [], min_severity=severity, mode=mode
        )
        flt.tlds.set(tlds or [])
        record(
            actor,
            "alert-filter-saved",
            f"Alert filter {flt.pk} of {person.email} ({mode})",
            after={"filter": flt.pk, "person": person.pk},
        )
    return flt


def delete_filter(person: Person, pk: int, *, actor: Actor) -> None:
    """Delete ``person``'s filter ``pk``; :class:`NotFound` for a filter that is not theirs,
    whether it exists or not."""
    flt = AlertFilter.objects.filter(pk=pk, person=person).first()
    if flt is None:
        raise NotFound(_("You have no alert filter %(pk)s.") % {"pk": pk})
    with transaction.atomic():
        flt.delete()
        record(
            actor,
            "alert-filter-deleted",
            f"Alert filter {pk} of {person.email} deleted",
            before={"filter": pk, "person": person.pk},
        )


def describe(flt: AlertFilter) -> dict[str, object]:
    """A filter as the doors show it."""
    return {
        "id": flt.pk,
        "categories": list(flt.categories),
        "tlds": sorted(t.alabel for t in flt.tlds.all()),
        "min_severity": flt.min_severity,
        "mode": flt.mode,
        "created_at": flt.created_at,
    }


# --- When an alert is raised -------------------------------------------------------------------


def _matching(alert: Alert) -> dict[int, set[str]]:
    """``{person id: modes of their filters that match alert}`` (the author left out)."""
    severe_enough = SEVERITIES[: SEVERITIES.index(alert.severity) + 1]
    affected = list(alert.affected.values_list("pk", flat=True))
    rows = (
        AlertFilter.objects.filter(min_severity__in=severe_enough)
        .exclude(person_id=alert.author_id)
        .filter(Q(tlds__isnull=True) | Q(tlds__in=affected))
        .distinct()
        .values_list("person_id", "categories", "mode")
    )
    modes: dict[int, set[str]] = defaultdict(set)
    for person_id, categories, mode in rows:
        if not categories or alert.category in categories:
            modes[person_id].add(mode)
    return modes


def may_receive(person: Person, alert: Alert) -> bool:
    """Whether a mail about ``alert`` may go to ``person`` now: in the community (an active
    member or staff) and a reader of the alert (TLP, :func:`access.can_read`)."""
    return access.in_community(person) and access.can_read(person, alert)


def on_raised(alert: Alert) -> None:
    """Queue the personal notifications and digest items ``alert`` calls for; called by
    :func:`tldops.alerts.services.raise_alert` inside its transaction."""
    modes = _matching(alert)
    if not modes:
        return
    people = access.readers_among(list(Person.objects.filter(pk__in=modes).order_by("pk")), alert)
    items = []
    body = ""
    for person in people:
        if AlertFilter.Mode.IMMEDIATE in modes[person.pk]:
            body = body or _notification_body(alert)  # the same for everyone: made once
            _notify(person, alert, body)
        else:
            items.append(AlertDigestItem(person=person, alert=alert))
    AlertDigestItem.objects.bulk_create(items, ignore_conflicts=True)


def _affected(alert: Alert) -> str:
    return " ".join(f".{t.alabel}" for t in alert.affected.order_by("alabel")) or "—"


def _subject(tag: str, text: str) -> str:
    return one_line(community.subject(text, f"[{tag}]"), outbox.SUBJECT_LIMIT)


@outbox.mail_language()
def _notification_body(alert: Alert) -> str:
    label = alert.label
    return render_to_string(
        "alerts/email/notification.txt",
        {
            "base_url": settings.BASE_URL,
            "tag": label.tag,
            "alert": alert,
            "red": label is Tlp.RED,
            "strict": label is Tlp.AMBER_STRICT,
            "affected": _affected(alert),
            "url": mailing.alert_url(alert),
            "filters_url": f"{settings.BASE_URL}/alerts/filters/",
        },
    )


def _notify(person: Person, alert: Alert, body: str) -> None:
    """One personal notification (written once for all by :func:`_notification_body`)."""
    tag = alert.label.tag
    msg = outbox.build_message(
        subject=_subject(tag, alert.title),
        body=body,
        to=[person.email],  # never alt_emails
        headers={"X-TLP": tag},
    )
    outbox.enqueue(msg, purpose=NOTIFICATION_PURPOSE, shown_subject=mailing.shown_subject(alert))


# --- The daily digest --------------------------------------------------------------------------


def digest_hour() -> int:
    """``ALERT_DIGEST_HOUR`` (UTC, 0-23); a value out of range is the default, 7."""
    hour = int(settings.ALERT_DIGEST_HOUR)
    return hour if 0 <= hour <= 23 else 7


@outbox.mail_language()
def _send_digest(person: Person, day: dt.date, alerts: list[Alert]) -> OutboundMessage:
    present = {a.label for a in alerts}
    top = next(t for t in RESTRICTIVE_FIRST if t in present)
    groups = []
    for label in RESTRICTIVE_FIRST:
        rows = [
            {"alert": a, "affected": _affected(a), "url": mailing.alert_url(a)}
            for a in alerts
            if a.label is label
        ]
        if rows:
            groups.append({"tag": label.tag, "red": label is Tlp.RED, "rows": rows})
    return outbox.send_template(
        "alerts/email/digest.txt",
        {
            "tag": top.tag,
            "day": day.isoformat(),
            "groups": groups,
            "count": len(alerts),
            "filters_url": f"{settings.BASE_URL}/alerts/filters/",
        },
        subject=_subject(top.tag, _("Alerts digest %(date)s") % {"date": day.isoformat()}),
        to=[person.email],  # never alt_emails
        purpose=DIGEST_PURPOSE,
        headers={"X-TLP": top.tag},
    )


def send_digest(person_id: int, day: dt.date) -> AlertDigest | None:
    """Send ``person_id``'s alert digest of ``day`` if it is due and not sent; see the module's
    text. Items the person may no longer read are dropped unsent."""
    try:
        with transaction.atomic():
            items = AlertDigestItem.objects.filter(person_id=person_id)
            person = Person.objects.filter(pk=person_id).first()
            if person is None:
                items.delete()
                return None
            if AlertDigest.objects.filter(person_id=person_id, day=day).exists():
                return None
            batch = list(items.select_related("alert").order_by("alert_id")[:MAX_DIGEST_ITEMS])
            readable = [i for i in batch if may_receive(person, i.alert)]
            if not readable:
                AlertDigestItem.objects.filter(pk__in=[i.pk for i in batch]).delete()
                return None
            digest = AlertDigest.objects.create(person=person, day=day, count=len(readable))
            digest.outbound = _send_digest(person, day, [i.alert for i in readable])
            digest.save(update_fields=["outbound"])
            AlertDigestItem.objects.filter(pk__in=[i.pk for i in batch]).delete()
            return digest
    except IntegrityError:  # another worker sent this person's digest of the day first
        return None


def run_due(now: dt.datetime | None = None) -> int:
    """The worker's hook: from ``ALERT_DIGEST_HOUR`` (UTC) on, send every waiting alert digest of
    the day; the number sent. Running it again the same day sends nothing more."""
    now = (now or timezone.now()).astimezone(dt.UTC)
    if now.hour < digest_hour():
        return 0
    people = sorted(set(AlertDigestItem.objects.values_list("person_id", flat=True)))
    return sum(1 for pk in people if send_digest(pk, now.date()) is not None)
