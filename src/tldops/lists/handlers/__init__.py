"""The list's handlers: the steps that prepare an accepted post for its members, in order.

Each handler is a module with ``process(msg, ctx) -> None`` that changes ``msg`` (an
:class:`email.message.EmailMessage`) in place; :data:`HANDLERS` is the order they run in.
``dkim`` is last: it signs the message exactly as it leaves.
"""

from __future__ import annotations

from email.message import EmailMessage
from types import ModuleType

from tldops.lists.handlers import (
    banner,
    cleanse,
    dkim,
    dmarc,
    footer,
    reply_to,
    rfc2369,
    subject_prefix,
)
from tldops.lists.handlers.context import HandlerContext  # noqa: F401 - the package's public names

# The order the handlers run in; dkim signs the message exactly as it leaves, so it is last.
HANDLERS: list[ModuleType] = [
    cleanse,
    subject_prefix,
    rfc2369,
    reply_to,
    banner,
    footer,
    dmarc,
    dkim,
]


def prepare(msg: EmailMessage, ctx: HandlerContext) -> EmailMessage:
    """Run every handler on ``msg``, in order; returns it."""
    for handler in HANDLERS:
        handler.process(msg, ctx)
    return msg
