"""Moderation: held posts wait for a moderator (secretariat or committee) to decide.

:func:`hold` asks the moderators, with a notice that carries the post and a reference
``[mod:<id>-<nonce>]`` they can reply to. :func:`approve`, :func:`reject` and :func:`discard` are
the decisions: each runs in one transaction, is audited, and tells the sender (except discard,
which is for spam: its sender hears nothing). Every door — the portal, the API, ``tldops
moderate``, a reply to the notice — calls these functions; none decides anything itself.
"""

from __future__ import annotations

import re
import secrets
from email.message import EmailMessage

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops.directory.audit import Actor, record
from tldops.directory.errors import InvalidInput, NotAuthorised, NotFound
from tldops.directory.models import Person, Role
from tldops.directory.validation import clean_text
from tldops.lists import outbox
from tldops.lists.models import Post

NOTICE_PURPOSE = "list-moderation"
OUTCOME_PURPOSE = "list-moderated"
MODERATOR_ROLES = (Role.SECRETARIAT, Role.COMMITTEE)
REF_PATTERN = re.compile(r"\[mod:(\d+)-([0-9a-f]{8,32})\]", re.IGNORECASE)


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
    """The moderation queue, oldest first."""
    return Post.objects.filter(status=Post.Status.HELD).order_by("received_at", "id")


def get_post(pk: int | str) -> Post:
    try:
        return Post.objects.select_related("inbound", "person").get(pk=int(pk))
    except (Post.DoesNotExist, ValueError):
        raise NotFound(_("There is no post number %(pk)s.") % {"pk": pk}, field="post") from None


def original_message(post: Post) -> EmailMessage:
    from tldops.lists.pipeline import parse

    return parse(bytes(post.inbound.raw))


# --- Holding ---------------------------------------------------------------------------------------


def hold(post: Post) -> None:
    """Keep ``post`` for moderation and send each moderator the notice (in the caller's transaction)."""
    post.status = Post.Status.HELD
    post.moderation_nonce = secrets.token_hex(8)
    post.save(update_fields=["status", "moderation_nonce"])
    to = list(moderators().values_list("email", flat=True))
    if not to:
        return
    local, _at, domain = settings.LIST_ADDRESS.rpartition("@")
    request_address = f"{local}-request@{domain}"
    with outbox.mail_language():
        subject = _("%(list)s moderation: post %(pk)s from %(sender)s — %(subject)s %(ref)s") % {
            "list": settings.LIST_NAME,
            "pk": post.pk,
            "sender": post.sender,
            "subject": post.subject or _("(no subject)"),
            "ref": reference(post),
        }
        from django.template.loader import render_to_string

        body = render_to_string(
            "lists/email/held_notice.txt",
            {
                "post": post,
                "reasons": [r.get("reason", "") for r in post.reasons],
                "request_address": request_address,
                "base_url": settings.BASE_URL,
            },
        )
    for address in to:  # one notice each: a moderator's reply then names only them
        msg = outbox.build_message(
            subject=subject[:250], body=body, to=[address], reply_to=request_address
        )
        msg.add_attachment(original_message(post), disposition="inline", filename="held-post.eml")
        outbox.enqueue(msg, purpose=NOTICE_PURPOSE)


# --- Deciding --------------------------------------------------------------------------------------


def check_moderator(actor: Actor) -> None:
    """Moderators decide; the command line (operator access) and the system also may."""
    if actor.person is not None:
        if actor.person.role not in MODERATOR_ROLES:
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
    from tldops.lists.pipeline import accept

    check_moderator(actor)
    with transaction.atomic():
        post = _lock_held(post)
        accept(post, original_message(post))
        _decided(post, Post.Status.ACCEPTED, actor)
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
    from tldops.directory.mail_door import automatic_reason

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
    "discard",
    "get_post",
    "held_posts",
    "hold",
    "moderator_by_address",
    "moderators",
    "reference",
    "reject",
]
