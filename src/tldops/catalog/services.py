"""Catalog services: the reads every door shows and the one change people make by hand (region tags).

Doors (web, API, CLI) call these; they never query the catalog tables with their own rules. Every
read issues a fixed number of queries whatever the number of ccTLDs (name servers and regions are
prefetched).
"""

from __future__ import annotations

from collections.abc import Iterable

import idna
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from tldops.catalog.lookup import resolve_tld
from tldops.catalog.models import NameServer, Region, Tld
from tldops.kernel.audit import Actor, record
from tldops.kernel.errors import InvalidInput, NotAuthorised, NotFound


def _with_relations(qs: QuerySet[Tld]) -> QuerySet[Tld]:
    return qs.prefetch_related(
        Prefetch("nameservers", queryset=NameServer.objects.order_by("hostname")),
        Prefetch("regions", queryset=Region.objects.order_by("code")),
    )


def list_tlds(
    *,
    kind: str | None = None,
    region: str | None = None,
    search: str = "",
    delegated_only: bool = False,
) -> QuerySet[Tld]:
    """ccTLDs in A-label order, name servers and regions prefetched (three queries in all).

    ``kind`` is ``ascii`` or ``idn``; ``region`` a region code (``centr``); ``search`` matches the
    A-label, U-label, ISO code (assigned or reserved: ``GB`` and ``UK`` both find .uk), country or
    manager (``рф``, ``.FR`` and ``france`` all work).
    """
    qs = Tld.objects.all()
    if kind:
        if kind not in Tld.Kind.values:
            raise InvalidInput(
                _("Unknown kind “%(v)s”; use ascii or idn.") % {"v": kind}, field="kind"
            )
        qs = qs.filter(kind=kind)
    if region:
        qs = qs.filter(regions__code=get_region(region).code)
    if delegated_only:
        qs = qs.filter(delegated=True)
    text = (search or "").strip().strip(".")
    if text:
        cond = (
            Q(alabel__icontains=text)
            | Q(ulabel__icontains=text)
            | Q(iso_code__iexact=text)
            | Q(reserved_code__iexact=text)
            | Q(country_name__icontains=text)
            | Q(manager__icontains=text)
        )
        try:
            alabel = idna.encode(text, uts46=True).decode("ascii").lower()
        except idna.IDNAError:
            alabel = ""
        if alabel and alabel != text.lower():
            cond |= Q(alabel=alabel)
        qs = qs.filter(cond)
    return _with_relations(qs.order_by("alabel").distinct())


def _alabel_of(text: str) -> str:
    try:
        return idna.encode(text, uts46=True).decode("ascii").lower()
    except idna.IDNAError:
        return ""


def matching(tlds: Iterable[Tld], search: str) -> list[Tld]:
    """The ccTLDs of an already loaded list that ``search`` names: part of the A-label, U-label or
    country, or the ISO code (``рф``, ``.FR``, ``xn--p1ai``, ``congo`` all work). Pages that show
    every ccTLD (the coverage page) filter with this when the browser runs no script."""
    text = (search or "").strip().strip(".").casefold()
    if not text:
        return list(tlds)
    alabel = _alabel_of(text)
    return [
        t
        for t in tlds
        if text in t.alabel
        or text in t.ulabel.casefold()
        or text in t.country_name.casefold()
        or text == t.iso_code.casefold()
        or (alabel and alabel == t.alabel)
    ]


def tld_detail(raw: str) -> Tld:
    """One ccTLD (delegated or retired) with its name servers and regions, named any way people
    write it (``fr``, ``.FR``, ``рф``, ``xn--p1ai``). Raises :class:`NotFound` if unknown."""
    try:
        tld = resolve_tld(raw, delegated_only=False)
    except InvalidInput as exc:
        raise NotFound(exc.message, field="tld") from None
    return _with_relations(Tld.objects.filter(pk=tld.pk)).get()


def list_regions() -> QuerySet[Region]:
    """The regional organisations, each annotated with ``tld_count`` (delegated ccTLDs tagged)."""
    from django.db.models import Count

    return Region.objects.annotate(
        tld_count=Count("tlds", filter=Q(tlds__delegated=True))
    ).order_by("code")


def get_region(code: str) -> Region:
    region = Region.objects.filter(code=(code or "").strip().lower()).first()
    if region is None:
        known = ", ".join(Region.objects.values_list("code", flat=True)) or "—"
        raise InvalidInput(
            _("Unknown region “%(v)s”; use one of: %(known)s.") % {"v": code, "known": known},
            field="region",
        )
    return region


def tag_region(tld: Tld | str, region_code: str, *, actor: Actor, remove: bool = False) -> bool:
    """Tag a ccTLD with a regional organisation (or remove the tag). Returns whether it changed.

    Only the standing committee may do this through the web or the API; the CLI is run by whoever
    operates the machine, so it is trusted as such.
    """
    if actor.door != "cli" and actor.role != "committee":
        raise NotAuthorised(_("Only the standing committee may tag ccTLDs with regions."))
    if isinstance(tld, str):
        tld = resolve_tld(tld, delegated_only=False)
    region = get_region(region_code)
    with transaction.atomic():
        before = sorted(tld.regions.values_list("code", flat=True))
        present = region.code in before
        if present != remove:
            return False
        if remove:
            tld.regions.remove(region)
        else:
            tld.regions.add(region)
        after = sorted(tld.regions.values_list("code", flat=True))
        verb = "Removed" if remove else "Tagged"
        record(
            actor,
            "catalog.untag_region" if remove else "catalog.tag_region",
            f"{verb} {tld.display} {'from' if remove else 'with'} {region}",
            tld=tld,
            before={"regions": before},
            after={"regions": after},
        )
    return True
