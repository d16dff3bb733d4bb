"""A banner above the text, when another app gives one for the post (the alert's TLP label:
``TLP:AMBER`` must be the first thing a reader sees, not only the subject).

A plain-text message gets the banner as its first lines; a multipart message gets it as a first
``text/plain`` part (an ``alternative`` or HTML-only message is first wrapped in a ``mixed``, as
the footer does). Signed or encrypted messages are left untouched: changing a byte would break
the signature; their subject still carries the label.
"""

from __future__ import annotations

from email.message import EmailMessage

from tldops.lists.handlers.context import HandlerContext
from tldops.lists.handlers.footer import add_text


def process(msg: EmailMessage, ctx: HandlerContext) -> None:
    banner = ctx.banner.strip()
    if banner:
        add_text(msg, lambda text: f"{banner}\n\n{text}", f"{banner}\n", first=True)
