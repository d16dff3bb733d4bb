"""Who may do what. Roles live on :class:`~tldops.directory.models.Person`; this is the one place
that reads them, for every door."""

from __future__ import annotations

from typing import Any

from django.db import connection

from tldops.directory.models import Membership, Person, Role


def _active_sql() -> tuple[str, str]:
    """SQL that is true when the person ``{person_id}`` holds an active membership."""
    table = Membership._meta.db_table
    person = Membership._meta.get_field("person").column
    status = Membership._meta.get_field("status").column
    sql = f"EXISTS (SELECT 1 FROM {table} m WHERE m.{person} = {{}} AND m.{status} = %s)"
    return sql, Membership.Status.ACTIVE


def person_of(user: Any) -> Person | None:
    """The signed-in user's person, fetched once per request (kept on the user object).

    Fetched with whether they hold an active membership, which :func:`is_member` then reads, in
    one plain SQL query: every member page and API call asks, and compiling the two ORM queries
    cost several times what running them does (docs/benchmarks.md).
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    state = getattr(user, "_state", None)
    if state is None or "person" in state.fields_cache or user.pk is None:
        try:
            return user.person
        except Person.DoesNotExist:
            return None
    active, status = _active_sql()
    table = Person._meta.db_table
    column = Person._meta.get_field("user").column
    pk = Person._meta.pk.column
    sql = f"SELECT p.*, {active.format('p.' + pk)} AS tldops_active FROM {table} p WHERE p.{column} = %s"
    person = next(iter(Person.objects.raw(sql, [status, user.pk])), None)  # noqa: S611
    state.fields_cache["person"] = person  # what user.person would have cached
    if person is not None:
        person._state.fields_cache["user"] = user
    return person


#: Each role's powers include those of the roles ranked below it.
_RANK = {Role.MEMBER: 0, Role.SECRETARIAT: 1, Role.COMMITTEE: 2}


def role_of(person: Person) -> str:
    """The role whose powers ``person`` acts with in this request: their role, capped by the scope
    of the API token they came with (``api_token_scope``, set by
    :func:`tldops.directory.tokens.person_for_token`). A token made while its owner was a member
    carries no staff powers after a promotion; one made as staff none after a demotion."""
    scope = getattr(person, "api_token_scope", None)
    if scope is not None and _RANK.get(scope, 0) < _RANK.get(person.role, 0):
        return scope
    return person.role


def is_staff_role(user: Any) -> bool:
    """Secretariat or standing committee."""
    person = person_of(user)
    return person is not None and role_of(person) in (Role.SECRETARIAT, Role.COMMITTEE)


def is_committee(user: Any) -> bool:
    person = person_of(user)
    return person is not None and role_of(person) == Role.COMMITTEE


def is_member(user: Any) -> bool:
    """An active contact of some ccTLD, or staff (who may read everything members read).

    Remembered on the user object, which lives for one request: the page's access check and the
    template's menu both ask, and the directory page is read often enough for a query to count.
    """
    cached = getattr(user, "_tldops_is_member", None)
    if cached is not None:
        return cached
    person = person_of(user)
    result = person_is_member(person)
    if person is not None:
        user._tldops_is_member = result
    return result


def person_is_member(person: Person | None) -> bool:
    """:func:`is_member` for a person: staff (the role they act with), or an active contact of
    some ccTLD — read from the person when :func:`person_of` fetched it with the answer, by one
    query otherwise (a person that came with an API token, or from a service)."""
    if person is None:
        return False
    if role_of(person) in (Role.SECRETARIAT, Role.COMMITTEE):
        return True
    if hasattr(person, "tldops_active"):  # fetched with the person (person_of)
        return bool(person.tldops_active)
    active, status = _active_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {active.format('%s')}", [person.pk, status])  # noqa: S608
        return bool(cursor.fetchone()[0])


def needs_second_factor(person: Person | None) -> bool:
    """Staff roles must log in with a TOTP code (``TLDOPS_REQUIRE_2FA_FOR_STAFF``)."""
    from django.conf import settings

    return (
        person is not None
        and person.role in (Role.SECRETARIAT, Role.COMMITTEE)
        and settings.REQUIRE_2FA_FOR_STAFF
    )
