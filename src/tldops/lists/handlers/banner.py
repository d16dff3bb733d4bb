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
from tldops.lists.handlers.footer import UNTOUCHABLE


def process(msg: EmailMessage, ctx: HandlerContext) -> None:
    banner = ctx.banner.strip()
    if not banner:
        return
    ctype = msg.get_content_type()
    if ctype in UNTOUCHABLE:
        return
    if ctype == "text/plain" and not msg.is_attachment():
        try:
            text = msg.get_content()
        except (LookupError, KeyError):  # an unknown charset: add a part instead
            text = None
        if text is not None:
            params = {"format": "flowed"} if msg.get_param("format") == "flowed" else {}
            msg.set_content(f"{banner}\n\n{text}", charset="utf-8", params=params)
            return
    if not msg.is_multipart() or ctype != "multipart/mixed":
        if ctype in ("multipart/related", "multipart/alternative") or not msg.is_multipart():
            msg.make_mixed()
        else:
            return  # another multipart kind (report, digest…): leave it as it is
    part = EmailMessage()
    part.set_content(f"{banner}\n", charset="utf-8", disposition="inline")
    payload = msg.get_payload()
    assert isinstance(payload, list)  # noqa: S101 - a multipart/mixed here
    payload.insert(0, part)
