"""The ``-request`` and ``-owner`` addresses, and the email door of moderation.

``tld-ops-request@…`` takes commands, one per message, as the subject or the first line:
``help`` (``help alert``: another app's help topic, :func:`tldops.mail.community.help_topic`),
``status`` (are you a member, is list mail reaching you, how you receive it),
``unsubscribe`` (explains how to leave: membership follows the directory) and ``set delivery``
(how you receive the list: ``set delivery regular``, ``set delivery digest [mime|plain]``,
``set delivery nomail until YYYY-MM-DD``; applied only when the sender's address is verified,
:func:`set_delivery`). A reply to a moderation notice also arrives here:
its subject carries ``[mod:<id>-<nonce>]`` and its first line ``approve``, ``reject: <reason>`` or
``discard``. It is applied only when sent from a moderator's address *and* naming the notice's
nonce, which only the moderators received.

``tld-ops-owner@…`` reaches the people running the list: the message is forwarded, attached, to
the secretariat's addresses.

Automatic messages (auto-replies, bounces, list mail, our own) are never answered.
"""

from __future__ import annotations

import re
from email.message import EmailMessage

from django.conf import settings
from django.utils.translation import gettext as _

from tldops.directory import delivery, queries
from tldops.directory.audit import Actor
from tldops.directory.bounces import state
from tldops.directory.queries import member_by_address
from tldops.kernel.errors import DirectoryError, InvalidInput, NotAuthorised
from tldops.lists import moderation
from tldops.lists.pipeline import sender_of
from tldops.mail import community, headers, outbox, senderauth
from tldops.mail.intake import Outcome
from tldops.mail.models import InboundMessage
from tldops.mail.parsing import automatic_reason, body_text, parse

REPLY_PURPOSE = "list-request-reply"
OWNER_PURPOSE = "list-owner"
COMMANDS = ("help", "status", "unsubscribe", "set")
ALIASES = {"info": "help", "?": "help", "leave": "unsubscribe", "signoff": "unsubscribe"}
# Replies to one address per hour at most, in case an auto-responder answers our answers.
MAX_REPLIES_PER_HOUR = 10


def _addresses() -> dict[str, str]:
    local, _at, domain = settings.LIST_ADDRESS.rpartition("@")
    return {
        "list_address": settings.LIST_ADDRESS,
        "request_address": f"{local}-request@{domain}",
        "owner_address": f"{local}-owner@{domain}",
        "nomail_max_days": settings.NOMAIL_MAX_DAYS,
    }


def _own_list_address(address: str) -> bool:
    """One of the list's own addresses (posting, -request, -owner, -bounces…)."""
    local, _at, domain = settings.LIST_ADDRESS.lower().rpartition("@")
    a_local, _at, a_domain = address.lower().rpartition("@")
    return a_domain == domain and (a_local == local or a_local.startswith(f"{local}-"))


def _ignored(msg: EmailMessage, inbound: InboundMessage, sender: str) -> str:
    reason = automatic_reason(msg, inbound.mail_from, sender)
    if not reason and _own_list_address(sender):
        reason = "from the list's own address"
    return reason


def _meaningful_lines(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        if line.rstrip() == "--":
            break
        stripped = line.strip()
        if stripped and not stripped.startswith(">"):
            lines.append(stripped)
    return lines


def _strip_re(subject: str) -> str:
    return re.sub(r"^\s*((re|fwd?|aw|tr)\s*:\s*)+", "", subject, flags=re.IGNORECASE).strip()


def command_line(msg: EmailMessage) -> tuple[str, str]:
    """(command, the whole line it was written on), or ("", what was written first)."""
    lines = _meaningful_lines(body_text(msg))
    candidates = [lines[0] if lines else "", _strip_re(str(msg.get("Subject", "")))]
    for text in candidates:
        word = (text.split() or [""])[0].lower().strip(":")
        word = ALIASES.get(word, word)
        if word in COMMANDS:
            return word, text[:200]
    return "", next((c for c in candidates if c), "")[:200]


def delivery_change(line: str) -> delivery.DeliveryChange:
    """The change a ``set delivery …`` line asks for (:class:`InvalidInput` if it is not one)."""
    words = line.lower().split()
    usage = _(
        "Write “set delivery regular”, “set delivery digest” (or “set delivery digest plain” "
        "for plain text), or “set delivery nomail until YYYY-MM-DD”."
    )
    if len(words) < 3 or words[1] != "delivery":
        raise InvalidInput(usage, field="command")
    mode = words[2]
    if mode == "regular" and len(words) == 3:
        return delivery.DeliveryChange(mode="regular")
    if mode == "digest" and len(words) in (3, 4):
        fmt = words[3] if len(words) == 4 else None
        if fmt is not None and fmt not in delivery.FORMATS:
            raise InvalidInput(usage, field="command")
        return delivery.DeliveryChange(mode="digest", digest_format=fmt)
    if mode == "nomail" and len(words) == 5 and words[3] == "until":
        return delivery.DeliveryChange(mode="nomail", nomail_until=words[4])
    raise InvalidInput(usage, field="command")


def set_delivery(sender: str, line: str, *, unverified: str) -> dict[str, object]:
    """Apply a ``set delivery`` command for the list subscriber whose address sent it; what the
    reply says. Refused when the sender's address could not be verified (a forged From must not
    silence a member), and for an address that does not receive the list."""
    try:
        if unverified:
            raise NotAuthorised(
                _("%(why)s Your delivery was not changed: change it in the portal instead.")
                % {"why": unverified}
            )
        person = delivery.subscriber_by_address(sender)
        if person is None:
            raise NotAuthorised(
                _("%(a)s does not receive the list, so it has no delivery to set.") % {"a": sender}
            )
        person = delivery.update_delivery(
            person, delivery_change(line), actor=Actor.of(person, "email")
        )
    except DirectoryError as exc:
        return {"error": exc.message}
    return {"delivery": delivery.describe(person)}


def _reply(original: EmailMessage, to: str, template: str, context: dict[str, object]) -> str:
    return outbox.answer(
        original,
        to,
        template,
        {**_addresses(), **context},
        purpose=REPLY_PURPOSE,
        limit=MAX_REPLIES_PER_HOUR,
        default_subject=settings.LIST_NAME,
        reply_to=_addresses()["request_address"],
    )


# --- -request ---------------------------------------------------------------------------------------


def handle_request(inbound: InboundMessage) -> Outcome:
    """A message to the ``-request`` address: a moderation reply, or a command."""
    msg = parse(bytes(inbound.raw))
    _name, sender = sender_of(msg, inbound.mail_from)
    if why := _ignored(msg, inbound, sender):
        return Outcome.rejected(f"ignored, not answered: {why}")
    if moderation.REF_PATTERN.search(str(msg.get("Subject", ""))):
        return moderation_reply(msg, sender, unverified=senderauth.unverified_reason(inbound, msg))
    command, line = command_line(msg)
    written = (line.split() or [""])[0][:40]
    context: dict[str, object] = {"command": command, "address": sender}
    if command == "set":
        context.update(
            set_delivery(sender, line, unverified=senderauth.unverified_reason(inbound, msg))
        )
    if not command:
        context["error"] = (
            _("“%(w)s” is not a command this address knows.") % {"w": written}
            if written
            else _("Your message had no command.")
        )
    elif command == "status":
        context.update(status_of(sender))
    template = "lists/email/request_reply.txt"
    if command == "help":
        topic = (line.split()[1:2] or [""])[0].lower()
        if community.help_topic(topic):
            template = community.help_topic(topic)
        elif topic:
            context["error"] = _("There is no help on “%(t)s”.") % {"t": topic[:40]}
        context["topics"] = community.help_topics()
    replied = _reply(msg, sender, template, context)
    return Outcome.done(f"{command or 'unknown command'}: {replied}")


def status_of(address: str) -> dict[str, object]:
    """Whether ``address`` is a member, of which ccTLDs, and its bounce state (the list's mail
    goes to the member's primary address, so that is the one whose bounces count)."""
    person = member_by_address(address)
    tlds = []
    if person is not None:
        tlds = [
            m.tld.display for m in person.memberships.filter(status="active").select_related("tld")
        ]
    reach = state(person.email if person is not None else address)
    subscriber = person or delivery.subscriber_by_address(address)
    return {
        "delivery": delivery.describe(subscriber) if subscriber is not None else "",
        "member": person is not None,
        "tlds": tlds,
        "score": reach.score,
        "unreachable_since": reach.unreachable_since,
        "threshold": settings.BOUNCE_THRESHOLD,
    }


# --- The email door of moderation --------------------------------------------------------------------


def moderation_command(text: str) -> tuple[str, str]:
    """(``approve`` | ``reject`` | ``discard``, reason) from the reply's first line."""
    lines = _meaningful_lines(text)
    first = lines[0] if lines else ""
    m = re.match(
        r"^(approve|approved|accept|reject|rejected|discard)\b\s*[:\-–]?\s*(.*)$", first, re.I
    )
    if m is None:
        raise InvalidInput(
            _("The first line must be “approve”, “reject: <reason>” or “discard”; it was “%(l)s”.")
            % {"l": first[:80]},
            field="command",
        )
    word = m.group(1).lower()
    action = {"approved": "approve", "accept": "approve", "rejected": "reject"}.get(word, word)
    return action, m.group(2).strip()


def moderation_reply(msg: EmailMessage, sender: str, *, unverified: str = "") -> Outcome:
    """Apply a moderator's reply to a moderation notice, and tell them the result.

    ``unverified`` is why the From address could not be verified (``mail.senderauth``), if it
    could not: a decision is then refused, whatever the reference says.
    """
    post = None
    try:
        if unverified:
            raise NotAuthorised(
                _("%(why)s The decision was not applied: decide in the portal instead.")
                % {"why": unverified}
            )
        moderator = moderation.moderator_by_address(sender)
        if moderator is None:
            raise NotAuthorised(
                _(
                    "%(s)s is not a moderator's address: only the secretariat and the committee "
                    "moderate the list."
                )
                % {"s": sender}
            )
        m = moderation.REF_PATTERN.search(str(msg.get("Subject", "")))
        post = moderation.get_post(m.group(1))
        if not post.moderation_nonce or post.moderation_nonce.lower() != m.group(2).lower():
            raise InvalidInput(
                _(
                    "The reference in the subject does not match the post: reply to the notice itself."
                ),
                field="subject",
            )
        action, reason = moderation_command(body_text(msg))
        actor = Actor.of(moderator, "email")
        if action == "approve":
            post = moderation.approve(post, actor=actor)
        elif action == "reject":
            post = moderation.reject(post, reason, actor=actor)
        else:  # "discard" tells the sender; "discard silently" / "discard: spam" tells nobody
            silent = bool(re.match(r"(silent(ly)?|spam)\b", reason, re.I))
            post = moderation.discard(post, actor=actor, silent=silent)
    except DirectoryError as exc:
        replied = _reply(msg, sender, "lists/email/moderation_reply.txt", {"error": exc.message})
        return Outcome.rejected(f"moderation reply refused: {exc.message} ({replied})")
    replied = _reply(msg, sender, "lists/email/moderation_reply.txt", {"post": post})
    return Outcome.done(f"post {post.pk}: {post.status} by {sender} ({replied})")


# --- -owner -----------------------------------------------------------------------------------------


def handle_owner(inbound: InboundMessage) -> Outcome:
    """Forward a message to the ``-owner`` address to the secretariat, attached."""
    msg = parse(bytes(inbound.raw))
    name, sender = sender_of(msg, inbound.mail_from)
    addresses = _addresses()
    loops = [str(v).strip().lower() for v in msg.get_all("X-Loop", [])]
    if addresses["owner_address"].lower() in loops or _own_list_address(sender):
        return Outcome.rejected("not forwarded: it came from the list itself (a loop)")
    to = queries.secretariat_addresses()
    if not to:
        return Outcome.rejected("not forwarded: the directory has no secretariat member")
    from django.template.loader import render_to_string

    with outbox.mail_language():
        subject = _("To the %(list)s owners from %(sender)s: %(subject)s") % {
            "list": settings.LIST_NAME,
            "sender": sender,
            "subject": headers.one_line(msg.get("Subject", "")) or _("(no subject)"),
        }
        body = render_to_string("lists/email/owner_forward.txt", {"sender": sender, **addresses})
    forward = outbox.build_message(
        subject=subject,
        body=body,
        to=to,
        reply_to=outbox.format_address(name, sender) if sender else None,
        headers={"X-Loop": addresses["owner_address"]},
    )
    forward.add_attachment(msg, filename="message.eml")
    outbox.enqueue(forward, purpose=OWNER_PURPOSE)
    return Outcome.done(f"forwarded to {', '.join(to)}")
