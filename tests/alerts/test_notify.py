"""Personal alert filters: matching, the immediate notifications and the daily digest, TLP
enforced for every label and every kind of reader (real outbox rows, no mocks)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.alerts.conftest import raise_as
from tests.conftest import body_of, outbox_messages
from tldops.alerts import notify
from tldops.alerts.models import (
    MAX_FILTERS_PER_PERSON,
    AlertDigest,
    AlertDigestItem,
    AlertFilter,
)
from tldops.alerts.tlp import Tlp
from tldops.directory import actions
from tldops.directory.audit import Actor
from tldops.kernel.errors import InvalidInput, InvalidInputs, NotAuthorised, NotFound

NOTE = notify.NOTIFICATION_PURPOSE
DIGEST = notify.DIGEST_PURPOSE
LABELS = [t.value for t in Tlp]
SECRET = "SECRET-RED-BODY-4711"
MORNING = dt.datetime(2026, 12, 5, 8, 0, tzinfo=dt.UTC)


def add(person, **fields):
    return notify.save_filter(person, notify.FilterInput(**fields), actor=Actor.of(person, "web"))


def notified(purpose=NOTE):
    return [r for r, _m in outbox_messages(purpose)]


def first_line(msg):
    return body_of(msg).splitlines()[0]


# --- Matching ----------------------------------------------------------------------------------


def test_category_tld_and_severity_match(community):
    add(community.jan, categories=["phishing"])
    add(community.marc, tlds=["nl"])
    add(community.sec, min_severity="high")
    raise_as(community.ana, "GREEN", category="phishing", severity="low", affected=["fr"])
    assert notified() == ["jan@nic.nl"]
    raise_as(community.ana, "GREEN", category="ddos", severity="medium", affected=["nl", "fr"])
    assert notified()[1:] == ["marc@nic.fr"]
    raise_as(community.ana, "GREEN", category="ddos", severity="critical")
    assert notified()[2:] == ["sec@tldops.example"]
    raise_as(community.ana, "GREEN", category="malware", severity="medium", affected=["br"])
    assert len(notified()) == 3  # matches nobody's filter


def test_empty_filter_matches_everything_and_author_is_never_told(community):
    add(community.jan)
    add(community.ana)
    raise_as(community.ana, "GREEN", severity="low")
    assert notified() == ["jan@nic.nl"]


def test_idn_tld_filter_matches(community):
    add(community.jan, tlds=["рф"])
    raise_as(community.ana, "GREEN", affected=["xn--p1ai"])
    assert notified() == ["jan@nic.nl"]


def test_one_mail_even_with_several_matching_filters(community):
    add(community.jan)
    add(community.jan, categories=["malware"])
    add(community.jan, tlds=["fr"], mode="digest")
    raise_as(community.ana, "AMBER", affected=["fr"])
    assert notified() == ["jan@nic.nl"]
    # The immediate mail was sent: the alert is not repeated in the digest.
    assert not AlertDigestItem.objects.exists()


# --- The TLP matrix ----------------------------------------------------------------------------


def _everyone_filters(community, mode):
    """Every kind of reader keeps a catch-all filter; pending gets one by hand (the service
    refuses them one, see test_only_the_community_keeps_filters)."""
    for person in (community.jan, community.marc, community.sec, community.ana):
        add(person, mode=mode)
    AlertFilter.objects.create(person=community.pending, mode=mode)
    community.jan.alt_emails = ["jan@home.example"]
    community.jan.save(update_fields=["alt_emails"])


def _raise(community, label):
    extra = {"recipients": ["marc@nic.fr"]} if label == "RED" else {}
    return raise_as(
        community.ana, label, title=f"{label} flood", body=SECRET, affected=["fr"], **extra
    )


EXPECTED = {
    "CLEAR": {"jan@nic.nl", "marc@nic.fr", "sec@tldops.example"},
    "GREEN": {"jan@nic.nl", "marc@nic.fr", "sec@tldops.example"},
    "AMBER": {"jan@nic.nl", "marc@nic.fr", "sec@tldops.example"},
    "AMBER+STRICT": {"jan@nic.nl", "marc@nic.fr", "sec@tldops.example"},
    "RED": {"marc@nic.fr"},  # named; not the staff, not the author, not the others
}


@pytest.mark.parametrize("label", LABELS)
def test_notification_matrix(community, label):
    _everyone_filters(community, "immediate")
    alert = _raise(community, label)
    mails = outbox_messages(NOTE)
    assert {r for r, _m in mails} == EXPECTED[label]
    assert len(mails) == len(EXPECTED[label])
    tag = Tlp(label).tag
    for _recipient, msg in mails:
        assert msg["Subject"] == f"[TLD-OPS][{tag}] {label} flood"
        assert first_line(msg) == tag
        assert f"/alerts/{alert.pk}/" in body_of(msg)
        assert msg["X-TLP"] == tag
        assert (SECRET in body_of(msg)) is (label != "RED")
    assert "jan@home.example" not in {r for r, _m in outbox_messages()}


def test_public_clear_alert_does_not_reach_a_pending_member(community):
    _everyone_filters(community, "immediate")
    raise_as(community.ana, "CLEAR", public=True)
    assert "paula@nic.br" not in notified()


@pytest.mark.parametrize("label", LABELS)
def test_digest_matrix(community, label):
    _everyone_filters(community, "digest")
    alert = _raise(community, label)
    assert notified() == []
    assert notify.run_due(MORNING) == len(EXPECTED[label])
    mails = outbox_messages(DIGEST)
    assert {r for r, _m in mails} == EXPECTED[label]
    tag = Tlp(label).tag
    for _recipient, msg in mails:
        assert msg["Subject"] == f"[TLD-OPS][{tag}] Alerts digest 2026-12-05"
        assert first_line(msg) == tag
        assert f"[{tag}] #{alert.pk} {label} flood" in body_of(msg)
        assert SECRET not in body_of(msg)
    assert "jan@home.example" not in {r for r, _m in outbox_messages()}
    assert not AlertDigestItem.objects.exists()


def test_red_text_is_in_no_notification_nor_digest(community):
    """The RED alert's own mail carries its text to its readers (tldops.alerts.mailing); the
    notifications and digests never repeat it."""
    _everyone_filters(community, "immediate")
    AlertFilter.objects.create(person=community.marc, mode="digest")
    _raise(community, "RED")
    notify.run_due(MORNING)
    for recipient, msg in outbox_messages():
        if SECRET in body_of(msg):
            assert recipient in {"ana@nic.fr", "marc@nic.fr"}  # the author and the one named
    for _r, msg in outbox_messages(NOTE) + outbox_messages(DIGEST):
        assert SECRET not in msg.as_string()


def test_digest_groups_items_and_carries_the_most_restrictive_label(community):
    add(community.marc, mode="digest")
    green = raise_as(community.ana, "GREEN", title="green one")
    red = raise_as(community.ana, "RED", title="red one", recipients=["marc@nic.fr"])
    strict = raise_as(community.ana, "AMBER+STRICT", title="strict one")
    notify.run_due(MORNING)
    ((recipient, msg),) = outbox_messages(DIGEST)
    body = body_of(msg)
    assert recipient == "marc@nic.fr"
    assert msg["Subject"] == "[TLD-OPS][TLP:RED] Alerts digest 2026-12-05"
    assert first_line(msg) == "TLP:RED"
    positions = [
        body.index(f"[TLP:RED] #{red.pk} red one"),
        body.index(f"[TLP:AMBER+STRICT] #{strict.pk} strict one"),
        body.index(f"[TLP:GREEN] #{green.pk} green one"),
    ]
    assert positions == sorted(positions)


# --- The digest's schedule ---------------------------------------------------------------------


def test_digest_once_a_day(community):
    add(community.jan, mode="digest")
    raise_as(community.ana, "GREEN")
    assert notify.run_due(MORNING.replace(hour=6)) == 0  # before ALERT_DIGEST_HOUR (7)
    assert notify.run_due(MORNING) == 1
    raise_as(community.ana, "AMBER")
    assert notify.run_due(MORNING) == 0  # the day's digest is sent: the new one waits
    assert notify.run_due(MORNING.replace(hour=23)) == 0
    assert len(outbox_messages(DIGEST)) == 1
    assert AlertDigest.objects.filter(person=community.jan).count() == 1
    assert notify.run_due(MORNING + dt.timedelta(days=1)) == 1
    assert len(outbox_messages(DIGEST)) == 2
    assert not AlertDigestItem.objects.exists()


def test_digest_hour_is_a_setting(community, settings):
    settings.ALERT_DIGEST_HOUR = 9
    add(community.jan, mode="digest")
    raise_as(community.ana, "GREEN")
    assert notify.run_due(MORNING) == 0
    assert notify.run_due(MORNING.replace(hour=9)) == 1


def test_digest_rechecks_who_may_read_at_send_time(community):
    add(community.marc, mode="digest")
    add(community.jan, mode="digest")
    red = raise_as(community.ana, "RED", recipients=["marc@nic.fr", "jan@nic.nl"])
    green = raise_as(community.ana, "GREEN")
    red.recipients.remove(community.marc)  # the author takes marc off the RED alert
    actions.leave(community.jan, actor=Actor.of(community.jan, "web"))  # jan leaves
    assert notify.run_due(MORNING) == 1
    ((recipient, msg),) = outbox_messages(DIGEST)
    assert recipient == "marc@nic.fr"
    assert f"#{green.pk} " in body_of(msg) and f"#{red.pk} " not in body_of(msg)
    assert first_line(msg) == "TLP:GREEN"
    assert not AlertDigestItem.objects.exists()  # jan's are dropped, not kept


def test_a_lost_claim_sends_nothing(community):
    """A second worker that finds the day's claim taken sends nothing and keeps the items."""
    add(community.jan, mode="digest")
    raise_as(community.ana, "GREEN")
    AlertDigest.objects.create(person=community.jan, day=MORNING.date(), count=1)
    assert notify.send_digest(community.jan.pk, MORNING.date()) is None
    assert outbox_messages(DIGEST) == []
    assert AlertDigestItem.objects.filter(person=community.jan).count() == 1


# --- The filters themselves --------------------------------------------------------------------


def test_validation_reports_every_error_and_stores_nothing(community):
    with pytest.raises(InvalidInputs) as caught:
        add(
            community.jan,
            categories=["ddos", "bogus"],
            tlds=["fr", "nope-not-a-tld"],
            min_severity="apocalyptic",
            mode="sometimes",
        )
    fields = {e.field for e in caught.value.errors}
    assert fields == {"categories", "tlds", "min_severity", "mode"}
    assert not AlertFilter.objects.exists()


def test_bounds(community):
    with pytest.raises(InvalidInput) as caught:
        add(community.jan, tlds=["fr"] * (notify.MAX_FILTER_TLDS + 1))
    assert caught.value.errors[0].field == "tlds"
    for _ in range(MAX_FILTERS_PER_PERSON):
        add(community.jan)
    with pytest.raises(InvalidInput) as caught:
        add(community.jan)
    assert "delete one" in caught.value.errors[0].message
    assert AlertFilter.objects.filter(person=community.jan).count() == MAX_FILTERS_PER_PERSON


def test_only_the_community_keeps_filters(community):
    with pytest.raises(NotAuthorised):
        add(community.pending)


def test_save_list_delete(community):
    flt = add(community.jan, categories=["DDoS", "phishing"], tlds=["FR", "рф"], mode="digest")
    (shown,) = [notify.describe(f) for f in notify.list_filters(community.jan)]
    assert shown["id"] == flt.pk
    assert shown["categories"] == ["ddos", "phishing"]
    assert shown["tlds"] == ["fr", "xn--p1ai"]
    assert (shown["min_severity"], shown["mode"]) == ("low", "digest")
    notify.delete_filter(community.jan, flt.pk, actor=Actor.of(community.jan, "web"))
    assert not notify.list_filters(community.jan).exists()


def test_nobody_deletes_anothers_filter(community):
    flt = add(community.jan)
    with pytest.raises(NotFound):
        notify.delete_filter(community.marc, flt.pk, actor=Actor.of(community.marc, "web"))
    with pytest.raises(NotFound):
        notify.delete_filter(community.sec, flt.pk, actor=Actor.of(community.sec, "web"))
    assert AlertFilter.objects.filter(pk=flt.pk).exists()
