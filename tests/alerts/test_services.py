"""Raising, reading, answering and closing alerts; and TLP enforced by the one access rule."""

from __future__ import annotations

import pytest

from tests.alerts.conftest import raise_as
from tldops.alerts import access, services
from tldops.alerts.models import Alert, StatusChange
from tldops.directory.audit import Actor
from tldops.directory.models import AuditEntry
from tldops.kernel.errors import DirectoryError, NotAuthorised, NotFound

#: Who may read an alert of each label (CLEAR not public, CLEAR public, GREEN … RED naming Jan).
EXPECTED = {
    "CLEAR": {"member", "colleague", "author", "secretariat", "committee"},
    "CLEAR-public": {"anonymous", "pending", "member", "colleague", "author", "secretariat", "committee"},
    "GREEN": {"member", "colleague", "author", "secretariat", "committee"},
    "AMBER": {"member", "colleague", "author", "secretariat", "committee"},
    "AMBER+STRICT": {"member", "colleague", "author", "secretariat", "committee"},
    "RED": {"author", "member"},  # Jan is named; nobody else, staff included
}  # fmt: skip


def _alerts(community):
    alerts = {}
    for label in ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT"):
        alerts[label] = raise_as(community.ana, label, title=f"{label} alert")
    alerts["CLEAR-public"] = raise_as(community.ana, "CLEAR", title="public alert", public=True)
    alerts["RED"] = raise_as(community.ana, "RED", title="red alert", recipients=["jan@nic.nl"])
    return alerts


def test_tlp_matrix_every_reader_every_label(community):
    alerts = _alerts(community)
    for who, reader in community.readers().items():
        listed = set(services.search(reader).values_list("pk", flat=True))
        for label, alert in alerts.items():
            allowed = who in EXPECTED[label]
            assert access.can_read(reader, alert) is allowed, (who, label)
            assert (alert.pk in listed) is allowed, (who, label)
            if allowed:
                assert services.get(reader, alert.pk) == alert
            else:
                with pytest.raises(NotFound):
                    services.get(reader, alert.pk)


def test_red_alert_to_the_affected_ccTLDs_contacts_and_not_in_the_audit_summary(community):
    alert = raise_as(
        community.jan,
        "RED",
        title="Registrar panel compromised",
        affected=["fr"],
        red_to_affected=True,
    )
    assert set(alert.recipients.values_list("email", flat=True)) == {"ana@nic.fr", "marc@nic.fr"}
    assert access.can_read(community.marc, alert) and not access.can_read(community.sec, alert)
    entry = AuditEntry.objects.get(action="alert-raised")
    assert "Registrar panel" not in entry.summary and "TLP:RED" in entry.summary


def test_bad_input_is_refused_all_at_once_and_nothing_is_stored(community):
    with pytest.raises(DirectoryError) as exc:
        services.raise_alert(
            community.ana,
            services.AlertInput(
                title="",
                category="spam",
                tlp="PURPLE",
                severity="apocalyptic",
                affected=["fr", "nowhere"],
            ),
            actor=Actor.of(community.ana, "web"),
        )
    fields = {e.field for e in exc.value.errors}
    assert fields == {"tlp", "title", "category", "severity", "affected"}
    assert not Alert.objects.exists()
    for data, field in [
        (services.AlertInput(title="x", category="ddos", tlp=None), "tlp"),
        (services.AlertInput(title="x", category="ddos", tlp="RED"), "recipients"),
        (services.AlertInput(title="x", category="ddos", tlp="GREEN", public=True), "public"),
        (services.AlertInput(title="x", category="ddos", tlp="GREEN", recipients=["jan@nic.nl"]), "recipients"),
        (services.AlertInput(title="x", category="ddos", tlp="RED", recipients=["paula@nic.br"]), "recipients"),
        (services.AlertInput(title="x" * 201, category="ddos", tlp="GREEN"), "title"),
    ]:  # fmt: skip
        with pytest.raises(DirectoryError) as exc:
            services.raise_alert(community.ana, data, actor=Actor.of(community.ana, "web"))
        assert field in {e.field for e in exc.value.errors}, data
    assert not Alert.objects.exists()


def test_only_the_community_raises_alerts(community):
    with pytest.raises(NotAuthorised):
        raise_as(community.pending, "GREEN")


def test_reactions_replace_and_aggregate_per_cctld(community):
    alert = raise_as(community.ana, "AMBER", affected=["fr", "nl"])
    jan = Actor.of(community.jan, "web")
    services.react(community.jan, alert.pk, services.ReactionInput("not-seen"), actor=jan)
    services.react(community.jan, alert.pk, services.ReactionInput("seen", count=120), actor=jan)
    services.react(
        community.marc,
        alert.pk,
        services.ReactionInput("mitigated"),
        actor=Actor.of(community.marc, "web"),
    )
    assert services.reactions_by_tld(alert) == {
        "fr": {"mitigated": 1},
        "nl": {"seen": 1, "sightings": 120},
    }
    with pytest.raises(DirectoryError) as exc:
        services.react(community.jan, alert.pk, services.ReactionInput("maybe", count=3), actor=jan)
    assert {e.field for e in exc.value.errors} == {"kind", "count"}
    red = raise_as(community.ana, "RED", recipients=["jan@nic.nl"])
    with pytest.raises(NotFound):  # the secretariat was not named: it cannot even answer
        services.react(
            community.sec,
            red.pk,
            services.ReactionInput("seen"),
            actor=Actor.of(community.sec, "web"),
        )


def test_status_by_the_author_or_staff_with_history(community):
    alert = raise_as(community.ana, "GREEN")
    with pytest.raises(NotAuthorised):
        services.change_status(
            community.jan, alert.pk, "resolved", actor=Actor.of(community.jan, "web")
        )
    services.change_status(
        community.ana, alert.pk, "monitoring", actor=Actor.of(community.ana, "web")
    )
    services.change_status(
        community.sec, alert.pk, "resolved", actor=Actor.of(community.sec, "cli")
    )
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.status_changed_at is not None
    steps = list(
        StatusChange.objects.filter(alert=alert).values_list("before", "after", "by__email")
    )
    assert steps == [
        ("", "open", "ana@nic.fr"),
        ("open", "monitoring", "ana@nic.fr"),
        ("monitoring", "resolved", "sec@tldops.example"),
    ]
    assert AuditEntry.objects.filter(action="alert-status").count() == 2


def test_search_filters(community):
    a = raise_as(community.ana, "AMBER", title="Flood on .nl", category="ddos", affected=["nl"])
    raise_as(community.ana, "GREEN", title="Phish kit", category="phishing", affected=["fr"])
    f = services.Filters
    assert list(services.search(community.jan, f(category="ddos"))) == [a]
    assert list(services.search(community.jan, f(tld="NL"))) == [a]
    assert list(services.search(community.jan, f(tlp="amber"))) == [a]
    assert list(services.search(community.jan, f(text="flood"))) == [a]
    with pytest.raises(DirectoryError) as exc:
        services.search(community.jan, f(category="x", tlp="y", status="z"))
    assert {e.field for e in exc.value.errors} == {"category", "tlp", "status"}
