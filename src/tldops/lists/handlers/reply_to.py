"""Where replies go, by ``REPLY_TO_POLICY``: ``none`` leaves the author's own Reply-To alone,
``list`` sends replies to the list, ``author`` to the author only."""

from __future__ import annotations

from email.message import EmailMessage

from tldops.lists.handlers.context import HandlerContext
from tldops.mail.outbox import format_address


def process(msg: EmailMessage, ctx: HandlerContext) -> None:
    if ctx.reply_to_policy == "list":
        del msg["Reply-To"]
        msg["Reply-To"] = format_address(ctx.list_name, ctx.list_address)
    elif ctx.reply_to_policy == "author" and ctx.author:
        del msg["Reply-To"]
        msg["Reply-To"] = format_address(ctx.author_name, ctx.author)
