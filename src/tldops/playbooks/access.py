"""Who may read and change a ccTLD's own plan and its exercises: that ccTLD's active contacts,
and no one else. Staff are not included: a plan holds a registry's sites, suppliers, people and
weak points, which its contacts share with no one (issue 12). A staff member who is also an active
contact of the ccTLD reads it as that contact.

The one place that answers the question, for every door (pages, API, commands, mail).
"""

from __future__ import annotations

from django.db.models import QuerySet

from tldops.catalog.models import Tld
from tldops.directory.models import Membership, Person


def own_tlds(person: Person | None) -> QuerySet[Tld]:
    """The ccTLDs ``person`` is an active contact of (empty for no one)."""
    if person is None or person.pk is None:
        return Tld.objects.none()
    return Tld.objects.filter(
        memberships__person=person, memberships__status=Membership.Status.ACTIVE
    ).distinct()


def is_own(person: Person | None, tld: Tld) -> bool:
    """Is ``person`` an active contact of ``tld``?"""
    if person is None or person.pk is None:
        return False
    return Membership.objects.filter(
        person=person, tld=tld, status=Membership.Status.ACTIVE
    ).exists()


def contacts(tld: Tld) -> QuerySet[Person]:
    """The active contacts of ``tld`` (who a plan's reminder goes to)."""
    return Person.objects.filter(
        memberships__tld=tld, memberships__status=Membership.Status.ACTIVE
    ).distinct()
