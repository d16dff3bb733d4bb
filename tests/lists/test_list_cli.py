"""``tldops list``: sender overrides (read by the DMARC handler) and bounce scores."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from tldops.directory import bounces
from tldops.directory.audit import Actor
from tldops.directory.models import AuditEntry, BounceScore
from tldops.kernel.errors import InvalidInput, NotAuthorised
from tldops.lists import overrides
from tldops.lists.models import SenderOverride


def run(*args: str) -> str:
    out = StringIO()
    call_command("list", *args, stdout=out)
    return out.getvalue()


def test_override_set_listed_changed_and_removed(db):
    assert "No sender override" in run("overrides")
    run("override", "Author@Example.ORG", "never", "--note", "policy record is wrong")
    row = SenderOverride.objects.get()
    assert (row.address, row.dmarc, row.note) == (
        "author@example.org",
        "never",
        "policy record is wrong",
    )
    data = json.loads(run("overrides", "--format", "json"))
    assert data == [
        {
            "address": "author@example.org",
            "dmarc": "never",
            "pinned": False,
            "note": "policy record is wrong",
        }
    ]
    run("override", "author@example.org", "always")
    assert SenderOverride.objects.get().dmarc == "always"
    run("override", "author@example.org", "auto")
    assert not SenderOverride.objects.exists()
    changes = list(AuditEntry.objects.filter(action="sender-override").order_by("id"))
    assert [(e.before["dmarc"], e.after["dmarc"]) for e in changes] == [
        ("auto", "never"),
        ("never", "always"),
        ("always", "auto"),
    ]
    assert all(e.door == "cli" for e in changes)


def test_override_bad_input_changes_nothing(db):
    with pytest.raises(CommandError):
        run("override", "not an address", "never")
    with pytest.raises(InvalidInput):
        overrides.set_override("a@example.org", "sometimes", actor=Actor.system())
    with pytest.raises(InvalidInput) as err:  # refused, not silently cut to 300 characters
        overrides.set_override("a@example.org", "never", note="n" * 301, actor=Actor.system())
    assert err.value.field == "note"
    assert not SenderOverride.objects.exists()
    assert not AuditEntry.objects.exists()


def test_only_moderators_set_overrides(make_member, catalog):
    member = make_member(catalog["fr"])
    with pytest.raises(NotAuthorised):
        overrides.set_override("a@example.org", "never", actor=Actor.of(member, "web"))
    assert not SenderOverride.objects.exists()


def test_pin_and_unpin_a_sender(db):
    assert "pinned" in run("pin", "Carla@nic.BR", "--note", "nic.br publishes no DMARC")
    row = SenderOverride.objects.get()
    assert (row.address, row.pinned, row.dmarc) == ("carla@nic.br", True, "auto")
    run("override", "carla@nic.br", "auto")  # the DMARC treatment's reset keeps the pin
    assert SenderOverride.objects.get().pinned
    assert "no longer pinned" in run("pin", "carla@nic.br", "--off")
    assert not SenderOverride.objects.exists()
    assert [e.summary for e in AuditEntry.objects.order_by("id")][-1] == "carla@nic.br unpinned"


def test_only_moderators_pin(make_member, catalog):
    member = make_member(catalog["fr"])
    with pytest.raises(NotAuthorised):
        overrides.pin_sender("a@example.org", actor=Actor.of(member, "web"))
    assert not SenderOverride.objects.exists()


def test_bounces_listed_and_cleared(make_member, catalog, settings):
    settings.BOUNCE_THRESHOLD = 2.0
    member = make_member(catalog["fr"])
    for days_ago in (3, 2, 1):  # one hard bounce a day counts
        when = timezone.now() - timedelta(days=days_ago)
        bounces.record_bounce(member.email, "hard", status_code="5.1.1", now=when)
    bounces.record_bounce("stranger@example.net", "soft", status_code="4.2.2")
    rows = json.loads(run("bounces", "--format", "json"))
    assert [r["address"] for r in rows] == [member.email, "stranger@example.net"]
    assert rows[0]["person"] == member.name and rows[0]["unreachable_since"]
    only = json.loads(run("bounces", "--unreachable", "--format", "json"))
    assert [r["address"] for r in only] == [member.email]

    assert "reachable again" in run("reachable", member.email)
    row = BounceScore.objects.get(address=member.email)
    assert row.unreachable_since is None and row.score == 0
    assert json.loads(run("bounces", "--unreachable", "--format", "json")) == []
    assert "no bounce score" in run("reachable", "nobody@example.org")
