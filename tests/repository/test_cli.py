"""``tldops repository``: export, send (once a period), editions, resend — and their --help."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.repository.conftest import CYRILLIC
from tldops.directory.models import AuditEntry
from tldops.mail.models import OutboundMessage
from tldops.repository import editions, reachability
from tldops.repository.models import Edition


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("repository", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_export_current_directory_to_stdout_and_file(people, tmp_path):
    text = run("export", "--format", "txt")
    assert "TLD-OPS contact repository, current directory on" in text
    assert f"{CYRILLIC} | 1 | .рф (xn--p1ai)" in text
    rows = list(csv.DictReader(io.StringIO(run("export", "--format", "csv"))))
    assert len(rows) == 6
    target = tmp_path / "contacts.pdf"
    run("export", "--format", "pdf", "-o", str(target))
    assert target.read_bytes().startswith(b"%PDF-")
    assert not Edition.objects.exists()  # exporting stores nothing


def test_send_once_then_refuses_and_lists_and_resends(people):
    out = run("send", "--period", "2026-11", "--yes")
    assert "Edition 2026-11 queued for 5 members (5 people, 4 ccTLDs, unsigned)." in out
    edition = Edition.objects.get()
    assert edition.trigger == "cli"
    with pytest.raises(CommandError, match="already sent on .* it is sent once") as caught:
        run("send", "--period", "2026-11", "--yes")
    assert caught.value.returncode == 1
    assert OutboundMessage.objects.filter(purpose="repository").count() == 1

    listed = json.loads(run("editions", "--format", "json"))
    assert listed[0]["period"] == "2026-11" and listed[0]["recipients"] == 5

    assert run("export", "--format", "txt", "--period", "2026-11") == edition.text
    out = run("resend", "2026-11", "--to", "olga@nic.ru")
    assert "queued again for 1 address" in out
    assert AuditEntry.objects.filter(action="repository-resend", door="cli").count() == 1


def test_errors_have_exit_codes(people):
    with pytest.raises(CommandError, match="no edition 2026-10") as caught:
        run("resend", "2026-10")
    assert caught.value.returncode == 3  # not found
    with pytest.raises(CommandError, match="year and month"):
        run("send", "--period", "November", "--yes")
    with pytest.raises(CommandError, match="not an address of an active member"):
        run("send", "--period", "2026-11", "--yes")
        run("resend", "2026-11", "--to", "nobody@example.org")
    with pytest.raises(CommandError, match="add --yes"):
        run("send", "--period", "2026-12")  # stdin is not a terminal under pytest


def test_editions_when_there_are_none(db):
    assert "No edition has been sent yet." in run("editions")


def test_help_texts():
    result = subprocess.run(
        [sys.executable, "-m", "tldops", "repository", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    for action in ("export", "send", "editions", "resend"):
        assert action in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "tldops", "repository", "send", "--help"],
        capture_output=True,
        text=True,
    )
    assert "--yes" in result.stdout and "once per period" in result.stdout


def test_schedule_says_nothing_is_due_before_the_first_contact_then_when(db, catalog, make_member):
    rows = json.loads(run("schedule", "--format", "json"))
    assert [r["due_at"] for r in rows] == [None, None]
    assert all("first contact confirms" in r["note"] for r in rows)
    make_member(catalog["fr"], name="Ana Lopez")
    edition, rnd = json.loads(run("schedule", "--format", "json"))
    assert edition["due_at"] == str(editions.next_due())
    assert edition["period"] == f"{editions.next_due():%Y-%m}" and edition["note"] == ""
    assert rnd["period"] == reachability.next_due()[0] and rnd["note"] == ""
    assert "monthly edition" in run("schedule")
