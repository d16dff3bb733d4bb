"""Tag the subject (``[TLD-OPS] …``) so members can filter; a reply keeps one tag, not two.

Another app may label a post (:attr:`HandlerContext.subject_label`, e.g. the alert's
``[TLP:AMBER]``): the label follows the tag at once, ``[TLD-OPS][TLP:AMBER] …``, also in a reply
whose subject lost it, and is never written twice.
"""

from __future__ import annotations

from email.message import EmailMessage

from django.utils.translation import gettext as _

from tldops.lists.handlers.context import HandlerContext


def tagged(subject: str, tag: str, label: str = "") -> str:
    """``subject`` with ``tag`` (and ``label`` right after it) in front, unless it already
    carries them (``Re: [TLD-OPS] x``)."""
    subject = " ".join(subject.split())
    if label and label.lower() not in subject.lower():
        at = subject.lower().find(tag.lower()) if tag else -1
        if at >= 0:  # "Re: [TLD-OPS] x" → "Re: [TLD-OPS][TLP:AMBER] x"
            end = at + len(tag)
            return f"{subject[:end]}{label} {subject[end:].lstrip()}".rstrip()
        return f"{tag}{label} {subject or _('(no subject)')}"
    if not tag:
        return subject
    if tag.lower() in subject.lower():
        return subject
    if label and subject.lower().startswith(
        label.lower()
    ):  # "[TLP:AMBER] x" → "[TLD-OPS][TLP:AMBER] x"
        return f"{tag}{subject}"
    return f"{tag} {subject or _('(no subject)')}"


def process(msg: EmailMessage, ctx: HandlerContext) -> None:
    subject = tagged(str(msg.get("Subject", "")), ctx.subject_tag, ctx.subject_label)
    del msg["Subject"]
    msg["Subject"] = subject
