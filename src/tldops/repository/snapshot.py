"""An edition's content: the directory's active contacts read into one plain, JSON-able structure.

:func:`take` reads every *active* membership of a delegated ccTLD in a fixed number of queries and
returns::

    {
      "generated_at": "2026-11-02T06:00:00+00:00",
      "people": 412,            # distinct persons
      "cctlds": 203,            # ccTLDs with at least one active contact
      "contacts": 498,          # lines: a person who is a contact of two ccTLDs counts twice
      "tlds": [                 # A-label order
        {"alabel": "xn--p1ai", "ulabel": "рф", "idn": true, "country": "Russian Federation",
         "regions": ["centr"],
         "contacts": [          # contact-number order
           {"person": 12, "number": 1, "name": "Ольга Смирнова",
            "emails": ["olga@nic.ru", "noc@nic.ru"],          # main address first
            "phones": [{"number": "+74951234567", "label": "24/7",
                        "display": "+7 495 123-45-67"}],
            "timezone": "Europe/Moscow", "languages": ["ru", "en"], "key": ""}]}]
    }

The snapshot is what an :class:`~tldops.repository.models.Edition` stores; every rendering (text,
CSV, vCard, PDF) is made from it alone, so they all hold the same data. ``person`` is the person's
primary key: stable across editions, so :func:`changes` can say who joined, left or changed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from tldops.catalog.models import Tld
from tldops.directory.models import Membership, Person, Phone
from tldops.directory.validation import format_phone

#: The details of a contact whose change is reported, with the label the header uses.
DETAIL_FIELDS = ("name", "emails", "phones", "timezone", "languages", "key")


#: Where fingerprints come from: ``source(person_ids) -> {person_id: fingerprint}`` (one query for
#: everyone), set by the app that keeps keys when it starts (:func:`set_fingerprint_source`).
_fingerprint_source: Callable[[list[int]], dict[int, str]] | None = None


def set_fingerprint_source(source: Callable[[list[int]], dict[int, str]] | None) -> None:
    """The seam for the coming ``tldops.openpgp`` app, which hands its look-up over in its
    ``AppConfig.ready``: the repository imports no other capability."""
    global _fingerprint_source
    _fingerprint_source = source


def key_fingerprints(people: Iterable[Person]) -> dict[int, str]:
    """The OpenPGP key fingerprint (40 hex digits, upper case) of each person, when known.

    Until an app sets a source (:func:`set_fingerprint_source`) nobody has a known key and this
    returns ``{}``. Editions, the CSV, the vCard (``KEY:openpgp4fpr:…``) and the PDF show the
    fingerprint as soon as it is known, with no other change.
    """
    if _fingerprint_source is None:
        return {}
    found = _fingerprint_source([p.pk for p in people])
    return {pk: str(fpr).replace(" ", "").upper() for pk, fpr in found.items() if fpr}


def key_fingerprint(person: Person) -> str:
    """One person's fingerprint, or ``""`` while the openpgp app provides none (see
    :func:`key_fingerprints`)."""
    return key_fingerprints([person]).get(person.pk, "")


def _contact(m: Membership, fingerprints: dict[int, str]) -> dict[str, Any]:
    person = m.person
    return {
        "person": person.pk,
        "number": m.number,
        "name": person.name,
        "family_name": person.family_name,
        "emails": [person.email, *(a for a in person.alt_emails if a != person.email)],
        "phones": [
            {"number": p.number, "label": p.label, "display": format_phone(p.number)}
            for p in person.phones.all()
        ],
        "timezone": person.timezone,
        "languages": list(person.languages),
        "key": fingerprints.get(person.pk, ""),
    }


def take(now: datetime | None = None) -> dict[str, Any]:
    """The directory's active contacts now, as described in the module docstring (4 queries)."""
    now = now or timezone.now()
    memberships = list(
        Membership.objects.filter(status=Membership.Status.ACTIVE, tld__delegated=True)
        .select_related("person", "tld")
        .prefetch_related(
            Prefetch("person__phones", queryset=Phone.objects.order_by("position", "id"))
        )
        .order_by("tld__alabel", "number")
    )
    tld_ids = {m.tld_id for m in memberships}
    regions: dict[int, list[str]] = defaultdict(list)
    for tld_id, code in (
        Tld.regions.through.objects.filter(tld_id__in=tld_ids)
        .order_by("region__code")
        .values_list("tld_id", "region__code")
    ):
        regions[tld_id].append(code)
    fingerprints = key_fingerprints({m.person for m in memberships})

    tlds: list[dict[str, Any]] = []
    for m in memberships:
        if not tlds or tlds[-1]["alabel"] != m.tld.alabel:
            tld = m.tld
            tlds.append(
                {
                    "alabel": tld.alabel,
                    "ulabel": tld.ulabel or tld.alabel,
                    "idn": (tld.ulabel or tld.alabel) != tld.alabel,
                    "country": tld.country_name,
                    "regions": regions.get(tld.pk, []),
                    "contacts": [],
                }
            )
        tlds[-1]["contacts"].append(_contact(m, fingerprints))
    return {
        "generated_at": now.isoformat(),
        "people": len({m.person_id for m in memberships}),
        "cctlds": len(tlds),
        "contacts": len(memberships),
        "tlds": tlds,
    }


def contacts(data: dict[str, Any]) -> Iterable[tuple[dict[str, Any], dict[str, Any]]]:
    """Every (ccTLD, contact) pair of a snapshot, in the order they are listed."""
    for tld in data.get("tlds", []):
        for contact in tld["contacts"]:
            yield tld, contact


def tld_label(tld: dict[str, Any]) -> str:
    """``.fr``, or ``.рф (xn--p1ai)`` for an IDN ccTLD: the U-label people read, the A-label
    that always works."""
    if tld["idn"]:
        return f".{tld['ulabel']} ({tld['alabel']})"
    return f".{tld['alabel']}"


def _people(data: dict[str, Any] | None) -> dict[int, dict[str, Any]]:
    """Person pk → their details and the ccTLDs they are a contact of (``["fr#1", …]``)."""
    people: dict[int, dict[str, Any]] = {}
    for tld, c in contacts(data or {}):
        entry = people.setdefault(
            int(c["person"]),
            {**{f: c.get(f) for f in DETAIL_FIELDS}, "person": int(c["person"]), "tlds": []},
        )
        entry["tlds"].append(f"{tld['alabel']}#{c['number']}")
    return people


def _brief(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "person": entry["person"],
        "name": entry["name"],
        "tlds": sorted({t.split("#")[0] for t in entry["tlds"]}),
    }


def changes(previous: dict[str, Any] | None, data: dict[str, Any]) -> dict[str, list]:
    """What changed between two snapshots, by person.

    - ``joined``: people listed now who were not in ``previous``;
    - ``left``: people in ``previous`` who are no longer listed (left, removed, or their ccTLD
      retired);
    - ``changed``: people in both whose details differ; ``fields`` names them (``name``,
      ``emails``, ``phones``, ``timezone``, ``languages``, ``key``, and ``cctlds`` when they became
      or stopped being a contact of a ccTLD, or their contact number changed).

    Each entry is ``{"person": pk, "name": …, "tlds": [A-labels]}``; lists are in name order.
    With no previous snapshot (the first edition) every list is empty.
    """
    result: dict[str, list] = {"joined": [], "left": [], "changed": []}
    if previous is None:
        return result
    before, after = _people(previous), _people(data)
    for pk in after.keys() - before.keys():
        result["joined"].append(_brief(after[pk]))
    for pk in before.keys() - after.keys():
        result["left"].append(_brief(before[pk]))
    for pk in after.keys() & before.keys():
        old, new = before[pk], after[pk]
        fields = [f for f in DETAIL_FIELDS if _norm(old.get(f)) != _norm(new.get(f))]
        if sorted(old["tlds"]) != sorted(new["tlds"]):
            fields.append("cctlds")
        if fields:
            result["changed"].append({**_brief(new), "fields": fields})
    for entries in result.values():
        entries.sort(key=lambda e: (e["name"].casefold(), e["person"]))
    return result


def _norm(value: Any) -> Any:
    """Phones compare by number and label (the display form follows the number)."""
    if isinstance(value, list):
        return [(v.get("number"), v.get("label")) if isinstance(v, dict) else v for v in value]
    return value if value is not None else ""
