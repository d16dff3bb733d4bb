"""Hold posts whose From address may be forged, so a moderator looks before members trust them.

The evidence is gathered once per message by :mod:`tldops.mail.senderauth` (our own MTA's
``Authentication-Results`` header when ``LIST_TRUSTED_AUTHSERV_ID`` is set, our own SPF, DKIM and
DMARC checks otherwise) and handed to the rules as ``ctx.sender_check``. The rule fires when:

1. **The sender is not authentic**: no aligned DKIM signature or SPF pass of the From domain (see
   :func:`tldops.mail.senderauth.evaluate` for the exact rule). A sender a moderator pinned
   (``SenderOverride.pinned``) passes when its domain offers no way to verify it, but not when a
   check proves a forgery.
2. **Our own domain from outside**: the From address is in ``MAIL_DOMAIN`` or the list's domain,
   whatever the checks say: the list and the secretariat's system never post to the list by mail.

With sender verification switched off (``TLDOPS_VERIFY_SENDERS=false`` and no trusted MTA) only
signal 2 applies, and ``tldops run`` warns at start that anyone can post as any member.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from tldops.lists.models import SenderOverride
from tldops.lists.rules.context import RuleContext

# Kept importable from here: the header parser's tests and older callers use these names.
from tldops.mail.senderauth import (  # noqa: F401
    AuthResult,
    parse_authentication_results,
    trusted_results,
)


def _domain(address: str) -> str:
    return address.rpartition("@")[2].strip().strip(">").rstrip(".").lower()


class Spoofing:
    name = "spoofing"
    description = "The From address may be forged (SPF, DKIM and DMARC do not vouch for it)."
    action = "hold"

    def check(self, ctx: RuleContext) -> str | None:
        domain = _domain(ctx.sender)
        if not domain:
            return None
        ours = {settings.MAIL_DOMAIN.lower(), _domain(settings.LIST_ADDRESS)}
        result = ctx.sender_check
        if domain in ours and not (
            result is not None and result.source != "off" and result.authentic
        ):
            return _(
                "The message claims to come from %(a)s, an address of the list's own domain, "
                "but arrived from outside: the list never posts to itself by mail."
            ) % {"a": ctx.sender}
        if result is None or result.source == "off":
            return None
        pinned = SenderOverride.objects.filter(address=ctx.sender, pinned=True).exists()
        if result.trusted(pinned=pinned):
            return None
        return result.reason


RULE = Spoofing()
