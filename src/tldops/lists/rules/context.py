"""What every rule is given and what a rule is: :class:`RuleContext` and the :class:`Rule` protocol.

In a module of its own so that the rule modules and the package that lists them import it without
importing each other.
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
    sender_check: SenderCheck | None = None  # who really sent it (mail.senderauth)

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
