"""Fan-out: one accepted post becomes one outbox message with a delivery row per subscriber.

One individual copy per subscriber whose delivery is *regular* today (the list is small); those
reading a daily digest get a :class:`~tldops.lists.models.DigestItem` instead, in the same
transaction, which :mod:`tldops.lists.digest` turns into their next digest; those on *no mail*
get nothing (:mod:`tldops.directory.delivery` decides, for every door alike). Each copy: the envelope sender is VERP-encoded per
delivery (:mod:`tldops.mail.verp`) at send time, so a bounce names exactly who could not be
reached, and later features can personalise or encrypt each copy. The rows are written in the
caller's transaction; the delivery workers (:mod:`tldops.mail.outbox`) send them.
"""

from __future__ import annotations

from email.message import EmailMessage

from django.utils import timezone

from tldops.directory.delivery import list_delivery
from tldops.lists import archive
from tldops.lists.handlers import HandlerContext, prepare
from tldops.lists.models import DigestItem, Post
from tldops.mail.models import Delivery, OutboundMessage
from tldops.mail.verp import bounces_address


def fan_out(post: Post, msg: EmailMessage) -> OutboundMessage:
    """Queue ``msg`` (already prepared by the handlers) for every subscriber on regular delivery,
    and keep it for the next digest of those on digest delivery."""
    out = OutboundMessage.objects.create(
        purpose="list-post",
        subject=str(msg.get("Subject", ""))[:300],
        envelope_from=bounces_address(),
        raw=msg.as_bytes(),
        verp=True,
    )
    now = timezone.now()
    plan = list_delivery()
    Delivery.objects.bulk_create(
        [Delivery(message=out, recipient=r, next_attempt_at=now) for r in plan.regular],
        batch_size=1000,
    )
    DigestItem.objects.bulk_create(
        [DigestItem(person_id=pk, post=post) for pk in plan.digest],
        batch_size=1000,
        ignore_conflicts=True,
    )
    Post.objects.filter(pk=post.pk).update(outbound=out)
    return out


def accept(post: Post, msg: EmailMessage) -> OutboundMessage:
    """Prepare ``msg`` with the handlers, queue a copy for every member, archive it.

    The one path to the members, for a post no rule stopped (:mod:`tldops.lists.pipeline`) and for
    one a moderator approved (:mod:`tldops.lists.moderation`); it runs in the caller's transaction,
    so a post is distributed and archived together or not at all.
    """
    prepared = prepare(msg, HandlerContext.build(post, msg))
    out = fan_out(post, prepared)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.ACCEPTED)
    post.status = Post.Status.ACCEPTED
    post.outbound = out
    archive.archive_post(post, prepared)
    return out
