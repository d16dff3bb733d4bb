"""Who is signing in from where, and how long they must wait: the login rate limit.

Two brakes, so that guessing is slow and an attacker cannot lock the owner out:

* **per address** (django-axes, ``AXES_LOCKOUT_PARAMETERS = ["ip_address"]``): after
  ``TLDOPS_LOGIN_FAILURE_LIMIT`` failures from one address (one /64 for IPv6), whatever the
  account, that address is refused for ``TLDOPS_LOGIN_COOLOFF_MINUTES``. Only that address:
  the owner signing in from elsewhere is not affected.
* **per account** (:func:`account_wait`): once an account has had that many failures from any
  addresses within the cool-off, each further try must wait 2, 4, 8 … seconds (at most
  ``TLDOPS_LOGIN_MAX_DELAY_SECONDS``) after the last failure. Tries that come too early are
  answered "wait" without checking the password, so guessing from many addresses is slowed to one
  try per delay; nothing is locked. An account with a TOTP device is checked anyway: the right
  password *and* code let its owner in at once, from any address not locked itself.

The client's address is the TCP peer's, unless that peer is one of ``TLDOPS_TRUSTED_PROXIES``:
then it is read from ``X-Forwarded-For``, from the right, skipping the trusted proxies, so a
client cannot choose its address by sending the header itself (:func:`client_address`).
"""

from __future__ import annotations

import ipaddress
import math
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Max, Sum
from django.http import HttpRequest
from django.utils import timezone

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=4)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"TLDOPS_TRUSTED_PROXIES: {entry!r} is not an IP address or network; list the "
                "addresses of your reverse proxies, e.g. 127.0.0.1,::1 or 10.0.0.0/8"
            ) from None
    return tuple(networks)


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def client_address(request: HttpRequest) -> str:
    """The client's IP address: ``REMOTE_ADDR``, or, when that is a trusted proxy, the rightmost
    address of ``X-Forwarded-For`` that is not a trusted proxy. Entries left of it were written by
    the client or by proxies we do not know, and prove nothing."""
    peer = _parse(request.META.get("REMOTE_ADDR", "") or "")
    if peer is None:
        return request.META.get("REMOTE_ADDR", "") or ""
    trusted = _networks(tuple(settings.TRUSTED_PROXIES))
    if not trusted or not any(peer in net for net in trusted):
        return str(peer)
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    address = peer
    for hop in reversed(hops):
        parsed = _parse(hop)
        if parsed is None:  # garbage where an address should be: the last good hop it is
            break
        address = parsed
        if not any(parsed in net for net in trusted):
            break
    return str(address)


def lockout_address(request: HttpRequest) -> str:
    """The address the per-address lock counts (``AXES_CLIENT_IP_CALLABLE``): the client's, or
    for IPv6 its /64, which one subscriber usually holds whole."""
    text = client_address(request)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return text


def account_wait(username: str) -> int:
    """Seconds the account ``username`` must still wait before a password is checked again: 0
    until it has had ``AXES_FAILURE_LIMIT`` failures within the cool-off, then 2ⁿ seconds after
    the last failure (n failures beyond the limit, at most ``LOGIN_MAX_DELAY``)."""
    if not settings.AXES_ENABLED or not username:
        return 0
    from axes.models import AccessAttempt

    now = timezone.now()
    recent = AccessAttempt.objects.filter(
        username=username,
        attempt_time__gte=now - timezone.timedelta(hours=settings.AXES_COOLOFF_TIME),
    ).aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    failures, last = recent["failures"] or 0, recent["last"]
    limit = settings.AXES_FAILURE_LIMIT
    if failures < limit or last is None:
        return 0
    delay = min(2 ** min(failures - limit + 1, 30), settings.LOGIN_MAX_DELAY)
    remaining = (last + timezone.timedelta(seconds=delay) - now).total_seconds()
    return max(0, math.ceil(remaining))


def forgive(request: HttpRequest, username: str) -> None:
    """After a successful sign-in, forget this person's own failures from this address (not the
    other accounts' failures from it: signing in to one's own account must not reset the address
    count of someone guessing others' passwords)."""
    if not settings.AXES_ENABLED:
        return
    from axes.models import AccessAttempt

    AccessAttempt.objects.filter(username=username, ip_address=lockout_address(request)).delete()
