"""Reads of the repository for the staff's overview: the last edition and the next, and the
current reachability round at a glance. A fixed number of queries each, whatever the size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone

from tldops.repository import editions, reachability
from tldops.repository.models import ChallengeRound, Edition


@dataclass(frozen=True)
class EditionGlance:
    last_period: str | None  # "2026-11", None before the first edition
    last_sent_at: datetime | None
    last_recipients: int
    next_period: str | None  # the edition the worker sends next; None before any contact
    next_due_at: datetime | None  # when (in the past: due now, not yet sent)


def edition_glance(*, now: datetime | None = None) -> EditionGlance:
    """The last edition sent and the one the worker sends next (:func:`editions.next_due`: none
    before the first contact confirms, never one that began before the community did)."""
    now = now or timezone.now()
    last = Edition.objects.order_by("-period").values("period", "sent_at", "recipients").first()
    due = editions.next_due(now)
    return EditionGlance(
        last_period=last["period"] if last else None,
        last_sent_at=last["sent_at"] if last else None,
        last_recipients=last["recipients"] if last else 0,
        next_period=f"{due:%Y-%m}" if due else None,
        next_due_at=due,
    )


@dataclass(frozen=True)
class RoundGlance:
    period: str | None  # the latest round, None before the first
    started_at: datetime | None
    challenged: int
    answered: int
    unanswered: int
    overdue: int  # unanswered and already escalated to the ccTLD's colleagues
    next_period: str | None = None  # the round the worker starts next; None before any contact
    next_at: datetime | None = None


def round_glance() -> RoundGlance:
    """The latest reachability round with its answers (one query), and the next one due."""
    rnd = (
        ChallengeRound.objects.annotate(
            n_challenged=Count("challenges"),
            n_answered=Count("challenges", filter=Q(challenges__answered_at__isnull=False)),
            n_overdue=Count(
                "challenges",
                filter=Q(
                    challenges__answered_at__isnull=True, challenges__escalated_at__isnull=False
                ),
            ),
        )
        .order_by("-started_at", "-id")
        .first()
    )
    upcoming = reachability.next_due()
    after = {"next_period": upcoming[0], "next_at": upcoming[1]} if upcoming else {}
    if rnd is None:
        return RoundGlance(None, None, 0, 0, 0, 0, **after)
    return RoundGlance(
        period=rnd.period,
        started_at=rnd.started_at,
        challenged=rnd.n_challenged,
        answered=rnd.n_answered,
        unanswered=rnd.n_challenged - rnd.n_answered,
        overdue=rnd.n_overdue,
        **after,
    )
