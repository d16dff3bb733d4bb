"""Who is on the list: exactly the directory's active members, never a second membership table."""

from __future__ import annotations

from django.db.models import QuerySet

from tldops.directory.models import Membership, Person


def subscribers() -> QuerySet[Person]:
    """Every person with at least one active membership, each once."""
    return Person.objects.filter(memberships__status=Membership.Status.ACTIVE).distinct()


def is_subscriber(address: str) -> Person | None:
    """The active member whose primary or alternate address this is, if any."""
    addr = address.strip().lower()
    person = subscribers().filter(email__iexact=addr).first()
    if person is not None:
        return person
    for candidate in subscribers().exclude(alt_emails=[]):
        if addr in {a.lower() for a in candidate.alt_emails}:
            return candidate
    return None
