"""What one vantage point is: the hub's own probe, or one person's probes, however many they run.

Agreement needs independent views. Two probes one member runs (on one machine, or in one network)
are one point of view, not two: counted per person, one member alone can never confirm a problem,
open an incident and mail another ccTLD's contacts, whatever they send. With the hub or another
member seeing it too, they can. Both the incidents (:mod:`tldops.monitor.incidents`) and the
pages (:mod:`tldops.monitor.status`) count with this rule, in Python or in the database.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import BigIntegerField, Case, F, Value, When

from tldops.monitor.models import Probe

HUB = 0  # the hub's own probe (no owner)


def of_probes(probe_ids: Iterable[int]) -> dict[int, int]:
    """Each probe's vantage point (its owner's id, or :data:`HUB`), in one query."""
    return {
        pk: HUB if builtin else owner if owner is not None else -pk
        for pk, owner, builtin in Probe.objects.filter(pk__in=set(probe_ids)).values_list(
            "pk", "owner_id", "builtin"
        )
    }


def count(probe_ids: Iterable[int], points: dict[int, int]) -> int:
    """How many vantage points ``probe_ids`` are."""
    return len({points.get(p, -p) for p in probe_ids})  # a probe not looked up: its own


def expression(prefix: str = "") -> Case:
    """The vantage point of the probe at ``prefix`` (``"sweep__probe__"``), for the database's
    ``Count(…, distinct=True)``: the same rule as :func:`of_probes`."""
    return Case(
        When(**{f"{prefix}builtin": True}, then=Value(HUB)),
        When(**{f"{prefix}owner_id__isnull": True}, then=-F(f"{prefix}id")),
        default=F(f"{prefix}owner_id"),
        output_field=BigIntegerField(),
    )
