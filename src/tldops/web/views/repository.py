"""The contact repository in the portal: every edition sent, with its downloads, and the current
directory's downloads. For members and staff; the work is in :mod:`tldops.repository.editions`."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from tldops.kernel.errors import DirectoryError
from tldops.repository import editions
from tldops.web.access import member_required

FORMAT_LABELS = {
    "txt": _("Text"),
    "csv": _("CSV (spreadsheet)"),
    "vcf": _("vCard (address book)"),
    "pdf": _("PDF (print)"),
}


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@member_required
def repository(request: HttpRequest) -> HttpResponse:
    """The editions, newest first, and the current directory, each in every format."""
    return render(
        request,
        "web/repository.html",
        {"editions": list(editions.history()), "formats": FORMAT_LABELS},
    )


@member_required
def repository_edition(request: HttpRequest, period: str, fmt: str) -> HttpResponse:
    """A stored edition exactly as it was sent."""
    try:
        return _download(*editions.export(fmt, period=period))
    except DirectoryError as exc:  # no such edition, or an unknown format
        raise Http404(exc.message) from None


@member_required
def repository_current(request: HttpRequest, fmt: str) -> HttpResponse:
    """The current directory, made now (not stored)."""
    try:
        return _download(*editions.export(fmt))
    except DirectoryError as exc:
        raise Http404(exc.message) from None
