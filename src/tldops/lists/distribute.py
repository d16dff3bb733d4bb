"""Fan-out: one accepted post becomes one outbox message with a delivery row per subscriber.

One individual copy per subscriber whose delivery is *regular* today (the list is small); those
reading a daily digest get a :class:`~tldops.lists.models.DigestItem` instead, in the same
transaction, which :mod:`tldops.lists.digest` turns into their next digest; those on *no mail*
get nothing (:mod:`tldops.directory.delivery` decides, for every door alike). Each copy: the envelope sender is VERP-encoded per
delivery (:mod:`tldops.mail.verp`) at send time, so a bounce names exactly who could not be
reached, and later features can personalise or encrypt each copy. The rows are written in the
caller's transaction; the delivery workers (:mod:`tldops.mail.outbox`) send them.

Other apps reach the list through the mail core (:mod:`tldops.mail.community`): :func:`accept`
asks their watchers what becomes of each post before it goes out (an alert gets its label, a
reply to a TLP:RED alert never reaches the list), and :func:`post_from_app` is the poster they
call to put a message of theirs on the list (an alert raised in the portal).
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.utils import timezone

from tldops.directory.delivery import list_delivery
from tldops.lists import archive
from tldops.lists.handlers import HandlerContext, prepare
from tldops.lists.models import DigestItem, Post
from tldops.mail import community, headers
from tldops.mail.community import Action, ListPost, Verdict
from tldops.mail.models import Delivery, InboundMessage, OutboundMessage
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


@dataclass(frozen=True)
class Accepted:
    """What :func:`accept` did: ``out`` is the queued copy, or ``None`` when another app's watcher
    diverted or refused the post (``verdict`` says which and why)."""

    out: OutboundMessage | None
    verdict: Verdict | None = None

    @property
    def refused(self) -> bool:
        return self.verdict is not None and self.verdict.action == Action.REFUSE


def accept(
    post: Post, msg: EmailMessage, *, verdict: Verdict | None = None, watch: bool = True
) -> Accepted:
    """Prepare ``msg`` with the handlers, queue a copy for every member, archive it.

    The one path to the members, for a post no rule stopped (:mod:`tldops.lists.pipeline`), for
    one a moderator approved (:mod:`tldops.lists.moderation`) and for another app's own post
    (:func:`post_from_app`); it runs in the caller's transaction, so a post is distributed and
    archived together or not at all. First the other apps' watchers say what becomes of it
    (``watch``; :func:`tldops.mail.community.take`): distributed with their label and banner,
    diverted (status ``diverted``: they delivered it to fewer people), or refused (status
    ``rejected``; the caller tells the sender ``verdict.reason``). Neither of the last two is
    distributed or archived.
    """
    if watch:
        verdict = community.take(
            ListPost(
                msg=msg,
                sender=post.sender,
                person=post.person,
                message_id=post.message_id,
                authentic=post.sender_authentic,
                post_id=post.pk,
            )
        )
    if verdict is not None and verdict.action != Action.DISTRIBUTE:
        status = Post.Status.DIVERTED if verdict.action == Action.DIVERT else Post.Status.REJECTED
        post.status = status
        hit = {"rule": "watcher", "action": str(verdict.action), "reason": verdict.reason[:1000]}
        if verdict.confidential:
            hit["confidential"] = True
        post.reasons = [*post.reasons, hit]
        post.save(update_fields=["status", "reasons"])
        if verdict.confidential:
            withhold(post)
        return Accepted(None, verdict)
    if verdict is not None and verdict.subject is not None:
        del msg["Subject"]
        msg["Subject"] = headers.one_line(verdict.subject, 998)
    prepared = prepare(
        msg,
        HandlerContext.build(
            post,
            msg,
            subject_label=verdict.label if verdict else "",
            banner=verdict.banner if verdict else "",
        ),
    )
    out = fan_out(post, prepared)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.ACCEPTED)
    post.status = Post.Status.ACCEPTED
    post.outbound = out
    archive.archive_post(post, prepared)
    return Accepted(out, verdict)


#: What a confidential post's stored message becomes (:func:`withhold`).
WITHHELD = (
    b"X-Tldops-Withheld: confidential; this message is kept only where its readers may read it\r\n"
    b"\r\n"
)


def withhold(post: Post) -> None:
    """Keep a confidential post (TLP:RED: an alert, a reply to one, a refused post labelled so)
    out of every page and command of the list: the moderation queue, the post's page and
    ``tldops moderate show`` read the stored message, and staff, who read them, are not among
    the people it names. Its subject is blanked and the stored bytes replaced by a note; what it
    said lives only where its readers may read it (the alert's thread, their mailboxes).
    :func:`tldops.lists.moderation.get_post` no longer finds it."""
    post.subject = ""
    Post.objects.filter(pk=post.pk).update(subject="")
    InboundMessage.objects.filter(pk=post.inbound_id).update(raw=WITHHELD)


def is_withheld(post: Post) -> bool:
    return any(hit.get("confidential") for hit in post.reasons or [])


def post_from_app(msg: EmailMessage, *, sender: str, person: Any, verdict: Verdict) -> str:
    """The list's poster (:func:`tldops.mail.community.register_poster`): put another app's
    message on the list as a post by ``person``, whom that app's door has authenticated (the
    portal's login, an API token), so the list's rules are not asked again. The message is kept
    as received mail is (an :class:`InboundMessage`, route ``list``), so the post is archived,
    threaded and downloadable like any other. Returns its Message-ID."""
    if not msg.get("Message-ID"):
        msg["Message-ID"] = make_msgid(domain=settings.MAIL_DOMAIN)
    message_id = headers.one_line(str(msg["Message-ID"]), 998)
    raw = msg.as_bytes()
    inbound = InboundMessage.objects.create(
        mail_from=sender,
        rcpt_to=[settings.LIST_ADDRESS],
        raw=raw,
        status=InboundMessage.Status.DONE,
        route="list",
        result=f"posted through the portal or the API by {sender}",
    )
    name = headers.author(msg)[0]
    post = Post.objects.create(
        inbound=inbound,
        message_id=message_id,
        sender=sender[:320],
        sender_name=headers.one_line(name, 300),
        person=person,
        subject=headers.one_line(str(msg.get("Subject", "")), 998),
        size=len(raw),
        status=Post.Status.HELD,  # accept() makes it accepted
        sender_authentic=True,  # the door that called authenticated the person
    )
    accept(post, msg, verdict=verdict, watch=False)
    return message_id
