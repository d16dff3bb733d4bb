"""VERP: one envelope sender per recipient, so a bounce names the delivery it belongs to.

``tld-ops-bounces+<delivery id>-<day>-<mac>@domain``: the id finds the :class:`Delivery` (and so
the recipient and the post); ``day`` is the day the address was made (days since 1970-01-01,
UTC: the day the copy was handed over); the short HMAC over both keeps strangers from forging
bounces against a member. A token older than ``VERP_MAX_AGE_DAYS`` (30 by default; remote MTAs
give up retrying after about 5 days) is refused by :func:`check`, so someone who once saw a copy's
envelope sender (a forwarded message's ``Return-Path``) cannot keep sending bounces for that
member for ever.

Addresses of the old form ``+<delivery id>-<mac>`` (no day) were made before this was added;
:func:`check` reports them as :data:`LEGACY` when their MAC is right, and the bounce handler
counts them only while the delivery they name was handed over less than ``VERP_MAX_AGE_DAYS``
ago (its ``sent_at`` in the database), so the mail in flight at an upgrade keeps its bounces and
an old address stops working like a new one. Once every pre-upgrade delivery is older than that,
the legacy form is never accepted again and its branch can go.

Cost: :func:`encode` runs once per recipient in the fan-out. The HMAC's keyed state is made once
(per secret key) and copied for each address, and the day is one integer division, so it costs
no more than the id-only MAC did.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings

MAC_LENGTH = 10
SECONDS_PER_DAY = 86400
#: A token dated up to this many days ahead of our clock is accepted (clocks of two hosts).
FUTURE_DAYS = 1

#: What :func:`check` found.
VALID = "valid"
LEGACY = "legacy"  # old form without a day, MAC right: the caller checks the delivery's age
EXPIRED = "expired"  # MAC right, day older than VERP_MAX_AGE_DAYS (or too far ahead)
FORGED = "forged"  # looks like a VERP token, MAC wrong
NONE = "none"  # not a VERP address (the plain bounce address, or none of ours)

_TOKEN = re.compile(r".+-bounces\+(\d+)-(?:(\d+)-)?([0-9a-f]+)", re.IGNORECASE)
_keyed: tuple[str, hmac.HMAC] | None = None


def _hmac() -> hmac.HMAC:
    """A fresh HMAC keyed with the secret key: the keyed state is computed once and copied."""
    global _keyed
    key = settings.SECRET_KEY
    if _keyed is None or _keyed[0] != key:
        _keyed = (key, hmac.new(key.encode(), digestmod=hashlib.sha256))
    return _keyed[1].copy()


def _mac(delivery_id: int, day: int | None) -> str:
    mac = _hmac()
    mac.update(
        f"verp:{delivery_id}".encode() if day is None else f"verp:{delivery_id}:{day}".encode()
    )
    return mac.hexdigest()[:MAC_LENGTH]


def today(now: datetime | None = None) -> int:
    """The day number (days since 1970-01-01, UTC) of ``now`` (default: the clock)."""
    seconds = time.time() if now is None else now.timestamp()
    return int(seconds) // SECONDS_PER_DAY


def day_date(day: int) -> date:
    """The calendar date (UTC) of a day number."""
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=day)).date()


def bounces_address() -> str:
    """The list's plain bounce address (``tld-ops-bounces@domain``)."""
    local, _at, domain = settings.LIST_ADDRESS.rpartition("@")
    return f"{local}-bounces@{domain}"


def encode(delivery_id: int, *, now: datetime | None = None) -> str:
    """The envelope sender for one delivery handed over ``now`` (default: the clock)."""
    local, _at, domain = bounces_address().rpartition("@")
    day = today(now)
    return f"{local}+{delivery_id}-{day}-{_mac(delivery_id, day)}@{domain}"


@dataclass(frozen=True)
class Token:
    """What a bounce's recipient address says: the delivery it names (``None`` if not one of
    ours), the day it was made (``None`` for the legacy form) and what :func:`check` found."""

    state: str
    delivery_id: int | None = None
    day: int | None = None


def check(address: str, *, now: datetime | None = None) -> Token:
    """Read a VERP address: :data:`VALID` (MAC right, at most ``VERP_MAX_AGE_DAYS`` old),
    :data:`EXPIRED`, :data:`FORGED`, :data:`LEGACY` (old form, MAC right) or :data:`NONE`.

    Only a valid token (or a legacy one the caller has checked) may count against anybody."""
    local, _at, _domain = address.strip().strip("<>").rpartition("@")
    match = _TOKEN.fullmatch(local)
    if not match:
        return Token(NONE)
    delivery_id = int(match.group(1))
    day = int(match.group(2)) if match.group(2) is not None else None
    if not hmac.compare_digest(_mac(delivery_id, day), match.group(3).lower()):
        return Token(FORGED, delivery_id, day)
    if day is None:
        return Token(LEGACY, delivery_id)
    current = today(now)
    if current - day > settings.VERP_MAX_AGE_DAYS or day > current + FUTURE_DAYS:
        return Token(EXPIRED, delivery_id, day)
    return Token(VALID, delivery_id, day)


def decode(address: str, *, now: datetime | None = None) -> int | None:
    """The delivery id a valid VERP address names; ``None`` if it is not one of ours, forged,
    expired or of the legacy form (see :func:`check` for which)."""
    token = check(address, now=now)
    return token.delivery_id if token.state == VALID else None
