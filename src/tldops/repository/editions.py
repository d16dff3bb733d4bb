"""Generating, storing, signing and sending contact repository editions, exactly once a period.

Public interface (the worker, the CLI, the API and the portal call only these):

- ``run_due(now=None) -> int``: called by the worker every minute; publishes the edition of the
  period that is due (:func:`tldops.repository.schedule.due_edition`: only the *latest* due
  period, so a system that was down sends the current edition once on its next start) unless it
  exists; returns 1 if it sent one, else 0. Nothing is sent while there is no active member.
- ``generate(period, *, now=None) -> Edition``: an *unsaved* edition with every rendering and the
  raw (signed) message; reads the directory, runs no transaction.
- ``publish(period, *, trigger, now=None) -> Edition | None``: generate, then in ONE transaction
  insert the Edition row and queue the mail to every active member. The row's unique ``period``
  is the claim: of concurrent callers (two workers, a worker and ``tldops repository send``) only
  the first commits; the others get an IntegrityError, send nothing, and return ``None`` — as
  does a call for a period that already exists.
- ``latest() -> Edition | None``, ``get(period) -> Edition`` (:class:`NotFound`),
  ``history()`` (every edition, newest first, without the big fields).
- ``export(fmt, *, period=None) -> (bytes, content type, filename)`` for fmt in txt|csv|vcf|pdf:
  the stored edition byte for byte, or when ``period`` is None the current directory rendered
  now (not stored).
- ``resend(period, *, to=None, actor) -> OutboundMessage``: queue the stored message again, to
  every active member or to the named members' addresses; audited.

The mail is one outbox message (purpose ``repository``) with one delivery per active member's
main address (whatever their list delivery option: an edition always arrives) and per staff
person who keeps ``receive_editions`` on, each address once
(:data:`tldops.directory.delivery.Audience.EDITION`), VERP-addressed like list posts so its
bounces feed the list's bounce handling (and reachability). It is ``multipart/mixed``: the text body, then the CSV, vCard and PDF attachments
(``tld-ops-contacts-2026-11.csv`` …); wrapped in ``multipart/signed`` when a signing key is
configured (:mod:`tldops.repository.signing`). The exact bytes queued are kept in ``Edition.raw``.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops.directory import audit
from tldops.directory.delivery import Audience, recipients
from tldops.directory.queries import member_by_address, members
from tldops.kernel.errors import InvalidInput, NotFound
from tldops.mail import outbox
from tldops.mail.models import OutboundMessage
from tldops.repository import render, schedule, signing, snapshot
from tldops.repository.models import Edition

PURPOSE = "repository"
FORMATS = {
    "txt": ("text/plain; charset=utf-8", "txt"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "vcf": ("text/vcard; charset=utf-8", "vcf"),
    "pdf": ("application/pdf", "pdf"),
}
PERIOD_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
#: The big columns, left out of listings.
HEAVY_FIELDS = ("data", "text", "csv", "vcf", "pdf", "raw")


def check_period(period: str) -> str:
    """``2026-11`` or :class:`InvalidInput`."""
    value = str(period or "").strip()
    if not PERIOD_RE.fullmatch(value):
        raise InvalidInput(
            _("“%(p)s” is not an edition; give a year and month such as 2026-11.") % {"p": value},
            field="period",
        )
    return value


def filename(period: str, fmt: str) -> str:
    return f"tld-ops-contacts-{period}.{FORMATS[fmt][1]}"


# --- Generating --------------------------------------------------------------------------------------


def _previous(period: str | None) -> Edition | None:
    qs = Edition.objects.only("period", "data").order_by("-period")
    if period:
        qs = qs.filter(period__lt=period)
    return qs.first()


def _changes(data: dict[str, Any], before: Edition | None) -> dict[str, Any]:
    if before is None:
        return {**snapshot.changes(None, data), "previous": None}
    return {**snapshot.changes(before.data, data), "previous": before.period}


def _subject(period: str) -> str:
    return _("TLD-OPS contact repository %(period)s") % {"period": period}


def _message(edition: Edition) -> EmailMessage:
    """The unsigned ``multipart/mixed`` mail; every part 7-bit so it can be signed as is."""
    msg = EmailMessage(policy=signing.POLICY)
    msg["From"] = settings.DEFAULT_FROM_EMAIL
    # An empty group: every member gets their own copy, nobody sees the others' addresses, and a
    # reply does not go to the list.
    msg["To"] = _("%(list)s members") % {"list": settings.LIST_NAME} + ":;"
    msg["Subject"] = _subject(edition.period)
    msg["Date"] = format_datetime(edition.generated_at)
    msg["Message-ID"] = make_msgid(
        idstring=f"repository-{edition.period}", domain=settings.MAIL_DOMAIN
    )
    msg["Auto-Submitted"] = "auto-generated"
    msg["List-Id"] = f"{settings.LIST_NAME} <{settings.LIST_ID}>"
    msg["X-TLDOPS-Edition"] = edition.period
    msg.set_content(edition.text, cte="quoted-printable")
    name = f"tld-ops-contacts-{edition.period}"
    msg.add_attachment(
        edition.csv.encode("utf-8"),
        maintype="text",
        subtype="csv",
        filename=f"{name}.csv",
        params={"charset": "utf-8"},
    )
    msg.add_attachment(
        edition.vcf.encode("utf-8"),
        maintype="text",
        subtype="vcard",
        filename=f"{name}.vcf",
        params={"charset": "utf-8"},
    )
    msg.add_attachment(
        bytes(edition.pdf), maintype="application", subtype="pdf", filename=f"{name}.pdf"
    )
    return msg


def generate(period: str, *, now: datetime | None = None) -> Edition:
    """An unsaved edition of ``period``: the snapshot, what changed since the previous stored
    edition, every rendering and the raw message (signed when a key is configured)."""
    period = check_period(period)
    now = now or timezone.now()
    who = signing.signer()  # fails early when signing is configured but impossible
    with outbox.mail_language():
        data = snapshot.take(now)
        changes = _changes(data, _previous(period))
        edition = Edition(
            period=period,
            generated_at=now,
            data=data,
            people=data["people"],
            cctlds=data["cctlds"],
            changes=changes,
            text=render.text(data, period, changes),
            csv=render.csv(data),
            vcf=render.vcard(data),
            pdf=render.pdf(data, period, changes),
        )
        msg = _message(edition)
    if who is not None:
        msg = signing.sign_mime(msg, who)
        edition.signer = who.fingerprint
    edition.raw = msg.as_bytes(policy=signing.POLICY)
    return edition


# --- Sending -----------------------------------------------------------------------------------------


class _Exact(EmailMessage):
    """A parsed message that serialises to exactly the bytes it was parsed from.

    :func:`tldops.mail.outbox.enqueue` stores ``msg.as_bytes()``; a signed message must be
    stored byte for byte (re-serialising may re-fold a header and break the signature).
    """

    _raw: bytes = b""

    def as_bytes(self, unixfrom: bool = False, policy: Any = None) -> bytes:  # noqa: ARG002
        return self._raw


def _exact(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, _class=_Exact, policy=signing.POLICY)
    msg._raw = raw  # type: ignore[attr-defined]
    return msg


def _queue(raw: bytes, recipients: list[str]) -> OutboundMessage:
    # Per-recipient VERP envelope like list posts: a bounce names who could not be reached.
    return outbox.enqueue(_exact(raw), purpose=PURPOSE, recipients=recipients, verp=True)


def _member_addresses() -> list[str]:
    """Every member, whatever their list delivery (an edition always arrives), and the staff who
    receive editions; each address once (:mod:`tldops.directory.delivery`)."""
    return recipients(Audience.EDITION)


def publish(
    period: str, *, trigger: str = "schedule", now: datetime | None = None
) -> Edition | None:
    """Generate, store and send the edition of ``period``; ``None`` if it already exists (or a
    concurrent caller stored it first). Exactly once per period, however many callers."""
    period = check_period(period)
    if Edition.objects.filter(period=period).exists():
        return None
    edition = generate(period, now=now)
    edition.trigger = trigger
    return store_and_send(edition)


def store_and_send(edition: Edition) -> Edition | None:
    """Insert the generated ``edition`` and queue its mail to every active member, in one
    transaction. The insert is the claim: if the period exists (another caller committed it
    first, even while this one was generating), nothing is queued and ``None`` is returned."""
    try:
        with transaction.atomic():
            edition.save(force_insert=True)  # the claim: unique period
            recipients = _member_addresses()
            out = _queue(bytes(edition.raw), recipients)
            edition.message = out
            edition.recipients = len(recipients)
            edition.sent_at = timezone.now()
            edition.save(update_fields=["message", "recipients", "sent_at"])
    except IntegrityError:
        edition.pk = None
        if Edition.objects.filter(period=edition.period).exists():
            return None
        raise
    return edition


def run_due(now: datetime | None = None) -> int:
    """The worker's hook: publish the due edition unless it exists; 1 if sent, else 0."""
    now = now or timezone.now()
    period = schedule.due_edition(now)
    if Edition.objects.filter(period=period).exists():
        return 0
    if not schedule.allowed(schedule.period_send_time(period), schedule.periodic_start()):
        return 0  # a new install: the first edition is the first one due after contacts exist
    if not members().exists():
        return 0  # nobody to send to, nothing to list: keep the period for when there is
    return 1 if publish(period, trigger="schedule", now=now) is not None else 0


# --- Reading -----------------------------------------------------------------------------------------


def next_due(now: datetime | None = None) -> datetime | None:
    """When the worker sends the next edition by itself (in the past: at its next minute, as
    soon as there is an active member); ``None`` while no contact has confirmed."""
    return schedule.next_edition(
        now or timezone.now(), lambda p: Edition.objects.filter(period=p).exists()
    )


def history() -> QuerySet[Edition]:
    """Every stored edition, newest first, without the renderings."""
    return Edition.objects.defer(*HEAVY_FIELDS).order_by("-period")


def latest() -> Edition | None:
    return Edition.objects.order_by("-period").first()


def get(period: str) -> Edition:
    period = check_period(period)
    edition = Edition.objects.filter(period=period).first()
    if edition is None:
        raise NotFound(
            _("There is no edition %(p)s of the contact repository.") % {"p": period},
            field="period",
        )
    return edition


def check_format(fmt: str) -> str:
    value = str(fmt or "").strip().lower()
    if value not in FORMATS:
        raise InvalidInput(
            _("Unknown format “%(f)s”; use one of: %(all)s.")
            % {"f": fmt, "all": ", ".join(FORMATS)},
            field="format",
        )
    return value


def export(fmt: str, *, period: str | None = None) -> tuple[bytes, str, str]:
    """(content, content type, filename) of one rendering: of the stored edition ``period``
    (exactly as sent), or of the current directory when ``period`` is None."""
    fmt = check_format(fmt)
    content_type = FORMATS[fmt][0]
    if period is not None:
        edition = get(period)
        content: bytes = {
            "txt": lambda: edition.text.encode("utf-8"),
            "csv": lambda: edition.csv.encode("utf-8"),
            "vcf": lambda: edition.vcf.encode("utf-8"),
            "pdf": lambda: bytes(edition.pdf),
        }[fmt]()
        return content, content_type, filename(edition.period, fmt)
    now = timezone.now()
    with outbox.mail_language():
        data = snapshot.take(now)
        if fmt == "csv":
            content = render.csv(data).encode("utf-8")
        elif fmt == "vcf":
            content = render.vcard(data).encode("utf-8")
        else:
            changes = _changes(data, _previous(None))
            if fmt == "txt":
                content = render.text(data, None, changes).encode("utf-8")
            else:
                content = render.pdf(data, None, changes)
    return content, content_type, filename(f"{now:%Y-%m-%d}", fmt)


# --- Re-sending --------------------------------------------------------------------------------------


def resend(period: str, *, to: list[str] | None = None, actor: audit.Actor) -> OutboundMessage:
    """Queue the stored message of ``period`` again, byte for byte (so still signed): to every
    active member, or to ``to`` — addresses of active members (main or other address)."""
    edition = get(period)
    if not edition.raw:
        raise InvalidInput(
            _("Edition %(p)s has no stored message to send again.") % {"p": edition.period}
        )
    if to:
        recipients = []
        for address in to:
            address = address.strip()
            if member_by_address(address) is None:
                raise InvalidInput(
                    _("%(a)s is not an address of an active member.") % {"a": address}, field="to"
                )
            recipients.append(address)
    else:
        recipients = _member_addresses()
    if not recipients:
        raise InvalidInput(_("There is no active member to send the edition to."), field="to")
    with transaction.atomic():
        out = _queue(bytes(edition.raw), recipients)
        audit.record(
            actor,
            "repository-resend",
            _("Contact repository %(p)s sent again to %(n)d address(es).")
            % {"p": edition.period, "n": len(recipients)},
            after={
                "period": edition.period,
                "to": list(to) if to else "all active members",
                "recipients": len(recipients),
                "message": out.pk,
            },  # fmt: skip
        )
    return out
