"""Reads of the repository for the staff's overview: the last edition and the next, and the
current reachability round at a glance. A fixed number of queries each, whatever the size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone

from tldops.repository import schedule
from tldops.repository.models import ChallengeRound, Edition


@dataclass(frozen=True)
class EditionGlance:
    last_period: str | None  # "2026-11", None before the first edition
    last_sent_at: datetime | None
    last_recipients: int
    next_period: str  # the edition due next
    next_due_at: datetime  # when the worker sends it (in the past: due now, not yet sent)


def edition_glance(*, now: datetime | None = None) -> EditionGlance:
    """The last edition sent and the one due next; one query.

    The next is the period the schedule says is due (``schedule.due_edition``) while it has no
    edition yet — due now, the worker sends it on its next round — and else next month's.
    """
    now = now or timezone.now()
    last = Edition.objects.order_by("-period").values("period", "sent_at", "recipients").first()
    due = schedule.due_edition(now)
    year, month = int(due[:4]), int(due[5:7])
    if last is not None and last["period"] >= due:
        index = year * 12 + month  # the month after ``due``
        year, month = index // 12, index % 12 + 1
    return EditionGlance(
        last_period=last["period"] if last else None,
        last_sent_at=last["sent_at"] if last else None,
        last_recipients=last["recipients"] if last else 0,
        next_period=schedule.edition_period(year, month),
        next_due_at=schedule.send_time(year, month),
    )


@dataclass(frozen=True)
class RoundGlance:
    period: str | None  # the latest round, None before the first
    started_at: datetime | None
    challenged: int
    answered: int
    unanswered: int
    overdue: int  # unanswered and already escalated to the ccTLD's colleagues


def round_glance() -> RoundGlance:
    """The latest reachability round with its answers; one query."""
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
    if rnd is None:
        return RoundGlance(None, None, 0, 0, 0, 0)
    return RoundGlance(
        period=rnd.period,
        started_at=rnd.started_at,
        challenged=rnd.n_challenged,
        answered=rnd.n_answered,
        unanswered=rnd.n_challenged - rnd.n_answered,
        overdue=rnd.n_overdue,
    )
