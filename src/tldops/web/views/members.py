"""Pages for members and staff: the directory of contacts and the ccTLD catalog."""

from __future__ import annotations

from itertools import groupby

import idna
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from tldops.catalog import editing, services
from tldops.catalog.models import Region, Tld
from tldops.directory import permissions, queries
from tldops.directory.audit import Actor
from tldops.kernel.errors import DirectoryError
from tldops.web.access import forbidden, member_required
from tldops.web.fragments import cached_fragment, cached_page
from tldops.web.views.catalog_editor import catalog_editor

SEARCH_MAX = 100


def _wants_fragment(request: HttpRequest) -> bool:
    """htmx asked for the results only (not when it restores a page from history: that needs
    the whole page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def _search_term(request: HttpRequest) -> str:
    return request.GET.get("q", "").strip()[:SEARCH_MAX]


#: Contacts per page: the whole directory is about 600 KB of HTML at 1,000 members, too much for a
#: slow connection; search finds anyone on any page.
DIRECTORY_PAGE_SIZE = 100


@member_required
def directory(request: HttpRequest) -> HttpResponse:
    """Every active contact, grouped by ccTLD, a page of contacts at a time. The search box filters
    live through htmx, which asks this same URL and gets only the results fragment back."""
    q = _search_term(request)
    page_number = request.GET.get("page", "1")
    staff = permissions.is_staff_role(request.user)

    def results() -> str:
        page = Paginator(queries.directory_memberships(search=q), DIRECTORY_PAGE_SIZE).get_page(
            page_number
        )
        groups = [(tld, list(ms)) for tld, ms in groupby(page.object_list, key=lambda m: m.tld)]
        context = {
            "q": q,
            "groups": groups,
            "count": page.paginator.count,
            "page": page,
            "pager_params": {"q": q},
            "is_staff_role": staff,
        }
        return render_to_string("web/partials/directory_results.html", context, request=request)

    parts = (q, page_number, staff)
    if _wants_fragment(request):
        return HttpResponse(cached_fragment("directory", parts, results))
    # The whole page is cached too, with the CSRF token and its address filled in per request.
    return cached_page(
        request,
        "web/directory.html",
        lambda: {"q": q, "results": cached_fragment("directory", parts, results)},
        name="directory",
        parts=parts,
    )


def _catalog_queryset():
    return (
        Tld.objects.delegated()
        .annotate(
            contacts=Count("memberships", filter=Q(memberships__status="active"), distinct=True),
            ns_count=Count("nameservers", distinct=True),
        )
        .prefetch_related("regions")
        .order_by("alabel")
    )


@member_required
def catalog(request: HttpRequest) -> HttpResponse:
    """Every delegated ccTLD with its IANA data, filterable by name, country or region."""
    q = _search_term(request)
    region = request.GET.get("region", "").strip()
    tlds = _catalog_queryset()
    if q:
        tlds = tlds.filter(
            Q(alabel__icontains=q.strip(".").lower())
            | Q(ulabel__icontains=q.strip("."))
            | Q(country_name__icontains=q)
            | Q(manager__icontains=q)
        )
    if region:
        tlds = tlds.filter(regions__code=region)
    context = {
        "q": q,
        "region": region,
        "regions": Region.objects.all(),
        "tlds": list(tlds),
        "can_edit": catalog_editor(request) is not None,
    }
    template = (
        "web/partials/catalog_results.html" if _wants_fragment(request) else "web/catalog.html"
    )
    return render(request, template, context)


def _find_tld(label: str) -> Tld:
    text = label.strip().strip(".")
    try:
        alabel = idna.encode(text, uts46=True).decode("ascii").lower()
    except idna.IDNAError:
        raise Http404(_("No such ccTLD.")) from None
    tld = (
        Tld.objects.annotate(
            contacts=Count("memberships", filter=Q(memberships__status="active"), distinct=True)
        )
        .prefetch_related("regions", "nameservers")
        .filter(alabel=alabel)
        .first()
    )
    if tld is None:
        raise Http404(_("No such ccTLD."))
    return tld


@member_required
def tld_detail(request: HttpRequest, alabel: str) -> HttpResponse:
    """One ccTLD; the committee may tag or untag it with a regional organisation."""
    tld = _find_tld(alabel)
    is_committee = permissions.is_committee(request.user)
    if request.method == "POST":
        if not is_committee:
            return forbidden(request, _("Only the standing committee may tag ccTLDs with regions."))
        person = permissions.person_of(request.user)
        code = request.POST.get("region", "")
        remove = request.POST.get("action") == "remove"
        try:
            changed = services.tag_region(tld, code, actor=Actor.of(person, "web"), remove=remove)
        except DirectoryError as exc:
            messages.error(request, exc.message)
        else:
            if not changed:
                messages.info(request, _("Nothing changed."))
            else:
                messages.success(request, _("Region removed.") if remove else _("Region added."))
        return redirect("web:tld", alabel=tld.alabel)
    return render(
        request,
        "web/tld.html",
        {
            "tld": tld,
            "can_edit": catalog_editor(request) is not None,
            "hand_set": [p for p in editing.provenance(tld) if p.source != "iana"],
            "is_committee": is_committee,
            "regions": Region.objects.all(),
            "tld_regions": {r.code for r in tld.regions.all()},
        },
    )
