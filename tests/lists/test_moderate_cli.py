"""``tldops moderate``: the CLI door of moderation, run as a real subprocess where it matters."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.lists.posting import fast_passwords, message, post  # noqa: F401 (autouse)
from tldops.directory.models import AuditEntry
from tldops.lists.models import ArchivedMessage, Post
from tldops.mail.models import Delivery

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_dns(settings):
    settings.DMARC_MITIGATION = False


@pytest.fixture
def held(catalog, make_member, staff) -> Post:
    make_member(catalog["fr"], "Ana Lopez", "ana@nic.fr")
    staff("secretariat", "sec@tldops.example")
    p = post(message(sender="eve@partner.test", subject="Botnet C2 list", body="IPs inside.\n"))
    assert p.status == Post.Status.HELD
    return p


def run(*args: str) -> str:
    out = StringIO()
    call_command("moderate", *args, stdout=out)
    return out.getvalue()


def test_list_shows_the_held_posts(held):
    rows = json.loads(run("list", "--format", "json"))
    assert [(r["id"], r["sender"], r["member"], r["status"]) for r in rows] == [
        (held.pk, "eve@partner.test", "no", "held")
    ]
    assert rows[0]["reasons"] == ["eve@partner.test is not an active member of the list."]
    assert "Botnet C2 list" in run("list")


def test_csv_output_neutralises_formulas(catalog, make_member, staff):
    """A stranger's subject lands in a spreadsheet as text, never as a formula (CSV injection)."""
    make_member(catalog["fr"], "Ana Lopez", "ana@nic.fr")
    subject = '=HYPERLINK("http://evil.example","x")'
    p = post(message(sender="eve@partner.test", subject=subject, body="Click.\n"))
    (row,) = list(csv.DictReader(StringIO(run("list", "--format", "csv"))))
    assert row["subject"] == "'" + subject
    assert row["id"] == str(p.pk) and row["sender"] == "eve@partner.test"


def test_show(held):
    out = run("show", str(held.pk))
    assert "eve@partner.test" in out
    assert "not an active member" in out
    assert "IPs inside." in out
    assert "Message-ID: " in run("show", str(held.pk), "--raw")


def test_approve(held):
    out = run("approve", str(held.pk))
    # The member and the secretariat member (staff receive the list by default).
    assert f"Post {held.pk} approved: 2 copies queued." in out
    held.refresh_from_db()
    assert held.status == Post.Status.ACCEPTED and held.decision_door == "cli"
    assert Delivery.objects.filter(message__purpose="list-post").count() == 2
    assert ArchivedMessage.objects.count() == 1
    assert AuditEntry.objects.get(action="list-accepted").door == "cli"


def test_reject_requires_a_reason(held):
    with pytest.raises(CommandError):
        run("reject", str(held.pk), "--reason", "   ")
    run("reject", str(held.pk), "--reason", "Off topic.")
    held.refresh_from_db()
    assert held.status == Post.Status.REJECTED and held.decision_reason == "Off topic."


def test_discard_silent_tells_nobody(held, outbox):
    assert "discarded silently" in run("discard", str(held.pk), "--silent")
    held.refresh_from_db()
    assert held.status == Post.Status.DISCARDED
    assert outbox("list-moderated") == []


def test_discard_then_again_fails(held):
    assert "the sender is told" in run("discard", str(held.pk))
    with pytest.raises(CommandError, match="already discarded"):
        run("approve", str(held.pk))
    assert run("list").strip() == "No post is waiting for moderation."


def test_unknown_post_exits_3(held):
    with pytest.raises(CommandError) as exc:
        run("approve", "999")
    assert exc.value.returncode == 3


def test_help_through_the_real_command(tmp_path):
    tldops = Path(sys.executable).with_name("tldops")
    env = {**os.environ, "TLDOPS_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [str(tldops), "moderate", "--help"], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    for action in ("list", "show", "approve", "reject", "discard"):
        assert action in done.stdout
    wrong = subprocess.run(
        [str(tldops), "moderate", "reject", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert wrong.returncode == 2  # argparse: --reason is required
    assert "--reason" in wrong.stderr


def test_list_reads_the_stored_summary_never_the_raw_message(held):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tldops.mail.models import InboundMessage

    InboundMessage.objects.filter(pk=held.inbound_id).update(raw=b"unparsable \xff\x00")
    for args in (("list", "--format", "json"), ("list", "--all", "--format", "json")):
        with CaptureQueriesContext(connection) as queries:
            rows = json.loads(run(*args))
        assert [r["subject"] for r in rows] == ["Botnet C2 list"]
        assert not [
            q for q in queries.captured_queries if '"lists_inboundmessage"."raw"' in q["sql"]
        ]
