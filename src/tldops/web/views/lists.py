"""The list's pages: the members-only archive (by month, thread, message, search, mbox, attachments)
and the moderation queue for the secretariat and the committee.

Reading is in :mod:`tldops.lists.archive`; deciding is in :mod:`tldops.lists.moderation`. These
views only parse the request, call them and render the answer.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tldops.directory import permissions
from tldops.directory.audit import Actor
from tldops.kernel.errors import DirectoryError, InvalidInput, NotFound
from tldops.lists import archive, moderation
from tldops.lists.models import ArchivedMessage, Attachment, Post
from tldops.web.access import member_required, staff_required

THREADS_PER_PAGE = 50
HELD_PER_PAGE = 50
SEARCH_MAX = 200
#: Attachment types a browser could run as a page of ours: always served as plain downloads.
ACTIVE_TYPES = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
}


def _month_or_404(year: int, month: int) -> None:
    if not (1 <= month <= 12 and 1990 <= year <= 9999):
        raise Http404(_("There is no such month in the archive."))


@member_required
def archive_index(request: HttpRequest) -> HttpResponse:
    """The months that have posts, and the latest threads."""
    page = Paginator(archive.threads(), THREADS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/archive.html",
        {
            "months": [(y, m, n, dt.date(y, m, 1)) for y, m, n in archive.months()],
            "page": page,
        },
    )


@member_required
def archive_month(request: HttpRequest, year: int, month: int) -> HttpResponse:
    """The threads started in one month, newest first."""
    _month_or_404(year, month)
    page = Paginator(archive.threads(year=year, month=month), THREADS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "web/archive_month.html",
        {
            "year": year,
            "month": month,
            "month_date": dt.date(year, month, 1),
            "month_name": formats.date_format(dt.date(year, month, 1), "F Y"),
            "page": page,
            "count": archive.month_messages(year, month).count(),
        },
    )


@member_required
def archive_thread(request: HttpRequest, pk: int) -> HttpResponse:
    """A whole thread, replies indented under what they answer."""
    entry = get_object_or_404(ArchivedMessage, pk=pk)
    root = entry.thread_root or entry
    if root.pk != entry.pk:
        return redirect("web:archive_thread", pk=root.pk)
    items = archive.thread(root)
    atts = _attachments_by_message([m.pk for m, _d in items])
    return render(
        request,
        "web/archive_thread.html",
        {"root": root, "items": [(m, min(depth, 8), atts.get(m.pk, [])) for m, depth in items]},
    )


@member_required
def archive_message(request: HttpRequest, pk: int) -> HttpResponse:
    """One message with its headers, text and attachments."""
    entry = get_object_or_404(ArchivedMessage.objects.select_related("parent"), pk=pk)
    return render(
        request,
        "web/archive_message.html",
        {
            "m": entry,
            "attachments": list(entry.attachments.defer("data")),
            "replies": list(entry.replies.order_by("date", "id")),
            "root": entry.thread_root or entry,
        },
    )


@member_required
def archive_search(request: HttpRequest) -> HttpResponse:
    """Full-text search over subjects, authors and bodies."""
    q = request.GET.get("q", "").strip()[:SEARCH_MAX]
    results = archive.search(q) if q else []
    return render(request, "web/archive_search.html", {"q": q, "results": results})


def _mbox_response(messages_: QuerySet[ArchivedMessage], filename: str) -> StreamingHttpResponse:
    """Stream the mbox: a message at a time, never the whole file in memory."""
    response = StreamingHttpResponse(
        archive.stream_mbox(messages_), content_type="application/mbox"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@member_required
def archive_mbox(request: HttpRequest) -> StreamingHttpResponse:
    """The whole archive as one mbox file."""
    return _mbox_response(ArchivedMessage.objects.all(), "tld-ops.mbox")


@member_required
def archive_month_mbox(request: HttpRequest, year: int, month: int) -> StreamingHttpResponse:
    _month_or_404(year, month)
    return _mbox_response(
        archive.month_messages(year, month), f"tld-ops-{year:04d}-{month:02d}.mbox"
    )


@member_required
def archive_thread_mbox(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    entry = get_object_or_404(ArchivedMessage.objects.only("thread_root"), pk=pk)
    return _mbox_response(archive.thread_messages(entry), f"tld-ops-thread-{pk}.mbox")


@member_required
def archive_attachment(request: HttpRequest, pk: int, filename: str) -> HttpResponse:
    """An attachment, always as a download (never rendered as one of our pages)."""
    att = get_object_or_404(Attachment, pk=pk)
    ctype = att.content_type if att.content_type not in ACTIVE_TYPES else "application/octet-stream"
    response = HttpResponse(bytes(att.data), content_type=ctype)
    safe = att.filename.replace('"', "").replace("\r", "").replace("\n", "")
    try:
        safe.encode("ascii")
        response["Content-Disposition"] = f'attachment; filename="{safe}"'
    except UnicodeEncodeError:
        from urllib.parse import quote

        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(safe)}"
    return response


def _attachments_by_message(ids: list[int]) -> dict[int, list[Attachment]]:
    found: dict[int, list[Attachment]] = {}
    for att in Attachment.objects.filter(message_id__in=ids).defer("data"):
        found.setdefault(att.message_id, []).append(att)
    return found


# --- Moderation ------------------------------------------------------------------------------------


def _held_item(post: Post, request: HttpRequest, errors: dict[int, str]) -> dict[str, object]:
    return {
        "post": post,
        "reasons": [r.get("reason", "") for r in post.reasons],
        "body": post.excerpt,
        "attachments": post.attachment_list,
        "error": errors.get(post.pk, ""),
        "reason_value": request.POST.get("reason", "")
        if str(post.pk) == request.POST.get("post")
        else "",
    }


@staff_required
@require_http_methods(["GET", "POST"])
def moderation_queue(request: HttpRequest) -> HttpResponse:
    """Held posts, oldest first, each with approve / reject (with a reason) / discard.

    The page reads the summary stored when each post was held (never the raw messages), a page
    of :data:`HELD_PER_PAGE` at a time.
    """
    status = 200
    errors: dict[int, str] = {}
    failed = ""
    if request.method == "POST":
        pk = request.POST.get("post", "")
        decision = request.POST.get("decision", "")
        actor = Actor.of(permissions.person_of(request.user), "web")
        try:
            post = moderation.get_post(pk)
            if decision == "approve":
                moderation.approve(post, actor=actor)
                messages.success(
                    request, _("Post %(pk)s was approved and sent to the list.") % {"pk": post.pk}
                )
            elif decision == "reject":
                moderation.reject(post, request.POST.get("reason", ""), actor=actor)
                messages.success(
                    request,
                    _("Post %(pk)s was rejected; its sender is told why.") % {"pk": post.pk},
                )
            elif decision == "discard":
                moderation.discard(post, actor=actor)
                messages.success(
                    request, _("Post %(pk)s was discarded; its sender is told.") % {"pk": post.pk}
                )
            elif decision == "discard-silently":
                moderation.discard(post, actor=actor, silent=True)
                messages.success(
                    request, _("Post %(pk)s was discarded silently.") % {"pk": post.pk}
                )
            else:
                raise InvalidInput(
                    _("Choose approve, reject, discard or discard silently."), field="decision"
                )
            return redirect("web:moderation")
        except DirectoryError as exc:
            status = exc.status
            errors = {int(pk): exc.message} if pk.isdigit() else {}
            failed = exc.message
    page = Paginator(moderation.held_posts(), HELD_PER_PAGE).get_page(request.GET.get("page"))
    if failed and not any(post.pk in errors for post in page):
        messages.error(request, failed)  # not a post on this page: said at the top
    posts = [_held_item(post, request, errors) for post in page]
    return render(request, "web/moderation.html", {"posts": posts, "page": page}, status=status)


@staff_required
@require_http_methods(["GET"])
def moderation_post(request: HttpRequest, pk: int) -> HttpResponse:
    """One post: its whole text (bounded) and attachments, and the decisions if it is held.

    The one moderation page that parses a message: this one, once.
    """
    try:
        post = moderation.get_post(pk)  # a withheld (TLP:RED) post is not found: not staff's
    except NotFound:
        raise Http404 from None
    item = _held_item(post, request, {})
    item.update(moderation.details(post))
    return render(request, "web/moderation_post.html", {"item": item, "post": post})
