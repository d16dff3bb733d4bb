"""Who may do what. Roles live on :class:`~tldops.directory.models.Person`; this is the one place
that reads them, for every door."""

from __future__ import annotations

from typing import Any

from tldops.directory.models import Membership, Person, Role


def person_of(user: Any) -> Person | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.person
    except Person.DoesNotExist:
        return None


def is_staff_role(user: Any) -> bool:
    """Secretariat or standing committee."""
    person = person_of(user)
    return person is not None and person.role in (Role.SECRETARIAT, Role.COMMITTEE)


def is_committee(user: Any) -> bool:
    person = person_of(user)
    return person is not None and person.role == Role.COMMITTEE


def is_member(user: Any) -> bool:
    """An active contact of some ccTLD, or staff (who may read everything members read).

    Remembered on the user object, which lives for one request: the page's access check and the
    template's menu both ask, and the directory page is read often enough for a query to count.
    """
    cached = getattr(user, "_tldops_is_member", None)
    if cached is not None:
        return cached
    person = person_of(user)
    if person is None:
        result = False
    elif person.role in (Role.SECRETARIAT, Role.COMMITTEE):
        result = True
    else:
        result = person.memberships.filter(status=Membership.Status.ACTIVE).exists()
    if person is not None:
        user._tldops_is_member = result
    return result


def needs_second_factor(person: Person | None) -> bool:
    """Staff roles must log in with a TOTP code (``TLDOPS_REQUIRE_2FA_FOR_STAFF``)."""
    from django.conf import settings

    return (
        person is not None
        and person.role in (Role.SECRETARIAT, Role.COMMITTEE)
        and settings.REQUIRE_2FA_FOR_STAFF
    )
