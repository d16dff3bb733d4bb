"""The posting address: every message sent to the list goes through one pipeline.

1. The intake has stored the raw bytes (:class:`~tldops.mail.models.InboundMessage`) and calls
   :func:`handle_post` (the route handler) in one transaction.
2. A :class:`~tldops.lists.models.Post` records the message: sender, Message-ID, size.
3. The **rules** (:mod:`tldops.lists.rules`) look at it and say why it must not go out as it is;
   the **chain** (:mod:`tldops.lists.chains`) turns their hits into one action, the strongest:
   discard > reject > hold > accept. Every hit is stored in ``Post.reasons``.
4. The action: **accept** → :func:`accept` (the **handlers** of :mod:`tldops.lists.handlers`
   prepare the copy, :func:`tldops.lists.distribute.fan_out` queues one copy per member, the
   archive keeps it); **hold** → :func:`tldops.lists.moderation.hold` (moderators are asked),
   unless the sender already has ``LIST_MAX_HELD_PER_SENDER`` posts waiting: then the post is
   refused, the sender told once (:func:`refuse_over_held_limit`), the moderators not mailed;
   **reject** → the sender is told why; **discard** → nothing more (loops, duplicates).
5. Other apps watch the posts through the mail core (:mod:`tldops.mail.community`): a post one
   of them says must never be shown to people it does not name (``[TLP:RED]``) is refused rather
   than held, so no moderator reads it; on accept, their verdict may label it, divert it (the
   alert's readers only) or refuse it (the sender is told why).

Held, rejected and discarded posts are never distributed nor archived. :func:`register_routes`
adds the list's four addresses to the intake's routing table (called when the app starts).
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.utils.translation import gettext as _

from tldops.directory.queries import member_by_address
from tldops.lists import chains, moderation
from tldops.lists.distribute import accept, withhold
from tldops.lists.models import Post
from tldops.lists.rules import RuleContext
from tldops.mail import community, headers, intake, outbox, senderauth
from tldops.mail.intake import Outcome
from tldops.mail.models import InboundMessage
from tldops.mail.parsing import automatic_reason, parse

log = logging.getLogger(__name__)

REJECT_PURPOSE = "list-rejected"
#: Characters of one rule's reason kept in ``Post.reasons`` (a reason may quote the message).
REASON_CHARS = 1000


# --- Routes ----------------------------------------------------------------------------------------


def register_routes() -> None:
    """Add the list's routes (posting, ``-request``, ``-owner``, ``-bounces+token``) to the intake.

    Called by the app's ``ready()``; call it again after changing ``LIST_ADDRESS`` (tests do).
    """
    for route in intake.list_routes(
        settings.LIST_ADDRESS,
        name="list",
        post="tldops.lists.pipeline.handle_post",
        request="tldops.lists.requests.handle_request",
        owner="tldops.lists.requests.handle_owner",
        bounces="tldops.lists.bounces.handle_bounce",
    ):
        intake.add_route(route)


# --- Reading ---------------------------------------------------------------------------------------


def sender_of(msg: EmailMessage, envelope_from: str) -> tuple[str, str]:
    """(name, address) of the author: the one mailbox of the From header
    (:func:`tldops.mail.headers.author`), or the envelope sender without one."""
    name, address = headers.author(msg)
    if "@" not in address:
        name, address = "", parseaddr(envelope_from)[1]
    return name.strip(), address.strip().lower()


# --- The route handler -----------------------------------------------------------------------------


def handle_post(inbound: InboundMessage) -> Outcome:
    """Take one message sent to the posting address through the rules, the chain and its action."""
    raw = bytes(inbound.raw)
    msg = parse(raw)
    name, sender = sender_of(msg, inbound.mail_from)
    person = member_by_address(sender) if sender else None
    message_id = headers.one_line(msg.get("Message-ID", ""), 998) or make_msgid(
        domain=settings.MAIL_DOMAIN
    )
    post = Post.objects.create(
        inbound=inbound,
        message_id=message_id[:998],
        sender=sender[:320],
        sender_name=headers.one_line(name, 300),
        person=person,
        subject=headers.one_line(msg.get("Subject", ""), 998),
        size=len(raw),
        status=Post.Status.HELD,  # until the chain decides, a few lines below
    )
    sender_check = senderauth.check(inbound, msg)
    ctx = RuleContext.build(
        inbound=inbound,
        msg=msg,
        post=post,
        sender=sender,
        person=person,
        sender_check=sender_check,
    )
    decision = chains.run(ctx)
    post.reasons = [
        {**h.as_json(), "reason": headers.one_line(h.reason, REASON_CHARS)} for h in decision.hits
    ]
    post.sender_authentic = sender_check.authentic
    post.save(update_fields=["reasons", "sender_authentic"])
    rules = ", ".join(h.rule for h in decision.hits) or "no rule fired"

    if decision.action == chains.ACCEPT:
        done = accept(post, msg)
        if done.out is not None:
            return Outcome.done(
                f"post {post.pk}: accepted, {done.out.deliveries.count()} copies queued ({rules})"
            )
        assert done.verdict is not None  # noqa: S101 - accept() returns no copy only with one
        if done.refused:
            told = tell_sender_rejected(post, msg, inbound.mail_from, [done.verdict.reason])
            return Outcome.rejected(f"post {post.pk}: refused by a watcher ({told})")
        return Outcome.done(f"post {post.pk}: diverted ({done.verdict.reason[:200]})")
    if decision.action in (chains.HOLD, chains.REJECT) and (secret := community.screen(msg)):
        # Never held: the moderators are not among the people it names.
        post.reasons = [
            *post.reasons,
            {"rule": "confidential", "action": "reject", "reason": secret, "confidential": True},
        ]
        post.status = Post.Status.REJECTED
        post.save(update_fields=["reasons", "status"])
        withhold(post)
        # Told only at a verified address: a forged From must not make tldops write to anyone.
        told = (
            tell_sender_rejected(post, msg, inbound.mail_from, [*decision.reasons, secret])
            if sender_check.authentic
            else "sender not told: the From address is not verified"
        )
        return Outcome.rejected(f"post {post.pk}: refused, confidential ({rules}; {told})")
    if decision.action == chains.HOLD:
        # Forged posts in a member's name count against that address's limit; they must not
        # crowd out the member's own, proven post.
        over = "" if sender_check.proven else moderation.held_limit_reason(post)
        if over:
            told = refuse_over_held_limit(post, msg, inbound.mail_from, over)
            return Outcome.rejected(
                f"post {post.pk}: refused, too many posts from {sender} held ({rules}; {told})"
            )
        moderation.hold(post, msg)
        return Outcome.done(f"post {post.pk}: held for moderation ({rules})")
    if decision.action == chains.REJECT:
        Post.objects.filter(pk=post.pk).update(status=Post.Status.REJECTED)
        told = tell_sender_rejected(post, msg, inbound.mail_from, decision.reasons)
        return Outcome.rejected(f"post {post.pk}: rejected ({rules}; {told})")
    Post.objects.filter(pk=post.pk).update(status=Post.Status.DISCARDED)
    return Outcome.rejected(f"post {post.pk}: discarded ({rules})")


def refuse_over_held_limit(post: Post, msg: EmailMessage, envelope_from: str, reason: str) -> str:
    """Refuse a post that would be held while its sender already has the most posts waiting.

    The post is kept as rejected, with the reason; the moderators are not mailed; the sender is
    told only the first time since their latest held post (:func:`moderation.told_of_held_limit`),
    so a flood gets one answer. What was done, for the intake's log.
    """
    already = moderation.told_of_held_limit(post)
    post.reasons = [
        *post.reasons,
        {"rule": moderation.HELD_LIMIT_RULE, "action": chains.REJECT, "reason": reason},
    ]
    post.status = Post.Status.REJECTED
    post.save(update_fields=["reasons", "status"])
    if already:
        return "sender not told: already told since their latest held post"
    return tell_sender_rejected(post, msg, envelope_from, [reason])


def tell_sender_rejected(
    post: Post, msg: EmailMessage, envelope_from: str, reasons: list[str]
) -> str:
    """Tell the sender why the list refused their message (never an automatic message's sender)."""
    why = automatic_reason(msg, envelope_from, post.sender) or _list_own_address(post.sender)
    if why:
        return f"sender not told: {why}"
    with outbox.mail_language():
        outbox.send_template(
            "lists/email/rejected.txt",
            {"post": post, "reasons": reasons, "list_address": settings.LIST_ADDRESS},
            subject=_("Your message to %(list)s was not distributed: %(subject)s")
            % {"list": settings.LIST_NAME, "subject": post.subject or _("(no subject)")},
            to=[post.sender],
            purpose=REJECT_PURPOSE,
            headers=_reply_headers(post),
        )
    return f"sender {post.sender} told"


def _list_own_address(address: str) -> str:
    local, _at, domain = settings.LIST_ADDRESS.lower().rpartition("@")
    if address.endswith(f"@{domain}") and address.split("@")[0].startswith(local):
        return "from the list's own address"
    return ""


def _reply_headers(post: Post) -> dict[str, str]:
    return {"In-Reply-To": post.message_id, "References": post.message_id}
