"""Reads of the directory: coverage, the member directory, invitation tracking.

Every function here issues a fixed number of queries whatever the number of members (no N+1): the
benchmark in ``bench/`` and ``tests/directory/test_queries.py`` hold it to that.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet

from tldops.catalog.models import Region, Tld
from tldops.directory.models import Invitation, Membership, Phone


@dataclass
class Share:
    covered: int
    total: int

    @property
    def percent(self) -> float:
        return round(100.0 * self.covered / self.total, 1) if self.total else 0.0


@dataclass
class Coverage:
    """The public coverage page's content: which ccTLDs are members, which are not yet."""

    members: list[Tld]
    not_subscribed: list[Tld]
    overall: Share
    by_kind: dict[str, Share]
    by_region: dict[str, Share] = field(default_factory=dict)
    region_names: dict[str, str] = field(default_factory=dict)


def coverage() -> Coverage:
    """A ccTLD counts as covered when it has at least one active (confirmed) contact."""
    tlds = list(
        Tld.objects.delegated()
        .annotate(active=Count("memberships", filter=Q(memberships__status="active")))
        .prefetch_related("regions")
        .order_by("alabel")
    )
    members = [t for t in tlds if t.active]
    not_subscribed = [t for t in tlds if not t.active]
    by_kind = {
        kind: Share(
            sum(1 for t in members if t.kind == kind), sum(1 for t in tlds if t.kind == kind)
        )
        for kind in (Tld.Kind.ASCII, Tld.Kind.IDN)
    }
    region_totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for t in tlds:
        for r in t.regions.all():
            region_totals[r.code][1] += 1
            if t.active:
                region_totals[r.code][0] += 1
    return Coverage(
        members=members,
        not_subscribed=not_subscribed,
        overall=Share(len(members), len(tlds)),
        by_kind=by_kind,
        by_region={code: Share(c, t) for code, (c, t) in sorted(region_totals.items())},
        region_names=dict(Region.objects.values_list("code", "name")),
    )


def directory_memberships(*, tld: Tld | None = None, search: str = "") -> QuerySet[Membership]:
    """Active contacts with their person and phones, in ccTLD then contact-number order."""
    qs = (
        Membership.objects.filter(status=Membership.Status.ACTIVE, tld__delegated=True)
        .select_related("person", "tld")
        .prefetch_related(
            Prefetch("person__phones", queryset=Phone.objects.order_by("position", "id"))
        )
        .order_by("tld__alabel", "number")
    )
    if tld is not None:
        qs = qs.filter(tld=tld)
    if search:
        qs = qs.filter(
            Q(person__name__icontains=search)
            | Q(person__email__icontains=search)
            | Q(tld__alabel__icontains=search)
            | Q(tld__ulabel__icontains=search)
            | Q(tld__country_name__icontains=search)
        )
    return qs


def invitation_tracking(*, status: str = "", batch: str = "") -> QuerySet[Invitation]:
    """Invitations for the secretariat's tracking view, newest first, with the ccTLD."""
    qs = Invitation.objects.select_related("tld", "invited_by").filter(purpose="invite")
    if status:
        qs = qs.filter(status=status)
    if batch:
        qs = qs.filter(batch=batch)
    return qs.order_by("-created_at")
