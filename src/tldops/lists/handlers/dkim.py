"""DKIM-sign the list's copy (dkimpy), when ``DKIM_SELECTOR`` and ``DKIM_KEY_FILE`` are set.

The last handler: it signs the message exactly as the members receive it (every copy carries the
same bytes; the VERP envelope sender is not part of the message). The signing domain (``d=``) is
``DKIM_DOMAIN``, or the domain of ``LIST_ADDRESS``; the public key must be published as a TXT record
at ``<selector>._domainkey.<domain>``. Canonicalisation is relaxed/relaxed, so a relay that re-folds
headers or trims trailing spaces does not break the signature; the headers signed are dkimpy's
recommended set (From, To, Cc, Subject, Date, Message-ID, Reply-To, MIME and List-* headers…),
with From signed twice so no second From can be added.

When the key cannot be read or used, the error is logged and the copy goes out unsigned: signing is
an improvement of deliverability, never a reason to stop a post.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from pathlib import Path

import dkim
from django.conf import settings

from tldops.lists.handlers.context import HandlerContext

log = logging.getLogger(__name__)


def signing_domain(list_address: str) -> str:
    return (settings.DKIM_DOMAIN or list_address.rpartition("@")[2]).strip().lower()


def process(msg: EmailMessage, ctx: HandlerContext) -> None:
    selector, key_file = settings.DKIM_SELECTOR.strip(), settings.DKIM_KEY_FILE.strip()
    if not selector or not key_file:
        return
    domain = signing_domain(ctx.list_address)
    try:
        key = Path(key_file).read_bytes()
        signature = dkim.sign(
            msg.as_bytes(),
            selector.encode("ascii"),
            domain.encode("ascii"),
            key,
            canonicalize=(b"relaxed", b"relaxed"),
            linesep=b"\n",
        )
    except (OSError, dkim.DKIMException, UnicodeError, ValueError) as exc:
        log.error("DKIM signing with %s (%s) failed, sent unsigned: %s", key_file, selector, exc)
        return
    name, _colon, value = signature.decode("ascii").partition(":")
    _prepend_raw(msg, name.strip(), value.lstrip(" ").rstrip("\r\n"))


def _prepend_raw(msg: EmailMessage, name: str, value: str) -> None:
    """Put ``name: value`` first, exactly as folded by dkimpy (lines under 78 characters, which the
    email package leaves as they are), before the headers it signed."""
    headers = list(msg.raw_items())
    for header in {n.lower() for n, _v in headers}:
        del msg[header]
    msg.set_raw(name, value)
    for header, header_value in headers:
        msg.set_raw(header, header_value)
