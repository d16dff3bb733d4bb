"""Reading received mail, for every mail door: its text, and whether a person wrote it.

:func:`automatic_reason` says why a message must never be answered (auto-replies, bounces, list
mail, reports, our own mail): each door that answers checks it first, so two systems never answer
each other in a loop.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
from email.message import EmailMessage
from email.utils import parseaddr

from django.conf import settings


def body_text(msg: EmailMessage) -> str:
    """The message's text: its plain part, or its HTML part reduced to text."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, KeyError):
        content = part.get_payload(decode=True).decode("utf-8", "replace")
    if part.get_content_subtype() == "html":
        content = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", content)
        content = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</tr>", "\n", content)
        content = re.sub(r"(?is)<blockquote\b.*?</blockquote>", "", content)
        content = html.unescape(re.sub(r"<[^>]+>", "", content))
    return content


def _own_addresses() -> set[str]:
    return {
        parseaddr(a)[1].lower()
        for a in (settings.AUTHORISE_ADDRESS, settings.DEFAULT_FROM_EMAIL, settings.SERVER_EMAIL)
        if a
    }


def automatic_reason(msg: EmailMessage, envelope_from: str, sender: str) -> str:
    """Why a message must not be answered (empty when a person wrote it)."""
    auto = str(msg.get("Auto-Submitted", "")).strip().lower()
    if auto and auto != "no":
        return f"automatic message (Auto-Submitted: {auto})"
    if str(msg.get("Precedence", "")).strip().lower() in {"bulk", "junk", "list"}:
        return "bulk or list message"
    if not envelope_from.strip("<> "):
        return "bounce (empty envelope sender)"
    if msg.get_content_type() == "multipart/report":
        return "delivery or read report"
    if not sender:
        return "no From address"
    if sender.lower() in _own_addresses() or sender.lower().startswith("mailer-daemon@"):
        return "from our own address"
    return ""


def parse(raw: bytes) -> EmailMessage:
    """Stored bytes as a message (the modern ``email`` API)."""
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]
