"""``tldops alert raise|list|show|react|close|status``: the service through the command line, TLP
included — the operator sees only what the person named with --as may read."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.alerts.conftest import raise_as
from tldops.alerts.models import Alert


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("alert", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_raise_list_show_react_close(community, tmp_path):
    feed = tmp_path / "iocs.txt"
    feed.write_text("evil.example\nnot a thing!\n192.0.2.7\n")
    made = json.loads(
        run(
            "raise", "--as", "ana@nic.fr", "--title", "DGA under .fr", "--category", "malware",
            "--tlp", "amber", "--affected", "fr", "--indicators", str(feed), "--format", "json",
        )
    )[0]  # fmt: skip
    alert = Alert.objects.get(pk=made["id"])
    assert made["tlp"] == "TLP:AMBER" and alert.indicators.count() == 2
    assert [r["id"] for r in json.loads(run("list", "--as", "jan@nic.nl", "--format", "json"))] == [
        alert.pk
    ]
    shown = run("show", str(alert.pk), "--as", "jan@nic.nl")
    assert shown.startswith(f"[TLP:AMBER] #{alert.pk} DGA under .fr")
    assert shown.rstrip().endswith("[TLP:AMBER]") and "domain:evil.example" in shown
    run("react", str(alert.pk), "seen", "--count", "5", "--as", "jan@nic.nl")
    detail = json.loads(run("show", str(alert.pk), "--as", "ana@nic.fr", "--format", "json"))
    assert detail["reactions"] == {"nl": {"seen": 1, "sightings": 5}}
    with pytest.raises(CommandError, match="author and the secretariat"):
        run("close", str(alert.pk), "--as", "jan@nic.nl")
    assert "resolved" in run("close", str(alert.pk), "--as", "sec@tldops.example")


def test_red_is_not_printed_for_an_operator_acting_as_someone_not_named(community):
    red = raise_as(community.ana, "RED", title="Secret registrar issue", recipients=["jan@nic.nl"])
    for who in ("sec@tldops.example", "chair@tldops.example", "marc@nic.fr"):
        assert "Secret registrar" not in run("list", "--as", who, "--format", "json")
        with pytest.raises(CommandError, match="No alert"):
            run("show", str(red.pk), "--as", who)
    assert "Secret registrar" in run("show", str(red.pk), "--as", "jan@nic.nl")


def test_bad_input_lists_every_problem_and_stores_nothing(community):
    with pytest.raises(CommandError) as exc:
        run(
            "raise", "--as", "ana@nic.fr", "--title", "x", "--category", "spam", "--tlp", "PURPLE",
            "--affected", "nowhere",
        )  # fmt: skip
    message = str(exc.value)
    assert "tlp:" in message and "category:" in message and "affected:" in message
    assert not Alert.objects.exists()
    with pytest.raises(CommandError, match="Nobody in the directory"):
        run("list", "--as", "who@nowhere.example")


def test_alert_filters_from_the_command_line(community):
    assert run("filters", "--as", "jan@nic.nl", "--format", "json").strip() == "[]"
    made = json.loads(
        run(
            "filters", "--as", "jan@nic.nl", "--add", "--category", "ddos", "--category",
            "phishing", "--tld", "рф", "--min-severity", "high", "--mode", "digest",
            "--format", "json",
        )
    )  # fmt: skip
    assert made == [
        {
            "id": made[0]["id"],
            "categories": ["ddos", "phishing"],
            "tlds": ["xn--p1ai"],
            "min_severity": "high",
            "mode": "digest",
        }
    ]
    table = run("filters", "--as", "jan@nic.nl")
    assert "ddos phishing" in table and "xn--p1ai" in table
    with pytest.raises(CommandError) as caught:
        run("filters", "--as", "jan@nic.nl", "--add", "--category", "spam", "--mode", "sometimes")
    assert "category" in str(caught.value) and "mode" in str(caught.value)
    with pytest.raises(CommandError):  # not marc's filter
        run("filters", "--as", "marc@nic.fr", "--delete", str(made[0]["id"]))
    assert len(json.loads(run("filters", "--as", "jan@nic.nl", "--format", "json"))) == 1
    out = run("filters", "--as", "jan@nic.nl", "--delete", str(made[0]["id"]), "--format", "json")
    assert json.loads(out) == []
