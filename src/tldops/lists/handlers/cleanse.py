"""Remove headers of the original that would be wrong or misleading once the list resends it.

The author's DKIM signature and authentication results do not hold for the list's copy (the subject
and body change); old List-* headers, Return-Path and delivery headers belong to the way in; an
``Approved`` header could carry a password. The Message-ID is kept: replies thread on it.
"""

from __future__ import annotations

from email.message import EmailMessage

from tldops.lists.handlers.context import HandlerContext

DROPPED = (
    "Return-Path",
    "Delivered-To",
    "X-Original-To",
    "Received-SPF",
    "Authentication-Results",
    "ARC-Seal",
    "ARC-Message-Signature",
    "ARC-Authentication-Results",
    "DKIM-Signature",
    "Domainkey-Signature",
    "Approved",
    "Approve",
    "Urgent",
    "Errors-To",
    "Return-Receipt-To",
    "Disposition-Notification-To",
    "X-Confirm-Reading-To",
    "X-Pmrqc",
    "List-Id",
    "List-Post",
    "List-Help",
    "List-Owner",
    "List-Archive",
    "List-Subscribe",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Precedence",
    "X-Loop",
    "Sender",
)


def process(msg: EmailMessage, ctx: HandlerContext) -> None:
    for name in DROPPED:
        del msg[name]
    if not msg.get("Message-ID") and ctx.post is not None:
        msg["Message-ID"] = ctx.post.message_id
