"""The email door: an IANA admin contact authorises (or removes) contacts by replying to a mail.

The invitation and the management-link mails carry ``[ref:<id>-<12 hex>]`` in their subject and
show the format to reply with::

    Contact: Full Name <name@example.net>; +1 613 555 0100 (office); +1 613 555 0199 (24/7); tz=America/Toronto; lang=en,fr
    Remove: 2

This module only reads the message and answers it. Who may authorise (the admin address, or another
address with the admin address in copy), the contact limit and the validation of every value are
:func:`tldops.directory.actions.authorise_contacts`' business. Quoted lines (``>``), the signature
(after ``-- ``) and the quoted original below a reply separator are ignored.

Loop protection: automatic messages (``Auto-Submitted``, ``Precedence: bulk``), bounces (empty
envelope sender, delivery reports) and mail from our own addresses are recorded and never answered.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import EmailMessage

from django.conf import settings
from django.utils.translation import gettext as _

from tldops.directory import actions, links
from tldops.directory.models import Invitation
from tldops.directory.validation import ContactInput
from tldops.kernel.errors import DirectoryError, InvalidInput, LinkUsed, raise_all
from tldops.mail import headers, outbox, senderauth
from tldops.mail.intake import Outcome
from tldops.mail.models import InboundMessage
from tldops.mail.parsing import automatic_reason, body_text

REPLY_PURPOSE = "authorise-reply"
# At most this many replies to one address per hour, in case an auto-responder without
# Auto-Submitted answers our answers.
MAX_REPLIES_PER_HOUR = 10
# The example address shown in the invitation: a line naming it was copied, not meant.
EXAMPLE_ADDRESS = "name@example.net"

# --- Parsing the reply ------------------------------------------------------------------------------

_CONTACT = re.compile(r"^contact(?:\s*#?\s*\d+)?\s*[:=]\s*(?P<rest>.*)$", re.IGNORECASE)
_REMOVE = re.compile(r"^remove(?:\s+contacts?)?\s*[:=]\s*(?P<rest>.*)$", re.IGNORECASE)
_SEPARATORS = [
    re.compile(r"^-{2,}\s*original message\s*-{2,}$", re.IGNORECASE),
    re.compile(r"^-{2,}\s*message d'origine\s*-{2,}$", re.IGNORECASE),
    re.compile(r"^_{10,}$"),
    re.compile(r"^on\s.+\swrote:$", re.IGNORECASE),
    re.compile(r"^le\s.+\sa\s+écrit\s*:$", re.IGNORECASE),
    re.compile(r"^(from|de|von)\s*:\s.+@", re.IGNORECASE),
]
_KEYS = {
    "tz": "timezone",
    "timezone": "timezone",
    "time zone": "timezone",
    "lang": "languages",
    "langs": "languages",
    "language": "languages",
    "languages": "languages",
    "phone": "phone",
    "tel": "phone",
}
_KEY_VALUE = re.compile(r"^(?P<key>[a-z][a-z /]*?)\s*[=:]\s*(?P<value>.*)$", re.IGNORECASE)
_LABELLED_NUMBER = re.compile(r"^(?P<number>.*?)\s*\(\s*(?P<label>[^()]*?)\s*\)\s*$")


@dataclass
class Request:
    """What a reply asks for: contacts to name, contact numbers to remove."""

    contacts: list[ContactInput] = field(default_factory=list)
    remove: list[int] = field(default_factory=list)
    #: The line of the message each contact was read from, to say where an error is.
    lines: list[int] = field(default_factory=list)


def parse_reply(text: str) -> Request:
    """Read ``Contact:`` and ``Remove:`` lines. Every line that cannot be read is refused at once
    (:class:`InvalidInput`, or :class:`InvalidInputs` for several, each naming its line)."""
    request = Request()
    errors: list[DirectoryError] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.rstrip() == "--":  # the signature separator ("-- ", trailing space often lost)
            break
        stripped = line.strip()
        if any(sep.match(stripped) for sep in _SEPARATORS):
            break
        if not stripped or stripped.startswith(">"):
            continue
        try:
            if m := _CONTACT.match(stripped):
                contact = _parse_contact(m.group("rest"), lineno)
                if contact is not None:
                    request.contacts.append(contact)
                    request.lines.append(lineno)
            elif m := _REMOVE.match(stripped):
                request.remove.extend(n for n in _parse_numbers(m.group("rest"), lineno))
        except InvalidInput as exc:
            errors.append(exc)
    raise_all(errors)
    request.remove = list(dict.fromkeys(request.remove))
    if not request.contacts and not request.remove:
        raise InvalidInput(
            _(
                "No “Contact:” or “Remove:” line was found in your message. Write one line per "
                "contact, outside the quoted text."
            ),
            field="contacts",
        )
    return request


def _parse_numbers(text: str, lineno: int) -> list[int]:
    # "2", "2, 3", "#2 (Jane Doe)": the numbers before any parenthesis.
    numbers = [int(n) for n in re.findall(r"\d+", text.split("(")[0])]
    if not numbers:
        raise InvalidInput(
            _(
                "Line %(n)d: “Remove:” must be followed by the contact number to remove, e.g. Remove: 2."
            )
            % {"n": lineno},
            field="remove",
        )
    return numbers


def _parse_contact(text: str, lineno: int) -> ContactInput | None:
    parts = [p.strip() for p in text.split(";")]
    name, address = _name_and_address(parts[0])
    if not address:
        raise InvalidInput(
            _(
                "Line %(n)d: the contact has no email address. Write it as: "
                "Contact: Full Name <name@example.org>; +1 613 555 0100 (office)"
            )
            % {"n": lineno},
            field="email",
        )
    if address.lower() == EXAMPLE_ADDRESS:
        return None
    contact = ContactInput(name=name, email=address)
    for part in parts[1:]:
        if not part:
            continue
        kv = _KEY_VALUE.match(part)
        key = _KEYS.get(" ".join(kv.group("key").lower().split())) if kv else None
        if kv and key == "timezone":
            contact.timezone = kv.group("value").strip()
        elif kv and key == "languages":
            contact.languages = [x for x in re.split(r"[,\s]+", kv.group("value")) if x]
        else:
            contact.phones.append(_parse_phone(kv.group("value") if kv and key else part))
    return contact


def _name_and_address(text: str) -> tuple[str, str]:
    if m := re.search(r"<\s*([^<>\s]+@[^<>\s]+)\s*>", text):
        name = " ".join((text[: m.start()] + " " + text[m.end() :]).split())
        return name.strip(" \"',"), m.group(1)
    words = text.replace(",", " ").split()
    address = next((w for w in words if "@" in w), "")
    name = " ".join(w for w in words if w != address)
    return name.strip(" \"'"), address


def _parse_phone(text: str) -> tuple[str, str]:
    """``+1 613 555 0100 (office)`` → ``("+1 613 555 0100", "office")``; the label defaults to office.

    Also ``24/7: +1 …``. The number and label are validated by the action."""
    if (m := _LABELLED_NUMBER.match(text)) and not re.fullmatch(r"[\d\s]+", m.group("label")):
        return m.group("number").strip(), m.group("label")
    if (kv := _KEY_VALUE.match(text)) or (
        kv := re.match(r"^(?P<key>24/7)\s*[=:]\s*(?P<value>.*)$", text)
    ):
        return kv.group("value").strip(), kv.group("key").strip()
    return text.strip(), "office"


def _invitation_from_subject(subject: str) -> tuple[Invitation | None, str]:
    m = re.search(links.REF_PATTERN, subject, re.IGNORECASE)
    if m is None:
        raise InvalidInput(
            _(
                "The subject has no reference such as [ref:123-0123456789ab]. Reply to the "
                "invitation itself and keep its subject."
            ),
            field="subject",
        )
    pk, nonce = int(m.group(1)), m.group(2).lower()
    token = links.token_from_ref(pk, nonce)
    return Invitation.objects.select_related("tld").filter(pk=pk).first(), token


# --- The door ---------------------------------------------------------------------------------------


def process(message: InboundMessage) -> Outcome:
    """Handle one message sent to the authorisation address (the intake's ``authorise`` route)."""
    msg = email.message_from_bytes(bytes(message.raw), policy=email.policy.default)
    _name, sender = headers.author(msg)
    reason = automatic_reason(msg, message.mail_from, sender)
    if reason:
        return Outcome.rejected(f"ignored, not answered: {reason}")
    unverified = senderauth.unverified_reason(message, msg)
    if unverified:
        error = _(
            "%(why)s Nothing was changed. Please use the link in our mail instead, or send "
            "your answer from a mail server that signs or is authorised for your domain."
        ) % {"why": unverified}
        replied = _reply(msg, sender, invitation=None, error=error)
        return Outcome.rejected(f"sender not verified: {unverified} ({replied})")
    subject = str(msg.get("Subject", ""))
    copied = headers.addresses(msg, "To", "Cc")
    invitation = None
    request = Request()
    try:
        invitation, token = _invitation_from_subject(subject)
        request = parse_reply(body_text(msg))
        result = actions.authorise_contacts(
            token,
            request.contacts,
            door="email",
            remove=request.remove,
            sender=sender,
            copied=copied,
        )
    except LinkUsed as exc:
        # Not something to correct and send again: the reference worked once, and its answer
        # stands. Changing it takes a management link (the portal's /manage/ page).
        replied = _reply(msg, sender, invitation=invitation, error=exc.message, used=True)
        return Outcome.rejected(f"{exc.message} ({replied})")
    except DirectoryError as exc:
        problems = [_where(error, request) for error in exc.errors]
        replied = _reply(msg, sender, invitation=invitation, error="\n\n  ".join(problems))
        return Outcome.rejected(f"{exc.message} ({replied})")
    tld = invitation.tld
    rule = actions.email_authorisation_rule(tld.admin_email or invitation.sent_to, sender, copied)
    cc = [] if rule == actions.AuthorisationRule.ADMIN_ADDRESS else [invitation.sent_to]
    replied = _reply(msg, sender, invitation=invitation, result=result, rule=rule, cc=cc)
    summary = (
        f"{tld.display}: {len(result.added)} contact(s) named, {len(result.removed)} removed "
        f"({rule}; {replied})"
    )
    return Outcome.done(summary)


def _where(error: DirectoryError, request: Request) -> str:
    """An error as the reply shows it: prefixed with the line of the contact it is about."""
    if error.index is not None and 0 <= error.index < len(request.lines):
        return _("Line %(n)d: %(error)s") % {
            "n": request.lines[error.index],
            "error": error.message,
        }
    return error.message


def _reply(
    original: EmailMessage,
    sender: str,
    *,
    invitation: Invitation | None,
    error: str = "",
    used: bool = False,
    result: actions.Authorisation | None = None,
    rule: str = "",
    cc: list[str] | None = None,
) -> str:
    """Queue the answer to the sender; returns a note for the message's result."""
    return outbox.answer(
        original,
        sender,
        "directory/email/authorise_reply.txt",
        {
            "error": error,
            "used": used,
            "manage_url": f"{settings.BASE_URL}/manage/",
            "tld": invitation.tld if invitation else None,
            "added": result.added if result else [],
            "removed": result.removed if result else [],
            "rule": rule,
            "authorise_address": settings.AUTHORISE_ADDRESS,
        },
        purpose=REPLY_PURPOSE,
        limit=MAX_REPLIES_PER_HOUR,
        cc=cc or [],
        reply_to=settings.AUTHORISE_ADDRESS,
    )
