"""The audit log: one :func:`record` call per change, inside the action's transaction."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F
from django.utils import timezone

from tldops.catalog.models import Tld
from tldops.directory.models import AuditEntry, Person, Version
from tldops.directory.permissions import role_of


@dataclass(frozen=True)
class Actor:
    """Who is acting and through which door (``web``, ``api``, ``cli``, ``email``, ``system``)."""

    label: str
    door: str
    person: Person | None = None

    @classmethod
    def of(cls, person: Person, door: str) -> Actor:
        return cls(label=f"{role_of(person)}:{person.email}", door=door, person=person)

    @property
    def role(self) -> str:
        """The role whose powers the actor acts with: the person's, capped by the scope of the API
        token they came with (:func:`~tldops.directory.permissions.role_of`); "" without a person.
        Services check this, never ``person.role``."""
        return role_of(self.person) if self.person is not None else ""

    @classmethod
    def authoriser(cls, email: str, door: str) -> Actor:
        return cls(label=f"admin-contact:{email}", door=door)

    @classmethod
    def system(cls) -> Actor:
        return cls(label="system", door="system")


def record(
    actor: Actor,
    action: str,
    summary: str,
    *,
    tld: Tld | None = None,
    person: Person | None = None,
    before: object = None,
    after: object = None,
) -> AuditEntry:
    bump_version()
    return AuditEntry.objects.create(
        at=timezone.now(),
        actor=actor.label[:300],
        actor_person=actor.person,
        door=actor.door,
        action=action,
        tld=tld,
        person=person,
        summary=summary[:500],
        before=before,
        after=after,
    )


VERSION_KEY = "directory"


def bump_version() -> None:
    """Mark the directory as changed (inside the caller's transaction)."""
    if not Version.objects.filter(key=VERSION_KEY).update(n=F("n") + 1):
        Version.objects.get_or_create(key=VERSION_KEY, defaults={"n": 1})


def current_version() -> int:
    """The counter's value, read on every cached page and API answer: one primary-key lookup in
    plain SQL, since compiling the ORM query cost more than SQLite took to run it."""
    from django.db import connection

    table = connection.ops.quote_name(Version._meta.db_table)
    with connection.cursor() as cursor:
        key = connection.ops.quote_name("key")
        cursor.execute(f"SELECT n FROM {table} WHERE {key} = %s", [VERSION_KEY])  # noqa: S608
        row = cursor.fetchone()
    return row[0] if row else 0
