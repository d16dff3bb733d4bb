"""DMARC mitigation: post as the list when the author's domain would have the copies rejected.

A list changes the subject and body, so the author's DKIM signature breaks, and it sends from its
own servers, so SPF does not align with the author's domain. When that domain publishes
``p=quarantine`` or ``p=reject`` (RFC 7489), receivers would bin or bounce the members' copies. So
the copy's From becomes the list's address with the author's name, ``"Ana Silva via TLD-OPS"
<tld-ops@…>``, and the author stays reachable: in Reply-To (policies ``none`` and ``author``; an
existing Reply-To of the author's is kept), or in Cc when replies go to the list (``list``).

A moderator can set a :class:`~tldops.lists.models.SenderOverride` per address: ``always``
rewrite (a domain that breaks in ways DNS does not show), ``never`` rewrite, or ``auto`` (by the
published policy). When the DNS cannot answer, the From is rewritten: a rewritten copy is always
delivered, a copy that should have been rewritten may not be.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import getaddresses

from django.conf import settings

from tldops.lists.handlers.context import HandlerContext
from tldops.lists.models import SenderOverride
from tldops.mail import dns
from tldops.mail.outbox import format_address

log = logging.getLogger(__name__)

#: The policies whose mail receivers quarantine or reject when it does not align.
STRICT = ("quarantine", "reject")


def needs_rewrite(address: str) -> bool:
    """Whether the list must post ``address``'s mail under its own From (override, then policy)."""
    address = address.strip().lower()
    override = SenderOverride.objects.filter(address__iexact=address).first()
    if override is not None and override.dmarc == SenderOverride.Dmarc.ALWAYS:
        return True
    if override is not None and override.dmarc == SenderOverride.Dmarc.NEVER:
        return False
    domain = address.rpartition("@")[2]
    if not domain:
        return False
    try:
        return dns.dmarc_policy(domain) in STRICT
    except dns.DnsError as exc:
        log.warning("DMARC policy of %s unknown (%s): rewriting From to be safe", domain, exc)
        return True


def process(msg: EmailMessage, ctx: HandlerContext) -> None:
    if not settings.DMARC_MITIGATION or not ctx.author:
        return
    if ctx.author.strip().lower() == ctx.list_address.strip().lower():
        return
    if not needs_rewrite(ctx.author):
        return
    author = format_address(ctx.author_name, ctx.author)
    shown = ctx.author_name or ctx.author
    del msg["From"]
    msg["From"] = format_address(f"{shown} via {ctx.list_name}", ctx.list_address)
    if ctx.reply_to_policy == "list":
        _add_cc(msg, ctx.author, author)
    elif not msg.get("Reply-To"):
        msg["Reply-To"] = author


def _add_cc(msg: EmailMessage, address: str, formatted: str) -> None:
    existing = [str(v) for v in msg.get_all("Cc", [])]
    if any(a.lower() == address.lower() for _n, a in getaddresses(existing)):
        return
    del msg["Cc"]
    msg["Cc"] = ", ".join([*existing, formatted])
