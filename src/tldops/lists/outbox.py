"""The durable outbox: services enqueue mail inside their transaction; workers deliver it later.

Enqueueing in the caller's transaction means a rolled-back action sends nothing and a committed one
is never forgotten. :func:`deliver_due` is idempotent and safe to run from several processes: each
delivery is claimed by a conditional update before it is sent.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable, Sequence
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from tldops.lists.models import Delivery, OutboundMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


def build_message(
    *,
    subject: str,
    body: str,
    to: Sequence[str],
    cc: Sequence[str] = (),
    reply_to: str | None = None,
    from_addr: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A plain-text UTF-8 message with a fresh Message-ID."""
    msg = EmailMessage()
    msg["From"] = from_addr or settings.DEFAULT_FROM_EMAIL
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = subject
    msg["Date"] = timezone.now().strftime("%a, %d %b %Y %H:%M:%S +0000")
    msg["Message-ID"] = make_msgid(domain=settings.MAIL_DOMAIN)
    msg["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg


def enqueue(
    msg: EmailMessage, *, purpose: str, recipients: Iterable[str] | None = None
) -> OutboundMessage:
    """Store ``msg`` with one pending delivery per recipient (default: its To and Cc addresses)."""
    if recipients is None:
        recipients = [
            parseaddr(a)[1]
            for h in ("To", "Cc")
            for a in str(msg.get(h, "")).split(",")
            if a.strip()
        ]
    unique = list(dict.fromkeys(r.strip() for r in recipients if r and r.strip()))
    now = timezone.now()
    out = OutboundMessage.objects.create(
        purpose=purpose,
        subject=str(msg["Subject"] or "")[:300],
        envelope_from=parseaddr(str(msg["From"]))[1],
        raw=msg.as_bytes(),
    )
    Delivery.objects.bulk_create(
        [Delivery(message=out, recipient=r, next_attempt_at=now) for r in unique]
    )
    return out


def send_template(
    template: str,
    context: dict[str, object],
    *,
    subject: str,
    to: Sequence[str],
    cc: Sequence[str] = (),
    reply_to: str | None = None,
    purpose: str,
    headers: dict[str, str] | None = None,
) -> OutboundMessage:
    """Render ``template`` (a plain-text template) and enqueue it."""
    body = render_to_string(template, {"base_url": settings.BASE_URL, **context})
    msg = build_message(
        subject=subject, body=body, to=to, cc=cc, reply_to=reply_to, headers=headers
    )
    return enqueue(msg, purpose=purpose)


def mail_language() -> translation.override:
    """Mail is written in the site's language (English), never in the language of whoever
    triggered it: a secretariat member using the French portal must not send an invitation in
    French to an admin contact who reads English. Use as ``with`` or as a decorator around the
    code that builds a mail's subject and body."""
    return translation.override(settings.LANGUAGE_CODE)


def format_address(name: str, address: str) -> str:
    return formataddr((name, address))


def _claim(now: timezone.datetime, limit: int) -> list[Delivery]:
    """Claim due deliveries by pushing their next attempt forward, so a parallel worker skips them."""
    claimed: list[Delivery] = []
    lease = now + timedelta(minutes=5)
    candidates = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", "next_attempt_at")[:limit]
    )
    for pk, due in candidates:
        if Delivery.objects.filter(pk=pk, next_attempt_at=due, status="pending").update(
            next_attempt_at=lease
        ):
            claimed.append(Delivery.objects.select_related("message").get(pk=pk))
    return claimed


def envelope_sender(delivery: Delivery) -> str:
    """The envelope sender of one delivery: per-recipient VERP for list posts."""
    if delivery.message.verp:
        from tldops.lists.verp import encode

        return encode(delivery.pk)
    return delivery.message.envelope_from


class _Transport:
    """Hands one message to the smarthost (SMTP, connection reused) or writes it to the sink folder."""

    def __init__(self) -> None:
        self.smtp: smtplib.SMTP | None = None

    def send(self, delivery: Delivery) -> None:
        raw = bytes(delivery.message.raw)
        if settings.SMARTHOST:
            if self.smtp is None:
                host, _, port = settings.SMARTHOST.partition(":")
                self.smtp = smtplib.SMTP(host, int(port or 25), timeout=30)
            # SMTP lines end in CRLF; smtplib sends bytes as they are, and MTAs refuse bare LF.
            wire = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            self.smtp.sendmail(envelope_sender(delivery), [delivery.recipient], wire)
            return
        sink = Path(settings.MAIL_SINK_DIR)
        sink.mkdir(parents=True, exist_ok=True)
        prefix = (
            f"Return-Path: <{envelope_sender(delivery)}>\r\nDelivered-To: {delivery.recipient}\r\n"
        ).encode()
        stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
        tmp = sink / f".{delivery.pk}.tmp"
        tmp.write_bytes(prefix + raw)
        tmp.rename(sink / f"{stamp}-{delivery.pk:08d}.eml")

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except smtplib.SMTPException:
                pass
            self.smtp = None


def deliver_due(limit: int = 200) -> int:
    """Deliver what is due now; return how many deliveries were handed over successfully."""
    now = timezone.now()
    transport = _Transport()
    sent = 0
    try:
        for delivery in _claim(now, limit):
            try:
                transport.send(delivery)
            except smtplib.SMTPResponseException as exc:
                transport.close()
                _failed(
                    delivery, f"{exc.smtp_code} {exc.smtp_error!r}", permanent=exc.smtp_code >= 500
                )
            except smtplib.SMTPRecipientsRefused as exc:
                code = next(iter(exc.recipients.values()))[0]
                _failed(delivery, f"recipient refused: {exc.recipients}", permanent=code >= 500)
            except (OSError, smtplib.SMTPException) as exc:
                transport.close()
                _failed(delivery, f"{type(exc).__name__}: {exc}", permanent=False)
            else:
                Delivery.objects.filter(pk=delivery.pk).update(
                    status=Delivery.Status.SENT,
                    sent_at=timezone.now(),
                    attempts=delivery.attempts + 1,
                    last_error="",
                )
                sent += 1
    finally:
        transport.close()
    return sent


def _failed(delivery: Delivery, error: str, *, permanent: bool) -> None:
    attempts = delivery.attempts + 1
    if permanent or attempts >= MAX_ATTEMPTS:
        status, when = Delivery.Status.FAILED, timezone.now()
    else:
        status, when = Delivery.Status.PENDING, timezone.now() + timedelta(minutes=2**attempts)
    log.warning("delivery %s to %s failed (%s): %s", delivery.pk, delivery.recipient, status, error)
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=status, attempts=attempts, next_attempt_at=when, last_error=error[:2000]
        )
