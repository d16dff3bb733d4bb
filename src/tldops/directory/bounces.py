"""Whether a contact's address can be reached: each address's decaying bounce score, and the
threshold that tells people.

Bounces arrive through the list's ``-bounces+token`` route (:mod:`tldops.lists.bounces`: VERP
attribution), the mail core reads them (:mod:`tldops.mail.dsn`: parsing, hard / soft / policy),
and every capability that learns something about an address tells this module: a bounce
(:func:`record_bounce`), a proof of life (:func:`record_success`: a positive report, a reachability
answer). It lives in the directory because what it decides is a fact about a person's address
that the directory shows, that the list and the reachability checks both read, and that tells the
person's colleagues.

- **Scoring** — each address has a :class:`~tldops.directory.models.BounceScore` that halves every
  ``BOUNCE_DECAY_DAYS``; a hard bounce adds :data:`HARD_WEIGHT`, a soft one :data:`SOFT_WEIGHT`, at
  most one bounce's worth per address and calendar day (UTC; the strongest of the day), so a burst
  of posts to a mailbox that is down for an hour does not add up. A policy rejection is recorded
  but never counted.
- **Threshold** — at ``BOUNCE_THRESHOLD`` the member is *not* removed: they are told at their other
  addresses, the other contacts of their ccTLD(s) and the secretariat are told (one mail, through
  the outbox), ``unreachable_since`` is set, an audit entry written, and the directory shows the
  contact as unreachable. It clears on a later success or when the decayed score falls under
  :data:`CLEAR_FRACTION` of the threshold (hysteresis, so one quiet day does not flip it back).

:func:`sweep` (run by the worker) does the time-driven part: clearing, and counting list deliveries
our outbox itself saw refused for good (no DSN comes back for those).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops.directory import queries
from tldops.directory.audit import Actor, record
from tldops.directory.models import BounceEvent, BounceScore, Membership, Person
from tldops.mail import outbox
from tldops.mail.dsn import classify, refusal_report
from tldops.mail.models import Delivery, InboundMessage

log = logging.getLogger(__name__)

Kind = BounceEvent.Kind

#: What one bounce adds to the score (per address and calendar day: the day's strongest counts).
HARD_WEIGHT = 1.0
SOFT_WEIGHT = 0.5
WEIGHTS = {Kind.HARD: HARD_WEIGHT, Kind.SOFT: SOFT_WEIGHT, Kind.POLICY: 0.0}
#: An unreachable address is reachable again when its decayed score falls under this share of
#: ``BOUNCE_THRESHOLD``.
CLEAR_FRACTION = 0.5
#: A list delivery handed over this long ago without a bounce counts as a success (remote MTAs
#: keep retrying for up to 5 days before they give up and bounce).
QUIET_DAYS = 5
#: :func:`sweep` looks at failed outbox deliveries this recent.
SWEEP_WINDOW_DAYS = 30

# --- Scoring -----------------------------------------------------------------------------------------


def decayed(score: float, since: datetime, now: datetime) -> float:
    """``score`` as it stands at ``now``: it halves every ``BOUNCE_DECAY_DAYS`` (0: never)."""
    half_life = settings.BOUNCE_DECAY_DAYS
    if half_life <= 0 or now <= since:
        return score
    return score * 0.5 ** ((now - since).total_seconds() / 86400 / half_life)


@dataclass(frozen=True)
class Reachability:
    """What the list knows about an address (for the ``status`` command, pages, the API)."""

    address: str
    score: float
    unreachable_since: datetime | None
    last_bounce_at: datetime | None

    @property
    def unreachable(self) -> bool:
        return self.unreachable_since is not None


def state(address: str, *, now: datetime | None = None) -> Reachability:
    """The address's current (decayed) score and whether it is marked unreachable."""
    now = now or timezone.now()
    address = address.strip().lower()
    row = BounceScore.objects.filter(address=address).first()
    if row is None:
        return Reachability(address, 0.0, None, None)
    return Reachability(
        address, decayed(row.score, row.updated_at, now), row.unreachable_since, row.last_bounce_at
    )


def person_for(address: str) -> Person | None:
    """The directory's person with this primary (else alternate) address, if any."""
    address = address.strip().lower()
    person = Person.objects.filter(email__iexact=address).first()
    if person is None:
        for candidate in Person.objects.exclude(alt_emails=[]).only("id", "alt_emails"):
            if address in {a.lower() for a in candidate.alt_emails}:
                return Person.objects.get(pk=candidate.pk)
    return person


def _score_row(address: str, now: datetime) -> BounceScore:
    row, _created = BounceScore.objects.select_for_update().get_or_create(
        address=address, defaults={"updated_at": now, "person": person_for(address)}
    )
    return row


def record_bounce(
    address: str,
    kind: str,
    *,
    status_code: str = "",
    diagnostic: str = "",
    delivery: Delivery | None = None,
    inbound: InboundMessage | None = None,
    now: datetime | None = None,
) -> tuple[BounceEvent, BounceScore]:
    """Record one bounce for ``address`` and update its score; at the threshold, mark it unreachable
    and tell the people who should know. In one transaction, with the score row locked."""
    now = now or timezone.now()
    address = address.strip().lower()
    with transaction.atomic():
        row = _score_row(address, now)
        day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        today = list(
            BounceEvent.objects.filter(
                address=address, received_at__gte=day_start, received_at__lte=now
            ).values_list("kind", flat=True)
        )
        event = BounceEvent.objects.create(
            address=address,
            person=row.person,
            delivery=delivery,
            inbound=inbound,
            kind=kind,
            status_code=status_code[:16],
            diagnostic=diagnostic[:5000],
        )
        BounceEvent.objects.filter(pk=event.pk).update(received_at=now)
        counted_today = max((WEIGHTS[k] for k in today), default=0.0)
        increment = max(0.0, WEIGHTS[kind] - counted_today)
        row.score = decayed(row.score, row.updated_at, now) + increment
        row.updated_at = now
        if kind != Kind.POLICY:
            row.last_bounce_at = now
        row.save(update_fields=["score", "updated_at", "last_bounce_at"])
        if row.unreachable_since is None and row.score >= settings.BOUNCE_THRESHOLD:
            _mark_unreachable(row, event, now)
    return event, row


def record_success(address: str, *, why: str, now: datetime | None = None) -> BounceScore | None:
    """A delivery to ``address`` succeeded: its score starts again from zero and, if it was
    unreachable, it is reachable again."""
    now = now or timezone.now()
    address = address.strip().lower()
    with transaction.atomic():
        row = BounceScore.objects.select_for_update().filter(address=address).first()
        if row is None:
            return None
        row.score = 0.0
        row.updated_at = now
        row.save(update_fields=["score", "updated_at"])
        if row.unreachable_since is not None:
            _mark_reachable(row, why=why)
    return row


def _mark_unreachable(row: BounceScore, event: BounceEvent, now: datetime) -> None:
    row.unreachable_since = now
    row.notified_at = now if row.person else None
    row.save(update_fields=["unreachable_since", "notified_at"])
    person = row.person
    if person is None:
        log.warning(
            "%s is unreachable (score %.2f) and is nobody in the directory", row.address, row.score
        )
        return
    memberships = list(
        Membership.objects.filter(person=person, status=Membership.Status.ACTIVE).select_related(
            "tld"
        )
    )
    record(
        Actor.system(),
        "contact-unreachable",
        f"{person.name} <{row.address}> is unreachable: list mail bounces "
        f"(score {row.score:.1f}, last: {event.status_code or event.kind})",
        tld=memberships[0].tld if memberships else None,
        person=person,
        before={"unreachable": False},
        after={
            "unreachable": True,
            "address": row.address,
            "score": round(row.score, 2),
            "status": event.status_code,
            "diagnostic": event.diagnostic[:300],
        },
    )
    _notify(row, event, person, memberships)


def _mark_reachable(row: BounceScore, *, why: str) -> None:
    row.unreachable_since = None
    row.save(update_fields=["unreachable_since"])
    if row.person is not None:
        record(
            Actor.system(),
            "contact-reachable",
            f"{row.person.name} <{row.address}> is reachable again: {why}",
            person=row.person,
            before={"unreachable": True},
            after={"unreachable": False, "address": row.address},
        )


def _notify(
    row: BounceScore, event: BounceEvent, person: Person, memberships: list[Membership]
) -> None:
    """One mail: to the member's other addresses and the other contacts of their ccTLDs, copied to
    the secretariat (everyone, if the member has no other address and no colleague)."""
    own = [a for a in [person.email, *person.alt_emails] if a.lower() != row.address]
    colleagues = queries.colleague_addresses(person, [m.tld_id for m in memberships])
    secretariat = queries.secretariat_addresses()
    to = list(dict.fromkeys([*own, *colleagues]))
    cc = [a for a in secretariat if a not in to]
    if not to:
        to, cc = cc, []
    if not to:
        log.warning("nobody to tell that %s is unreachable", row.address)
        return
    with outbox.mail_language():
        outbox.send_template(
            "directory/email/unreachable.txt",
            {
                "person": person,
                "address": row.address,
                "tlds": [m.tld for m in memberships],
                "event": event,
                "score": row.score,
                "threshold": settings.BOUNCE_THRESHOLD,
                "list_address": settings.LIST_ADDRESS,
            },
            subject=_("TLD-OPS: list mail to %(name)s <%(address)s> bounces")
            % {"name": person.name, "address": row.address},
            to=to,
            cc=cc,
            purpose="bounce-unreachable",
        )


# --- Time-driven work (the worker) -------------------------------------------------------------------


def sweep(*, now: datetime | None = None) -> int:
    """Count failures the outbox saw itself, and clear addresses that are reachable again.

    Returns how many scores changed state or were fed. Idempotent: a counted delivery has a
    :class:`BounceEvent`, so it is not counted twice.
    """
    now = now or timezone.now()
    changed = 0
    refused = (
        Delivery.objects.filter(
            message__verp=True,
            status=Delivery.Status.FAILED,
            next_attempt_at__gte=now - timedelta(days=SWEEP_WINDOW_DAYS),
            bounces__isnull=True,
        )
        .order_by("id")
        .distinct()[:1000]
    )
    for delivery in refused:
        report = refusal_report(delivery.recipient, delivery.last_error)
        record_bounce(
            delivery.recipient,
            classify(report) or Kind.SOFT,
            status_code=report.status,
            diagnostic=report.diagnostic,
            delivery=delivery,
            now=now,
        )
        changed += 1
    threshold = settings.BOUNCE_THRESHOLD * CLEAR_FRACTION
    for row in BounceScore.objects.filter(unreachable_since__isnull=False):
        quiet = (
            Delivery.objects.filter(
                recipient__iexact=row.address,
                message__verp=True,
                status=Delivery.Status.SENT,
                sent_at__gt=row.last_bounce_at or row.unreachable_since,
                sent_at__lte=now - timedelta(days=QUIET_DAYS),
                bounces__isnull=True,
            )
            .aggregate(last=Max("sent_at"))
            .get("last")
        )
        if quiet is not None:
            record_success(row.address, why="a list delivery did not bounce", now=now)
            changed += 1
        elif decayed(row.score, row.updated_at, now) < threshold:
            with transaction.atomic():
                locked = BounceScore.objects.select_for_update().get(pk=row.pk)
                if locked.unreachable_since is not None:
                    _mark_reachable(locked, why="its bounce score decayed")
                    changed += 1
    return changed
