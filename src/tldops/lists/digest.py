"""Daily digests: the posts of the day in one message, for the members who chose them.

The database is the only queue. When a post is accepted, :func:`tldops.lists.distribute.fan_out`
writes one :class:`~tldops.lists.models.DigestItem` per person on digest delivery, in the post's
transaction. :func:`run_due`, run by the worker every minute, sends each person with waiting items
one digest a day, at or after ``DIGEST_TIME`` (UTC, default 06:00):

- per person, in ONE transaction: insert the :class:`~tldops.lists.models.Digest` row for
  (person, today) — the claim: unique, so a second worker, or the same one running again, fails
  there and sends nothing — then queue the digest in the outbox and delete the items it carries.
  A worker killed half-way leaves nothing behind; the next run does it whole.
- items wait while the person is on *no mail* and are sent in the first digest after it; a
  person who no longer receives the list (left, or staff who switched it off) loses theirs;
  someone who went back to regular delivery gets what was collected in one last digest.

Two formats, the member's choice (``Person.digest_format``):

- ``mime`` (RFC 2046): ``multipart/mixed`` of a ``text/plain`` table of contents, a
  ``multipart/digest`` whose parts are the posts as distributed (``message/rfc822``, the
  default type inside a digest), and the footer.
- ``plain`` (in the manner of RFC 1153): one ``text/plain`` message, the table of contents then
  each post's Date, From, Subject and text, separated by lines of dashes.

The table of contents links each post to its page in the archive (``/archive/message/<id>/``).
The digest carries the list headers (List-Id …), the subject ``[TLD-OPS] Digest, <date>,
N messages``, is VERP-addressed so its bounces count like a post's, and is DKIM-signed like one.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.utils import format_datetime, make_msgid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tldops.directory.delivery import effective_mode, is_subscriber, today_utc
from tldops.directory.models import DeliveryMode, DigestFormat, Person
from tldops.lists.archive import body_text
from tldops.lists.handlers import dkim, rfc2369
from tldops.lists.handlers.context import HandlerContext
from tldops.lists.models import ArchivedMessage, Digest, DigestItem
from tldops.mail import outbox
from tldops.mail.headers import one_line
from tldops.mail.models import Delivery, OutboundMessage
from tldops.mail.verp import bounces_address

log = logging.getLogger(__name__)

PURPOSE = "list-digest"
SEPARATOR = "-" * 30
#: Posts one digest carries at most; more wait for the next day's (a flood stays readable).
MAX_POSTS = 200


def digest_time() -> dt.time:
    """``DIGEST_TIME`` (``HH:MM``, UTC); a wrong value is the default, 06:00, and says so."""
    try:
        return dt.time.fromisoformat(str(settings.DIGEST_TIME).strip())
    except ValueError:
        log.error("TLDOPS_DIGEST_TIME %r is not HH:MM: digests go at 06:00", settings.DIGEST_TIME)
        return dt.time(6, 0)


@dataclass(frozen=True)
class Entry:
    """One post of a digest: what the table of contents and the plain format show."""

    number: int
    subject: str
    author: str
    date: str
    message_id: str
    url: str
    text: str
    raw: bytes


def _entries(items: list[DigestItem]) -> list[Entry]:
    archived = {
        a.post_id: a for a in ArchivedMessage.objects.filter(post__in=[i.post_id for i in items])
    }
    entries = []
    for n, item in enumerate(items, start=1):
        a = archived.get(item.post_id)
        post = item.post
        if a is not None:
            raw, text = bytes(a.raw), a.body_text
            author = f"{a.author_name} <{a.author_email}>" if a.author_name else a.author_email
            date, url = format_datetime(a.date), f"{settings.BASE_URL}/archive/message/{a.pk}/"
            subject, message_id = a.subject, a.message_id
        else:  # removed from the archive since: the copy as it was sent
            raw = bytes(post.outbound.raw) if post.outbound_id else bytes(post.inbound.raw)
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            text = body_text(parsed)
            author = post.sender
            date, url = format_datetime(post.received_at), ""
            subject, message_id = post.subject, post.message_id
        entries.append(
            Entry(
                number=n,
                subject=one_line(subject, 300) or _("(no subject)"),
                author=one_line(author, 300),
                date=date,
                message_id=one_line(message_id, 300),
                url=url,
                text=text,
                raw=raw,
            )
        )
    return entries


def subject(day: dt.date, count: int) -> str:
    text = ngettext(
        "Digest, %(date)s, %(n)d message", "Digest, %(date)s, %(n)d messages", count
    ) % {"date": day.isoformat(), "n": count}
    tag = settings.SUBJECT_TAG.strip()
    return f"{tag} {text}" if tag else text


def table_of_contents(day: dt.date, entries: list[Entry]) -> str:
    lines = [
        _("%(list)s digest, %(date)s") % {"list": settings.LIST_NAME, "date": day.isoformat()},
        "",
        _("Today's topics:"),
        "",
    ]
    for e in entries:
        lines.append(f"  {e.number:>3}. {e.subject} ({e.author})")
        if e.url:
            lines.append(f"       {e.url}")
    lines += [
        "",
        _(
            "To reply to a post, reply to it on its own (MIME digest: open the attached message), "
            "not to the digest. Change how you receive the list in your settings: %(url)s"
        )
        % {"url": f"{settings.BASE_URL}/profile/delivery/"},
        "",
    ]
    return "\n".join(lines)


def _footer() -> str:
    return f"-- \n{settings.LIST_FOOTER}\n" if settings.LIST_FOOTER.strip() else ""


def plain_body(day: dt.date, entries: list[Entry]) -> str:
    parts = [table_of_contents(day, entries), "-" * 70, ""]
    for e in entries:
        parts += [
            _("Message: %(n)d") % {"n": e.number},
            f"Date: {e.date}",
            f"From: {e.author}",
            f"Subject: {e.subject}",
            f"Message-ID: {e.message_id}",
        ]
        if e.url:
            parts.append(_("Archive: %(url)s") % {"url": e.url})
        parts += ["", e.text.strip("\n"), "", SEPARATOR, ""]
    parts.append(
        _("End of %(list)s digest, %(date)s")
        % {"list": settings.LIST_NAME, "date": day.isoformat()}
    )
    return "\n".join(parts) + "\n" + _footer()


def _headers(msg: Message, person: Person, day: dt.date, count: int) -> None:
    ctx = HandlerContext.for_list_mail()
    msg["From"] = outbox.format_address(settings.LIST_NAME, ctx.request_address)
    msg["To"] = outbox.format_address(person.name, person.email)
    msg["Reply-To"] = outbox.format_address(settings.LIST_NAME, settings.LIST_ADDRESS)
    msg["Subject"] = one_line(subject(day, count), outbox.SUBJECT_LIMIT)
    msg["Date"] = timezone.now().strftime("%a, %d %b %Y %H:%M:%S +0000")
    msg["Message-ID"] = make_msgid(
        idstring=f"digest-{day.isoformat()}", domain=settings.MAIL_DOMAIN
    )
    msg["Auto-Submitted"] = "auto-generated"
    for name, value in rfc2369.headers(ctx).items():
        msg[name] = value


def build(person: Person, day: dt.date, entries: list[Entry], fmt: str) -> Message:
    """The digest of ``entries`` for ``person`` in format ``fmt`` (``mime`` or ``plain``)."""
    policy = email.policy.SMTP.clone(linesep="\n")
    if fmt == DigestFormat.PLAIN:
        msg: Message = EmailMessage()
        _headers(msg, person, day, len(entries))
        msg.set_content(plain_body(day, entries))
        return msg
    msg = MIMEMultipart("mixed", policy=policy)
    _headers(msg, person, day, len(entries))
    toc = EmailMessage()
    toc.set_content(table_of_contents(day, entries), disposition="inline")
    del toc["MIME-Version"]
    msg.attach(toc)
    digest = MIMEMultipart("digest", policy=policy)
    del digest["MIME-Version"]
    for e in entries:
        inner = email.message_from_bytes(e.raw, policy=email.policy.compat32)
        part = MIMEMessage(inner)  # message/rfc822
        del part["MIME-Version"]
        digest.attach(part)
    msg.attach(digest)
    if footer := _footer():
        foot = EmailMessage()
        foot.set_content(footer, disposition="inline")
        del foot["MIME-Version"]
        msg.attach(foot)
    return msg


def _queue(person: Person, msg: Message) -> OutboundMessage:
    """One outbox message for one person, VERP-addressed like a post, DKIM-signed like one."""
    dkim.process(msg, HandlerContext.for_list_mail())  # type: ignore[arg-type]
    out = OutboundMessage.objects.create(
        purpose=PURPOSE,
        subject=str(msg.get("Subject", ""))[:300],
        envelope_from=bounces_address(),
        raw=msg.as_bytes(policy=email.policy.SMTP.clone(linesep="\n")),
        verp=True,
    )
    Delivery.objects.create(message=out, recipient=person.email, next_attempt_at=timezone.now())
    return out


def send_for(person_id: int, day: dt.date) -> Digest | None:
    """Send ``person_id``'s digest of ``day`` if it is due and not sent; see the module's text."""
    try:
        with transaction.atomic():
            person = Person.objects.filter(pk=person_id).first()
            items = DigestItem.objects.filter(person_id=person_id)
            if person is None or not is_subscriber(person):
                items.delete()  # no longer receives the list: nothing to send, ever
                return None
            if effective_mode(person, day) == DeliveryMode.NOMAIL:
                return None  # kept for the first digest after the no-mail days
            if Digest.objects.filter(person_id=person_id, day=day).exists():
                return None
            batch = list(items.select_related("post").order_by("post_id")[:MAX_POSTS])
            if not batch:
                return None
            fmt = person.digest_format if person.digest_format in DigestFormat.values else "mime"
            digest = Digest.objects.create(person=person, day=day, format=fmt, count=len(batch))
            with outbox.mail_language():
                msg = build(person, day, _entries(batch), fmt)
            digest.outbound = _queue(person, msg)
            digest.save(update_fields=["outbound"])
            DigestItem.objects.filter(pk__in=[i.pk for i in batch]).delete()
            return digest
    except IntegrityError:  # another worker sent this person's digest of the day first
        return None


def run_due(now: dt.datetime | None = None) -> int:
    """The worker's hook: from ``DIGEST_TIME`` on, send every waiting digest of the day; the
    number sent. Running it again the same day sends nothing more."""
    now = now or timezone.now()
    utc = now.astimezone(dt.UTC)
    if utc.time().replace(tzinfo=None) < digest_time():
        return 0
    day = today_utc(now)
    people = sorted(set(DigestItem.objects.values_list("person_id", flat=True)))
    return sum(1 for pk in people if send_for(pk, day) is not None)
