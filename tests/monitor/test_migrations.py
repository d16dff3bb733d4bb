"""monitor 0003: incidents keyed on (ccTLD, code, server) become one incident per ccTLD with its
problems. Each existing incident gets one problem; several live ones of one ccTLD are merged into
the oldest (the others closed, saying where their problem went), so the new constraint holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tldops.catalog.models import Tld
from tldops.monitor.models import Incident

BEFORE = [("monitor", "0002_incidents")]
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_incidents_become_problems_of_one_incident_per_cctld():
    fr = Tld.objects.create(alabel="fr", ulabel="fr", kind="ascii", iso_code="FR")
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps.get_model("monitor", "Incident")
        lame = old.objects.create(
            tld_id=fr.pk, code="LAME_REFUSED", server="ns1.nic.fr", severity=40, opened_at=T0
        )
        down = old.objects.create(
            tld_id=fr.pk,
            code="ALL_SERVERS_DOWN",
            server="",
            severity=50,
            opened_at=T0 + timedelta(minutes=5),
            status="acknowledged",
        )
        gone = old.objects.create(
            tld_id=fr.pk,
            code="SERVER_UNREACHABLE",
            server="ns2.nic.fr",
            severity=40,
            opened_at=T0 - timedelta(days=1),
            status="closed",
            recovered_at=T0 - timedelta(hours=20),
            closed_at=T0 - timedelta(hours=20),
        )
    finally:  # whatever happens, the later tests need the whole schema back
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    kept = Incident.objects.get(pk=lame.pk)
    assert kept.status == "open"
    assert sorted((p.code, p.cleared_at) for p in kept.problems.all()) == [
        ("ALL_SERVERS_DOWN", None),
        ("LAME_REFUSED", None),
    ]
    assert (kept.code, kept.severity) == ("ALL_SERVERS_DOWN", 50)  # the worst problem
    merged = Incident.objects.get(pk=down.pk)
    assert merged.status == "closed" and not merged.problems.exists()
    assert f"incident {kept.pk}" in merged.events.get(kind="closed").text
    closed = Incident.objects.get(pk=gone.pk)
    (problem,) = closed.problems.all()
    assert problem.cleared_at == T0 - timedelta(hours=20)
    assert Incident.objects.exclude(status="closed").count() == 1
