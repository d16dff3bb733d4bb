"""Who receives what: the list's posts, the daily digests, the repository editions, and the mail
that must always arrive; and each person's choice of how (issue 9).

Every sender asks here, by *audience*, so the rule is written once:

- :data:`Audience.LIST` — a list post as it is sent: the people who receive the list
  (:func:`subscribers`) whose delivery is *regular* today. Those on *digest* get it in their
  next digest (:func:`list_delivery` names them); those on *no mail* until a date get nothing
  until the day after it, then each post again (the choice ends by itself).
- :data:`Audience.EDITION` — the monthly contact repository: every member whatever their
  delivery option, and the staff who keep ``receive_editions`` on.
- :data:`Audience.ESSENTIAL` — mail that must reach everyone whatever they chose: every member
  and every staff person, no option considered. The coming alerts app sends its TLP:RED notices
  to this audience (``recipients(Audience.ESSENTIAL)``), and queues them like any outbox mail;
  the flag is the audience asked for, so no option can ever hide such a notice.

A member (an active contact of some ccTLD) always receives the list and the editions; a staff
person (secretariat, committee) who is no ccTLD's contact chooses with ``receive_list`` and
``receive_editions``, both on by default. Someone who is both is one person with one address:
every audience is a list of addresses, each once (compared without case).

:func:`update_delivery` is the one action that changes these choices, for every door (portal,
API, the list's ``-request`` address, the CLI); it checks and bounds its input
(:func:`clean_delivery`), writes the audit entry, and sends nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops.directory.audit import Actor, record
from tldops.directory.models import DeliveryMode, DigestFormat, Membership, Person, Role
from tldops.directory.queries import member_by_address
from tldops.kernel.errors import InvalidInput, NotAuthorised

STAFF_ROLES = (Role.SECRETARIAT, Role.COMMITTEE)
MODES = tuple(DeliveryMode.values)
FORMATS = tuple(DigestFormat.values)


class Audience(StrEnum):
    """What a mail is, and so who receives it (see the module's text)."""

    LIST = "list"
    EDITION = "edition"
    ESSENTIAL = "essential"


def nomail_max_days() -> int:
    """How far ahead a *no mail* choice may end (``TLDOPS_NOMAIL_MAX_DAYS``, default 90): a
    security contact cannot vanish from the list for longer without asking again."""
    return settings.NOMAIL_MAX_DAYS


def today_utc(now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(dt.UTC).date()


def _mode_on(mode: str, nomail_until: dt.date | None, today: dt.date) -> str:
    """A delivery choice as it stands on ``today``: *no mail* ends after its date."""
    if mode == DeliveryMode.NOMAIL and (nomail_until is None or nomail_until < today):
        return DeliveryMode.REGULAR
    return mode


def effective_mode(person: Person, today: dt.date | None = None) -> str:
    """The person's delivery today: *no mail* ends after its date, and is *regular* again."""
    return _mode_on(person.delivery_mode, person.nomail_until, today or today_utc())


def _is_member() -> Q:
    return Q(memberships__status=Membership.Status.ACTIVE)


def subscribers() -> QuerySet[Person]:
    """Everyone who receives the list (each post or in a digest, or later): the members, and the
    staff who keep ``receive_list`` on. Each person once."""
    return Person.objects.filter(
        _is_member() | Q(role__in=STAFF_ROLES, receive_list=True)
    ).distinct()


def _addresses(people: QuerySet[Person]) -> list[str]:
    """Each address once, compared without case, in address order."""
    seen: dict[str, str] = {}
    for address in people.order_by("email").values_list("email", flat=True):
        seen.setdefault(address.lower(), address)
    return list(seen.values())


@dataclass(frozen=True)
class ListDelivery:
    """Who gets a post now (``regular``: addresses) and whose digest it joins (``digest``:
    person ids)."""

    regular: list[str]
    digest: list[int]


def list_delivery(today: dt.date | None = None) -> ListDelivery:
    """Split the list's subscribers by their delivery today (one query)."""
    today = today or today_utc()
    regular: dict[str, str] = {}
    digest: list[tuple[int, str]] = []
    rows = (
        subscribers().order_by("email").values_list("pk", "email", "delivery_mode", "nomail_until")
    )
    for pk, address, mode, until in rows:
        mode = _mode_on(mode, until, today)
        if mode == DeliveryMode.DIGEST:
            digest.append((pk, address.lower()))
        elif mode == DeliveryMode.REGULAR:  # regular, or a no-mail choice that has ended
            regular.setdefault(address.lower(), address)
    # A digest reader sharing an address with a regular one (never, as addresses are unique,
    # but compared without case) would get the post twice: the copy as it is sent wins.
    digest_ids = sorted(pk for pk, address in digest if address not in regular)
    return ListDelivery(regular=list(regular.values()), digest=digest_ids)


def recipients(audience: Audience | str, *, today: dt.date | None = None) -> list[str]:
    """The addresses ``audience`` goes to, each once (see the module's text)."""
    audience = Audience(audience)
    if audience == Audience.LIST:
        return list_delivery(today).regular
    if audience == Audience.EDITION:
        people = Person.objects.filter(
            _is_member() | Q(role__in=STAFF_ROLES, receive_editions=True)
        )
    else:
        people = Person.objects.filter(_is_member() | Q(role__in=STAFF_ROLES))
    return _addresses(people.distinct())


def is_subscriber(person: Person) -> bool:
    return subscribers().filter(pk=person.pk).exists()


def subscriber_by_address(address: str) -> Person | None:
    """The person who receives the list at ``address``: a member (main or other address) or a
    staff person (main address) who receives it."""
    person = member_by_address(address)
    if person is not None:
        return person
    return (
        Person.objects.filter(
            email__iexact=address.strip(), role__in=STAFF_ROLES, receive_list=True
        )
        .order_by("pk")
        .first()
    )


# --- Changing one's choice --------------------------------------------------------------------------


@dataclass
class DeliveryChange:
    """What a door was given; ``None`` leaves a choice as it is."""

    mode: str | None = None
    digest_format: str | None = None
    nomail_until: str | dt.date | None = None
    receive_list: bool | None = None
    receive_editions: bool | None = None


def clean_until(value: str | dt.date | None, *, today: dt.date | None = None) -> dt.date:
    """The last day without list mail: a date (``YYYY-MM-DD``) from today to
    :func:`nomail_max_days` days ahead."""
    today = today or today_utc()
    limit = nomail_max_days()
    if value is None or value == "":
        raise InvalidInput(
            _("Give the last day without list mail (YYYY-MM-DD), at most %(n)d days ahead.")
            % {"n": limit},
            field="nomail_until",
        )
    if isinstance(value, dt.date):
        day = value
    else:
        text = str(value).strip()[:40]
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise InvalidInput(
                _("“%(v)s” is not a date; write it as YYYY-MM-DD.") % {"v": text},
                field="nomail_until",
            ) from None
    if day < today:
        raise InvalidInput(
            _("%(d)s is in the past: give today or a later day.") % {"d": day.isoformat()},
            field="nomail_until",
        )
    if day > today + dt.timedelta(days=limit):
        raise InvalidInput(
            _("No list mail can be chosen for at most %(n)d days: give %(last)s or earlier.")
            % {"n": limit, "last": (today + dt.timedelta(days=limit)).isoformat()},
            field="nomail_until",
        )
    return day


def _is_staff(person: Person) -> bool:
    return person.role in STAFF_ROLES


def options(person: Person, *, today: dt.date | None = None) -> dict[str, object]:
    """The person's choices as every door shows them (and the audit log records them)."""
    return {
        "mode": person.delivery_mode,
        "effective_mode": str(effective_mode(person, today)),
        "digest_format": person.digest_format,
        "nomail_until": person.nomail_until.isoformat() if person.nomail_until else None,
        "receive_list": person.receive_list,
        "receive_editions": person.receive_editions,
        "staff": _is_staff(person),
    }


def clean_delivery(
    person: Person, change: DeliveryChange, *, today: dt.date | None = None
) -> DeliveryChange:
    """Check ``change`` against the rules (clear error, field named); the values to store."""
    clean = DeliveryChange()
    if change.mode is not None:
        mode = str(change.mode).strip().lower()[:20]
        if mode not in MODES:
            raise InvalidInput(
                _("Delivery must be one of: %(m)s.") % {"m": ", ".join(MODES)}, field="mode"
            )
        clean.mode = mode
        if mode == DeliveryMode.NOMAIL:
            clean.nomail_until = clean_until(change.nomail_until, today=today)
    if change.nomail_until not in (None, "") and clean.mode != DeliveryMode.NOMAIL:
        raise InvalidInput(
            _("A last day without list mail goes with the delivery “nomail” only."),
            field="nomail_until",
        )
    if change.digest_format is not None:
        fmt = str(change.digest_format).strip().lower()[:20]
        if fmt not in FORMATS:
            raise InvalidInput(
                _("The digest format must be one of: %(f)s.") % {"f": ", ".join(FORMATS)},
                field="digest_format",
            )
        clean.digest_format = fmt
    for name in ("receive_list", "receive_editions"):
        value = getattr(change, name)
        if value is None:
            continue
        if not _is_staff(person):
            raise InvalidInput(
                _(
                    "Members always receive the list and the repository editions; only staff "
                    "who are no ccTLD's contact choose. Use the delivery option instead."
                ),
                field=name,
            )
        setattr(clean, name, bool(value))
    return clean


def update_delivery(
    person: Person, change: DeliveryChange, *, actor: Actor, today: dt.date | None = None
) -> Person:
    """Set how ``person`` receives list mail; audited. The person themself, or staff acting for
    them (``tldops members delivery``, at the server). Choosing *no mail* needs its last day; leaving it clears the day."""
    oneself = actor.person is not None and actor.person.pk == person.pk
    operator = actor.door in ("cli", "system")  # the server's operator, as for every action
    if not (oneself or operator or actor.role in STAFF_ROLES):
        raise NotAuthorised(_("Only you (or the secretariat) may change how you receive mail."))
    clean = clean_delivery(person, change, today=today)
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        before = options(person, today=today)
        if clean.mode is not None:
            person.delivery_mode = clean.mode
            person.nomail_until = clean.nomail_until if clean.mode == DeliveryMode.NOMAIL else None
        if clean.digest_format is not None:
            person.digest_format = clean.digest_format
        if clean.receive_list is not None:
            person.receive_list = clean.receive_list
        if clean.receive_editions is not None:
            person.receive_editions = clean.receive_editions
        after = options(person, today=today)
        if after == before:
            return person
        person.save(
            update_fields=[
                "delivery_mode",
                "nomail_until",
                "digest_format",
                "receive_list",
                "receive_editions",
                "updated_at",
            ]
        )
        record(
            actor,
            "delivery-updated",
            f"{person.name}'s mail delivery: {describe(person, today=today)}",
            person=person,
            before=before,
            after=after,
        )
    return person


def describe(person: Person, *, today: dt.date | None = None) -> str:
    """One line on how the person receives list mail now, for replies and the audit log."""
    mode = effective_mode(person, today)
    if mode == DeliveryMode.DIGEST:
        text = _("a daily digest (%(f)s)") % {"f": person.digest_format}
    elif mode == DeliveryMode.NOMAIL:
        text = _("no list mail until %(d)s (inclusive), then each post") % {
            "d": person.nomail_until.isoformat()
        }
    else:
        text = _("each post as it is sent")
    if _is_staff(person) and not person.memberships.filter(status="active").exists():
        if not person.receive_list:
            text = _("no list posts (you chose not to receive the list)")
    return text
