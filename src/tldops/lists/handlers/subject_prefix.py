"""Tag the subject (``[TLD-OPS] …``) so members can filter; a reply keeps one tag, not two.

Another app may label a post (:attr:`HandlerContext.subject_label`, e.g. the alert's
``[TLP:AMBER]``): the label follows the tag at once, ``[TLD-OPS][TLP:AMBER] …``, also in a reply
whose subject lost it, and is never written twice. The rule is the mail core's
(:func:`tldops.mail.community.tagged`), which apps writing to fewer people than the list use too.
"""

from __future__ import annotations

from email.message import EmailMessage

from tldops.lists.handlers.context import HandlerContext
from tldops.mail.community import tagged


def process(msg: EmailMessage, ctx: HandlerContext) -> None:
    subject = tagged(str(msg.get("Subject", "")), ctx.subject_tag, ctx.subject_label)
    del msg["Subject"]
    msg["Subject"] = subject
