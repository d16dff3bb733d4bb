"""Tag the subject (``[TLD-OPS] …``) so members can filter; a reply keeps one tag, not two."""

from __future__ import annotations

from email.message import EmailMessage

from django.utils.translation import gettext as _

from tldops.lists.handlers.context import HandlerContext


def tagged(subject: str, tag: str) -> str:
    """``subject`` with ``tag`` in front, unless it already carries it (``Re: [TLD-OPS] x``)."""
    subject = " ".join(subject.split())
    if not tag:
        return subject
    if tag.lower() in subject.lower():
        return subject
    return f"{tag} {subject or _('(no subject)')}"


def process(msg: EmailMessage, ctx: HandlerContext) -> None:
    subject = tagged(str(msg.get("Subject", "")), ctx.subject_tag)
    del msg["Subject"]
    msg["Subject"] = subject
