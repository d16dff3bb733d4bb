"""Reads of the directory: coverage, the member directory, invitation tracking, whom to tell.

Every function here issues a fixed number of queries whatever the number of members (no N+1): the
benchmark in ``bench/`` and ``tests/directory/test_queries.py`` hold it to that.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, Exists, Expression, Min, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from tldops.catalog.models import Region, Tld
from tldops.directory.audit import current_version
from tldops.directory.models import (
    BounceEvent,
    BounceScore,
    Invitation,
    Membership,
    Person,
    Phone,
    Role,
)


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


def directory_version() -> int:
    """A number that changes whenever the directory or the catalog changes.

    Every change goes through an action that writes an audit entry, which bumps this counter in the
    same transaction. Pages cache what they render under it (one primary-key query per request
    instead of rendering 1,000 contacts), in every process alike.
    """
    return current_version()


def coverage() -> Coverage:
    """A ccTLD counts as covered when it has at least one active (confirmed) contact."""
    tlds = list(
        Tld.objects.delegated()
        .annotate(active=Count("memberships", filter=Q(memberships__status="active")))
        .only("alabel", "ulabel", "kind", "iso_code", "country_name")
        .order_by("alabel")
    )
    # One flat query for the region tags: prefetch_related would build a manager per ccTLD.
    regions_of: dict[int, list[str]] = defaultdict(list)
    for tld_id, code in Tld.regions.through.objects.values_list("tld_id", "region__code"):
        regions_of[tld_id].append(code)
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
        for code in regions_of.get(t.pk, ()):
            region_totals[code][1] += 1
            if t.active:
                region_totals[code][0] += 1
    return Coverage(
        members=members,
        not_subscribed=not_subscribed,
        overall=Share(len(members), len(tlds)),
        by_kind=by_kind,
        by_region={code: Share(c, t) for code, (c, t) in sorted(region_totals.items())},
        region_names=dict(Region.objects.values_list("code", "name")),
    )


#: What other apps add to each contact of the directory listing, by name: an expression factory,
#: registered when the app starts (:func:`annotate_listing`). The reachability checks add
#: ``last_reachable``; the directory itself imports none of them.
_LISTING_ANNOTATIONS: dict[str, Callable[[], Expression]] = {}


def annotate_listing(name: str, make: Callable[[], Expression]) -> None:
    """Add (or replace) the annotation ``name`` of :func:`directory_memberships`."""
    _LISTING_ANNOTATIONS[name] = make


def directory_memberships(*, tld: Tld | None = None, search: str = "") -> QuerySet[Membership]:
    """Active contacts with their person and phones, in ccTLD then contact-number order; each has
    ``unreachable`` (list mail to the main address bounces) and what other apps registered with
    :func:`annotate_listing` (``last_reachable``: when the contact last proved reachable, from
    :mod:`tldops.repository.reachability`)."""
    qs = (
        Membership.objects.filter(status=Membership.Status.ACTIVE, tld__delegated=True)
        .select_related("person", "tld")
        # The contact's main address bounces list mail (tldops.directory.bounces); a subquery, so
        # still no query per contact.
        .annotate(
            unreachable=Exists(
                BounceScore.objects.filter(
                    address=Lower(OuterRef("person__email")), unreachable_since__isnull=False
                )
            ),
            **{name: make() for name, make in _LISTING_ANNOTATIONS.items()},
        )
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


def invitation_candidates(first: str, last: str, *, include_invited: bool = False) -> list[Tld]:
    """Delegated ccTLDs from ``first`` to ``last`` (A-labels; ``last`` is a prefix: a…c takes every
    label up to c-anything) without an open contact, for an alphabetical invitation batch.

    ccTLDs whose invitation is still open are left out unless ``include_invited``, so running the
    same batch twice does not mail anyone twice. The range is compared in Python, not by the
    database's collation, so it is the same on SQLite and PostgreSQL.
    """
    from django.utils import timezone

    first, last = first.lower(), last.lower()
    qs = Tld.objects.delegated().exclude(memberships__status__in=Membership.OPEN)
    if not include_invited:
        open_invitation = Invitation.objects.filter(
            tld=OuterRef("pk"),
            purpose=Invitation.Purpose.INVITE,
            status=Invitation.Status.SENT,
            expires_at__gt=timezone.now(),
        )
        qs = qs.exclude(Exists(open_invitation))
    return sorted(
        (t for t in qs.distinct() if first <= t.alabel and t.alabel[: len(last)] <= last),
        key=lambda t: t.alabel,
    )


def colleague_addresses(person: Person, tlds: Iterable[Tld | int]) -> list[str]:
    """The main addresses of the other active contacts of these ccTLDs, each once: whom to tell
    when something happens to ``person`` (a profile change, bounces, an unanswered check)."""
    return list(
        dict.fromkeys(
            Membership.objects.filter(tld__in=list(tlds), status=Membership.Status.ACTIVE)
            .exclude(person=person)
            .order_by("tld__alabel", "number")
            .values_list("person__email", flat=True)
        )
    )


def colleagues_by_tld(person: Person) -> list[tuple[Tld, list[str]]]:
    """For each ccTLD ``person`` is an active contact of, the other contacts' addresses (ccTLDs
    where they are alone left out): one notice per ccTLD, each naming its ccTLD."""
    memberships = person.memberships.filter(status=Membership.Status.ACTIVE).select_related("tld")
    pairs = [(m.tld, colleague_addresses(person, [m.tld])) for m in memberships]
    return [(tld, addresses) for tld, addresses in pairs if addresses]


def secretariat_addresses() -> list[str]:
    """The secretariat members' addresses, in address order."""
    return list(
        Person.objects.filter(role=Role.SECRETARIAT)
        .order_by("email")
        .values_list("email", flat=True)
    )


# --- Who is a member (the list's subscribers, the repository's recipients) ------------------------


def members() -> QuerySet[Person]:
    """Every person with at least one active membership, each once (there is no second membership
    table). Who receives the list and the repository is these and the staff who choose to, by
    :mod:`tldops.directory.delivery`."""
    return Person.objects.filter(memberships__status=Membership.Status.ACTIVE).distinct()


def first_confirmation() -> datetime | None:
    """When the community's first contact confirmed (any membership, even one since removed):
    the moment it stopped being an empty install. The periodic sends count from it."""
    return Membership.objects.aggregate(first=Min("confirmed_at"))["first"]


def member_by_address(address: str) -> Person | None:
    """The active member whose primary or alternate address this is, if any."""
    addr = address.strip().lower()
    person = members().filter(email__iexact=addr).first()
    if person is not None:
        return person
    for candidate in members().exclude(alt_emails=[]):
        if addr in {a.lower() for a in candidate.alt_emails}:
            return candidate
    return None


# --- The staff's overview (the staff home page, GET /api/v1/staff/summary) ------------------------

#: How far back "recent bounces" reach on the staff's overview.
RECENT_BOUNCE_DAYS = 7


@dataclass(frozen=True)
class StaffCounts:
    pending_contacts: int  # named by an admin contact, not yet confirmed
    invitations_waiting: int  # invitations sent, not answered, not expired
    unreachable: int  # addresses over the bounce threshold
    recent_bounces: int  # bounce reports in the last RECENT_BOUNCE_DAYS days


def staff_counts(*, now: datetime | None = None) -> StaffCounts:
    """The directory's numbers on the staff home page, in one query (four counts as subqueries:
    the page is opened often and each count alone is a round trip)."""
    since = (now or timezone.now()) - timedelta(days=RECENT_BOUNCE_DAYS)
    m, i = Membership._meta, Invitation._meta
    s, e = BounceScore._meta, BounceEvent._meta
    col = lambda meta, name: meta.get_field(name).column  # noqa: E731
    sql = (
        f"SELECT (SELECT COUNT(*) FROM {m.db_table} WHERE {col(m, 'status')} = %s),"  # noqa: S608
        f" (SELECT COUNT(*) FROM {i.db_table} WHERE {col(i, 'status')} = %s"
        f" AND {col(i, 'purpose')} = %s),"
        f" (SELECT COUNT(*) FROM {s.db_table} WHERE {col(s, 'unreachable_since')} IS NOT NULL),"
        f" (SELECT COUNT(*) FROM {e.db_table} WHERE {col(e, 'received_at')} >= %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                Membership.Status.PENDING,
                Invitation.Status.SENT,
                Invitation.Purpose.INVITE,
                connection.ops.adapt_datetimefield_value(since),
            ],
        )
        row = cursor.fetchone()
    return StaffCounts(*(int(n) for n in row))


def pending_contacts(limit: int = 20) -> list[Membership]:
    """The oldest contacts still to confirm their address (one query)."""
    return list(
        Membership.objects.filter(status=Membership.Status.PENDING)
        .select_related("person", "tld")
        .order_by("authorised_at", "id")[:limit]
    )


def unreachable_addresses(limit: int = 20) -> list[BounceScore]:
    """Addresses over the bounce threshold, longest unreachable first (one query)."""
    return list(
        BounceScore.objects.filter(unreachable_since__isnull=False).order_by(
            "unreachable_since", "id"
        )[:limit]
    )
