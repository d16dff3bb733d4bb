"""``tldops reachability status|report|start|remind`` (Django commands, and --help in a real
subprocess)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.repository.reach import link_token, next_round
from tldops.cli import EXIT_ERROR
from tldops.directory.models import AuditEntry
from tldops.repository import reachability
from tldops.repository.models import ChallengeRound


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("reachability", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def contacts(catalog, make_member):
    make_member(catalog["fr"], name="Ana Lopez")
    make_member(catalog["nl"], name="Jan Jansen", email="jan@nic.nl")


def test_start_by_hand_then_status_and_reports(contacts, outbox):
    assert "No reachability round has run yet." in run("status")
    started = json.loads(run("start", "--period", "2026-11-extra", "--format", "json"))
    assert started == [{"period": "2026-11-extra", "challenged": 2, "trigger": "cli"}]
    assert len(outbox("reachability")) == 2
    assert AuditEntry.objects.get(action="reachability-round").actor.startswith("cli:")

    with pytest.raises(CommandError) as exc:
        run("start", "--period", "2026-11-extra")
    assert exc.value.returncode == EXIT_ERROR and "already been started" in str(exc.value)

    token = next(link_token(m) for to, m in outbox("reachability") if to == "jan@nic.nl")
    reachability.answer(token, "click")
    (row,) = json.loads(run("status", "--format", "json"))
    assert (row["period"], row["challenged"], row["answered"], row["answered_pct"]) == (
        "2026-11-extra", 2, 1, 50.0,
    )  # fmt: skip

    rows = list(csv.DictReader(io.StringIO(run("report", "--format", "csv"))))
    assert [(r["key"], r["contacts"], r["reachable"]) for r in rows] == [
        ("fr", "1", "1"),
        ("nl", "1", "1"),
    ]
    regions = json.loads(run("report", "--by", "region", "--format", "json"))
    assert [(r["key"], r["tlds"], r["contacts"]) for r in regions] == [("centr", 2, 2)]
    oldest = json.loads(run("report", "--by", "oldest", "--format", "json"))
    assert [o["email"] for o in oldest] == ["ana@nic.fr"] and oldest[0]["challenge"] == "awaiting"
    assert "No member ccTLD is at risk." in run("report", "--by", "at-risk")
    assert "Overall: 2 of 2 contacts reachable" in run("report")


def test_start_without_a_period_runs_the_due_round_once(contacts):
    run("start")
    period = ChallengeRound.objects.get().period
    with pytest.raises(CommandError) as exc:
        run("start")
    assert period in str(exc.value) and "--period" in str(exc.value)


def test_remind_sends_what_is_due(contacts, outbox, settings):
    period, starts = next_round()
    reachability.run_due(starts)
    # Nothing is due yet at the real clock's time (the round starts in the future).
    assert "0 reminder(s) and 0 escalation(s) sent." in run("remind")
    reachability.send_due_reminders(now=starts + timedelta(days=settings.REACHABILITY_GRACE_DAYS))
    assert len(outbox("reachability-reminder")) == 2


def test_help_texts_in_a_real_subprocess(tmp_path):
    from tests.ops.test_run import TLDOPS

    env = {k: v for k, v in os.environ.items() if not k.startswith("TLDOPS_")}
    env["TLDOPS_DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [str(TLDOPS), "reachability", "--help"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    for word in ("status", "report --by region", "start --period", "remind"):
        assert word in done.stdout
    bad = subprocess.run(
        [str(TLDOPS), "reachability", "report", "--by", "nonsense"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
