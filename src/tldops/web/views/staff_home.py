"""The staff home page (``/staff/``): what waits for the secretariat, each number a link to its
page; and the outbox page (``/staff/outbox/``), where failed deliveries are sent again."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from tldops.directory import permissions
from tldops.directory import queries as directory_queries
from tldops.directory.audit import Actor
from tldops.kernel.errors import DirectoryError
from tldops.mail import outbox
from tldops.mail import queries as mail_queries
from tldops.ops import summary as staff_summary
from tldops.web.access import staff_required

FAILED_PAGE_SIZE = 50


@staff_required
def staff_home(request: HttpRequest) -> HttpResponse:
    """The numbers of :func:`tldops.ops.summary.summary`, with the oldest pending contacts and
    the unreachable addresses listed below (they have no page of their own)."""
    return render(
        request,
        "web/staff_home.html",
        {
            "summary": staff_summary.summary(),
            "pending": directory_queries.pending_contacts(),
            "unreachable": directory_queries.unreachable_addresses(),
            "recent_bounce_days": directory_queries.RECENT_BOUNCE_DAYS,
        },
    )


@staff_required
def outbox_page(request: HttpRequest) -> HttpResponse:
    """The outbox's counts and its failed deliveries, newest first, each with a retry button."""
    page = Paginator(mail_queries.failed_deliveries(), FAILED_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "web/staff_outbox.html",
        {"counts": mail_queries.outbox_counts(), "page": page, "pager_params": {}},
    )


@require_POST
@staff_required
def outbox_retry(request: HttpRequest) -> HttpResponse:
    """Send failed deliveries again: one (``delivery``) or every failed one (``all``)."""
    actor = Actor.of(permissions.person_of(request.user), "web")
    raw = request.POST.get("delivery", "")
    try:
        if request.POST.get("all"):
            done = outbox.retry_failed(actor=actor, all_failed=True)
        elif raw.isdigit() and len(raw) < 19:
            done = outbox.retry_failed(actor=actor, ids=[int(raw)])
        else:
            done = outbox.retry_failed(actor=actor)  # refused: says what to name
    except DirectoryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            ngettext(
                "%(n)d delivery queued again: the worker sends it on its next round.",
                "%(n)d deliveries queued again: the worker sends them on its next round.",
                len(done),
            )
            % {"n": len(done)},
        )
    return redirect("web:staff_outbox")
