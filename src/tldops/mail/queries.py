"""Reads of the mail core for the staff's overview: how the outbox stands, what failed.

Each function is a fixed number of queries, whatever the size of the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from tldops.mail.models import Delivery


@dataclass(frozen=True)
class OutboxCounts:
    """Deliveries not yet handed over: new (``queued``), tried and waiting for their next attempt
    (``retrying``), and given up (``failed``, until staff send them again)."""

    queued: int
    retrying: int
    failed: int


def outbox_counts() -> OutboxCounts:
    """The outbox at a glance; one query (the sent deliveries are not counted: they are most)."""
    row = Delivery.objects.filter(
        status__in=(Delivery.Status.PENDING, Delivery.Status.FAILED)
    ).aggregate(
        queued=Count("id", filter=Q(status=Delivery.Status.PENDING, attempts=0)),
        retrying=Count("id", filter=Q(status=Delivery.Status.PENDING, attempts__gt=0)),
        failed=Count("id", filter=Q(status=Delivery.Status.FAILED)),
    )
    return OutboxCounts(**{k: v or 0 for k, v in row.items()})


def failed_deliveries() -> QuerySet[Delivery]:
    """Failed deliveries, newest first, with their message's subject and purpose (one query)."""
    return (
        Delivery.objects.filter(status=Delivery.Status.FAILED)
        .select_related("message")
        .defer("message__raw")
        .order_by("-next_attempt_at", "-id")
    )
