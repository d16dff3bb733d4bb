"""The durable outbox: services enqueue mail inside their transaction; workers deliver it later.

Enqueueing in the caller's transaction means a rolled-back action sends nothing and a committed one
is never forgotten. :func:`deliver_due` is idempotent and safe to run from several processes:

- **Claim.** A batch of due deliveries is claimed by one conditional update that pushes their next
  attempt ``DELIVERY_LEASE`` seconds forward (the lease), so a parallel worker skips them. A worker
  killed after claiming leaves them leased; the next round after the lease delivers them.
- **Send.** With a smarthost, a :class:`Deliverer` runs ``DELIVERY_CONCURRENCY`` asyncio sessions,
  each holding one SMTP connection (:mod:`tldops.mail.smtpclient`, pipelined when the MTA offers
  PIPELINING) and reusing it for delivery after delivery, batch after batch; a running worker
  keeps its Deliverer, so connections outlive a call. Each message is escaped for DATA once and
  shared by its copies; list posts get their per-recipient VERP envelope sender
  (:func:`envelope_sender`). Without a smarthost, each copy is written to the sink folder.
- **Record.** 2xx: sent. 5xx (or an address that can never be sent): failed for good. 4xx and
  connection errors: retried after ``DELIVERY_RETRY_BASE * 2**attempts`` seconds, at most
  ``MAX_ATTEMPTS`` times. Results are committed in groups as they come; at most
  :func:`in_flight_limit` (twice ``DELIVERY_CONCURRENCY``) copies are ever sent but not yet
  recorded, so that is the most a crash can make the next worker send twice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import email.policy
import logging
import queue
import random
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr
from pathlib import Path

import aiosmtplib
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from tldops.kernel import audit
from tldops.kernel.errors import InvalidInput, NotAuthorised, NotFound
from tldops.mail import smtpclient
from tldops.mail.headers import MAX_REFERENCES, message_ids, one_address, one_line
from tldops.mail.models import Delivery, OutboundMessage
from tldops.mail.verp import encode

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SMTP_TIMEOUT = 60.0  # seconds for one SMTP command or the connection
SUBJECT_LIMIT = 250  # characters of a subject we write


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
    """A plain-text UTF-8 message with a fresh Message-ID.

    Each item of ``to`` and ``cc`` is one recipient (:class:`ValueError` if it reads as several),
    and every header value is written on one line (:func:`~tldops.mail.headers.one_line`), of
    In-Reply-To and References only their ``<…>`` identifiers: a subject, name or Message-ID
    taken from a received mail can neither break the message nor add a header."""
    msg = EmailMessage()
    msg["From"] = from_addr or settings.DEFAULT_FROM_EMAIL
    msg["To"] = _mailboxes(to) or ""
    if cc:
        msg["Cc"] = _mailboxes(cc)
    if reply_to:
        msg["Reply-To"] = _mailboxes([reply_to])
    msg["Subject"] = one_line(subject, SUBJECT_LIMIT)
    msg["Date"] = timezone.now().strftime("%a, %d %b %Y %H:%M:%S +0000")
    msg["Message-ID"] = make_msgid(domain=settings.MAIL_DOMAIN)
    msg["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        threading_ids = name.lower() in ("in-reply-to", "references")
        if text := one_line(" ".join(message_ids(value)) if threading_ids else value, 998):
            msg[name] = text
    msg.set_content(body)
    return msg


def _mailboxes(values: Sequence[str]) -> list[Address]:
    """Each of ``values`` (``a@b``, ``Name <a@b>``, ``"x,y@z"@b``) parsed as exactly one mailbox,
    so that a recipient given as one is never several once in a header."""
    mailboxes = []
    for value in values:
        found = email.policy.default.header_factory("To", value).addresses
        if len(found) != 1:
            raise ValueError(f"not one address: {value!r}")
        mailboxes.append(found[0])
    return mailboxes


def enqueue(
    msg: EmailMessage,
    *,
    purpose: str,
    recipients: Iterable[str] | None = None,
    verp: bool = False,
    shown_subject: str | None = None,
) -> OutboundMessage:
    """Store ``msg`` with one pending delivery per recipient (default: the addresses of its To
    and Cc fields, parsed as addresses: a quoted local part with commas stays one). ``verp``:
    each copy gets its own envelope sender, so a bounce names who could not be reached.
    ``shown_subject``: what the outbox's own pages and commands show instead of the subject
    (staff read them; a TLP:RED alert's title is not theirs to read)."""
    if recipients is None:
        recipients = [
            a.addr_spec for h in ("To", "Cc") for v in msg.get_all(h, []) for a in v.addresses
        ]
    unique = list(dict.fromkeys(r.strip() for r in recipients if r and r.strip()))
    now = timezone.now()
    out = OutboundMessage.objects.create(
        purpose=purpose,
        subject=(shown_subject if shown_subject is not None else str(msg["Subject"] or ""))[:300],
        envelope_from=parseaddr(str(msg["From"]))[1],
        raw=msg.as_bytes(),
        verp=verp,
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
    shown_subject: str | None = None,
) -> OutboundMessage:
    """Render ``template`` (a plain-text template) and enqueue it (``shown_subject``:
    :func:`enqueue`)."""
    body = render_to_string(template, {"base_url": settings.BASE_URL, **context})
    msg = build_message(
        subject=subject, body=body, to=to, cc=cc, reply_to=reply_to, headers=headers
    )
    return enqueue(msg, purpose=purpose, shown_subject=shown_subject)


def answer(
    original: EmailMessage,
    to: str,
    template: str,
    context: dict[str, object],
    *,
    purpose: str,
    limit: int,
    default_subject: str = "TLD-OPS",
    cc: Sequence[str] = (),
    reply_to: str | None = None,
    shown_subject: str | None = None,
) -> str:
    """Answer a mail a door received: ``Re:`` its subject, thread it (In-Reply-To, References),
    queue ``template`` to ``to`` in the site language. Returns a note for the inbound message's
    result.

    ``to`` is the one address the door read the mail as coming from (its author); it is answered
    alone, never the mail's To or Cc, and not at all unless it is exactly one address
    (:func:`~tldops.mail.headers.one_address`). At most ``limit`` answers with this ``purpose``
    go to one address an hour, counted by that normalised address, so an auto-responder that
    does not say so (Auto-Submitted) cannot make us loop and nobody can make us write to an
    address more often. What is copied from the mail (subject, message identifiers) is copied on
    one line."""
    address = one_address(to)
    if not address:
        return f"no reply: {one_line(to, 80)!r} is not one address"
    since = timezone.now() - timedelta(hours=1)
    recent = Delivery.objects.filter(
        message__purpose=purpose, recipient__iexact=address, message__created_at__gte=since
    ).count()
    if recent >= limit:
        return f"no reply: {limit} replies to {address} within the hour"
    subject = one_line(original.get("Subject", ""), SUBJECT_LIMIT) or default_subject
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    headers = {}
    if ids := message_ids(original.get("Message-ID", ""))[:1]:
        chain = message_ids(original.get("References", "")) + ids
        if len(chain) > MAX_REFERENCES:
            chain = chain[:1] + chain[-(MAX_REFERENCES - 1) :]
        headers["In-Reply-To"] = ids[0]
        headers["References"] = " ".join(chain)
    copies = [c for c in dict.fromkeys(one_address(c) for c in cc) if c and c != address]
    with mail_language():
        send_template(
            template,
            context,
            subject=subject,
            to=[address],
            cc=copies,
            reply_to=reply_to,
            purpose=purpose,
            headers=headers,
            shown_subject=shown_subject,
        )
    return f"replied to {address}"


def mail_language() -> translation.override:
    """Mail is written in the site's language (English), never in the language of whoever
    triggered it: a secretariat member using the French portal must not send an invitation in
    French to an admin contact who reads English. Use as ``with`` or as a decorator around the
    code that builds a mail's subject and body."""
    return translation.override(settings.LANGUAGE_CODE)


def format_address(name: str, address: str) -> str:
    """``Name <address>`` for a header; the name (often taken from a received From) on one line."""
    return formataddr((one_line(name), address))


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


def has_due(now: timezone.datetime) -> bool:
    """Whether any delivery is due: one indexed query, written by hand because a worker asks
    every ``DELIVERY_POLL`` seconds and the ORM's query compilation would cost more than it."""
    table = connection.ops.quote_name(Delivery._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE status = %s AND next_attempt_at <= %s LIMIT 1",  # noqa: S608 - the table name is ours
            [Delivery.Status.PENDING.value, connection.ops.adapt_datetimefield_value(now)],
        )
        return cursor.fetchone() is not None


def envelope_sender(delivery: Delivery) -> str:
    """The envelope sender of one delivery: per-recipient VERP for list posts."""
    if delivery.message.verp:
        return encode(delivery.pk)
    return delivery.message.envelope_from


@dataclass(frozen=True)
class _Job:
    """What a session needs to send one delivery (no database access in the event loop)."""

    pk: int
    sender: str
    recipient: str
    data: bytes  # SMTP: the wire form shared by every copy of the message; sink: the raw bytes
    attempts: int
    eight_bit: bool = False


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


def in_flight_limit(concurrency: int) -> int:
    """The most deliveries that can be sent but not yet recorded at any moment: what a crash can
    send twice. Each session may start its next copy while the previous result is being committed.
    """
    return 2 * max(1, concurrency)


KEEP_IDLE = 10.0  # seconds an unused SMTP connection is kept open for the next deliveries
ROUND_SECONDS = 10.0  # one deliver_due call stops claiming more after this long


class _Run:
    """One :meth:`Deliverer.deliver_due` call on the event loop's side: ``concurrency`` sessions
    take jobs from a queue the calling thread feeds, and end when it sends :meth:`finish`."""

    def __init__(self, deliverer: Deliverer, concurrency: int) -> None:
        self.deliverer = deliverer
        self.todo: asyncio.Queue[_Job | None] = asyncio.Queue()
        self.sessions = concurrency
        # Each call has its own results queue and window: nothing of a call that ended with an
        # error (results never recorded, slots never given back) reaches the next one.
        self.results: queue.Queue[_Result | None] = queue.Queue()
        self.window: asyncio.Semaphore | None = None

    def feed(self, jobs: Sequence[_Job]) -> None:
        for job in jobs:
            self.todo.put_nowait(job)

    def finish(self) -> None:
        for _ in range(self.sessions):
            self.todo.put_nowait(None)

    def release(self, n: int) -> None:
        for _ in range(n):
            self.window.release()  # type: ignore[union-attr]

    async def main(self) -> None:
        self.window = asyncio.Semaphore(in_flight_limit(self.deliverer.concurrency))
        await asyncio.gather(*(self._session() for _ in range(self.sessions)))

    async def _session(self) -> None:
        d = self.deliverer
        conn: smtpclient.Connection | None = None
        try:
            while (job := await self.todo.get()) is not None:
                if conn is None:
                    conn = d.pooled()
                await self.window.acquire()  # type: ignore[union-attr]
                conn, result = await d.send(conn, job)
                self.results.put(result)
        except BaseException:
            if conn is not None:
                conn.abort()
                conn = None
            raise
        finally:
            if conn is not None:
                d.pool.append(conn)


class Deliverer:
    """Delivers the outbox through the smarthost; long-lived, so that its SMTP connections and
    its event loop serve round after round (the worker keeps one; :func:`deliver_due` makes one
    for a single call).

    The event loop runs in a helper thread and only talks SMTP; the database work (claims,
    results) stays in the calling thread, with its connection and transactions. Sessions hand
    each result over a queue, and results that arrive together are committed together, after
    which their window slots are given back: at most :func:`in_flight_limit` copies are ever
    sent but not yet recorded, whatever the number of batches. The next batch is claimed while
    the current one is still being sent, so the sessions never wait for the database.
    """

    def __init__(self, concurrency: int | None = None) -> None:
        self.concurrency = max(1, concurrency or settings.DELIVERY_CONCURRENCY)
        host, _, port = settings.SMARTHOST.partition(":")
        self.host, self.port = host, int(port or 25)
        self.pool: list[smtpclient.Connection] = []  # idle connections, kept for KEEP_IDLE
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # --- the event loop's side -------------------------------------------------------------

    def _start(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            self._thread = threading.Thread(target=run, name="outbox-smtp", daemon=True)
            self._thread.start()
            ready.wait()
            self._loop = loop
        return self._loop

    def pooled(self) -> smtpclient.Connection | None:
        """An idle connection to reuse, if one is still fresh; stale ones are closed."""
        now = asyncio.get_running_loop().time()
        while self.pool:
            conn = self.pool.pop()
            if conn.is_connected and now - conn.last_used < KEEP_IDLE:
                return conn
            asyncio.ensure_future(conn.quit())
        return None

    async def _close_idle(self, everything: bool = False) -> None:
        now = asyncio.get_running_loop().time()
        keep = [c for c in self.pool if not everything and now - c.last_used < KEEP_IDLE]
        stale = [c for c in self.pool if c not in keep]
        self.pool[:] = keep
        await asyncio.gather(*(c.quit() for c in stale))

    async def _connect(self) -> smtpclient.Connection:
        return await smtpclient.Connection.open(
            self.host, self.port, local_hostname=settings.MAIL_DOMAIN, timeout=SMTP_TIMEOUT
        )

    async def send(
        self, conn: smtpclient.Connection | None, job: _Job
    ) -> tuple[smtpclient.Connection | None, _Result]:
        """Send one job; return the connection to reuse (``None`` if it broke) and the result."""
        for retry in (False, True):
            reused = conn is not None
            try:
                if conn is None:
                    conn = await self._connect()
                reply = await conn.send(
                    job.sender, job.recipient, job.data, eight_bit=job.eight_bit
                )
            except aiosmtplib.SMTPResponseException as exc:
                # A refusal at the greeting or EHLO: start afresh next time.
                if conn is not None:
                    conn.abort()
                return None, _Result(job, f"{exc.code} {exc.message}", permanent=exc.code >= 500)
            except (aiosmtplib.SMTPNotSupported, ValueError) as exc:
                # An address this MTA can never take (SMTPUTF8 needed, malformed): do not retry.
                return conn, _Result(job, _describe(exc), permanent=True)
            except (OSError, aiosmtplib.SMTPException) as exc:
                if conn is not None:
                    conn.abort()
                conn = None
                if reused and not retry:
                    continue  # the server closed an idle connection: once more on a fresh one
                return None, _Result(job, _describe(exc))
            if reply.code == 250:
                return conn, _Result(job)
            if reply.code == 421:  # the server is closing the connection
                conn.abort()
                conn = None
            return conn, _Result(job, str(reply), permanent=reply.code >= 500)
        raise AssertionError("unreachable")

    # --- the calling thread's side ---------------------------------------------------------

    def deliver_due(self, limit: int = 200, *, stop: threading.Event | None = None) -> int:
        """Deliver what is due now, ``limit`` deliveries a claim, claiming again while there is
        more (for at most ``ROUND_SECONDS``, and not once ``stop`` is set); return how many the
        MTA accepted."""
        now = timezone.now()
        claimed = _claim(now, limit) if has_due(now) else []
        if not claimed:
            if self.pool and self._loop is not None:
                asyncio.run_coroutine_threadsafe(self._close_idle(), self._loop).result()
            return 0
        if not settings.SMARTHOST:
            return _deliver_to_sink(_jobs(claimed, smtp=False))
        loop = self._start()
        run = _Run(
            self, min(self.concurrency, len(claimed)) if len(claimed) < limit else self.concurrency
        )
        future = asyncio.run_coroutine_threadsafe(run.main(), loop)
        results = run.results
        future.add_done_callback(lambda _f: results.put(None))
        outstanding = len(claimed)
        loop.call_soon_threadsafe(run.feed, _jobs(claimed, smtp=True))
        more = len(claimed) == limit
        stop_claiming = time.monotonic() + ROUND_SECONDS
        if not more:
            loop.call_soon_threadsafe(run.finish)
        sent = 0
        try:
            while True:
                item = results.get()
                batch = []
                while item is not None:
                    batch.append(item)
                    try:
                        item = results.get_nowait()
                    except queue.Empty:
                        break
                if batch:
                    sent += _record(batch)
                    loop.call_soon_threadsafe(run.release, len(batch))
                    outstanding -= len(batch)
                if item is None:
                    break  # every session has ended
                if more and outstanding <= limit // 2:
                    # Claim the next batch while the sessions still have half of this one.
                    claimed = (
                        _claim(timezone.now(), limit)
                        if time.monotonic() < stop_claiming and not (stop and stop.is_set())
                        else []
                    )
                    if claimed:
                        outstanding += len(claimed)
                        loop.call_soon_threadsafe(run.feed, _jobs(claimed, smtp=True))
                    more = len(claimed) == limit
                    if not more:
                        loop.call_soon_threadsafe(run.finish)
        except BaseException:
            future.cancel()
            raise
        finally:
            # Let cancelled sessions finish (their unrecorded copies stay leased: sent again
            # after the lease, at most the window's worth).
            with contextlib.suppress(concurrent.futures.CancelledError, Exception):
                future.result(SMTP_TIMEOUT * 3)
        if future.exception() is not None:
            raise future.exception()  # type: ignore[misc]
        return sent

    def close(self) -> None:
        """Close the idle connections politely and stop the event loop."""
        loop, self._loop = self._loop, None
        if loop is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._close_idle(everything=True), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        if not loop.is_running():
            loop.close()


def _jobs(claimed: Sequence[Delivery], *, smtp: bool) -> list[_Job]:
    """The jobs for ``claimed``; each message is encoded once however many copies it has."""
    data: dict[int, tuple[bytes, bool]] = {}
    jobs = []
    for delivery in claimed:
        encoded = data.get(delivery.message_id)
        if encoded is None:
            raw = bytes(delivery.message.raw)
            encoded = data[delivery.message_id] = (
                smtpclient.wire(raw) if smtp else raw,
                not raw.isascii(),
            )
        jobs.append(
            _Job(
                pk=delivery.pk,
                sender=envelope_sender(delivery),
                recipient=delivery.recipient,
                data=encoded[0],
                attempts=delivery.attempts,
                eight_bit=encoded[1],
            )
        )
    return jobs


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


def _deliver_to_sink(jobs: Sequence[_Job]) -> int:
    sent = 0
    for job in jobs:
        try:
            _write_to_sink(job)
        except OSError as exc:
            sent += _record([_Result(job, _describe(exc))])
        else:
            sent += _record([_Result(job)])
    return sent


def deliver_due(limit: int = 200, *, concurrency: int | None = None) -> int:
    """Deliver what is due now; return how many deliveries were handed over successfully.

    ``limit`` bounds each batch claimed; ``concurrency`` (default ``DELIVERY_CONCURRENCY``) the
    number of SMTP connections used in parallel. The connections are closed before it returns:
    a long-running process keeps a :class:`Deliverer` instead.
    """
    deliverer = Deliverer(concurrency)
    try:
        return deliverer.deliver_due(limit)
    finally:
        deliverer.close()


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


# --- Failed deliveries, sent again on staff's word ------------------------------------------------

#: Deliveries one retry may name; ``all_failed`` re-queues any number in one update.
RETRY_IDS_MAX = 1000
_STAFF_ROLES = ("secretariat", "committee")  # the directory's Role values; the mail core names them


def retry_failed(
    *, actor: audit.Actor, ids: Sequence[int] = (), all_failed: bool = False
) -> list[int]:
    """Queue failed deliveries again, as new: ``ids``, or every failed one with ``all_failed``.

    A delivery fails for good after a permanent refusal or ``MAX_ATTEMPTS`` tries; once the
    cause is fixed (a full mailbox emptied, a smarthost's block lifted, a typo in an address
    corrected elsewhere), staff send it again from here rather than re-doing the action that
    queued it. Only failed deliveries are touched; the attempts start from zero; the last error
    stays until the next try replaces it. Audited; returns the ids re-queued.
    Staff only (the secretariat and the committee); the command line and the system may too.
    """
    if actor.door not in ("cli", "system") and actor.role not in _STAFF_ROLES:
        raise NotAuthorised(gettext("Only the secretariat and the standing committee may do this."))
    wanted = list(dict.fromkeys(int(i) for i in ids))
    if all_failed == bool(wanted):
        raise InvalidInput(
            gettext(
                "Name the deliveries to send again, or ask for every failed one (and not both)."
            ),
            field="ids",
        )
    if len(wanted) > RETRY_IDS_MAX:
        raise InvalidInput(
            gettext("At most %(n)d deliveries at a time; ask for every failed one instead.")
            % {"n": RETRY_IDS_MAX},
            field="ids",
        )
    with transaction.atomic():
        failed = Delivery.objects.select_for_update().filter(status=Delivery.Status.FAILED)
        if wanted:
            failed = failed.filter(pk__in=wanted)
        chosen = list(failed.order_by("id").values_list("id", flat=True))
        if not chosen:
            raise NotFound(
                gettext("None of these deliveries has failed: nothing to send again.")
                if wanted
                else gettext("No delivery has failed: nothing to send again.")
            )
        Delivery.objects.filter(pk__in=chosen).update(
            status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        audit.record(
            actor,
            "mail-retry",
            f"{len(chosen)} failed deliveries queued again",
            before={"status": Delivery.Status.FAILED},
            after={"status": Delivery.Status.PENDING, "count": len(chosen), "ids": chosen[:100]},
        )
    return chosen
