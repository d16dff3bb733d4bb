"""The list's rules: small checks that each say *why* a post must not go out as it is.

Every rule is a class with a ``name``, a one-line ``description``, the ``action`` its hit asks for
(``"hold"``, ``"reject"`` or ``"discard"``) and ``check(ctx) -> str | None``, which returns the
reason (written for the sender and the moderators) when the rule fires, ``None`` otherwise. Rules
never change anything; :mod:`tldops.lists.chains` decides what their hits mean, and
:mod:`tldops.lists.pipeline` acts. :data:`RULES` is the order in which they run (all of them run,
so a moderator sees every reason at once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol

from django.conf import settings

from tldops.directory.models import Person
from tldops.lists.models import Post
from tldops.mail.models import InboundMessage
from tldops.mail.senderauth import SenderCheck


@dataclass(frozen=True)
class RuleContext:
    """What the rules look at: the stored message, the parsed message and settings-derived values."""

    inbound: InboundMessage
    msg: EmailMessage
    post: Post
    sender: str  # the From address (lower case), or the envelope sender without one
    person: Person | None  # the active member with that address, if any
    size: int  # bytes, as received
    list_address: str
    list_id: str
    max_size: int
    allowed_types: tuple[str, ...] = field(default_factory=tuple)
    sender_check: SenderCheck | None = None  # who really sent it (lists.senderauth)

    @classmethod
    def build(
        cls,
        *,
        inbound: InboundMessage,
        msg: EmailMessage,
        post: Post,
        sender: str,
        person: Person | None,
        sender_check: SenderCheck | None = None,
    ) -> RuleContext:
        return cls(
            inbound=inbound,
            msg=msg,
            post=post,
            sender=sender,
            person=person,
            size=len(bytes(inbound.raw)),
            list_address=settings.LIST_ADDRESS.lower(),
            list_id=settings.LIST_ID.lower(),
            max_size=settings.LIST_MAX_SIZE,
            allowed_types=tuple(
                t.strip().lower() for t in settings.LIST_ALLOWED_TYPES if t.strip()
            ),
            sender_check=sender_check,
        )


class Rule(Protocol):
    name: str
    description: str
    action: str

    def check(self, ctx: RuleContext) -> str | None: ...


# The rule modules import RuleContext from here, so they are imported after it is defined.
from tldops.lists.rules import (  # noqa: E402
    administrivia,
    attachment_types,
    duplicate,
    loop,
    max_size,
    member,
    spoofing,
)

# The order the rules run in (all of them run; the chain weighs their hits).
RULES: list[Rule] = [
    loop.RULE,
    duplicate.RULE,
    administrivia.RULE,
    member.RULE,
    spoofing.RULE,
    max_size.RULE,
    attachment_types.RULE,
]
