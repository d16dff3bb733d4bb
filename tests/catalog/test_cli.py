"""``tldops catalog …`` through call_command, and once as a real process."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tldops.catalog.baseline import seed_regions
from tldops.catalog.models import Tld
from tldops.cli import EXIT_ERROR, EXIT_NOT_FOUND
from tldops.directory.models import AuditEntry

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("catalog", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_load_then_list_json():
    assert "309 delegated ccTLDs (248 ASCII, 61 IDN)" in run("load")
    rows = json.loads(run("list", "--kind", "idn", "--format", "json"))
    assert len(rows) == 61
    rf = next(r for r in rows if r["alabel"] == "xn--p1ai")
    assert (rf["ulabel"], rf["iso_code"], rf["country_name"]) == ("рф", "RU", "Russian Federation")
    assert rf["nameservers"] == [] and rf["regions"] == []


def test_list_csv_and_table(catalog):
    csv_text = run("list", "--region", "centr", "--format", "csv")
    assert csv_text.splitlines()[0].startswith("alabel,ulabel,kind")
    assert [line.split(",")[0] for line in csv_text.splitlines()[1:]] == ["fr", "nl"]
    table = run("list", "--delegated-only", "--search", "russian")
    assert "xn--p1ai" in table and "рф" in table and " an " not in table


@pytest.mark.parametrize("raw", ["fr", ".FR"])
def test_show_ascii(catalog, raw):
    data = json.loads(run("show", raw, "--format", "json"))
    assert data["alabel"] == "fr" and data["regions"] == ["centr"]


@pytest.mark.parametrize("raw", ["рф", "xn--p1ai"])
def test_show_idn(catalog, raw):
    text = run("show", raw)
    assert ".рф (xn--p1ai)" in text and "Russian Federation" in text


def test_show_unknown_exits_not_found(catalog):
    with pytest.raises(CommandError) as exc:
        run("show", "qq")
    assert exc.value.returncode == EXIT_NOT_FOUND
    assert "not a known ccTLD" in str(exc.value)


def test_tag_and_regions(catalog):
    seed_regions()
    assert "Tagged .ua with aftld." in run("tag", "ua", "aftld")
    assert "already in aftld" in run("tag", "ua", "AFTLD")
    rows = {r["code"]: r for r in json.loads(run("regions", "--format", "json"))}
    assert rows["aftld"]["cctlds"] == 1 and rows["centr"]["cctlds"] == 2
    assert "Removed .ua from aftld." in run("tag", ".UA", "aftld", "--remove")
    entries = AuditEntry.objects.filter(action__in=["catalog.tag_region", "catalog.untag_region"])
    assert [e.door for e in entries] == ["cli", "cli"]
    with pytest.raises(CommandError) as exc:
        run("tag", "ua", "nowhere")
    assert exc.value.returncode == EXIT_ERROR and "Unknown region" in str(exc.value)


def test_sync_dry_run_changes_nothing(iana_server, catalog):
    before = list(Tld.objects.order_by("alabel").values())
    text = run("sync", "--dry-run")
    assert "+ new      .de" in text and "- retired  .br" in text
    assert "Dry run: nothing was changed." in text
    assert list(Tld.objects.order_by("alabel").values()) == before


def test_sync_without_yes_and_without_terminal_applies_nothing(iana_server, catalog):
    with pytest.raises(CommandError) as exc:
        run("sync")
    assert exc.value.returncode == EXIT_ERROR and "--yes" in str(exc.value)
    assert not Tld.objects.filter(alabel="de").exists()


def test_sync_yes_applies(iana_server, catalog):
    text = run("sync", "--yes")
    assert "Applied: 2 new, 0 delegated again, 3 retired, 3 changed." in text
    assert Tld.objects.get(alabel="de").admin_email == "admin@denic.de.example"
    assert Tld.objects.get(alabel="ca").delegated is False
    plan = json.loads(run("sync", "--dry-run", "--format", "json"))
    assert plan["new"] == plan["retired"] == plan["changed"] == []
    assert plan["unchanged"] == 5


def test_sync_offline_is_a_clear_error(unreachable_iana, catalog):
    with pytest.raises(CommandError) as exc:
        run("sync", "--yes")
    assert "this command needs the internet; the catalog is unchanged" in str(exc.value)
    assert exc.value.returncode == EXIT_ERROR


def test_help_texts():
    from tldops.catalog.management.commands.catalog import Command

    parser = Command().create_parser("tldops", "catalog")
    top = parser.format_help()
    for action in ("load", "sync", "list", "show", "tag", "regions"):
        assert action in top
    sub = next(a for a in parser._actions if a.dest == "action")
    assert "--dry-run" in sub.choices["sync"].format_help()
    assert "--delegated-only" in sub.choices["list"].format_help()


def test_real_process_lists_json(tmp_path):
    tldops = Path(sys.executable).parent / "tldops"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TLDOPS_")}
    env["TLDOPS_DATA_DIR"] = str(tmp_path / "data")
    (tmp_path / "data").mkdir()

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(tldops), *args], env=env, capture_output=True, text=True, timeout=300, check=False
        )

    assert cli("migrate", "-v", "0").returncode == 0
    loaded = cli("catalog", "load")
    assert loaded.returncode == 0, loaded.stderr
    listed = cli("catalog", "list", "--format", "json", "--search", "xn--90ae")
    assert listed.returncode == 0, listed.stderr
    assert [(r["alabel"], r["ulabel"], r["iso_code"]) for r in json.loads(listed.stdout)] == [
        ("xn--90ae", "бг", "BG")
    ]
    missing = cli("catalog", "show", "qq")
    assert missing.returncode == EXIT_NOT_FOUND and "not a known ccTLD" in missing.stderr
