"""The list's endpoints: the members-only archive and the moderation queue.

Thin doors onto :mod:`tldops.lists.archive` (reading) and :mod:`tldops.lists.moderation`
(deciding); the rules live there.
"""

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from tldops.api.auth import AUTH, actor, require_member, require_staff
from tldops.api.schemas import AUTH_ERRORS, InputSchema, Pagination, Shaped, errors
from tldops.kernel.errors import NotFound
from tldops.lists import archive, moderation
from tldops.lists.models import ArchivedMessage, Post

router = Router(auth=AUTH)

BODY_PREVIEW = moderation.EXCERPT_CHARS

# --- Archive ---------------------------------------------------------------------------------------


class ArchiveThreadOut(Schema):
    id: int = Field(description="The thread's first message; use it with /archive/threads/{id}.")
    subject: str
    author_name: str
    author_email: str
    date: datetime = Field(description="When the thread started.")
    message_count: int = Field(description="Messages in the thread, the first included.")
    last_date: datetime | None = Field(description="Its latest message.")


class ArchiveAttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int = Field(description="Bytes.")
    url: str = Field(description="Download address in the portal (members signed in).")


class ArchivedMessageSummaryOut(Schema):
    id: int
    thread_id: int = Field(description="The id of the thread's first message.")
    parent_id: int | None = Field(description="The message this one answers, when archived.")
    message_id: str = Field(description="The Message-ID header, with its angle brackets.")
    subject: str
    author_name: str
    author_email: str
    date: datetime


class ArchivedMessageOut(ArchivedMessageSummaryOut):
    in_reply_to: str
    references: list[str]
    body: str = Field(description="The plain text of the message.")
    attachments: list[ArchiveAttachmentOut]


class ArchiveThreadMessageOut(ArchivedMessageOut):
    depth: int = Field(description="0 for the first message, 1 for a reply to it, and so on.")


class ArchiveThreadDetailOut(Schema):
    id: int
    subject: str
    messages: list[ArchiveThreadMessageOut] = Field(description="In reading order.")


class ArchiveThreadFilter(Schema):
    year: int | None = Field(None, ge=1990, le=9999, description="Threads started this year.")
    month: int | None = Field(None, ge=1, le=12, description="…and this month (with `year`).")


class ArchiveSearchFilter(Schema):
    q: str = Field(
        min_length=1, max_length=200, description="Words; every one must appear somewhere."
    )
    limit: int = Field(50, ge=1, le=200, description="How many messages to return at most.")


def _summary(m: ArchivedMessage) -> dict[str, Any]:
    return {
        "id": m.pk,
        "thread_id": m.thread_root_id or m.pk,
        "parent_id": m.parent_id,
        "message_id": m.message_id,
        "subject": m.subject,
        "author_name": m.author_name,
        "author_email": m.author_email,
        "date": m.date,
    }


def _message(m: ArchivedMessage) -> dict[str, Any]:
    return {
        **_summary(m),
        "in_reply_to": m.in_reply_to,
        "references": list(m.references),
        "body": m.body_text,
        "attachments": [
            {
                "id": a.pk,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "url": reverse("web:archive_attachment", args=[a.pk, a.filename]),
            }
            for a in m.attachments.defer("data")
        ],
    }


def _archived(pk: int) -> ArchivedMessage:
    found = ArchivedMessage.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound(_("There is no archived message number %(pk)s.") % {"pk": pk}, field="id")
    return found


@router.get(
    "/archive/threads",
    response={200: list[ArchiveThreadOut], **errors(*AUTH_ERRORS)},
    tags=["archive"],
    summary="Threads of the list archive",
)
@paginate(Pagination)
def list_threads(
    request: HttpRequest, filters: Query[ArchiveThreadFilter]
) -> QuerySet[ArchivedMessage]:
    """Threads, newest first, optionally those started in one month. Members only."""
    require_member(request)
    return archive.threads(year=filters.year, month=filters.month)


@router.get(
    "/archive/threads/{thread_id}",
    response={200: ArchiveThreadDetailOut, **errors(404, *AUTH_ERRORS)},
    tags=["archive"],
    summary="One whole thread",
)
def read_thread(request: HttpRequest, thread_id: int) -> dict[str, Any]:
    """Every message of the thread (give any of its messages' ids), in reading order."""
    require_member(request)
    entry = _archived(thread_id)
    items = archive.thread(entry)
    root = items[0][0]
    return {
        "id": root.pk,
        "subject": root.subject,
        "messages": [{**_message(m), "depth": depth} for m, depth in items],
    }


@router.get(
    "/archive/messages/{message_id}",
    response={200: ArchivedMessageOut, **errors(404, *AUTH_ERRORS)},
    tags=["archive"],
    summary="One archived message",
)
def read_message(request: HttpRequest, message_id: int) -> dict[str, Any]:
    """A message with its text and attachments (download them with the portal session)."""
    require_member(request)
    return _message(_archived(message_id))


class ArchiveSearchOut(Schema):
    items: list[ArchivedMessageSummaryOut] = Field(description="Best match first.")
    count: int = Field(description="How many are listed (at most `limit`).")


@router.get(
    "/archive/search",
    response={200: ArchiveSearchOut, **errors(*AUTH_ERRORS)},
    tags=["archive"],
    summary="Full-text search of the archive",
)
def search_archive(request: HttpRequest, filters: Query[ArchiveSearchFilter]) -> dict[str, Any]:
    """Messages whose subject, author or text contain every word of `q`, best match first:
    `{"items", "count"}` like every listing, at most `limit` of them."""
    require_member(request)
    items = [_summary(m) for m in archive.search(filters.q, limit=filters.limit)]
    return {"items": items, "count": len(items)}


# --- Moderation ------------------------------------------------------------------------------------


class HeldReasonOut(Schema):
    rule: str = Field(description="The rule that held the post (`member`, `max_size` …).")
    reason: str


class HeldPostOut(Schema):
    id: int
    status: str = Field(description="held, accepted, rejected or discarded.")
    sender: str
    sender_name: str
    is_member: bool = Field(description="Whether the sender is in the directory.")
    subject: str
    size: int = Field(description="Bytes.")
    received_at: datetime
    reasons: list[HeldReasonOut] = Field(description="Why it was held.")
    decision_reason: str = Field(description="For a rejection: the reason the sender was given.")


class HeldPostDetailOut(HeldPostOut):
    body: str = Field(description=f"The text of the post (first {BODY_PREVIEW} characters).")


class RejectPostIn(InputSchema):
    reason: str = Field(
        min_length=1,
        max_length=moderation.REJECTION_MAX_LENGTH,
        description="Why; sent to the sender, so write for them.",
    )


def _post(post: Post, *, body: bool = False) -> dict[str, Any]:
    out = {
        "id": post.pk,
        "status": post.status,
        "sender": post.sender,
        "sender_name": post.sender_name,
        "is_member": post.person_id is not None,
        "subject": post.subject,
        "size": post.size,
        "received_at": post.received_at,
        "reasons": [
            {"rule": str(r.get("rule", "")), "reason": str(r.get("reason", ""))}
            for r in post.reasons
        ],
        "decision_reason": post.decision_reason,
    }
    if body:
        out["body"] = post.excerpt  # stored when the post was held: no message is parsed here
    return out


@router.get(
    "/moderation/posts",
    response={200: list[HeldPostDetailOut], **errors(*AUTH_ERRORS)},
    tags=["moderation"],
    summary="The moderation queue (staff)",
)
@paginate(Pagination)
def held_posts(request: HttpRequest) -> Shaped:
    """Posts held for a moderator, oldest first, with why they were held: `{"items", "count"}`.

    Each post's `body` is the start of its text, stored when it was held.
    """
    require_staff(request)
    return Shaped(moderation.held_posts(), lambda p: _post(p, body=True))


@router.post(
    "/moderation/posts/{post_id}/approve",
    response={200: HeldPostOut, **errors(400, 404, *AUTH_ERRORS)},
    tags=["moderation"],
    summary="Approve a held post (staff)",
)
def approve(request: HttpRequest, post_id: int) -> dict[str, Any]:
    """Send it to every member, archive it, and tell its sender."""
    require_staff(request)
    return _post(moderation.approve(moderation.get_post(post_id), actor=actor(request)))


@router.post(
    "/moderation/posts/{post_id}/reject",
    response={200: HeldPostOut, **errors(400, 404, *AUTH_ERRORS)},
    tags=["moderation"],
    summary="Reject a held post, with a reason (staff)",
)
def reject(request: HttpRequest, post_id: int, body: RejectPostIn) -> dict[str, Any]:
    """Refuse it; the sender is told the reason."""
    require_staff(request)
    post = moderation.get_post(post_id)
    return _post(moderation.reject(post, body.reason, actor=actor(request)))


@router.post(
    "/moderation/posts/{post_id}/discard",
    response={200: HeldPostOut, **errors(400, 404, *AUTH_ERRORS)},
    tags=["moderation"],
    summary="Discard a held post (staff)",
)
def discard(request: HttpRequest, post_id: int, silent: bool = False) -> dict[str, Any]:
    """Drop it; its sender is told, unless `silent=true` (for spam: nobody is told)."""
    require_staff(request)
    post = moderation.get_post(post_id)
    return _post(moderation.discard(post, actor=actor(request), silent=silent))
