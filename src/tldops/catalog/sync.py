"""The online refresh of the catalog from IANA (``tldops catalog sync``).

Three steps, so that nobody applies a change they have not seen:

1. :func:`fetch_snapshot` reads IANA: the TLD list (``IANA_TLD_LIST_URL``), the Root Zone Database
   index and one page per ccTLD (``IANA_RZDB_URL``, eight at a time), and the root zone file
   (``IANA_ROOT_ZONE_URL``). Nothing is written.
2. :func:`compute_plan` compares that with the catalog: new ccTLDs, retired ones, and for the rest
   changes of manager, administrative and technical contact, name servers and DS.
3. :func:`apply_plan` writes the plan in one transaction, with an audit entry per changed ccTLD.

Which TLDs are ccTLDs: every two-letter ASCII TLD, and every IDN TLD whose type on the IANA index
is ``country-code``. Delegated means "in the TLD list"; the index also shows retired and unassigned
codes, which are never added. Name servers and glue come from the root zone (the source of truth
for the delegation), falling back to the page's addresses for a host without glue; contacts come
from the pages.

Values set by hand (:mod:`tldops.catalog.editing`, marked in ``Tld.hand_set``) are kept: where
IANA's value differs, the plan lists it under ``kept`` instead of ``changed`` and the sync records
IANA's value beside the mark, so that ``tldops catalog set TLD --from-iana`` can take it later
without the network. ``--accept-iana TLD`` takes IANA's values for that ccTLD in the sync itself.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops.catalog.baseline import country_for, psl_idn_cctlds, ulabel_of
from tldops.catalog.iana import (
    DelegationRecord,
    IanaFormatError,
    IndexEntry,
    RootZone,
    parse_index,
    parse_root_zone,
    parse_tld_list,
    parse_tld_page,
)
from tldops.catalog.models import NameServer, Tld
from tldops.kernel.audit import Actor, SystemActor, record
from tldops.kernel.progress import progress as progress_bar

TIMEOUT = 30.0  # seconds, per request
WORKERS = 8  # concurrent page fetches: polite to IANA, still quick for ~310 pages
ATTEMPTS = 2
USER_AGENT = "tldops-catalog-sync/1 (+https://github.com/tldops)"
# A plan that retires more than this many ccTLDs (and more than a tenth of them) is refused
# unless asked for explicitly: that is a broken download far more often than a real event.
MASS_RETIRE_MIN = 5

CONTACT_FIELDS = ("manager", "admin_org", "admin_email", "tech_org", "tech_email")
COMPARED_FIELDS = (*CONTACT_FIELDS, "nameservers", "has_ds")


class SyncError(Exception):
    """The sync could not complete; the catalog was not changed."""


class NetworkUnavailable(SyncError):
    """IANA could not be reached at all."""


# --- Fetching -------------------------------------------------------------------------------------


def fetch_text(url: str, *, timeout: float = TIMEOUT) -> str:
    """GET ``url`` and decode it; :class:`NetworkUnavailable` or :class:`SyncError` on failure."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    host = urllib.parse.urlsplit(url).netloc or url
    last: Exception | None = None
    for _attempt in range(ATTEMPTS):
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                charset = response.headers.get_content_charset() or "utf-8"
                return response.read().decode(charset, errors="replace")
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                raise SyncError(
                    _("%(url)s answered HTTP %(code)s; the catalog is unchanged.")
                    % {"url": url, "code": exc.code}
                ) from None
            last = exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            last = exc
    if isinstance(last, urllib.error.HTTPError):
        raise SyncError(
            _("%(url)s answered HTTP %(code)s; the catalog is unchanged.")
            % {"url": url, "code": last.code}
        )
    reason = getattr(last, "reason", last)
    raise NetworkUnavailable(
        _(
            "Could not reach %(host)s (%(reason)s): this command needs the internet; "
            "the catalog is unchanged."
        )
        % {"host": host, "reason": reason}
    )


# --- What IANA says -------------------------------------------------------------------------------


@dataclass
class Observed:
    """One delegated ccTLD as IANA describes it now."""

    alabel: str
    manager: str = ""
    admin_org: str = ""
    admin_email: str = ""
    tech_org: str = ""
    tech_email: str = ""
    nameservers: list[dict[str, Any]] = field(default_factory=list)  # hostname, ipv4, ipv6
    has_ds: bool | None = None
    contacts_known: bool = True  # False when the page gave nothing: keep what the catalog has

    @property
    def ulabel(self) -> str:
        return ulabel_of(self.alabel)

    @property
    def kind(self) -> str:
        return Tld.Kind.IDN if self.alabel.startswith("xn--") else Tld.Kind.ASCII


@dataclass
class Snapshot:
    """Everything one sync read: the delegated ccTLDs with their data."""

    tlds: dict[str, Observed]
    tld_list_size: int
    warnings: list[str] = field(default_factory=list)


def is_cctld(alabel: str, entry: IndexEntry | None, known_idns: set[str] | frozenset[str]) -> bool:
    """Two-letter ASCII TLDs are ccTLDs; an IDN is one when the index types it ``country-code``
    (or, if the index lacks its row, when the catalog or the PSL already knows it as one)."""
    if len(alabel) == 2 and alabel.isascii() and alabel.isalpha():
        return True
    if not alabel.startswith("xn--"):
        return False
    if entry is not None:
        return entry.type == "country-code"
    return alabel in known_idns


def _nameservers(
    alabel: str, page: DelegationRecord, zone: RootZone
) -> tuple[list[dict[str, Any]], bool]:
    """The ccTLD's name servers with glue, and whether they come from the root zone."""
    hosts = zone.ns.get(alabel)
    from_zone = hosts is not None
    out = []
    for host in hosts if from_zone else sorted(page.nameservers):
        v4, v6 = zone.glue.get(host) or page.nameservers.get(host) or ([], [])
        out.append({"hostname": host, "ipv4": list(v4), "ipv6": list(v6)})
    return out, from_zone


def fetch_snapshot(
    *, progress: bool = False, timeout: float = TIMEOUT, workers: int = WORKERS
) -> Snapshot:
    """Read IANA (see the module docstring). Writes nothing."""
    try:
        delegated = parse_tld_list(fetch_text(settings.IANA_TLD_LIST_URL, timeout=timeout))
        index_url = settings.IANA_RZDB_URL
        index = {
            e.alabel: e for e in parse_index(fetch_text(index_url, timeout=timeout), index_url)
        }
        zone = parse_root_zone(fetch_text(settings.IANA_ROOT_ZONE_URL, timeout=timeout))
    except IanaFormatError as exc:
        raise SyncError(
            _("IANA's data could not be read (%(e)s); the catalog is unchanged.") % {"e": exc}
        ) from exc
    base = index_url.rstrip("/") + "/"
    known_idns = set(psl_idn_cctlds()) | set(
        Tld.objects.filter(kind=Tld.Kind.IDN).values_list("alabel", flat=True)
    )
    wanted = sorted(a for a in delegated if is_cctld(a, index.get(a), known_idns))
    if not wanted:
        raise SyncError(_("IANA's TLD list names no ccTLD; the catalog is unchanged."))
    urls = {
        a: index[a].url if a in index else urllib.parse.urljoin(base, f"{a}.html") for a in wanted
    }
    pages: dict[str, DelegationRecord] = {}
    warnings: list[str] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(fetch_text, urls[a], timeout=timeout): a for a in wanted}
        try:
            for future in progress_bar(
                as_completed(futures),
                total=len(futures),
                description=_("Reading IANA pages"),
                enabled=progress,
            ):
                pages[futures[future]] = parse_tld_page(future.result())
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    observed: dict[str, Observed] = {}
    for alabel in wanted:
        page = pages[alabel]
        nameservers, from_zone = _nameservers(alabel, page, zone)
        if not from_zone:
            warnings.append(
                _("%(t)s has no NS records in the root zone file; using its IANA page.")
                % {"t": alabel}
            )
        item = Observed(alabel=alabel, nameservers=nameservers, has_ds=alabel in zone.ds)
        if page.empty:
            warnings.append(
                _("The IANA page of %(t)s gave no manager or contacts; they are left as they are.")
                % {"t": alabel}
            )
            item.contacts_known = False
        else:
            for name in CONTACT_FIELDS:
                setattr(item, name, getattr(page, name)[:300])
            if not item.manager and alabel in index:
                item.manager = index[alabel].manager[:300]
        observed[alabel] = item
    return Snapshot(tlds=observed, tld_list_size=len(delegated), warnings=warnings)


# --- The plan -------------------------------------------------------------------------------------


@dataclass
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass
class TldChange:
    alabel: str
    display: str
    changes: list[FieldChange]


@dataclass
class Plan:
    """What a sync would do. Empty when the catalog already matches IANA."""

    new: list[Observed] = field(default_factory=list)
    restored: list[Observed] = field(default_factory=list)  # retired here, delegated again
    retired: list[str] = field(default_factory=list)
    changed: list[TldChange] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    observed: dict[str, Observed] = field(default_factory=dict)
    delegated_before: int = 0
    # Hand-set values IANA disagrees with, kept (before: the catalog's, after: IANA's).
    kept: list[TldChange] = field(default_factory=list)
    hand_marks: dict[str, dict[str, Any]] = field(default_factory=dict)
    accept_iana: set[str] = field(default_factory=set)  # ccTLDs whose hand-set values give way

    @property
    def empty(self) -> bool:
        return not (self.new or self.restored or self.retired or self.changed)

    @property
    def mass_retirement(self) -> bool:
        return len(self.retired) > max(MASS_RETIRE_MIN, self.delegated_before // 10)

    def as_dict(self) -> dict[str, Any]:
        return {
            "new": [o.alabel for o in self.new],
            "restored": [o.alabel for o in self.restored],
            "retired": list(self.retired),
            "changed": [
                {"tld": c.alabel, "changes": [asdict(fc) for fc in c.changes]} for c in self.changed
            ],
            "unchanged": len(self.unchanged),
            "kept": [
                {
                    "tld": c.alabel,
                    "field": fc.field,
                    "catalog": fc.before,
                    "iana": fc.after,
                    "source": self.hand_marks.get(c.alabel, {}).get(fc.field, {}).get("source"),
                    "set_by": self.hand_marks.get(c.alabel, {}).get(fc.field, {}).get("by"),
                    "set_at": self.hand_marks.get(c.alabel, {}).get(fc.field, {}).get("at"),
                }
                for c in self.kept
                for fc in c.changes
            ],
            "accept_iana": sorted(self.accept_iana),
            "warnings": list(self.warnings),
        }

    def summary_lines(self) -> list[str]:
        """The plan as people read it, one line per fact."""
        lines = [
            _(
                "%(new)d new, %(restored)d delegated again, %(retired)d retired, "
                "%(changed)d changed, %(same)d unchanged."
            )
            % {
                "new": len(self.new),
                "restored": len(self.restored),
                "retired": len(self.retired),
                "changed": len(self.changed),
                "same": len(self.unchanged),
            }
        ]
        for o in self.new:
            lines.append(_("+ new      %(t)s  %(m)s") % {"t": _display(o.alabel), "m": o.manager})
        for o in self.restored:
            lines.append(_("+ again    %(t)s  %(m)s") % {"t": _display(o.alabel), "m": o.manager})
        for alabel in self.retired:
            lines.append(_("- retired  %(t)s") % {"t": _display(alabel)})
        lines.extend(change_lines(self.changed))
        for change in self.kept:
            for fc in change.changes:
                lines.append(
                    _(
                        "= %(t)s %(f)s: kept %(b)s, set by hand (IANA says %(a)s; to take it: "
                        "tldops catalog set %(alabel)s --from-iana)"
                    )
                    % {
                        "t": change.display,
                        "f": fc.field,
                        "b": _short(fc.before),
                        "a": _short(fc.after),
                        "alabel": change.alabel,
                    }
                )
        lines.extend(_("! %(w)s") % {"w": w} for w in self.warnings)
        return lines


def change_lines(changes: list[TldChange]) -> list[str]:
    """``~ .fr admin_email: old → new``, one line per changed field: how every catalog diff reads
    (a sync's plan, a CSV import's preview)."""
    return [
        _("~ %(t)s %(f)s: %(b)s → %(a)s")
        % {"t": change.display, "f": fc.field, "b": _short(fc.before), "a": _short(fc.after)}
        for change in changes
        for fc in change.changes
    ]


def _display(alabel: str) -> str:
    ulabel = ulabel_of(alabel)
    return f".{ulabel} ({alabel})" if ulabel != alabel else f".{alabel}"


def _short(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return (
            ", ".join(
                f"{ns['hostname']}[{' '.join(ns['ipv4'] + ns['ipv6'])}]"
                if isinstance(ns, dict)
                else str(ns)
                for ns in value
            )
            or "—"
        )
    return str(value)


def _current_nameservers(tld: Tld) -> list[dict[str, Any]]:
    return sorted(
        (
            {"hostname": ns.hostname, "ipv4": list(ns.ipv4), "ipv6": list(ns.ipv6)}
            for ns in tld.nameservers.all()
        ),
        key=lambda n: n["hostname"],
    )


def _diff(
    tld: Tld, obs: Observed, *, keep_hand_set: bool = True
) -> tuple[list[FieldChange], list[FieldChange]]:
    """What IANA would change on ``tld``, and the hand-set values it differs from (kept)."""
    changes, kept = [], []
    marks = (tld.hand_set or {}) if keep_hand_set else {}
    for name in CONTACT_FIELDS if obs.contacts_known else ():
        before, after = getattr(tld, name), getattr(obs, name)
        if before != after:
            (kept if name in marks else changes).append(FieldChange(name, before, after))
    before_ns = _current_nameservers(tld)
    after_ns = sorted(obs.nameservers, key=lambda n: n["hostname"])
    if before_ns != after_ns:
        changes.append(FieldChange("nameservers", before_ns, after_ns))
    if tld.has_ds != obs.has_ds:
        changes.append(FieldChange("has_ds", tld.has_ds, obs.has_ds))
    return changes, kept


def compute_plan(snapshot: Snapshot, *, accept_iana: Iterable[str] = ()) -> Plan:
    """Compare what IANA says with the catalog (reads only). Hand-set values are kept, except on
    the ccTLDs (A-labels) of ``accept_iana``, where IANA's values replace them."""
    existing = {t.alabel: t for t in Tld.objects.prefetch_related("nameservers")}
    plan = Plan(
        warnings=list(snapshot.warnings),
        observed=snapshot.tlds,
        delegated_before=sum(1 for t in existing.values() if t.delegated),
        accept_iana=set(accept_iana),
        hand_marks={a: dict(t.hand_set) for a, t in existing.items() if t.hand_set},
    )
    for alabel, obs in sorted(snapshot.tlds.items()):
        tld = existing.get(alabel)
        if tld is None:
            plan.new.append(obs)
        elif not tld.delegated:
            plan.restored.append(obs)
        else:
            changes, kept = _diff(tld, obs, keep_hand_set=alabel not in plan.accept_iana)
            if changes:
                plan.changed.append(TldChange(alabel, tld.display, changes))
            else:
                plan.unchanged.append(alabel)
            if kept:
                plan.kept.append(TldChange(alabel, tld.display, kept))
    plan.retired = sorted(a for a, t in existing.items() if t.delegated and a not in snapshot.tlds)
    if plan.mass_retirement:
        plan.warnings.append(
            _(
                "This plan retires %(n)d of %(total)d ccTLDs, which usually means IANA's data was "
                "not read completely."
            )
            % {"n": len(plan.retired), "total": plan.delegated_before}
        )
    return plan


# --- Applying -------------------------------------------------------------------------------------


def _set_nameservers(tld: Tld, nameservers: list[dict[str, Any]]) -> None:
    tld.nameservers.all().delete()
    NameServer.objects.bulk_create(
        NameServer(tld=tld, hostname=ns["hostname"], ipv4=ns["ipv4"], ipv6=ns["ipv6"])
        for ns in nameservers
    )


def _observed_state(obs: Observed) -> dict[str, Any]:
    return {
        **{name: getattr(obs, name) for name in CONTACT_FIELDS},
        "nameservers": obs.nameservers,
        "has_ds": obs.has_ds,
    }


def _describe_new(obs: Observed) -> dict[str, str]:
    """ISO code, country and script of a ccTLD the catalog did not know (as the baseline would)."""
    if obs.kind == Tld.Kind.ASCII:
        country = country_for(obs.alabel)
        return {
            "iso_code": country.iso_code,
            "reserved_code": country.reserved_code,
            "country_name": country.name,
            "script": "",
        }
    known = psl_idn_cctlds().get(obs.alabel)
    if known is None:
        return {"iso_code": "", "reserved_code": "", "country_name": "", "script": ""}
    return {
        "iso_code": known.iso_code,
        "reserved_code": known.reserved_code,
        "country_name": known.country_name,
        "script": known.script,
    }


def _update_hand_marks(plan: Plan, actor: Actor) -> None:
    """Beside each hand-set value, note IANA's value as this sync saw it (for ``catalog set
    --from-iana`` later, offline); drop the marks of the ccTLDs whose IANA values were accepted."""
    for tld in Tld.objects.filter(alabel__in=list(plan.hand_marks)):
        obs = plan.observed.get(tld.alabel)
        marks = dict(tld.hand_set or {})
        if tld.alabel in plan.accept_iana:
            if obs is None or not obs.contacts_known:
                continue  # IANA gave nothing to accept: the hand-set values stay
            tld.hand_set = {}
            tld.save(update_fields=["hand_set", "updated_at"])
            record(
                actor,
                "catalog.accept_iana",
                f"IANA's values accepted again on {tld.display}: " + ", ".join(sorted(marks)),
                tld=tld,
                before={"hand_set": sorted(marks)},
                after={name: getattr(tld, name) for name in sorted(marks)},
            )
            continue
        if obs is None or not obs.contacts_known:
            continue
        for name, mark in marks.items():
            if isinstance(mark, dict) and name in CONTACT_FIELDS:
                marks[name] = {**mark, "iana": getattr(obs, name)}
        if marks != tld.hand_set:
            tld.hand_set = marks
            tld.save(update_fields=["hand_set"])


def default_actor() -> Actor:
    return SystemActor(door="cli")


def apply_plan(
    plan: Plan, *, actor: Actor | None = None, allow_mass_retirement: bool = False
) -> dict[str, int]:
    """Write ``plan`` in one transaction; one audit entry per new, retired or changed ccTLD.

    Every ccTLD IANA described gets ``synced_at`` = now, so the offline baseline leaves its
    delegation state alone afterwards.
    """
    if plan.mass_retirement and not allow_mass_retirement:
        raise SyncError(
            _(
                "The plan would retire %(n)d ccTLDs; that looks like an incomplete download. "
                "Nothing was applied. If it is right, run again with --allow-mass-retirement."
            )
            % {"n": len(plan.retired)}
        )
    actor = actor or default_actor()
    now = timezone.now()
    with transaction.atomic():
        for obs in plan.new:
            tld = Tld.objects.create(
                alabel=obs.alabel,
                ulabel=obs.ulabel,
                kind=obs.kind,
                delegated=True,
                synced_at=now,
                has_ds=obs.has_ds,
                **{name: getattr(obs, name) for name in CONTACT_FIELDS},
                **_describe_new(obs),
            )
            _set_nameservers(tld, obs.nameservers)
            record(
                actor,
                "catalog.sync.new",
                f"New ccTLD {tld.display} from IANA",
                tld=tld,
                after=_observed_state(obs),
            )
        for obs in plan.restored:
            tld = Tld.objects.get(alabel=obs.alabel)
            before = {
                "delegated": False,
                "retired_at": tld.retired_at and tld.retired_at.isoformat(),
            }
            tld.delegated, tld.retired_at, tld.synced_at, tld.has_ds = True, None, now, obs.has_ds
            if obs.contacts_known:
                kept = tld.hand_set if obs.alabel not in plan.accept_iana else {}
                for name in CONTACT_FIELDS:
                    if name not in kept:
                        setattr(tld, name, getattr(obs, name))
            tld.save()
            _set_nameservers(tld, obs.nameservers)
            record(
                actor,
                "catalog.sync.restore",
                f"{tld.display} is delegated again",
                tld=tld,
                before=before,
                after={"delegated": True, **_observed_state(obs)},
            )
        retired = list(Tld.objects.filter(alabel__in=plan.retired))
        for tld in retired:
            tld.delegated, tld.retired_at, tld.synced_at = False, now, now
            tld.save(update_fields=["delegated", "retired_at", "synced_at", "updated_at"])
            record(
                actor,
                "catalog.sync.retire",
                f"{tld.display} is no longer in IANA's TLD list: marked retired",
                tld=tld,
                before={"delegated": True},
                after={"delegated": False},
            )
        for change in plan.changed:
            tld = Tld.objects.get(alabel=change.alabel)
            fields = []
            for fc in change.changes:
                if fc.field == "nameservers":
                    _set_nameservers(tld, fc.after)
                else:
                    setattr(tld, fc.field, fc.after)
                    fields.append(fc.field)
            tld.synced_at = now
            tld.save(update_fields=[*fields, "synced_at", "updated_at"])
            record(
                actor,
                "catalog.sync.update",
                f"IANA data of {tld.display} changed: "
                + ", ".join(fc.field for fc in change.changes),
                tld=tld,
                before={fc.field: fc.before for fc in change.changes},
                after={fc.field: fc.after for fc in change.changes},
            )
        Tld.objects.filter(alabel__in=plan.unchanged).update(synced_at=now)
        _update_hand_marks(plan, actor)
    return {
        "new": len(plan.new),
        "restored": len(plan.restored),
        "retired": len(retired),
        "changed": len(plan.changed),
        "unchanged": len(plan.unchanged),
    }
