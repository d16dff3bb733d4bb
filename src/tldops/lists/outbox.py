"""The durable outbox: services enqueue mail inside their transaction; workers deliver it later.

Enqueueing in the caller's transaction means a rolled-back action sends nothing and a committed one
is never forgotten. :func:`deliver_due` is idempotent and safe to run from several processes:

- **Claim.** A batch of due deliveries is claimed by one conditional update that pushes their next
  attempt ``DELIVERY_LEASE`` seconds forward (the lease), so a parallel worker skips them. A worker
  killed after claiming leaves them leased; the next round after the lease delivers them.
- **Send.** With a smarthost, ``DELIVERY_CONCURRENCY`` asyncio sessions (aiosmtplib) each hold one
  SMTP connection and reuse it for delivery after delivery; list posts get their per-recipient VERP
  envelope sender (:func:`envelope_sender`). Without a smarthost, each copy is written to the sink
  folder.
- **Record.** 2xx: sent. 5xx (or an address that can never be sent): failed for good. 4xx and
  connection errors: retried after ``DELIVERY_RETRY_BASE * 2**attempts`` seconds, at most
  ``MAX_ATTEMPTS`` times. Results are committed in groups as they come; at most
  :func:`in_flight_limit` (twice ``DELIVERY_CONCURRENCY``) copies are ever sent but not yet
  recorded, so that is the most a crash can make the next worker send twice.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import random
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr
from pathlib import Path
from typing import Any

import aiosmtplib
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation

from tldops.lists.models import Delivery, OutboundMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SMTP_TIMEOUT = 60.0  # seconds for one SMTP command or the connection


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
    """Claim up to ``limit`` due deliveries by leasing them (pushing their next attempt forward).

    One conditional update claims the batch; the lease time carries a random microsecond part, so
    the rows this worker leased are exactly those with that lease (a parallel worker's update
    skips rows already leased, as their next attempt is no longer due).
    """
    ids = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    if not ids:
        return []
    lease = now + timedelta(
        seconds=settings.DELIVERY_LEASE, microseconds=random.randrange(1, 1_000_000)
    )
    Delivery.objects.filter(
        pk__in=ids, status=Delivery.Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=lease)
    claimed = list(
        Delivery.objects.filter(pk__in=ids, next_attempt_at=lease)
        .only("id", "recipient", "attempts", "message_id")
        .order_by("id")
    )
    # Each message's bytes are read once, however many recipients it has.
    messages = OutboundMessage.objects.in_bulk({d.message_id for d in claimed})
    for delivery in claimed:
        delivery.message = messages[delivery.message_id]
    return claimed


def envelope_sender(delivery: Delivery) -> str:
    """The envelope sender of one delivery: per-recipient VERP for list posts."""
    if delivery.message.verp:
        from tldops.lists.verp import encode

        return encode(delivery.pk)
    return delivery.message.envelope_from


@dataclass(frozen=True)
class _Job:
    """What a session needs to send one delivery (no database access in the event loop)."""

    pk: int
    sender: str
    recipient: str
    data: bytes
    attempts: int


@dataclass(frozen=True)
class _Result:
    job: _Job
    error: str = ""  # empty: the MTA accepted the message
    permanent: bool = False


def _describe(exc: BaseException) -> str:
    """``SMTPConnectError: … (ConnectionRefusedError)``: the error and what caused it."""
    text = f"{type(exc).__name__}: {exc}"
    cause = exc.__cause__ or exc.__context__
    if cause is not None and type(cause).__name__ not in text:
        text += f" ({type(cause).__name__})"
    return text


def _mail_options(job: _Job, smtp: aiosmtplib.SMTP) -> list[str]:
    options = []
    if not (job.sender.isascii() and job.recipient.isascii()):
        options.append("SMTPUTF8")
    if not job.data.isascii() and smtp.supports_extension("8bitmime"):
        options.append("BODY=8BITMIME")
    return options


def in_flight_limit(concurrency: int) -> int:
    """The most deliveries that can be sent but not yet recorded at any moment: what a crash can
    send twice. Each session may start its next copy while the previous result is being committed.
    """
    return 2 * max(1, concurrency)


class _SmtpSessions:
    """``concurrency`` SMTP sessions to one smarthost; each reuses its connection for job after job.

    A session takes a slot of ``window`` before it sends, and the slot is given back (by
    :meth:`release`, from the recording thread) once the result is committed: so at most
    ``window`` copies are ever sent but unrecorded.
    """

    def __init__(
        self,
        host: str,
        port: int,
        concurrency: int,
        report: Callable[[_Result], None],
    ) -> None:
        self.host, self.port = host, port
        self.concurrency = max(1, concurrency)
        self.report = report
        self.window = asyncio.Semaphore(in_flight_limit(concurrency))

    def release(self, n: int) -> None:
        for _ in range(n):
            self.window.release()

    async def run(self, jobs: Sequence[_Job]) -> None:
        todo: asyncio.Queue[_Job] = asyncio.Queue()
        for job in jobs:
            todo.put_nowait(job)
        sessions = min(self.concurrency, len(jobs))
        await asyncio.gather(*(self._session(todo) for _ in range(sessions)))

    async def _session(self, todo: asyncio.Queue[_Job]) -> None:
        smtp: aiosmtplib.SMTP | None = None
        try:
            while not todo.empty():
                job = todo.get_nowait()
                await self.window.acquire()
                smtp, result = await self._send(smtp, job)
                self.report(result)
        finally:
            if smtp is not None:
                await _close(smtp, polite=True)

    async def _connect(self) -> aiosmtplib.SMTP:
        smtp = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            timeout=SMTP_TIMEOUT,
            start_tls=False,
            local_hostname=settings.MAIL_DOMAIN,
        )
        await smtp.connect()
        if not smtp.esmtp_extensions:
            await smtp.ehlo()
        return smtp

    async def _send(
        self, smtp: aiosmtplib.SMTP | None, job: _Job
    ) -> tuple[aiosmtplib.SMTP | None, _Result]:
        """Send one job; return the connection to reuse (``None`` if it broke) and the result."""
        for retry in (False, True):
            reused = smtp is not None
            try:
                if smtp is None:
                    smtp = await self._connect()
                await smtp.sendmail(
                    job.sender, [job.recipient], job.data, mail_options=_mail_options(job, smtp)
                )
                return smtp, _Result(job)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                refused = exc.recipients[0]
                return smtp, _Result(
                    job, f"{refused.code} {refused.message}", permanent=refused.code >= 500
                )
            except aiosmtplib.SMTPResponseException as exc:
                # 421 (the server is closing) or a refusal at the greeting: start afresh next time.
                if exc.code == 421 or isinstance(exc, aiosmtplib.SMTPConnectResponseError):
                    await _close(smtp)
                    smtp = None
                return smtp, _Result(job, f"{exc.code} {exc.message}", permanent=exc.code >= 500)
            except (aiosmtplib.SMTPNotSupported, ValueError) as exc:
                # An address this MTA can never take (SMTPUTF8 needed, malformed): do not retry.
                return smtp, _Result(job, _describe(exc), permanent=True)
            except (OSError, aiosmtplib.SMTPException) as exc:
                await _close(smtp)
                smtp = None
                if reused and not retry:
                    continue  # the server closed an idle connection: once more on a fresh one
                return None, _Result(job, _describe(exc))
        raise AssertionError("unreachable")


async def _close(smtp: aiosmtplib.SMTP | None, *, polite: bool = False) -> None:
    if smtp is None:
        return
    if polite and smtp.is_connected:
        try:
            await smtp.quit()
            return
        except (OSError, aiosmtplib.SMTPException):
            pass
    smtp.close()


def _job(delivery: Delivery, data: dict[int, bytes]) -> _Job:
    raw = data.get(delivery.message_id)
    if raw is None:
        raw = data[delivery.message_id] = bytes(delivery.message.raw)
    return _Job(
        pk=delivery.pk,
        sender=envelope_sender(delivery),
        recipient=delivery.recipient,
        data=raw,
        attempts=delivery.attempts,
    )


def _deliver_smtp(jobs: list[_Job], concurrency: int) -> int:
    """Send ``jobs`` from an event loop in a helper thread; record results in this thread.

    The database work stays in the calling thread (its connection, its transaction); the sessions
    hand each result over a queue, and results that arrive together are committed together, after
    which their window slots are given back (see :class:`_SmtpSessions`).
    """
    host, _, port = settings.SMARTHOST.partition(":")
    results: queue.Queue[_Result | None] = queue.Queue()
    state: dict[str, Any] = {}

    async def main() -> None:
        state["loop"] = asyncio.get_running_loop()
        state["task"] = asyncio.current_task()
        state["sessions"] = _SmtpSessions(host, int(port or 25), concurrency, results.put)
        await state["sessions"].run(jobs)

    def run() -> None:
        try:
            asyncio.run(main())
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
            state["error"] = exc
        finally:
            results.put(None)

    thread = threading.Thread(target=run, name="outbox-smtp", daemon=True)
    thread.start()
    sent = 0
    finished = False
    try:
        while not finished:
            batch = []
            item = results.get()
            while item is not None:
                batch.append(item)
                try:
                    item = results.get_nowait()
                except queue.Empty:
                    break
            finished = item is None
            if batch:
                sent += _record(batch)
                _call_in_loop(state, state["sessions"].release, len(batch))
    except BaseException:
        if "task" in state:
            _call_in_loop(state, state["task"].cancel)
        raise
    finally:
        thread.join(SMTP_TIMEOUT * 3)
    if "error" in state:
        raise state["error"]
    return sent


def _call_in_loop(state: dict[str, Any], fn: Callable[..., object], *args: object) -> None:
    try:
        state["loop"].call_soon_threadsafe(fn, *args)
    except RuntimeError:
        pass  # the loop has finished: every session is done, nobody waits for this any more


def _record(results: Sequence[_Result]) -> int:
    """Commit a group of results; return how many were accepted by the MTA."""
    sent = [r.job.pk for r in results if not r.error]
    with transaction.atomic():
        if sent:
            Delivery.objects.filter(pk__in=sent).update(
                status=Delivery.Status.SENT,
                sent_at=timezone.now(),
                attempts=F("attempts") + 1,
                last_error="",
            )
        for result in results:
            if result.error:
                _failed(
                    result.job.pk,
                    result.job.attempts,
                    result.error,
                    result.job.recipient,
                    permanent=result.permanent,
                )
    return len(sent)


def _write_to_sink(job: _Job) -> None:
    sink = Path(settings.MAIL_SINK_DIR)
    sink.mkdir(parents=True, exist_ok=True)
    prefix = f"Return-Path: <{job.sender}>\r\nDelivered-To: {job.recipient}\r\n".encode()
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
    tmp = sink / f".{job.pk}.tmp"
    tmp.write_bytes(prefix + job.data)
    tmp.rename(sink / f"{stamp}-{job.pk:08d}.eml")


def deliver_due(limit: int = 200, *, concurrency: int | None = None) -> int:
    """Deliver what is due now; return how many deliveries were handed over successfully.

    ``limit`` bounds the batch claimed by this call; ``concurrency`` (default
    ``DELIVERY_CONCURRENCY``) the number of SMTP connections used in parallel.
    """
    claimed = _claim(timezone.now(), limit)
    if not claimed:
        return 0
    data: dict[int, bytes] = {}
    jobs = [_job(delivery, data) for delivery in claimed]
    if settings.SMARTHOST:
        return _deliver_smtp(jobs, concurrency or settings.DELIVERY_CONCURRENCY)
    sent = 0
    for job in jobs:
        try:
            _write_to_sink(job)
        except OSError as exc:
            sent += _record([_Result(job, _describe(exc))])
        else:
            sent += _record([_Result(job)])
    return sent


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=settings.DELIVERY_RETRY_BASE * 2**attempts)


def _failed(pk: int, attempts_before: int, error: str, recipient: str, *, permanent: bool) -> None:
    attempts = attempts_before + 1
    if permanent or attempts >= MAX_ATTEMPTS:
        status, when = Delivery.Status.FAILED, timezone.now()
    else:
        status, when = Delivery.Status.PENDING, timezone.now() + _retry_delay(attempts)
    log.warning("delivery %s to %s failed (%s): %s", pk, recipient, status, error)
    Delivery.objects.filter(pk=pk).update(
        status=status, attempts=attempts, next_attempt_at=when, last_error=error[:2000]
    )
