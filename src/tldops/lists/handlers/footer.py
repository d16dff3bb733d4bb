"""The list footer at the end of the text.

A plain-text message gets it after the signature separator; a multipart message gets it as one
more ``text/plain`` part (an ``alternative`` is first wrapped in a ``mixed``, so mail readers still
show the right alternative). An HTML-only message is made a ``mixed`` too, its HTML first: mail
readers show both parts, and the archive reads both (:func:`tldops.lists.archive.body_text`), so
the footer is never taken for the whole text. Signed or encrypted messages are left untouched:
changing a byte would break the signature.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage

from tldops.lists.handlers.context import HandlerContext

UNTOUCHABLE = {"multipart/signed", "multipart/encrypted", "application/pkcs7-mime"}


def footer_text(ctx: HandlerContext) -> str:
    return f"-- \n{ctx.footer}\n"


def process(msg: EmailMessage, ctx: HandlerContext) -> None:
    if not ctx.footer.strip():
        return
    add_text(
        msg,
        lambda text: (text if text.endswith("\n") else text + "\n") + footer_text(ctx),
        footer_text(ctx),
        first=False,
    )


def add_text(msg: EmailMessage, join: Callable[[str], str], part_text: str, *, first: bool) -> None:
    """Add a text of the list's to ``msg`` (the footer at the end, another app's banner at the
    top): a plain-text message becomes ``join(its text)``; a multipart one gets ``part_text`` as
    a ``text/plain`` part, ``first`` or last, in a ``mixed`` (an ``alternative``, ``related`` or
    HTML-only message is wrapped in one first). Signed or encrypted messages, and other
    multipart kinds (reports, digests), are left as they are."""
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
            msg.set_content(join(text), charset="utf-8", params=params)
            return
    if not msg.is_multipart() or ctype != "multipart/mixed":
        if ctype in ("multipart/related", "multipart/alternative") or not msg.is_multipart():
            msg.make_mixed()
        else:
            return  # another multipart kind (report, digest…): leave it as it is
    part = EmailMessage()
    part.set_content(part_text, charset="utf-8", disposition="inline")
    payload = msg.get_payload()
    assert isinstance(payload, list)  # noqa: S101 - a multipart/mixed here
    payload.insert(0 if first else len(payload), part)
