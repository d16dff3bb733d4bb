"""VERP: one envelope sender per recipient, so a bounce names the delivery it belongs to.

``tld-ops-bounces+<delivery id>-<mac>@domain``: the id finds the :class:`Delivery` (and so the
recipient and the post), the short HMAC keeps strangers from forging bounces against a member.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings

MAC_LENGTH = 10


def _mac(delivery_id: int) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"verp:{delivery_id}".encode(), hashlib.sha256).hexdigest()[:MAC_LENGTH]


def bounces_address() -> str:
    """The list's plain bounce address (``tld-ops-bounces@domain``)."""
    local, _at, domain = settings.LIST_ADDRESS.rpartition("@")
    return f"{local}-bounces@{domain}"


def encode(delivery_id: int) -> str:
    """The envelope sender for one delivery."""
    local, _at, domain = bounces_address().rpartition("@")
    return f"{local}+{delivery_id}-{_mac(delivery_id)}@{domain}"


def decode(address: str) -> int | None:
    """The delivery id a VERP address names, or ``None`` if it is not one of ours or is forged."""
    local, _at, _domain = address.strip().strip("<>").rpartition("@")
    match = re.fullmatch(r".+-bounces\+(\d+)-([0-9a-f]+)", local, re.IGNORECASE)
    if not match:
        return None
    delivery_id = int(match.group(1))
    if not hmac.compare_digest(_mac(delivery_id), match.group(2).lower()):
        return None
    return delivery_id
