"""The page of a member's personal alert filters (issue 10): list, add, delete.

A thin door onto :mod:`tldops.alerts.notify`: what a filter may say, how many one may keep and
whose filter one may delete are decided there. Like the other alert pages, never in the page cache
and always ``Cache-Control: private, no-store``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tldops.alerts import notify
from tldops.alerts.models import MAX_FILTERS_PER_PERSON, Alert, AlertFilter
from tldops.kernel.errors import DirectoryError, NotFound
from tldops.web.access import member_required
from tldops.web.views.alerts import _actor, _items, _messages_of, _person, private

FIELDS = ("categories", "tlds", "min_severity", "mode")


def _page(
    request: HttpRequest, values: dict[str, Any], errors: dict[str, str], status: int
) -> HttpResponse:
    person = _person(request)
    return render(
        request,
        "web/alerts/filters.html",
        {
            "filters": [notify.describe(f) for f in notify.list_filters(person)],
            "values": values,
            "errors": errors,
            "categories": Alert.Category.choices,
            "category_names": dict(Alert.Category.choices),
            "severities": Alert.Severity.choices,
            "modes": AlertFilter.Mode.choices,
            "max_filters": MAX_FILTERS_PER_PERSON,
        },
        status=status,
    )


@member_required
@private
@require_http_methods(["GET", "POST"])
def alert_filters(request: HttpRequest) -> HttpResponse:
    """The signed-in person's filters, and the form to add one (every problem shown beside its
    field, what was typed kept, nothing stored until all is right)."""
    values: dict[str, Any] = {
        "categories": [],
        "tlds": "",
        "min_severity": Alert.Severity.LOW,
        "mode": AlertFilter.Mode.IMMEDIATE,
    }
    if request.method != "POST":
        return _page(request, values, {}, 200)
    post = request.POST
    values = {
        # Bounded: at most one of each category; the service bounds the ccTLDs.
        "categories": post.getlist("categories")[: len(Alert.Category.values) + 1],
        "tlds": post.get("tlds", "")[:2000],
        "min_severity": post.get("min_severity", "")[:20],
        "mode": post.get("mode", "")[:20],
    }
    person = _person(request)
    data = notify.FilterInput(
        categories=values["categories"],
        tlds=_items(values["tlds"], ",\\s"),
        min_severity=values["min_severity"],
        mode=values["mode"],
    )
    try:
        notify.save_filter(person, data, actor=_actor(person))
    except DirectoryError as exc:
        return _page(request, values, _messages_of(exc, FIELDS), exc.status)
    messages.success(request, _("Your alert filter is saved."))
    return redirect("web:alert_filters")


@member_required
@private
@require_POST
def alert_filter_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete one of the signed-in person's filters; another's is this portal's 404."""
    person = _person(request)
    try:
        notify.delete_filter(person, pk, actor=_actor(person))
    except NotFound:
        raise Http404(_("You have no such alert filter.")) from None
    messages.success(request, _("The alert filter is deleted."))
    return redirect("web:alert_filters")
