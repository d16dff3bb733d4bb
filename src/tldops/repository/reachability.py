"""Reachability checks: "are you still there?" to every contact, each period, by mail.

A round's life, in order (the worker calls :func:`run_due` every minute; every step is
idempotent, so two workers, a restart or a scheduler that wakes twice change nothing):

1. **Start** — when a round is due (:func:`tldops.repository.schedule.due_round`, quarterly by
   default) and has no :class:`~tldops.repository.models.ChallengeRound` row yet, one
   :class:`~tldops.repository.models.Challenge` is made per person who is an active contact of a
   delegated ccTLD, and one short mail is queued to each through the outbox. The round row (its
   ``period`` is unique) is inserted in the same transaction as the mails: that insert is the
   claim, so a second caller fails on it and sends nothing. People who proved reachable after the
   round's start time (they just confirmed their membership) are not challenged in it.
2. **Answer** — one click (a signed link opening a page with a one-button form: mail scanners
   that fetch links change nothing) or one reply to the mail (``Reply-To`` is
   ``REACHABILITY_ADDRESS``, the subject carries ``[ref:r<id>-<12 hex>]``; the reply must come from
   one of the person's addresses, :mod:`tldops.repository.mail_door`). :func:`answer` records it,
   clears a bounce mark on the address (:func:`tldops.lists.bounces.record_success`) and writes
   an audit entry, which also refreshes the cached directory pages. A link or a reference answers
   its own challenge only, once, and only while its round lasts: until a later round starts, and
   at most ``REACHABILITY_ANSWER_DAYS`` after it was sent (:class:`ChallengeClosed` after that).
   So a link saved, forwarded or leaked once cannot keep a contact "reachable" for ever: each
   round needs an answer to that round's mail.
3. **Remind** — a challenge of the latest round unanswered ``REACHABILITY_GRACE_DAYS`` after it
   was sent gets one reminder (same link, same reference).
4. **Escalate** — still unanswered ``REACHABILITY_ESCALATE_DAYS`` after the reminder: one mail to
   the other active contacts of the person's ccTLDs and the secretariat, copied to the person.
   Nobody is removed; the contact is shown as unverified until they answer.

**Reachable** (reports, the coverage page's "at risk" flag): an active contact is reachable unless
list mail to their main address bounces (:mod:`tldops.lists.bounces` marked it unreachable) or
their challenge of the latest round was escalated and is still unanswered. A challenge still
within its grace period does not count against anyone. **Last proved reachable**: the latest
answered challenge of the person, or the membership's confirmation if that is later.
"""

from __future__ import annotations

import re
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    Subquery,
)
from django.db.models.expressions import Expression
from django.db.models.functions import Coalesce, Greatest, Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops.catalog.models import Region, Tld
from tldops.directory import bounces, links, queries
from tldops.directory.audit import Actor, record
from tldops.directory.bounces import state
from tldops.directory.models import BounceScore, Membership, Person
from tldops.kernel.errors import DirectoryError, InvalidInput, LinkInvalid, NotAuthorised
from tldops.mail import outbox
from tldops.repository import schedule
from tldops.repository.models import Challenge, ChallengeRound

SALT = "tldops.repository.reachability"
PURPOSE = "reachability"
REMINDER_PURPOSE = "reachability-reminder"
ESCALATION_PURPOSE = "reachability-escalation"
#: The reference a reply's subject carries: ``[ref:r123-0123456789ab]`` (the ``r`` keeps it apart
#: from the invitations' ``[ref:123-…]``).
REF_PATTERN = r"\[ref:r(\d+)-([0-9a-f]{12})\]"
_PERIOD = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,15}")
#: How many contacts the "oldest unverified" list shows by default.
OLDEST_LIMIT = 20


class AlreadyStarted(DirectoryError):
    """A round of that period exists already (every period runs once)."""

    status = 409


class ChallengeClosed(LinkInvalid):
    """The challenge's round has ended (a later round started, or it is older than
    ``REACHABILITY_ANSWER_DAYS``): its link and replies to it answer nothing any more."""


# --- Links and references ------------------------------------------------------------------------


def challenge_token(challenge: Challenge) -> str:
    """The signed token of the one-click link (``/reachable/<token>/``)."""
    return links.sign(SALT, "c", challenge.pk, challenge.nonce)


def challenge_ref(challenge: Challenge) -> str:
    """The subject reference a reply is matched by (48 bits of the nonce: not guessable)."""
    return f"r{challenge.pk}-{challenge.nonce[:12]}"


def token_from_ref(ref_pk: int, ref_nonce: str) -> str:
    """The token of the challenge a subject reference names (:class:`LinkInvalid` if none)."""
    challenge = Challenge.objects.filter(pk=ref_pk).first()
    if challenge is None or not secrets.compare_digest(challenge.nonce[:12], ref_nonce.lower()):
        raise LinkInvalid(
            _("The reference in the subject does not match any reachability check we sent.")
        )
    return challenge_token(challenge)


def answer_window() -> timedelta:
    """How long after it was sent a challenge can be answered at most (its round may end before:
    when a later round starts)."""
    return timedelta(days=settings.REACHABILITY_ANSWER_DAYS)


def open_challenge(
    token: str, *, for_update: bool = False, now: datetime | None = None
) -> Challenge:
    """The challenge a token names, if its round still lasts at ``now``.

    :class:`LinkInvalid` if the token is forged or altered; :class:`ChallengeClosed` if a later
    round has started since, or the challenge was sent more than ``REACHABILITY_ANSWER_DAYS``
    ago. An answered challenge of the current round is returned as it is (answering it again
    changes nothing).
    """
    now = now or timezone.now()
    days = settings.REACHABILITY_ANSWER_DAYS
    expired = _(
        "This reachability link has expired: a check can be answered for %(days)d days. "
        "Answer the latest check you received."
    ) % {"days": days}
    pk, nonce = links.unsign(
        token,
        SALT,
        "c",
        _("This reachability link is not valid. Check that it was copied whole."),
        max_age=answer_window(),
        expired=expired,
    )
    qs = Challenge.objects.select_related("person", "round")
    if for_update:
        qs = qs.select_for_update()
    challenge = qs.filter(pk=pk).first()
    if challenge is None or not secrets.compare_digest(challenge.nonce, nonce):
        raise LinkInvalid(_("This reachability link is not valid."))
    _check_open(challenge, now)
    return challenge


def _check_open(challenge: Challenge, now: datetime) -> None:
    """:class:`ChallengeClosed` unless ``challenge``'s round still lasts at ``now``."""
    period = challenge.round.period
    if now - challenge.sent_at > answer_window():
        raise ChallengeClosed(
            _(
                "The reachability check %(period)s has ended: a check can be answered for "
                "%(days)d days after it was sent. The next check will come by mail; answer that one."
            )
            % {"period": period, "days": settings.REACHABILITY_ANSWER_DAYS}
        )
    latest = latest_round()
    if latest is not None and latest.pk != challenge.round_id:
        raise ChallengeClosed(
            _(
                "The reachability check %(period)s has ended: a newer check (%(latest)s) was "
                "sent since. Answer the latest check you received, by its link or by replying "
                "to it."
            )
            % {"period": period, "latest": latest.period}
        )


# --- Starting a round ----------------------------------------------------------------------------


def _clean_period(period: str) -> str:
    period = (period or "").strip()
    if not _PERIOD.fullmatch(period):
        raise InvalidInput(
            _(
                "A round's name is 1 to 16 letters, digits, dots, dashes or underscores, "
                "e.g. 2026-Q4 or 2026-11-extra."
            ),
            field="period",
        )
    return period


def _challengeable(since: datetime) -> list[tuple[Person, list[Membership]]]:
    """People with an active membership of a delegated ccTLD who have not proved reachable after
    ``since``, each with those memberships."""
    memberships = (
        Membership.objects.filter(status=Membership.Status.ACTIVE, tld__delegated=True)
        .select_related("person", "tld")
        .order_by("person_id", "tld__alabel")
    )
    answered = dict(
        Challenge.objects.filter(answered_at__isnull=False)
        .values("person_id")
        .annotate(last=Max("answered_at"))
        .values_list("person_id", "last")
    )
    by_person: dict[int, tuple[Person, list[Membership]]] = {}
    for m in memberships:
        by_person.setdefault(m.person_id, (m.person, []))[1].append(m)
    result = []
    for person_id, (person, ms) in by_person.items():
        proofs = [m.confirmed_at for m in ms if m.confirmed_at] + [answered.get(person_id)]
        latest = max((p for p in proofs if p is not None), default=None)
        if latest is not None and latest > since:
            continue
        result.append((person, ms))
    return result


def start_round(
    period: str,
    *,
    trigger: str = "cli",
    now: datetime | None = None,
    since: datetime | None = None,
    actor: Actor | None = None,
) -> ChallengeRound:
    """Start the round ``period``: one challenge and one mail per active contact, exactly once.

    ``since``: people who proved reachable after it are left out (default: ``now``, so a round
    started by hand challenges everyone). :class:`AlreadyStarted` if the period has run and
    challenged someone. A round that challenged nobody (it started before anyone could be asked)
    may be run again under the same name: the run that moves its start time is the claim.
    """
    now = now or timezone.now()
    since = since or now
    period = _clean_period(period)
    already = _("The reachability round %(period)s has already been started.") % {"period": period}
    existing = ChallengeRound.objects.filter(period=period).first()
    if existing is not None and existing.challenges.exists():
        raise AlreadyStarted(already, field="period")
    people = _challengeable(since)
    try:
        with transaction.atomic():
            if existing is None:
                rnd = ChallengeRound.objects.create(period=period, started_at=now, trigger=trigger)
            else:
                # Re-running an empty round: only the caller whose update still sees the old
                # start time and no challenge goes on; a concurrent one stops here.
                claimed = ChallengeRound.objects.filter(
                    pk=existing.pk, started_at=existing.started_at
                ).update(started_at=now, trigger=trigger)
                if not claimed or existing.challenges.exists():
                    raise AlreadyStarted(already, field="period")
                rnd = ChallengeRound.objects.get(pk=existing.pk)
            challenges = Challenge.objects.bulk_create(
                [
                    Challenge(round=rnd, person=person, nonce=secrets.token_hex(16), sent_at=now)
                    for person, _ms in people
                ]
            )
            Challenge.memberships.through.objects.bulk_create(
                [
                    Challenge.memberships.through(challenge_id=ch.pk, membership_id=m.pk)
                    for ch, (_person, ms) in zip(challenges, people, strict=True)
                    for m in ms
                ]
            )
            for ch, (person, ms) in zip(challenges, people, strict=True):
                ch.person = person
                ch.round = rnd
                _send_challenge(ch, [m.tld for m in ms], reminder=False)
            if challenges or existing is not None:
                again = " again" if existing is not None else ""
                record(
                    actor or Actor.system(),
                    "reachability-round",
                    f"Reachability round {period} started{again}: "
                    f"{len(challenges)} contact(s) challenged",
                    after={
                        "period": period,
                        "challenged": len(challenges),
                        "trigger": trigger,
                        "rerun": existing is not None,
                    },
                )
    except IntegrityError:
        # Another process inserted the same period between our check and our insert: it sends.
        raise AlreadyStarted(already, field="period") from None
    return rnd


@outbox.mail_language()
def _send_challenge(challenge: Challenge, tlds: Iterable[Tld], *, reminder: bool) -> None:
    person = challenge.person
    token = challenge_token(challenge)
    prefix = _("Reminder: ") if reminder else ""
    subject = prefix + _("TLD-OPS: are you still reachable? (%(period)s)") % {
        "period": challenge.round.period
    }
    outbox.send_template(
        "repository/email/challenge.txt",
        {
            "person": person,
            "tlds": list(tlds),
            "link": f"{settings.BASE_URL}/reachable/{token}/",
            "reachability_address": settings.REACHABILITY_ADDRESS,
            "period": challenge.round.period,
            "reminder": reminder,
            "deadline": challenge.sent_at
            + timedelta(
                days=settings.REACHABILITY_GRACE_DAYS + settings.REACHABILITY_ESCALATE_DAYS
            ),
        },
        subject=f"{subject} [ref:{challenge_ref(challenge)}]",
        to=[person.email],
        reply_to=settings.REACHABILITY_ADDRESS,
        purpose=REMINDER_PURPOSE if reminder else PURPOSE,
    )


def next_due(now: datetime | None = None) -> tuple[str, datetime] | None:
    """The next round the worker starts by itself: (label, start time); ``None`` while no contact
    has confirmed. A start time in the past means at the worker's next minute."""
    return schedule.next_round(
        now or timezone.now(), lambda p: ChallengeRound.objects.filter(period=p).exists()
    )


def due_round_started(now: datetime | None = None) -> bool:
    """Whether the round the schedule says is due has a row (started, by the worker or by hand)."""
    period, _starts = schedule.due_round(now or timezone.now())
    return ChallengeRound.objects.filter(period=period).exists()


def run_due(now: datetime | None = None) -> int:
    """The worker's entry point: start the due round if it has not run, then send the reminders
    and escalations that are due. Returns how many mails were queued."""
    now = now or timezone.now()
    queued = 0
    period, starts = schedule.due_round(now)
    # The round's row first: once it exists (nearly every minute) the community's start is not read.
    if not ChallengeRound.objects.filter(period=period).exists() and schedule.allowed(
        starts, schedule.periodic_start()
    ):
        try:
            rnd = start_round(period, trigger="schedule", now=now, since=starts)
        except AlreadyStarted:
            pass
        else:
            queued += rnd.challenges.count()
    reminders, escalations = send_due_reminders(now=now)
    return queued + reminders + escalations


# --- Reminders and escalation ---------------------------------------------------------------------


def latest_round() -> ChallengeRound | None:
    return ChallengeRound.objects.order_by("-started_at", "-id").first()


def _still_contacts(challenges: Iterable[Challenge]) -> dict[int, list[Membership]]:
    """For each challenge's person: their active memberships of delegated ccTLDs."""
    people = {c.person_id for c in challenges}
    result: dict[int, list[Membership]] = defaultdict(list)
    for m in Membership.objects.filter(
        person_id__in=people, status=Membership.Status.ACTIVE, tld__delegated=True
    ).select_related("tld"):
        result[m.person_id].append(m)
    return result


def _claim(challenge: Challenge, step: str, now: datetime) -> bool:
    """Stamp ``step`` (``reminded_at`` or ``escalated_at``) on a still unanswered challenge that
    has not had that step yet; False when it has, or another worker took it first, so each step
    is sent once however many workers run."""
    return bool(
        Challenge.objects.filter(
            pk=challenge.pk, answered_at__isnull=True, **{f"{step}__isnull": True}
        ).update(**{step: now})
    )


def send_due_reminders(*, now: datetime | None = None) -> tuple[int, int]:
    """Remind and escalate the latest round's unanswered challenges that are due; returns
    (reminders, escalations). Each step is claimed by a conditional update in the transaction
    that queues its mail, so it happens once. Contacts who left since are skipped."""
    now = now or timezone.now()
    rnd = latest_round()
    if rnd is None:
        return 0, 0
    open_ = Challenge.objects.filter(round=rnd, answered_at__isnull=True).select_related(
        "person", "round"
    )
    grace = timedelta(days=settings.REACHABILITY_GRACE_DAYS)
    escalate = timedelta(days=settings.REACHABILITY_ESCALATE_DAYS)
    to_remind = list(open_.filter(reminded_at__isnull=True, sent_at__lte=now - grace))
    to_escalate = list(
        open_.filter(
            reminded_at__isnull=False, escalated_at__isnull=True, reminded_at__lte=now - escalate
        )
    )
    contacts = _still_contacts([*to_remind, *to_escalate])
    reminders = escalations = 0
    for challenge in to_remind:
        memberships = contacts.get(challenge.person_id)
        if not memberships:
            continue
        with transaction.atomic():
            if not _claim(challenge, "reminded_at", now):
                continue
            _send_challenge(challenge, [m.tld for m in memberships], reminder=True)
            reminders += 1
    for challenge in to_escalate:
        memberships = contacts.get(challenge.person_id)
        if not memberships:
            continue
        with transaction.atomic():
            if not _claim(challenge, "escalated_at", now):
                continue
            challenge.escalated_at = now
            _escalate(challenge, memberships)
            escalations += 1
    return reminders, escalations


def _escalate(challenge: Challenge, memberships: list[Membership]) -> None:
    """Tell the person's colleagues and the secretariat (one mail), and record it."""
    person = challenge.person
    tlds = [m.tld for m in memberships]
    colleagues = queries.colleague_addresses(person, tlds)
    secretariat = queries.secretariat_addresses()
    own = [person.email, *person.alt_emails]
    to = colleagues or secretariat
    cc = [a for a in dict.fromkeys([*secretariat, *own]) if a not in to]
    if not to:  # no colleague and no secretariat account: the person at least is told
        to, cc = cc, []
    with outbox.mail_language():
        outbox.send_template(
            "repository/email/escalation.txt",
            {
                "person": person,
                "tlds": tlds,
                "period": challenge.round.period,
                "sent_at": challenge.sent_at,
                "reminded_at": challenge.reminded_at,
                "has_colleagues": bool(colleagues),
                "reachability_address": settings.REACHABILITY_ADDRESS,
            },
            subject=_("TLD-OPS: %(name)s has not answered the reachability check (%(tlds)s)")
            % {"name": person.name, "tlds": ", ".join(t.display for t in tlds)},
            to=to,
            cc=cc,
            reply_to=settings.REACHABILITY_ADDRESS,
            purpose=ESCALATION_PURPOSE,
        )
    record(
        Actor.system(),
        "reachability-escalated",
        f"{person.name} <{person.email}> did not answer the reachability check "
        f"{challenge.round.period}; told {len(colleagues)} colleague(s) and the secretariat",
        tld=tlds[0] if tlds else None,
        person=person,
        after={"period": challenge.round.period, "told": [*to, *cc]},
    )


# --- Answering -----------------------------------------------------------------------------------


def answer(
    token: str,
    via: str,
    now: datetime | None = None,
    *,
    sender: str = "",
    door: str = "",
) -> Challenge:
    """Record that the person answered the challenge ``token`` names (by ``click`` or ``reply``).

    The token answers that challenge only, and only while its round lasts
    (:func:`open_challenge`: :class:`ChallengeClosed` once a later round started or the
    challenge is older than ``REACHABILITY_ANSWER_DAYS``). A reply must come from one of the
    person's addresses (:class:`NotAuthorised` otherwise). Answering twice changes nothing: the
    first answer stays. ``door`` is the audit log's door (default: ``email`` for a reply, ``web``
    for a click).
    """
    now = now or timezone.now()
    if via not in Challenge.Via.values:
        raise InvalidInput(_("Answer by click or by reply."), field="via")
    with transaction.atomic():
        challenge = open_challenge(token, for_update=True, now=now)
        person = challenge.person
        if via == Challenge.Via.REPLY:
            addresses = {a.lower() for a in [person.email, *person.alt_emails]}
            if sender.strip().lower() not in addresses:
                raise NotAuthorised(
                    _(
                        "Only %(name)s can answer this reachability check, from one of their own "
                        "addresses. Forwarded checks cannot be answered by reply; use the link "
                        "in the mail instead."
                    )
                    % {"name": person.name},
                    field="sender",
                )
        if challenge.answered_at is not None:
            return challenge
        Challenge.objects.filter(pk=challenge.pk).update(answered_at=now, answered_via=via)
        actor = Actor.of(person, door or ("email" if via == Challenge.Via.REPLY else "web"))
        period = challenge.round.period
        memberships = list(
            person.memberships.filter(status=Membership.Status.ACTIVE).select_related("tld")
        )
        record(
            actor,
            "reachability-answered",
            f"{person.name} <{person.email}> answered the reachability check {period} by {via}",
            tld=memberships[0].tld if memberships else None,
            person=person,
            after={"periods": [period], "via": via, "at": now.isoformat()},
        )
        bounces.record_success(person.email, why="its owner answered a reachability check", now=now)
    challenge.refresh_from_db()
    return challenge


# --- Reads ---------------------------------------------------------------------------------------


def last_answered_expression(person_ref: str = "person") -> Subquery:
    """When the person (``OuterRef(person_ref)``) last answered a challenge: a subquery."""
    return Subquery(
        Challenge.objects.filter(person=OuterRef(person_ref), answered_at__isnull=False)
        .order_by("-answered_at")
        .values("answered_at")[:1],
        output_field=DateTimeField(),
    )


def last_reachable_expression() -> Expression:
    """For a :class:`Membership` queryset: when its contact last proved reachable — the later of
    the person's latest answered challenge and the membership's confirmation (either may be
    missing). One expression, so a listing stays one query."""
    answered = last_answered_expression()
    return Greatest(
        Coalesce(answered, F("confirmed_at")),
        Coalesce(F("confirmed_at"), last_answered_expression()),
        output_field=DateTimeField(),
    )


def last_reachable(persons: Iterable[Person]) -> dict[int, datetime | None]:
    """When each person last proved reachable: their latest answered challenge, else (or if later)
    the latest confirmation of their active memberships. Two queries."""
    ids = [p.pk for p in persons]
    answered = dict(
        Challenge.objects.filter(person_id__in=ids, answered_at__isnull=False)
        .values("person_id")
        .annotate(last=Max("answered_at"))
        .values_list("person_id", "last")
    )
    confirmed = dict(
        Membership.objects.filter(person_id__in=ids, status=Membership.Status.ACTIVE)
        .values("person_id")
        .annotate(last=Max("confirmed_at"))
        .values_list("person_id", "last")
    )
    result: dict[int, datetime | None] = {}
    for pk in ids:
        values = [v for v in (answered.get(pk), confirmed.get(pk)) if v is not None]
        result[pk] = max(values) if values else None
    return result


@dataclass(frozen=True)
class ContactState:
    """One active contact of one ccTLD, as the reachability report sees it."""

    membership_id: int
    person_id: int
    name: str
    email: str
    tld_id: int
    tld: str  # display form, ".fr" / ".рф (xn--p1ai)"
    alabel: str
    number: int
    last_reachable: datetime | None
    bounced: bool  # list mail to the main address bounces (lists.bounces)
    challenge: str  # latest round: "" (not challenged), answered, awaiting, reminded, escalated

    @property
    def reachable(self) -> bool:
        return not self.bounced and self.challenge != "escalated"

    @property
    def unverified(self) -> bool:
        """Not shown reachable by the latest round: bouncing, or its challenge unanswered."""
        return self.bounced or self.challenge in ("awaiting", "reminded", "escalated")


def _challenge_state(challenge: Challenge | None) -> str:
    if challenge is None:
        return ""
    if challenge.answered_at is not None:
        return "answered"
    if challenge.escalated_at is not None:
        return "escalated"
    if challenge.reminded_at is not None:
        return "reminded"
    return "awaiting"


def contact_states(*, tld: Tld | None = None) -> list[ContactState]:
    """Every active contact of a delegated ccTLD with their reachability; three queries."""
    qs = (
        Membership.objects.filter(status=Membership.Status.ACTIVE, tld__delegated=True)
        .select_related("person", "tld")
        .annotate(
            last_reachable=last_reachable_expression(),
            bounced=Exists(
                BounceScore.objects.filter(
                    address=Lower(OuterRef("person__email")), unreachable_since__isnull=False
                )
            ),
        )
        .order_by("tld__alabel", "number")
    )
    if tld is not None:
        qs = qs.filter(tld=tld)
    rnd = latest_round()
    latest: dict[int, Challenge] = {}
    if rnd is not None:
        latest = {c.person_id: c for c in Challenge.objects.filter(round=rnd)}
    return [
        ContactState(
            membership_id=m.pk,
            person_id=m.person_id,
            name=m.person.name,
            email=m.person.email,
            tld_id=m.tld_id,
            tld=m.tld.display,
            alabel=m.tld.alabel,
            number=m.number,
            last_reachable=m.last_reachable,
            bounced=bool(m.bounced),
            challenge=_challenge_state(latest.get(m.person_id)),
        )
        for m in qs
    ]


@dataclass(frozen=True)
class Share:
    """Contacts and how many of them are reachable (in one ccTLD, one region, overall)."""

    key: str  # A-label or region code; "" overall
    label: str
    contacts: int
    reachable: int
    tlds: int = 1
    at_risk: int = 0  # member ccTLDs without a reachable contact

    @property
    def percent(self) -> float:
        return round(100.0 * self.reachable / self.contacts, 1) if self.contacts else 0.0


@dataclass(frozen=True)
class RoundStat:
    """One round: how many were challenged, and how many answered in time and by now."""

    period: str
    started_at: datetime
    trigger: str
    challenged: int
    answered: int  # by now
    on_time: int  # before the escalation would have been sent (grace + escalate days)
    reminded: int
    escalated: int

    @property
    def percent(self) -> float:
        return round(100.0 * self.answered / self.challenged, 1) if self.challenged else 0.0

    @property
    def percent_on_time(self) -> float:
        return round(100.0 * self.on_time / self.challenged, 1) if self.challenged else 0.0


def by_tld(states: list[ContactState]) -> list[Share]:
    groups: dict[int, list[ContactState]] = defaultdict(list)
    for s in states:
        groups[s.tld_id].append(s)
    shares = []
    for members in groups.values():
        reachable = sum(1 for s in members if s.reachable)
        shares.append(
            Share(
                key=members[0].alabel,
                label=members[0].tld,
                contacts=len(members),
                reachable=reachable,
                at_risk=0 if reachable else 1,
            )
        )
    return sorted(shares, key=lambda s: s.key)


def by_region(states: list[ContactState]) -> list[Share]:
    """Per regional organisation (a ccTLD may belong to several); two queries."""
    regions_of: dict[int, list[str]] = defaultdict(list)
    for tld_id, code in Tld.regions.through.objects.values_list("tld_id", "region__code"):
        regions_of[tld_id].append(code)
    names = dict(Region.objects.values_list("code", "name"))
    groups: dict[str, list[ContactState]] = defaultdict(list)
    for s in states:
        for code in regions_of.get(s.tld_id, ()):
            groups[code].append(s)
    shares = []
    for code in sorted(groups):
        members = groups[code]
        tld_shares = by_tld(members)
        shares.append(
            Share(
                key=code,
                label=names.get(code, code.upper()),
                contacts=len(members),
                reachable=sum(1 for s in members if s.reachable),
                tlds=len(tld_shares),
                at_risk=sum(t.at_risk for t in tld_shares),
            )
        )
    return shares


def overall(states: list[ContactState]) -> Share:
    tld_shares = by_tld(states)
    return Share(
        key="",
        label=_("All member ccTLDs"),
        contacts=len(states),
        reachable=sum(1 for s in states if s.reachable),
        tlds=len(tld_shares),
        at_risk=sum(t.at_risk for t in tld_shares),
    )


def oldest_unverified(
    states: list[ContactState], limit: int | None = OLDEST_LIMIT
) -> list[ContactState]:
    """Contacts not shown reachable by the latest round, longest without proof first."""
    epoch = datetime.min.replace(tzinfo=timezone.get_current_timezone())
    rows = sorted(
        (s for s in states if s.unverified),
        key=lambda s: (s.last_reachable or epoch, s.alabel, s.number),
    )
    return rows if limit is None else rows[:limit]


def trend() -> list[RoundStat]:
    """Every round, oldest first, with its answer rates; two queries."""
    window = timedelta(days=settings.REACHABILITY_GRACE_DAYS + settings.REACHABILITY_ESCALATE_DAYS)
    counts = {
        row["round_id"]: row
        for row in Challenge.objects.values("round_id").annotate(
            challenged=Count("id"),
            answered=Count("id", filter=Q(answered_at__isnull=False)),
            on_time=Count("id", filter=Q(answered_at__lte=F("sent_at") + window)),
            reminded=Count("id", filter=Q(reminded_at__isnull=False)),
            escalated=Count("id", filter=Q(escalated_at__isnull=False)),
        )
    }
    stats = []
    for rnd in ChallengeRound.objects.order_by("started_at", "id"):
        row = counts.get(rnd.pk, {})
        stats.append(
            RoundStat(
                period=rnd.period,
                started_at=rnd.started_at,
                trigger=rnd.trigger,
                challenged=row.get("challenged", 0),
                answered=row.get("answered", 0),
                on_time=row.get("on_time", 0),
                reminded=row.get("reminded", 0),
                escalated=row.get("escalated", 0),
            )
        )
    return stats


def at_risk_tlds() -> list[Tld]:
    """Member ccTLDs (at least one active contact) none of whose contacts is reachable."""
    ids = [s.key for s in by_tld(contact_states()) if s.at_risk]
    return list(Tld.objects.filter(alabel__in=ids).order_by("alabel"))


@dataclass(frozen=True)
class Report:
    """Everything the reachability report shows (portal page, API, CLI)."""

    overall: Share
    by_tld: list[Share]
    by_region: list[Share]
    oldest_unverified: list[ContactState]
    trend: list[RoundStat]
    at_risk: list[Share]
    latest_round: ChallengeRound | None


def report(*, oldest: int | None = OLDEST_LIMIT) -> Report:
    """The reachability report; a fixed number of queries whatever the number of contacts."""
    states = contact_states()
    tlds = by_tld(states)
    return Report(
        overall=overall(states),
        by_tld=tlds,
        by_region=by_region(states),
        oldest_unverified=oldest_unverified(states, oldest),
        trend=trend(),
        at_risk=[t for t in tlds if t.at_risk],
        latest_round=latest_round(),
    )


@dataclass(frozen=True)
class PersonStatus:
    """A member's own reachability, for ``GET /reachability/me`` and their pages."""

    last_reachable: datetime | None
    bounced: bool
    period: str  # the latest round they were challenged in; "" if none
    challenge: str  # answered, awaiting, reminded, escalated, or ""
    answered_at: datetime | None

    @property
    def reachable(self) -> bool:
        return not self.bounced and self.challenge != "escalated"


def person_status(person: Person) -> PersonStatus:
    latest = (
        Challenge.objects.filter(person=person)
        .select_related("round")
        .order_by("-round__started_at", "-id")
        .first()
    )
    rnd = latest_round()
    current = (
        latest if latest is not None and rnd is not None and latest.round_id == rnd.pk else None
    )
    return PersonStatus(
        last_reachable=last_reachable([person])[person.pk],
        bounced=state(person.email).unreachable,
        period=latest.round.period if latest else "",
        challenge=_challenge_state(current),
        answered_at=latest.answered_at if latest else None,
    )
