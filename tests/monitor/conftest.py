"""Fixtures of the monitor's tests: the simulated ccTLD world (tests/monitor/world.py) and the
incidents' world of probes and sweeps (tests/monitor/incident_world.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from tests.monitor.incident_world import world  # noqa: F401 - the incidents' world
from tests.monitor.world import NSD, UNBOUND, World, standard_specs
from tldops.catalog.baseline import ulabel_of
from tldops.catalog.models import Tld


@pytest.fixture(scope="session")
def dns_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The test world, started once per session: 4 healthy ccTLDs (nl, be unsigned; de,
    xn--p1ai signed) and one ccTLD per fault (at, ch, dk, se, no, fi, is, ie, pt, lu; see
    :func:`tests.monitor.world.standard_specs` and ``World.expected``)."""
    for tool in (NSD, UNBOUND, "ldns-signzone"):
        if not (Path(tool).exists() or shutil.which(tool)):
            pytest.fail(f"{tool} is missing: apt-get install nsd unbound ldnsutils (scripts/test)")
    simulated = World(standard_specs(), workdir=tmp_path_factory.mktemp("world"))
    simulated.start()
    try:
        yield simulated
    finally:
        simulated.stop()


def create_tlds(names: Iterable[str]) -> dict[str, Tld]:
    """The catalog rows (``Tld``) of ``names``, created when missing (the ``catalog`` fixture
    may have made some), by A-label; for sweeps stored against the catalog."""
    rows = {}
    for name in names:
        rows[name], _ = Tld.objects.get_or_create(
            alabel=name,
            defaults={
                "ulabel": ulabel_of(name),
                "kind": Tld.Kind.IDN if name.startswith("xn--") else Tld.Kind.ASCII,
                "iso_code": name.upper() if len(name) == 2 else "",
                "admin_email": f"admin@nic.{name}",
                "manager": f"Registry of .{name}",
            },
        )
    return rows


@pytest.fixture
def world_tlds(db, dns_world: World) -> dict[str, Tld]:
    """Every ccTLD of ``dns_world`` as a catalog row, by A-label."""
    return create_tlds(dns_world.tlds)
