"""Who may read an alert: the one rule behind every door (pages, API, CLI, exports, mail).

TLP 2.0 (FIRST), as the community applies it:

- **CLEAR** — anyone; on public pages only if the author chose so (``public``);
- **GREEN**, **AMBER**, **AMBER+STRICT** — the community: active members and staff; never public;
- **RED** — the author and the people the author named, and nobody else: staff are not
  readers of a RED alert unless they were named.

``reader`` is a :class:`~tldops.directory.models.Person` or ``None`` (nobody signed in). A person
who is neither an active member nor staff (their membership pending, ended or declined) reads what
the public reads, plus a RED alert that named them.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from tldops.alerts.models import Alert
from tldops.alerts.tlp import Tlp
from tldops.directory.models import Membership, Person, Role
from tldops.directory.permissions import person_is_member, role_of


def in_community(person: Person | None) -> bool:
    """An active contact of some ccTLD, or staff (the role the request acts with): the
    directory's rule (:func:`tldops.directory.permissions.person_is_member`), the same for the
    portal's menus and the alerts."""
    return person_is_member(person)


def community_among(people: list[Person]) -> set[int]:
    """The ids of those of ``people`` who are :func:`in_community`, in one query (the same
    rule, for the many people one alert's notifications go to)."""
    staff = {p.pk for p in people if role_of(p) in (Role.SECRETARIAT, Role.COMMITTEE)}
    others = [p.pk for p in people if p.pk not in staff]
    active = Membership.objects.filter(person_id__in=others, status=Membership.Status.ACTIVE)
    return staff | set(active.values_list("person_id", flat=True))


def readers_among(people: list[Person], alert: Alert) -> list[Person]:
    """Those of ``people`` in the community who may read ``alert`` (:func:`in_community` and
    :func:`can_read` for each, in two queries at most): whom mail about it may reach."""
    members = community_among(people)
    if alert.label is Tlp.RED:
        named = set(alert.recipients.values_list("pk", flat=True)) | {alert.author_id}
        members &= named
    return [p for p in people if p.pk in members]


#: The public alerts: TLP:CLEAR and made public by their author. Nothing else is ever public.
PUBLIC = Q(tlp=Tlp.CLEAR.value, public=True)


def public_alerts() -> QuerySet[Alert]:
    """Every alert a public page may show, whoever looks (signed in or not): TLP:CLEAR and
    ``public``. A GREEN, AMBER, AMBER+STRICT or RED alert never is, nor a CLEAR one its author
    did not make public."""
    return Alert.objects.filter(PUBLIC)


def is_public(alert: Alert) -> bool:
    """Whether a public page may show ``alert`` (the same rule as :func:`public_alerts`)."""
    return alert.label is Tlp.CLEAR and alert.public


def visible_to(reader: Person | None) -> QuerySet[Alert]:
    """Every alert ``reader`` may read (one query when evaluated).

    The RED alerts that named ``reader`` are an ``id IN (SELECT alert_id FROM recipients WHERE
    person_id = …)``: a subquery that does not depend on the row, which SQLite and PostgreSQL
    both run once. Joining the recipients instead would repeat an alert once per recipient and
    need a DISTINCT over every column (the text included) of every alert, before the count and
    the page: with 10,000 alerts that was most of the list's time (bench/load_directory.py).
    """
    if reader is None:
        return public_alerts()
    named_me = Alert.recipients.through.objects.filter(person=reader).values("alert_id")
    named = Q(tlp=Tlp.RED.value) & (Q(author=reader) | Q(pk__in=named_me))
    if in_community(reader):
        return Alert.objects.filter(~Q(tlp=Tlp.RED.value) | named)
    return Alert.objects.filter(PUBLIC | named)


def can_read(reader: Person | None, alert: Alert) -> bool:
    """Whether ``reader`` may read ``alert`` (the same rule as :func:`visible_to`)."""
    if is_public(alert):
        return True
    if reader is None:
        return False
    if alert.label is Tlp.RED:
        return alert.author_id == reader.pk or alert.recipients.filter(pk=reader.pk).exists()
    return in_community(reader)
