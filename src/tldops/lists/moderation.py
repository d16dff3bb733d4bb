"""Moderation: held posts wait for a moderator (secretariat or committee) to decide.

:func:`hold` stores what moderators look at (:func:`summarise`: a bounded excerpt and the list of
attachments, on the :class:`Post` row) and asks the moderators, with a notice that summarises the
post, links to its page in the portal, carries a reference ``[mod:<id>-<nonce>]`` they can reply
to, and attaches the original only when it is small (``LIST_HOLD_ATTACH_MAX``). A flood of held
posts therefore costs each listing a few columns per post, and each notice a bounded size. One
sender may have at most ``LIST_MAX_HELD_PER_SENDER`` posts waiting (:func:`held_limit_reason`).

:func:`approve`, :func:`reject` and :func:`discard` are the decisions: each runs in one
transaction, is audited, and tells the sender (except discard, which is for spam: its sender
hears nothing). Every door — the portal, the API, ``tldops moderate``, a reply to the notice —
calls these functions; none decides anything itself.
"""

from __future__ import annotations

import re
import secrets
from email.message import EmailMessage, Message
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tldops.directory.audit import Actor, record
from tldops.directory.models import Person, Role
from tldops.directory.validation import clean_text
from tldops.kernel.errors import InvalidInput, NotAuthorised, NotFound
from tldops.lists.archive import body_text, iter_attachments
from tldops.lists.distribute import accept, is_withheld
from tldops.lists.models import Post
from tldops.mail import outbox
from tldops.mail.headers import storable
from tldops.mail.parsing import automatic_reason, parse

NOTICE_PURPOSE = "list-moderation"
OUTCOME_PURPOSE = "list-moderated"
MODERATOR_ROLES = (Role.SECRETARIAT, Role.COMMITTEE)
REF_PATTERN = re.compile(r"\[mod:(\d+)-([0-9a-f]{8,32})\]", re.IGNORECASE)
#: Characters of a held post's text stored for the queue (and shown there and in the API).
EXCERPT_CHARS = 4000
#: Characters of that excerpt quoted in the moderators' notice.
NOTICE_EXCERPT_CHARS = 1500
#: Attachments listed for a held post (name, type, size); more are counted, not listed.
ATTACHMENTS_LISTED = 50
#: Characters of a held post's text shown on its own page (which parses that one post).
DETAIL_CHARS = 200_000
#: The rule name recorded in ``Post.reasons`` when a post is refused for the per-sender limit.
HELD_LIMIT_RULE = "held_limit"
#: The columns a listing reads: never the raw message, which is on the InboundMessage.
LISTING_FIELDS = (
    "id",
    "status",
    "message_id",
    "sender",
    "sender_name",
    "person",
    "subject",
    "size",
    "reasons",
    "received_at",
    "decided_at",
    "decision_door",
    "decision_reason",
    "excerpt",
    "attachment_list",
)


def moderators() -> QuerySet[Person]:
    return Person.objects.filter(role__in=MODERATOR_ROLES).order_by("email")


def moderator_by_address(address: str) -> Person | None:
    """The moderator whose primary or alternate address this is, if any."""
    addr = address.strip().lower()
    for person in moderators():
        if addr == person.email.lower() or addr in {a.lower() for a in person.alt_emails}:
            return person
    return None


def reference(post: Post) -> str:
    """``[mod:<id>-<nonce>]``: names the post in the notice's subject, for the email door."""
    return f"[mod:{post.pk}-{post.moderation_nonce}]"


def held_posts() -> QuerySet[Post]:
    """The moderation queue, oldest first: only the summary columns (:data:`LISTING_FIELDS`)."""
    return listing(Post.objects.filter(status=Post.Status.HELD)).order_by("received_at", "id")


def listing(posts: QuerySet[Post]) -> QuerySet[Post]:
    """``posts`` reading only what a listing shows, so no door loads a raw message for a list."""
    return posts.only(*LISTING_FIELDS)


def get_post(pk: int | str) -> Post:
    """Post ``pk``, for the moderation doors; a withheld (confidential) post is not found, the same
    answer as for a number that does not exist (:func:`tldops.lists.distribute.withhold`)."""
    try:
        post = Post.objects.select_related("inbound", "person").get(pk=int(pk))
    except (Post.DoesNotExist, ValueError):
        post = None
    if post is None or is_withheld(post):
        raise NotFound(_("There is no post number %(pk)s.") % {"pk": pk}, field="post")
    return post


def original_message(post: Post) -> EmailMessage:
    """The held message, parsed: for one post at a time (its page, a decision), never a list."""
    return parse(bytes(post.inbound.raw))


def summarise(msg: Message) -> dict[str, Any]:
    """What the queue shows of a post, bounded: the start of its text and its attachments.

    Computed once, when the post is held (and by migration 0004 for posts held before), so the
    listings never parse a message again.
    """
    return {
        "excerpt": storable(body_text(msg)[:EXCERPT_CHARS]),
        "attachment_list": _attachment_list(msg),
    }


def _attachment_list(msg: Message) -> list[dict[str, Any]]:
    """Name, type and size of the first :data:`ATTACHMENTS_LISTED` attachments, and how many more."""
    listed: list[dict[str, Any]] = []
    more = 0
    for name, ctype, data in iter_attachments(msg):
        if len(listed) < ATTACHMENTS_LISTED:
            listed.append(
                {"filename": storable(name), "content_type": storable(ctype), "size": len(data)}
            )
        else:
            more += 1
    if more:
        listed.append({"filename": f"… +{more}", "content_type": "", "size": 0})
    return listed


def details(post: Post) -> dict[str, Any]:
    """One post's page: its text (up to :data:`DETAIL_CHARS`) and every attachment's name.

    Parses that one message (at most ``MAX_MESSAGE_SIZE`` bytes); the queue never calls this.
    """
    msg = original_message(post)
    text = body_text(msg)
    return {
        "body": text[:DETAIL_CHARS],
        "truncated": len(text) > DETAIL_CHARS,
        "attachments": _attachment_list(msg),
    }


def portal_url(post: Post) -> str:
    """The post's page in the portal, for the notice."""
    from django.urls import reverse

    return settings.BASE_URL.rstrip("/") + reverse("web:moderation_post", args=[post.pk])


# --- The per-sender limit --------------------------------------------------------------------------


def held_limit_reason(post: Post) -> str:
    """Why ``post`` may not be held — its sender already has ``LIST_MAX_HELD_PER_SENDER`` posts
    waiting — for the sender to read; ``""`` when it may.

    Without this one sender (or one forged address) could fill the queue and each moderator's
    mailbox. The post is then refused instead (see :func:`tldops.lists.pipeline.handle_post`).
    """
    limit = settings.LIST_MAX_HELD_PER_SENDER
    if limit <= 0:
        return ""
    waiting = (
        Post.objects.filter(status=Post.Status.HELD, sender=post.sender).exclude(pk=post.pk).count()
    )
    if waiting < limit:
        return ""
    return ngettext(
        "You already have %(n)d message waiting for a moderator's decision, the most the list "
        "keeps from one sender. Send this one again once the moderators have decided.",
        "You already have %(n)d messages waiting for a moderator's decision, the most the list "
        "keeps from one sender. Send this one again once the moderators have decided.",
        waiting,
    ) % {"n": waiting}


def told_of_held_limit(post: Post) -> bool:
    """Whether ``post``'s sender was already refused for the limit since their latest held post.

    The sender is told once each time their queue is full, not once per refused post: a flood
    (perhaps from a forged address) gets one answer.
    """
    latest_held = (
        Post.objects.filter(status=Post.Status.HELD, sender=post.sender)
        .exclude(pk=post.pk)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return (
        Post.objects.filter(
            sender=post.sender,
            status=Post.Status.REJECTED,
            pk__gt=latest_held or 0,
            reasons__icontains=HELD_LIMIT_RULE,
        )
        .exclude(pk=post.pk)
        .exists()
    )


# --- Holding ---------------------------------------------------------------------------------------


def hold(post: Post, msg: Message) -> None:
    """Keep ``post`` for moderation and send each moderator the notice (in the caller's transaction).

    The notice is a summary with a link to the post's page; the original is attached only up to
    ``LIST_HOLD_ATTACH_MAX`` bytes, so a large held post is not copied into every moderator's
    mailbox.
    """
    post.status = Post.Status.HELD
    post.moderation_nonce = secrets.token_hex(8)
    for field, value in summarise(msg).items():
        setattr(post, field, value)
    post.save(update_fields=["status", "moderation_nonce", "excerpt", "attachment_list"])
    to = list(moderators().values_list("email", flat=True))
    if not to:
        return
    local, _at, domain = settings.LIST_ADDRESS.rpartition("@")
    request_address = f"{local}-request@{domain}"
    attach = post.size <= settings.LIST_HOLD_ATTACH_MAX
    with outbox.mail_language():
        subject = _("%(list)s moderation: post %(pk)s from %(sender)s — %(subject)s %(ref)s") % {
            "list": settings.LIST_NAME,
            "pk": post.pk,
            "sender": post.sender,
            "subject": post.subject[:200] or _("(no subject)"),
            "ref": reference(post),
        }
        from django.template.loader import render_to_string

        excerpt = post.excerpt[:NOTICE_EXCERPT_CHARS]
        body = render_to_string(
            "lists/email/held_notice.txt",
            {
                "post": post,
                "reasons": [r.get("reason", "") for r in post.reasons],
                "request_address": request_address,
                "base_url": settings.BASE_URL,
                "url": portal_url(post),
                "excerpt": excerpt,
                "excerpt_cut": len(post.excerpt) > len(excerpt),
                "attachments": post.attachment_list,
                "attached": attach,
                "attach_max": settings.LIST_HOLD_ATTACH_MAX,
            },
        )
    # Reference should fit: cut the subject, never the reference at its end.
    subject = subject if len(subject) <= 250 else subject[:200] + "… " + reference(post)
    for address in to:  # one notice each: a moderator's reply then names only them
        notice = outbox.build_message(
            subject=subject, body=body, to=[address], reply_to=request_address
        )
        if attach:
            notice.add_attachment(msg, disposition="inline", filename="held-post.eml")
        outbox.enqueue(notice, purpose=NOTICE_PURPOSE)


# --- Deciding --------------------------------------------------------------------------------------


def check_moderator(actor: Actor) -> None:
    """Moderators decide; the command line (operator access) and the system also may."""
    if actor.person is not None:
        if actor.role not in MODERATOR_ROLES:
            raise NotAuthorised(_("Only the secretariat and the committee moderate the list."))
    elif actor.door not in ("cli", "system"):
        raise NotAuthorised(_("Only the secretariat and the committee moderate the list."))


def _lock_held(post: Post | int) -> Post:
    pk = post.pk if isinstance(post, Post) else int(post)
    locked = (
        Post.objects.select_for_update(of=("self",))
        .select_related("inbound", "person")
        .filter(pk=pk)
        .first()
    )
    if locked is None:
        raise NotFound(_("There is no post number %(pk)s.") % {"pk": pk}, field="post")
    if locked.status != Post.Status.HELD:
        raise InvalidInput(
            _("Post %(pk)s is not waiting for moderation: it was already %(status)s.")
            % {"pk": pk, "status": locked.get_status_display()},
            field="post",
        )
    return locked


def _decided(post: Post, status: str, actor: Actor, reason: str = "") -> None:
    post.status = status
    post.decided_at = timezone.now()
    post.decided_by = actor.person
    post.decision_door = actor.door[:8]
    post.decision_reason = reason
    post.save(
        update_fields=["status", "decided_at", "decided_by", "decision_door", "decision_reason"]
    )
    record(
        actor,
        f"list-{status}",
        f"post {post.pk} from {post.sender} “{post.subject[:200]}”: {status}"
        + (f" ({reason[:200]})" if reason else ""),
        person=post.person,
        before={"status": Post.Status.HELD, "reasons": post.reasons},
        after={"status": status, "reason": reason},
    )


def approve(post: Post | int, *, actor: Actor) -> Post:
    """Distribute a held post to the members (handlers, fan-out, archive) and tell its sender."""
    check_moderator(actor)
    with transaction.atomic():
        post = _lock_held(post)
        done = accept(post, original_message(post))
        if done.refused:  # another app's watcher refused it (an alert template with errors)
            assert done.verdict is not None  # noqa: S101 - refused implies a verdict
            _decided(post, Post.Status.REJECTED, actor, done.verdict.reason)
            _tell_sender(post, outcome="rejected", reason=done.verdict.reason)
            return post
        _decided(post, post.status, actor)
        _tell_sender(post, outcome="approved")
    return post


#: A rejection reason is mailed to the sender: a paragraph, not a document.
REJECTION_MAX_LENGTH = 2000


def reject(post: Post | int, reason: str, *, actor: Actor) -> Post:
    """Refuse a held post; the sender is told the reason."""
    check_moderator(actor)
    reason = clean_text(
        reason, field_name="reason", max_length=REJECTION_MAX_LENGTH, what=_("The reason")
    )
    if not reason:
        raise InvalidInput(
            _("Give a reason for the rejection: the sender reads it."), field="reason"
        )
    with transaction.atomic():
        post = _lock_held(post)
        _decided(post, Post.Status.REJECTED, actor, reason)
        _tell_sender(post, outcome="rejected", reason=reason)
    return post


def discard(post: Post | int, *, actor: Actor, silent: bool = False) -> Post:
    """Drop a held post; its sender is told, unless ``silent`` — for spam, where an answer would
    only reach a forged address or confirm a live one to the spammer."""
    check_moderator(actor)
    with transaction.atomic():
        post = _lock_held(post)
        _decided(post, Post.Status.DISCARDED, actor, "silently" if silent else "")
        if not silent:
            _tell_sender(post, outcome="discarded")
    return post


def _tell_sender(post: Post, *, outcome: str, reason: str = "") -> None:
    if not post.sender or automatic_reason(
        original_message(post), post.inbound.mail_from, post.sender
    ):
        return
    with outbox.mail_language():
        subject = {
            "approved": _("Your message to %(list)s was approved: %(subject)s"),
            "rejected": _("Your message to %(list)s was rejected: %(subject)s"),
            "discarded": _("Your message to %(list)s was discarded: %(subject)s"),
        }[outcome]
        subject = subject % {
            "list": settings.LIST_NAME,
            "subject": post.subject or _("(no subject)"),
        }
        outbox.send_template(
            "lists/email/moderated.txt",
            {
                "post": post,
                "outcome": outcome,
                "reason": reason,
                "list_address": settings.LIST_ADDRESS,
            },
            subject=subject[:250],
            to=[post.sender],
            purpose=OUTCOME_PURPOSE,
            headers={"In-Reply-To": post.message_id, "References": post.message_id},
        )


__all__ = [
    "approve",
    "details",
    "discard",
    "get_post",
    "held_limit_reason",
    "held_posts",
    "hold",
    "listing",
    "moderator_by_address",
    "moderators",
    "reference",
    "reject",
    "summarise",
    "told_of_held_limit",
]
