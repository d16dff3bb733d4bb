"""Mail intake: the SMTP and LMTP servers that accept mail for tldops' own addresses.

A message's life here, in order:

0. **MAIL** — a reverse-path that is not an address (RFC 5321 4.1.2: ``local@domain``, or the
   null path ``<>`` of a bounce, which is accepted) is refused with 553 5.1.7 (:func:`valid_path`).
1. **RCPT** — a forward-path that is not an address is refused with 553 5.1.3; the recipient is looked up in the routing table (:func:`routes`); an address that is
   not ours is refused with 550 and a clear text, so nothing we cannot handle is ever accepted.
   All recipients of one message must share a route (others get 452 and are retried separately).
2. **DATA** — the raw bytes are stored as an :class:`~tldops.mail.models.InboundMessage` *first*;
   only then does the server answer 250. Nothing accepted is ever lost.
3. **Processing** — the route's handler (a plain function named by a dotted path, imported when
   needed) reads the stored message and returns an :class:`Outcome`. The handler's writes, its
   replies queued in the outbox and the message's new status commit in one transaction: a crash
   leaves the message ``new``, and :func:`process_pending` (called by the worker) picks it up again.

The routing table is empty until the apps add their addresses when they start, each with its own
handler (:func:`add_route`): the directory the authorisation address, the repository the
reachability address, the mailing list its four (:func:`list_routes`: posting, ``-request``,
``-owner``, ``-bounces+token``). The intake imports none of them.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils.module_loading import import_string

from tldops.mail.headers import storable
from tldops.mail.models import InboundMessage

log = logging.getLogger(__name__)

T = TypeVar("T")

# --- Routing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a route's handler made of a message; stored on the message as its status and result."""

    status: str
    result: str

    @classmethod
    def done(cls, result: str) -> Outcome:
        return cls(InboundMessage.Status.DONE, result)

    @classmethod
    def rejected(cls, result: str) -> Outcome:
        return cls(InboundMessage.Status.REJECTED, result)


Matcher = Callable[[str], bool]


@dataclass(frozen=True)
class Route:
    """One kind of address we accept mail for.

    ``handler`` is the dotted path of a function ``(InboundMessage) -> Outcome``; it is imported
    when a message is processed, so this module depends on no app that handles mail.
    """

    name: str
    matches: Matcher
    handler: str


def normalise(address: str) -> str:
    """``<Foo@Example.ORG>`` → ``foo@example.org`` (comparisons here are case-insensitive)."""
    return address.strip().strip("<>").strip().lower()


def exact(address: str) -> Matcher:
    """Matches one address."""
    wanted = normalise(address)
    return lambda candidate: normalise(candidate) == wanted


def pattern(regex: str) -> Matcher:
    """Matches addresses that fully match ``regex`` (compared in lower case)."""
    compiled = re.compile(regex, re.IGNORECASE)
    return lambda candidate: compiled.fullmatch(normalise(candidate)) is not None


def list_routes(
    posting_address: str,
    *,
    post: str,
    request: str,
    owner: str,
    bounces: str,
    name: str | None = None,
) -> list[Route]:
    """The four routes of a mailing list at ``posting_address`` (``members@lists.example``).

    ``members@…`` posts, ``members-request@…`` commands, ``members-owner@…`` the owners and
    ``members-bounces+<token>@…`` (VERP) bounces; each value is the dotted path of its handler.
    """
    local, _at, domain = normalise(posting_address).rpartition("@")
    label = name or local
    d = re.escape(domain)
    lp = re.escape(local)
    return [
        Route(f"{label}-post", exact(posting_address), post),
        Route(f"{label}-request", exact(f"{local}-request@{domain}"), request),
        Route(f"{label}-owner", exact(f"{local}-owner@{domain}"), owner),
        Route(f"{label}-bounces", pattern(rf"{lp}-bounces(\+[^@]+)?@{d}"), bounces),
    ]


_added: dict[str, Route] = {}


def add_route(route: Route) -> None:
    """Add a route (or replace the one of the same name); the mailing list calls this at start."""
    _added[route.name] = route


def remove_route(name: str) -> None:
    _added.pop(name, None)


def setting_address(name: str) -> Matcher:
    """Matches the address a setting holds *now* (``AUTHORISE_ADDRESS``…), read on every call so a
    changed setting applies without registering the route again."""
    return lambda candidate: normalise(candidate) == normalise(getattr(settings, name))


def routes() -> list[Route]:
    """The routing table, first match wins: the routes the apps added when they started."""
    return list(_added.values())


def route_for(address: str) -> Route | None:
    return next((r for r in routes() if r.matches(address)), None)


def route_named(name: str) -> Route | None:
    return next((r for r in routes() if r.name == name), None)


# --- Storing and processing (synchronous, the ORM) -------------------------------------------------


def _refresh_connection() -> None:
    if not connection.in_atomic_block:  # never close a connection inside a transaction
        close_old_connections()


def _db_job(fn: Callable[..., T]) -> Callable[..., T]:
    """Run ``fn`` with a fresh database connection (long-lived servers must not keep a dead one)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        _refresh_connection()
        try:
            return fn(*args, **kwargs)
        finally:
            _refresh_connection()

    return wrapper


def store(
    mail_from: str,
    rcpt_tos: list[str],
    raw: bytes,
    route: str,
    *,
    peer: str = "",
    helo: str = "",
) -> int:
    """Store an accepted message, committed before the SMTP answer; returns its id.

    ``peer`` (the connecting address) and ``helo`` (its HELO/EHLO name) are kept for the SPF
    check of :mod:`tldops.mail.senderauth`.
    """
    message = InboundMessage.objects.create(
        mail_from=mail_from[:320],
        rcpt_to=list(rcpt_tos),
        raw=raw,
        route=route,
        peer=peer[:64],
        helo=helo[:255],
    )
    return message.pk


def process_message(pk: int) -> Outcome | None:
    """Process one stored message if it is still ``new``; ``None`` if someone else already did.

    The handler runs inside a savepoint: if it fails unexpectedly its writes are undone and the
    message is marked ``failed`` (it is not retried in a loop; the error is in ``result``). If the
    process dies here, the whole transaction is lost and the message stays ``new``.
    """
    with transaction.atomic():
        message = (
            InboundMessage.objects.select_for_update()
            .filter(pk=pk, status=InboundMessage.Status.NEW)
            .first()
        )
        if message is None:
            return None
        route = route_named(message.route)
        if route is None:
            outcome = Outcome.rejected(f"no handler for route {message.route!r}")
        else:
            try:
                with transaction.atomic():
                    outcome = import_string(route.handler)(message)
            except Exception as exc:  # noqa: BLE001 - one bad message must not stop the intake
                log.exception("inbound message %s (%s) failed", pk, message.route)
                outcome = Outcome(InboundMessage.Status.FAILED, f"{type(exc).__name__}: {exc}")
        InboundMessage.objects.filter(pk=pk).update(
            status=outcome.status, result=storable(outcome.result[:10000])
        )
    log.info("inbound message %s (%s): %s — %s", pk, message.route, outcome.status, outcome.result)
    return outcome


def process_pending(limit: int = 100) -> int:
    """Process messages still ``new`` (a crash between storing and processing); oldest first.

    Idempotent and safe beside the intake and other workers: each message is claimed under a row
    lock and skipped when it is no longer ``new``. Returns how many this call processed.
    """
    pks = list(
        InboundMessage.objects.filter(status=InboundMessage.Status.NEW)
        .order_by("received_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in pks if process_message(pk) is not None)


# --- Envelope addresses ----------------------------------------------------------------------------

# RFC 5321 4.1.2 (with RFC 6531's UTF-8, which the servers announce): a dot-atom or a quoted string,
# "@", and a domain of letter-digit-hyphen labels or an address literal.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]"
_DOT_ATOM = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
_QUOTED = re.compile(r'"(?:[\x20\x21\x23-\x5b\x5d-\x7e\u0080-\U0010ffff]|\\[\x20-\x7e])*"')
_LABEL = re.compile(r"(?!-)[A-Za-z0-9\-\u0080-\U0010ffff]{1,63}(?<!-)")
#: RFC 5321 4.5.3.1: a local part of at most 64 octets, a path of at most 256 (254 without "<>").
LOCAL_PART_MAX = 64
PATH_MAX = 254


def valid_path(address: str, *, null: bool = False) -> bool:
    """Whether ``address`` (as aiosmtpd read it from ``MAIL FROM:<…>`` or ``RCPT TO:<…>``) is a
    mailbox by RFC 5321's syntax; with ``null``, the null reverse-path ``<>`` of a bounce too.

    aiosmtpd accepts whatever its header parser makes of the argument (``<not an address>``
    becomes a quoted local part without a domain): storing that as a sender, and answering it,
    helps no one. The check is syntax only; whether the domain exists is senderauth's business."""
    if null and address in ("", "<>"):
        return True
    if not address or len(address.encode("utf-8", "surrogatepass")) > PATH_MAX:
        return False
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return False
    if len(local.encode("utf-8", "surrogatepass")) > LOCAL_PART_MAX:
        return False
    if not (_DOT_ATOM.fullmatch(local) or _QUOTED.fullmatch(local)):
        return False
    if domain.startswith("[") and domain.endswith("]"):
        literal = domain[1:-1]
        try:
            if literal[:5].lower() == "ipv6:":
                ipaddress.IPv6Address(literal[5:])
            else:
                ipaddress.IPv4Address(literal)
        except ValueError:
            return False
        return True
    return all(_LABEL.fullmatch(label) for label in domain.split("."))


# --- The SMTP/LMTP handler (asynchronous) ----------------------------------------------------------


class IntakeHandler:
    """The aiosmtpd handler shared by the SMTP and the LMTP server.

    With ``process_inline`` (the default) a message is processed right after the 250 answer, in
    the background; without it, the worker's :func:`process_pending` does it.
    """

    def __init__(self, *, process_inline: bool = True) -> None:
        self.process_inline = process_inline
        self._tasks: set[asyncio.Task[Any]] = set()

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if not valid_path(address, null=True):
            return (
                f"553 5.1.7 <{address[:100]}>: the sender address is not a valid address "
                "(use <> for a delivery report)"
            )
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not valid_path(address):
            return f"553 5.1.3 <{address[:100]}>: the recipient address is not a valid address"
        route = route_for(address)
        if route is None:
            return (
                f"550 5.1.1 <{address}>: no such address here; this server accepts mail only "
                "for the TLD-OPS addresses"
            )
        if envelope.rcpt_tos:
            first = route_for(envelope.rcpt_tos[0])
            if first is None or first.name != route.name:
                return "452 4.5.3 Send this recipient in a separate message"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        route = route_for(envelope.rcpt_tos[0]) if envelope.rcpt_tos else None
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        peer = session.peer[0] if isinstance(session.peer, tuple) and session.peer else ""
        try:
            pk = await sync_to_async(_db_job(store))(
                envelope.mail_from or "",
                list(envelope.rcpt_tos),
                bytes(raw),
                route.name if route else "",
                peer=str(peer),
                helo=str(session.host_name or ""),
            )
        except Exception:
            log.exception("could not store an inbound message")
            return "451 4.3.0 The message could not be stored; please try again later"
        if self.process_inline:
            task = asyncio.get_running_loop().create_task(self._process(pk))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        answer = f"250 2.0.0 Message accepted as {pk}"
        if isinstance(server, LMTP):  # LMTP answers once per recipient
            return "\r\n".join([answer] * len(envelope.rcpt_tos))
        return answer

    async def _process(self, pk: int) -> None:
        try:
            await sync_to_async(_db_job(process_message))(pk)
        except Exception:  # the worker retries: the message is still ``new``
            log.exception("processing inbound message %s failed; the worker will retry", pk)

    async def drain(self, timeout: float = 30) -> None:
        """Wait for messages being processed (at shutdown); the rest stays ``new`` for the worker."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)


def smtp_factory(handler: IntakeHandler, *, lmtp: bool = False) -> Callable[[], SMTP]:
    """A protocol factory for ``loop.create_server``: an SMTP (or LMTP) server with our limits."""
    cls = LMTP if lmtp else SMTP

    def make() -> SMTP:
        return cls(
            handler,
            data_size_limit=settings.MAX_MESSAGE_SIZE,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=settings.MAIL_DOMAIN,
            ident="tldops",
        )

    return make
