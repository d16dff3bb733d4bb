"""The email door of the reachability checks: a reply to a check answers it.

Mail to ``REACHABILITY_ADDRESS`` (the intake's ``reachability`` route) is read here. A reply whose
subject carries the check's ``[ref:r<id>-<12 hex>]`` and that comes from one of the challenged
person's addresses (main or other) answers the check through
:func:`tldops.repository.reachability.answer`; the text of the reply does not matter. It answers
that check only, and only while its round lasts: a reply to the check of a round that has ended
answers neither it nor the person's newer check, and the person is told to answer the latest one.

Everything else is never an error: automatic messages (out-of-office answers, bounces, bulk mail,
our own mail) are recorded and ignored — an auto-reply proves a mailbox exists, not that a
person reads it — and a person gets a short explanation (a wrong or missing reference, a reply
from an address that is not theirs). Mail without a reference from an address the directory does
not know is ignored without an answer, so the address cannot be used to send mail to strangers.
"""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from email.utils import parseaddr

from django.conf import settings
from django.utils.translation import gettext as _

from tldops.directory.bounces import person_for
from tldops.kernel.errors import DirectoryError
from tldops.mail import headers, outbox, senderauth
from tldops.mail.intake import Outcome
from tldops.mail.models import InboundMessage
from tldops.mail.parsing import automatic_reason
from tldops.repository import reachability
from tldops.repository.models import Challenge

REPLY_PURPOSE = "reachability-reply"
#: At most this many answers to one address per hour (an auto-responder without
#: Auto-Submitted must not make us loop).
MAX_REPLIES_PER_HOUR = 5


def process(message: InboundMessage) -> Outcome:
    """Handle one message sent to the reachability address."""
    msg = email.message_from_bytes(bytes(message.raw), policy=email.policy.default)
    _name, sender = headers.author(msg)
    reason = automatic_reason(msg, message.mail_from, sender)
    if not reason and sender.lower() == parseaddr(settings.REACHABILITY_ADDRESS)[1].lower():
        reason = "from our own address"
    if reason:
        return Outcome.rejected(f"ignored, not answered: {reason}")
    unverified = senderauth.unverified_reason(message, msg)
    if unverified:
        error = _(
            "%(why)s Your answer was not counted. Please click the link in the check's mail "
            "instead."
        ) % {"why": unverified}
        return Outcome.rejected(
            f"sender not verified: {unverified} ({_reply(msg, sender, error=error)})"
        )
    subject = str(msg.get("Subject", ""))
    match = re.search(reachability.REF_PATTERN, subject, re.IGNORECASE)
    if match is None:
        if person_for(sender) is None:
            return Outcome.rejected(
                f"ignored, not answered: no reference in the subject and {sender} is not in "
                "the directory"
            )
        error = _(
            "The subject has no reference such as [ref:r123-0123456789ab], so we cannot tell "
            "which check you are answering."
        )
        return Outcome.rejected(f"no reference in the subject ({_reply(msg, sender, error=error)})")
    try:
        token = reachability.token_from_ref(int(match.group(1)), match.group(2).lower())
        challenge = reachability.answer(token, Challenge.Via.REPLY, sender=sender, door="email")
    except DirectoryError as exc:
        return Outcome.rejected(f"{exc.message} ({_reply(msg, sender, error=exc.message)})")
    replied = _reply(msg, sender, challenge=challenge)
    return Outcome.done(
        f"{challenge.person.email} answered the reachability check {challenge.round.period} "
        f"by reply from {sender} ({replied})"
    )


def _reply(
    original: EmailMessage, sender: str, *, error: str = "", challenge: Challenge | None = None
) -> str:
    """Queue a short answer to the sender; returns a note for the message's result."""
    return outbox.answer(
        original,
        sender,
        "repository/email/reply.txt",
        {
            "error": error,
            "person": challenge.person if challenge else None,
            "period": challenge.round.period if challenge else "",
            "reachability_address": settings.REACHABILITY_ADDRESS,
        },
        purpose=REPLY_PURPOSE,
        limit=MAX_REPLIES_PER_HOUR,
    )
