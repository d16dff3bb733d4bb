"""The command line's door onto incidents and the scheduled monitor's loop."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from tests.monitor.incident_world import T0, minutes, report, result
from tldops.alerts.models import Alert
from tldops.monitor import incidents
from tldops.monitor.models import Incident, Sweep
from tldops.ops import monitor_process


def cli(*args: str) -> str:
    out = StringIO()
    call_command("monitor", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def incident(world) -> Incident:
    report(world.hub, T0, down={"fr"})
    report(world.p1, T0, down={"fr"})
    incidents.evaluate(T0 + minutes(1))
    return Incident.objects.get(code="ALL_SERVERS_DOWN")


def test_list_show_and_act(incident, world):
    rows = json.loads(cli("incidents", "--tld", "fr", "--open", "--format", "json"))
    assert [r["code"] for r in rows] == ["ALL_SERVERS_DOWN"]  # one incident per ccTLD
    assert json.loads(cli("incidents", "--tld", "nl", "--format", "json")) == []
    shown = json.loads(cli("incident", str(incident.pk), "--format", "json"))
    assert [e["kind"] for e in shown["timeline"]] == ["opened", "seen", "seen", "notified"]
    assert [(p["code"], p["server"]) for p in shown["problems"]] == [
        ("ALL_SERVERS_DOWN", ""),
        ("SERVER_NO_RESPONSE_UDP", "ns1.nic.fr"),
        ("SERVER_NO_RESPONSE_UDP", "ns2.nic.fr"),
    ]
    table = cli("incident", str(incident.pk))
    assert "ALL_SERVERS_DOWN" in table and "ns2.nic.fr" in table
    cli("ack", str(incident.pk), "--as", "ana@nic.fr")
    cli("note", str(incident.pk), "--as", "ana@nic.fr", "On it.")
    cli("raise-alert", str(incident.pk), "--as", "marc@nic.fr")
    cli("close", str(incident.pk), "--as", "marc@nic.fr", "--text", "Done.")
    incident.refresh_from_db()
    assert incident.status == "closed" and incident.alert_id == Alert.objects.get().pk
    kinds = [e.kind for e in incident.events.filter(person__isnull=False)]
    assert kinds == ["acknowledged", "note", "alert", "closed"]


def test_refusals(incident):
    with pytest.raises(CommandError, match="contacts of .fr"):
        cli("ack", str(incident.pk), "--as", "jan@nic.nl")
    with pytest.raises(CommandError, match="contacts of .fr"):
        cli("close", str(incident.pk), "--as", "sec@tldops.example")
    with pytest.raises(CommandError) as exc:
        cli("ack", "999999", "--as", "ana@nic.fr")
    assert exc.value.returncode == 3
    with pytest.raises(CommandError) as exc:
        cli("ack", str(incident.pk), "--as", "nobody@example.org")
    assert exc.value.returncode == 3
    incident.refresh_from_db()
    assert incident.status == "open"


def test_the_schedule_is_in_the_database(world, settings, monkeypatch):
    """The loop sweeps when due (last hub sweep + interval), stores, evaluates; a restarted
    loop does not sweep again before it is due. The engine is replaced by a recorded answer."""
    settings.MONITOR_INTERVAL = 300
    swept: list[list[str]] = []

    def fake_sweep(tlds, options):
        swept.append(list(tlds))
        return result(timezone.now(), down={"fr"})

    monkeypatch.setattr(monitor_process.sweeping, "sweep", fake_sweep)
    monkeypatch.setattr(monitor_process.sweeping, "options_from", lambda **kw: None)
    assert monitor_process.next_due() <= timezone.now()
    loop = monitor_process.Monitor()
    assert loop.step() == 0.0  # swept
    assert swept == [["br", "ca", "fr", "nl", "ua", "xn--p1ai"]]  # delegated ones only
    assert Sweep.objects.filter(probe=world.hub).count() == 1
    wait = monitor_process.Monitor().step()  # a restart: not due yet
    assert 0 < wait <= monitor_process.LONGEST_WAIT and len(swept) == 1
    # Another probe agrees: the hub's next stored sweep opens the incidents.
    report(world.p1, timezone.now(), down={"fr"})
    Sweep.objects.filter(probe=world.hub).update(started_at=timezone.now() - timedelta(seconds=301))
    assert loop.step() == 0.0 and len(swept) == 2
    assert Incident.objects.filter(tld__alabel="fr", status="open").count() == 1


def test_a_failing_sweep_is_retried_later_and_stop_ends_the_loop(world, monkeypatch):
    def broken(tlds, options):
        raise OSError("no network")

    monkeypatch.setattr(monitor_process.sweeping, "sweep", broken)
    monkeypatch.setattr(monitor_process.sweeping, "options_from", lambda **kw: None)
    assert monitor_process.Monitor().step() == monitor_process.RETRY_AFTER
    stop = threading.Event()
    stop.set()
    monitor_process.Monitor().run(stop)  # returns at once
    assert not Sweep.objects.exists()
