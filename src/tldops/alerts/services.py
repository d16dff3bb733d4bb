"""Every change to an alert, and every read of one, goes through here: the portal, the API, the
CLI and the mail door are thin doors onto these functions (Zulip's actions, in tldops' words).

Reads take the reader and apply :mod:`tldops.alerts.access`; an alert the reader may not read is
"not found", whether it exists or not, so a door never tells a stranger that a RED alert exists.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops.alerts import access, indicators, mailing, notify, slices
from tldops.alerts.models import (
    BODY_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Alert,
    Indicator,
    Reaction,
    StatusChange,
    ThreadMessage,
)
from tldops.alerts.tlp import Tlp, parse
from tldops.catalog.lookup import resolve_tld
from tldops.catalog.models import Tld
from tldops.directory.models import Membership, Person, Role
from tldops.directory.permissions import role_of
from tldops.directory.validation import Checks, clean_choice, clean_email
from tldops.kernel.audit import Actor, record
from tldops.kernel.errors import InvalidInput, NotAuthorised, NotFound

#: At most this many ccTLDs named as affected, and people named as RED recipients.
MAX_AFFECTED = 400
MAX_RECIPIENTS = 200
NOTE_MAX_LENGTH = 500


@dataclass
class AlertInput:
    """An alert as a door received it, before validation."""

    title: str
    category: str
    tlp: str | None
    kind: str = Alert.Kind.ALERT
    severity: str = Alert.Severity.MEDIUM
    body: str = ""
    affected: list[str] = field(default_factory=list)
    public: bool = False
    # TLP:RED: addresses of the people to tell; ``red_to_affected`` adds the affected ccTLDs'
    # active contacts.
    recipients: list[str] = field(default_factory=list)
    red_to_affected: bool = False
    # Indicators as typed, one per item (``value`` or ``kind,value``); a bad one is reported with
    # its position and the others are kept (:attr:`Alert.indicator_errors` after raising).
    indicators: list[str] = field(default_factory=list)


def _text(value: str, limit: int, name: str, *, required: bool) -> str:
    if value is not None and len(value) > limit:
        raise InvalidInput(
            _("The %(name)s may be at most %(n)d characters; shorten it.")
            % {"name": name, "n": limit},
            field=name,
        )
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(_("The %(name)s cannot be empty.") % {"name": name}, field=name)
    return text


def _affected(names: list[str]) -> list[Tld]:
    if len(names) > MAX_AFFECTED:
        raise InvalidInput(
            _("At most %(n)d ccTLDs may be named as affected.") % {"n": MAX_AFFECTED},
            field="affected",
        )
    checks = Checks()
    tlds = [checks.run(resolve_tld, n) for n in names]
    for error in checks.errors:
        error.field = "affected"
    checks.done()
    return list(dict.fromkeys(t for t in tlds if t is not None))


def _recipients(addresses: list[str], tlds: list[Tld], to_affected: bool) -> list[Person]:
    if len(addresses) > MAX_RECIPIENTS:
        raise InvalidInput(
            _("At most %(n)d people may be named.") % {"n": MAX_RECIPIENTS}, field="recipients"
        )
    people: dict[int, Person] = {}
    checks = Checks()
    for raw in addresses:
        address = checks.run(clean_email, raw)
        if address is None:
            continue
        person = (
            Person.objects.filter(
                Q(email__iexact=address), memberships__status=Membership.Status.ACTIVE
            ).first()
            or Person.objects.filter(
                email__iexact=address, role__in=["secretariat", "committee"]
            ).first()
        )
        if person is None:
            checks.errors.append(
                InvalidInput(
                    _("%(a)s is not a member's address: a RED alert goes only to members.")
                    % {"a": address},
                    field="recipients",
                )
            )
            continue
        people[person.pk] = person
    checks.done()
    if to_affected:
        for m in Membership.objects.filter(
            tld__in=tlds, status=Membership.Status.ACTIVE
        ).select_related("person"):
            people.setdefault(m.person_id, m.person)
    return list(people.values())


def _author_tld(author: Person) -> Tld | None:
    m = (
        author.memberships.filter(status=Membership.Status.ACTIVE)
        .select_related("tld")
        .order_by("tld__alabel")
        .first()
    )
    return m.tld if m else None


def raise_alert(author: Person, data: AlertInput, *, actor: Actor, publish: bool = True) -> Alert:
    """Store a new alert by ``author`` (an active member or staff), every field checked and every
    problem reported at once; nothing is stored when anything is wrong. A TLP label is required;
    a RED alert must name its readers; only a CLEAR alert may be public.

    ``publish``: send the alert's mail in the same transaction (:func:`mailing.publish`: to the
    list, or to a RED alert's readers). The mail door says ``False``: the post it came from is the
    mail, and it publishes a RED one itself once its attachments are read."""
    if not access.in_community(author):
        raise NotAuthorised(
            _("Only active members, the secretariat and the committee may raise alerts.")
        )
    checks = Checks()
    label = checks.run(parse, data.tlp)
    title = checks.run(_text, data.title, TITLE_MAX_LENGTH, "title", required=True)
    body = checks.run(_text, data.body, BODY_MAX_LENGTH, "body", required=False)
    kind = checks.run(clean_choice, data.kind, Alert.Kind, "kind")
    category = checks.run(clean_choice, data.category, Alert.Category, "category")
    severity = checks.run(clean_choice, data.severity, Alert.Severity, "severity")
    tlds = checks.run(_affected, list(data.affected)) or []
    readers: list[Person] = []
    if label is Tlp.RED:
        readers = checks.run(_recipients, list(data.recipients), tlds, data.red_to_affected) or []
        if not readers and not checks.errors:
            checks.errors.append(
                InvalidInput(
                    _(
                        "A TLP:RED alert goes only to the people you name: name at least one "
                        "(or send it to the affected ccTLDs' contacts). Nothing was sent."
                    ),
                    field="recipients",
                )
            )
    elif data.recipients:
        checks.errors.append(
            InvalidInput(
                _("Only a TLP:RED alert names its readers; the others go to the community."),
                field="recipients",
            )
        )
    if data.public and label is not None and label is not Tlp.CLEAR:
        checks.errors.append(
            InvalidInput(
                _("Only a TLP:CLEAR alert may be public; this one is %(tag)s.")
                % {"tag": label.tag},
                field="public",
            )
        )
    checks.done()
    assert label is not None and title is not None  # noqa: S101 - checks.done() raised otherwise
    with transaction.atomic():
        alert = Alert.objects.create(
            kind=kind,
            category=category,
            severity=severity,
            tlp=label.value,
            public=bool(data.public),
            title=title,
            body=body or "",
            author=author,
            author_tld=_author_tld(author),
        )
        alert.affected.set(tlds)
        alert.recipients.set(readers)
        alert.indicator_errors = []
        if data.indicators:
            slices.queue(alert)  # the per-ccTLD slices of its domain names, sent by the worker
            text = "\n".join(line.replace("\n", " ") for line in data.indicators)
            result = _store_indicators(alert, io.StringIO(text))
            alert.indicator_errors = result.errors
        StatusChange.objects.create(alert=alert, after=alert.status, by=author, door=actor.door)
        # The audit log is read by staff, who may not be a RED alert's readers: its title stays out.
        summary = (
            f"Alert {alert.pk} raised ({label.tag})"
            if label is Tlp.RED
            else f"Alert {alert.pk} raised ({label.tag}): {title}"
        )
        record(actor, "alert-raised", summary, after={"alert": alert.pk, "tlp": label.value})
        if publish:
            mailing.publish(alert)
        notify.on_raised(alert)  # personal filters: notifications and digest items
    return alert


def _store_indicators(alert: Alert, stream: IO[bytes] | IO[str]) -> indicators.ParseResult:
    result = indicators.parse_lines(
        stream,
        max_bytes=settings.ALERT_UPLOAD_MAX_BYTES,
        max_items=settings.ALERT_MAX_INDICATORS,
    )
    Indicator.objects.bulk_create(
        [Indicator(alert=alert, kind=i.kind.value, value=i.value) for i in result.indicators],
        ignore_conflicts=True,  # already on the alert: kept once
        batch_size=5000,
    )
    return result


def add_indicators(
    reader: Person, pk: int, stream: IO[bytes] | IO[str], *, actor: Actor
) -> indicators.ParseResult:
    """Add the indicators of a list (an upload, an attachment: read line by line, never whole) to
    alert ``pk``, by its author. Bad lines are reported with their numbers and the rest kept; a
    list over ``ALERT_UPLOAD_MAX_BYTES`` or ``ALERT_MAX_INDICATORS`` is refused and nothing kept."""
    alert = get(reader, pk)
    if alert.author_id != reader.pk:
        raise NotAuthorised(_("Only the alert's author may add indicators to it."))
    with transaction.atomic():
        slices.queue(alert)  # first: its row lock orders uploads and the worker (slices.py)
        result = _store_indicators(alert, stream)
        Alert.touch(alert.pk)
        record(
            actor,
            "alert-indicators",
            f"Alert {alert.pk}: {len(result.indicators)} indicator(s) read, "
            f"{result.error_count} line(s) refused",
        )
    return result


# --- Reading -----------------------------------------------------------------------------------


#: The columns of an alert that :func:`search` reads (not the text): what the lists show.
LIST_FIELDS = (
    "kind",
    "category",
    "severity",
    "status",
    "tlp",
    "public",
    "title",
    "author",
    "author_tld",
    "created_at",
    "status_changed_at",
)


@dataclass
class Filters:
    category: str = ""
    tld: str = ""
    tlp: str = ""
    status: str = ""
    text: str = ""


def search(
    reader: Person | None, filters: Filters | None = None, *, with_author: bool = False
) -> QuerySet[Alert]:
    """The alerts ``reader`` may read, newest first, narrowed by ``filters`` (bad values refused,
    every one at once): the rows of a list, with the columns of :data:`LIST_FIELDS`, the author's
    name and ccTLD with ``with_author``, and the affected ccTLDs in ``affected_text``
    (:func:`affected_alabels`)."""
    f = filters or Filters()
    qs = access.visible_to(reader)
    checks = Checks()
    if f.category:
        qs = qs.filter(category=checks.run(clean_choice, f.category, Alert.Category, "category"))
    if f.status:
        qs = qs.filter(status=checks.run(clean_choice, f.status, Alert.Status, "status"))
    if f.tlp:
        label = checks.run(parse, f.tlp)
        qs = qs.filter(tlp=label.value if label else "")
    if f.tld:
        tld = checks.run(resolve_tld, f.tld)
        # An IN (subquery), not a join: the database need not join every alert of the ccTLD
        # to the reader's conditions before sorting them (bench/load_directory.py).
        named = Alert.affected.through.objects.filter(tld=tld).values("alert_id")
        qs = qs.filter(pk__in=named)
    text = checks.run(_text, f.text, 200, "text", required=False)
    checks.done()
    if text:
        qs = qs.filter(Q(title__icontains=text) | Q(body__icontains=text))
    # What the lists (pages, API, CLI) show and nothing more: a page of 50 is built in a few
    # queries whatever the number of alerts, and without the alerts' text (up to 100,000
    # characters each), the author's other columns or the affected ccTLDs' catalog data, whose
    # reading (and dates converted one by one on SQLite) was much of the list's time.
    # :func:`get` reads a whole alert. The affected ccTLDs come in the row itself, as one text
    # (:func:`_affected_column`), not through ``alert.affected.all()`` (a manager and a query
    # set for every row) nor a prefetch (a catalog object for every ccTLD of every row: a fifth
    # of the page's time with 10,000 alerts). The author only when the door shows it (the API):
    # the page's list does not. (The author's name as an annotation instead of select_related
    # would make the count join every alert to its author: slower.)
    if with_author:
        qs = qs.select_related("author", "author_tld").only(
            *LIST_FIELDS, "author__name", "author_tld__alabel"
        )
    else:
        qs = qs.only(*LIST_FIELDS)
    return qs.annotate(affected_text=_affected_column()).order_by("-created_at", "-id")


def _affected_column() -> RawSQL:
    """The A-labels of a row's affected ccTLDs, space-separated, computed by the database for
    the rows of the page only (a correlated subquery in the select list; the count leaves it
    out). SQLite's ``group_concat`` and PostgreSQL's ``string_agg`` are the same aggregate under
    two names; Django 5.2 has a portable one only for PostgreSQL."""
    link = Alert.affected.through._meta
    tld = Tld._meta
    aggregate = "string_agg" if connection.vendor == "postgresql" else "group_concat"
    return RawSQL(
        f"SELECT {aggregate}(t.{tld.get_field('alabel').column}, ' ') "  # noqa: S608 - no input
        f"FROM {link.db_table} l JOIN {tld.db_table} t ON t.id = l.{link.get_field('tld').column} "
        f"WHERE l.{link.get_field('alert').column} = {Alert._meta.db_table}.id",
        (),
    )


def affected_alabels(alert: Alert) -> list[str]:
    """A-labels of the ccTLDs ``alert`` affects: from the row when :func:`search` read it (no
    query), from the database otherwise (an alert read by :func:`get` or just raised)."""
    text = getattr(alert, "affected_text", None)
    if text is None and not hasattr(alert, "affected_text"):
        return sorted(t.alabel for t in alert.affected.all())
    return sorted((text or "").split())


def get(reader: Person | None, pk: int) -> Alert:
    """Alert ``pk`` if ``reader`` may read it; :class:`NotFound` otherwise (also when it exists)."""
    alert = Alert.objects.select_related("author", "author_tld").filter(pk=pk).first()
    if alert is None or not access.can_read(reader, alert):
        raise NotFound(_("No alert %(pk)s that you may read.") % {"pk": pk})
    return alert


#: Messages of a thread a page or an answer shows (the oldest first).
THREAD_SHOWN = 200


def thread(alert: Alert) -> list[ThreadMessage]:
    """The alert's mail and the replies attached to it, oldest first (the first
    :data:`THREAD_SHOWN`). Call it with an alert :func:`get` gave the reader: the thread is
    exactly as readable as its alert (a reply to a RED alert lives only here)."""
    return list(alert.thread.select_related("person")[:THREAD_SHOWN])


def public_list() -> QuerySet[Alert]:
    """The alerts a public page shows (:func:`access.public_alerts`), newest first, whoever
    looks: a member signed in sees on the public page exactly what a stranger sees."""
    return (
        access.public_alerts()
        .select_related("author_tld")
        .prefetch_related("affected")
        .order_by("-created_at", "-id")
    )


def get_public(pk: int) -> Alert:
    """Alert ``pk`` if a public page may show it (:func:`access.is_public`); :class:`NotFound`
    otherwise, the same answer as for a number that does not exist."""
    alert = Alert.objects.select_related("author_tld").filter(pk=pk).first()
    if alert is None or not access.is_public(alert):
        raise NotFound(_("No public alert %(pk)s.") % {"pk": pk})
    return alert


# --- Reactions and status ----------------------------------------------------------------------


@dataclass
class ReactionInput:
    kind: str
    count: int | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    note: str = ""


def react(reader: Person, pk: int, data: ReactionInput, *, actor: Actor) -> Reaction:
    """``reader``'s answer to alert ``pk`` ("seen here too", "not seen", "false positive",
    "mitigated"), replacing their previous one; they answer for their own ccTLD."""
    alert = get(reader, pk)
    if not access.in_community(reader) and alert.author_id != reader.pk:
        raise NotAuthorised(_("Only members may answer alerts."))
    checks = Checks()
    kind = checks.run(clean_choice, data.kind, Reaction.Kind, "kind")
    note = checks.run(_text, data.note, NOTE_MAX_LENGTH, "note", required=False)
    if data.count is not None and not 0 <= data.count <= 10**9:
        checks.errors.append(InvalidInput(_("The count must be between 0 and 10⁹."), field="count"))
    if data.first_seen and data.last_seen and data.first_seen > data.last_seen:
        checks.errors.append(
            InvalidInput(_("First seen must not be after last seen."), field="first_seen")
        )
    if data.count is not None and kind != Reaction.Kind.SEEN:
        checks.errors.append(InvalidInput(_("Only a sighting has a count."), field="count"))
    checks.done()
    with transaction.atomic():
        reaction, _created = Reaction.objects.update_or_create(
            alert=alert,
            person=reader,
            defaults={
                "kind": kind,
                "tld": _author_tld(reader),
                "count": data.count,
                "first_seen": data.first_seen,
                "last_seen": data.last_seen,
                "note": note or "",
            },
        )
        Alert.touch(alert.pk)
    return reaction


def reactions_by_tld(alert: Alert) -> dict[str, dict[str, int]]:
    """``{"fr": {"seen": 1, "sightings": 120, …}, "": {…}}``: the aggregate the author and the
    alert page show (``""``: people who answered for no ccTLD, i.e. staff)."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in alert.reactions.select_related("tld"):
        key = r.tld.alabel if r.tld else ""
        out[key][r.kind] += 1
        if r.count:
            out[key]["sightings"] += r.count
    return {k: dict(v) for k, v in sorted(out.items())}


def change_status(reader: Person, pk: int, status: str, *, actor: Actor) -> Alert:
    """Move alert ``pk`` to ``status`` (open, monitoring, resolved): its author, or staff who may
    read it. Each change is kept with who and when."""
    alert = get(reader, pk)
    new = clean_choice(status, Alert.Status, "status")
    if alert.author_id != reader.pk and role_of(reader) not in (Role.SECRETARIAT, Role.COMMITTEE):
        raise NotAuthorised(_("Only the alert's author and the secretariat may change its status."))
    if new == alert.status:
        return alert
    with transaction.atomic():
        before = alert.status
        alert.status = new
        alert.status_changed_at = timezone.now()
        alert.save(update_fields=["status", "status_changed_at", "updated_at"])
        StatusChange.objects.create(
            alert=alert, before=before, after=new, by=reader, door=actor.door
        )
        record(
            actor,
            "alert-status",
            f"Alert {alert.pk}: {before} → {new}",
            before={"status": before},
            after={"status": new},
        )
    return alert
