"""The list's handlers: the steps that prepare an accepted post for its members, in order.

Each handler is a module with ``process(msg, ctx) -> None`` that changes ``msg`` (an
:class:`email.message.EmailMessage`) in place; :data:`HANDLERS` is the order they run in.
``dkim`` is last: it signs the message exactly as it leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from types import ModuleType

from django.conf import settings

from tldops.directory.models import Person
from tldops.lists.models import Post


@dataclass(frozen=True)
class HandlerContext:
    """The post being prepared and the list's settings, read once."""

    post: Post
    person: Person | None
    author: str  # the original From address
    author_name: str
    list_name: str
    list_address: str
    list_id: str
    subject_tag: str
    reply_to_policy: str  # none | list | author
    footer: str
    archive_url: str

    @property
    def request_address(self) -> str:
        local, _at, domain = self.list_address.rpartition("@")
        return f"{local}-request@{domain}"

    @property
    def owner_address(self) -> str:
        local, _at, domain = self.list_address.rpartition("@")
        return f"{local}-owner@{domain}"

    @classmethod
    def build(cls, post: Post, msg: EmailMessage) -> HandlerContext:
        name, address = parseaddr(str(msg.get("From", "")))
        return cls(
            post=post,
            person=post.person,
            author=address or post.sender,
            author_name=name or post.sender_name,
            list_name=settings.LIST_NAME,
            list_address=settings.LIST_ADDRESS,
            list_id=settings.LIST_ID,
            subject_tag=settings.SUBJECT_TAG,
            reply_to_policy=settings.REPLY_TO_POLICY,
            footer=settings.LIST_FOOTER,
            archive_url=f"{settings.BASE_URL}/archive/",
        )


# The handler modules import HandlerContext from here, so they are imported after it is defined.
from tldops.lists.handlers import (  # noqa: E402
    cleanse,
    dkim,
    dmarc,
    footer,
    reply_to,
    rfc2369,
    subject_prefix,
)

# The order the handlers run in; dkim signs the message exactly as it leaves, so it is last.
HANDLERS: list[ModuleType] = [cleanse, subject_prefix, rfc2369, reply_to, footer, dmarc, dkim]


def prepare(msg: EmailMessage, ctx: HandlerContext) -> EmailMessage:
    """Run every handler on ``msg``, in order; returns it."""
    for handler in HANDLERS:
        handler.process(msg, ctx)
    return msg
