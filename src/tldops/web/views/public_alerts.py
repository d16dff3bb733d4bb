"""The public alert pages: the TLP:CLEAR alerts their authors made public, for anyone, signed in
or not (issue 10: "CLEAR: may be public … GREEN: members only; never on a public page").

A thin door onto :func:`tldops.alerts.services.public_list` and
:func:`~tldops.alerts.services.get_public`, which apply the one public rule
(:func:`tldops.alerts.access.public_alerts` / :func:`~tldops.alerts.access.is_public`). The reader
is never passed: a member signed in sees here exactly what a stranger sees, and any other alert is
this portal's 404, the same as a number that does not exist.

Nothing personal is shown: not the author's name nor address, only their ccTLD; no reactions, no
status history (it names people), no forms.

Not cached, neither in the page cache (:mod:`tldops.web.fragments`) nor by a proxy
(``Cache-Control: private, no-store``): an alert made non-public, or relabelled, must disappear
from the public page at once, and a cache entry keyed on the page would keep a stale public copy.
The list is one query (and one for the affected ccTLDs of the page), so caching buys little.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from tldops.alerts import services
from tldops.kernel.errors import NotFound
from tldops.web.views.alerts import (
    ALERTS_PER_PAGE,
    INDICATORS_SHOWN,
    TLP_HELP,
    private,
    render_markdown,
)


@require_safe
@private
def public_alert_list(request: HttpRequest) -> HttpResponse:
    """The public alerts, newest first, a page at a time."""
    page = Paginator(services.public_list(), ALERTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "web/alerts/public_list.html", {"page": page, "pager_params": {}})


@require_safe
@private
def public_alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A public alert: its TLP:CLEAR banner, the facts, the text and the indicators."""
    try:
        alert = services.get_public(pk)
    except NotFound:
        raise Http404(_("No public alert at this address.")) from None
    return render(
        request,
        "web/alerts/public_detail.html",
        {
            "alert": alert,
            "body": render_markdown(alert.body),
            "tlp_help": TLP_HELP[alert.label],
            "affected": list(alert.affected.order_by("alabel")),
            "indicator_count": alert.indicators.count(),
            "indicators": list(alert.indicators.all()[:INDICATORS_SHOWN]),
            "indicators_shown": INDICATORS_SHOWN,
        },
    )
