"""Editions: stored and sent exactly once a period, to every active member, with attachments."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import vobject
from django.db import OperationalError, connection

from tests.conftest import body_of
from tests.repository.conftest import ARABIC, CYRILLIC
from tldops.directory import actions
from tldops.directory.audit import Actor
from tldops.kernel.errors import InvalidInput, NotFound
from tldops.mail.models import Delivery, OutboundMessage
from tldops.repository import editions, schedule
from tldops.repository.models import Edition

NOV = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)  # Monday 2 November 2026, 06:00 UTC


def _parse(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_publish_stores_the_edition_and_mails_every_active_member(people, outbox):
    edition = editions.publish("2026-11", trigger="cli", now=NOV)
    assert edition is not None and edition.pk
    stored = Edition.objects.get(period="2026-11")
    assert stored.people == 5 and stored.cctlds == 4 and stored.trigger == "cli"
    assert stored.recipients == 5 and stored.sent_at is not None and stored.signer == ""

    sent = outbox("repository")
    assert sorted(r for r, _m in sent) == sorted(
        ["ana@nic.fr", "olga@nic.ru", "mohammed@nic.nl", "wei@nic.nl", "david@nic.br"]
    )
    assert OutboundMessage.objects.filter(purpose="repository").count() == 1  # one message
    out = OutboundMessage.objects.get(purpose="repository")
    assert bytes(out.raw) == bytes(stored.raw)  # exactly what is kept
    assert out.verp  # bounces are attributed like list posts

    msg = sent[0][1]
    assert msg["Subject"] == "TLD-OPS contact repository 2026-11"
    assert msg["List-Id"] == "TLD-OPS <tld-ops.tldops.localhost>"
    assert msg.get_content_type() == "multipart/mixed"
    body = body_of(msg)
    assert body.replace("\r\n", "\n") == stored.text
    assert "edition 2026-11" in body and CYRILLIC in body
    attachments = {part.get_filename(): part for part in msg.iter_attachments()}
    assert set(attachments) == {
        "tld-ops-contacts-2026-11.csv",
        "tld-ops-contacts-2026-11.vcf",
        "tld-ops-contacts-2026-11.pdf",
    }
    assert attachments["tld-ops-contacts-2026-11.vcf"].get_content_type() == "text/vcard"
    assert attachments["tld-ops-contacts-2026-11.csv"].get_content() == stored.csv
    vcf = attachments["tld-ops-contacts-2026-11.vcf"].get_content()
    assert len(list(vobject.readComponents(vcf))) == 6
    assert attachments["tld-ops-contacts-2026-11.pdf"].get_content() == bytes(stored.pdf)


def test_second_call_is_a_no_op(people):
    assert editions.run_due(NOV) == 1
    assert editions.run_due(NOV) == 0
    assert editions.publish("2026-11", trigger="cli", now=NOV) is None
    assert Edition.objects.count() == 1
    assert OutboundMessage.objects.filter(purpose="repository").count() == 1


def test_the_insert_is_the_claim(people):
    """Two callers that both generated before either stored: only the first sends."""
    first = editions.generate("2026-11", now=NOV)
    second = editions.generate("2026-11", now=NOV)
    assert editions.store_and_send(first) is not None
    assert editions.store_and_send(second) is None
    assert Edition.objects.count() == 1
    assert Delivery.objects.filter(message__purpose="repository").count() == 5


@pytest.mark.django_db(transaction=True)
def test_exactly_once_under_concurrent_schedulers(people):
    """Four worker threads, each with its own database connection, wake at the same moment.

    The test database is SQLite in memory with a shared cache, where a reader meets a writer's
    table lock at once ("database table is locked") instead of waiting as in WAL mode; a worker
    logs that and tries again in its next round, which is what a thread does here.
    """
    barrier = threading.Barrier(4)
    results: list[object] = []

    def worker() -> None:
        try:
            barrier.wait()
            for _attempt in range(50):
                try:
                    results.append(editions.run_due(NOV))
                    return
                except OperationalError as exc:
                    if "locked" not in str(exc):
                        raise
                    time.sleep(0.1)  # the worker's next round
        except Exception as exc:  # noqa: BLE001 - reported below
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(results, key=str) == [0, 0, 0, 1], results
    assert Edition.objects.count() == 1
    assert OutboundMessage.objects.filter(purpose="repository").count() == 1
    assert Delivery.objects.filter(message__purpose="repository").count() == 5


def test_not_due_before_the_send_time_and_missed_period_sent_once(people):
    # 1 November 2026 is a Sunday: the first working day is Monday 2 November.
    assert schedule.first_working_day(2026, 11).isoformat() == "2026-11-02"
    assert editions.run_due(datetime(2026, 11, 1, 12, 0, tzinfo=UTC)) == 1  # October's, late
    assert Edition.objects.get().period == "2026-10"
    assert editions.run_due(datetime(2026, 11, 2, 5, 59, tzinfo=UTC)) == 0  # not yet
    assert editions.run_due(datetime(2026, 11, 2, 6, 0, tzinfo=UTC)) == 1
    # Down from mid-November to mid-February: only February's edition is sent, once.
    assert editions.run_due(datetime(2027, 2, 15, 9, 0, tzinfo=UTC)) == 1
    assert editions.run_due(datetime(2027, 2, 15, 9, 1, tzinfo=UTC)) == 0
    assert list(Edition.objects.values_list("period", flat=True)) == [
        "2027-02",
        "2026-11",
        "2026-10",
    ]


def test_a_weekend_schedule_goes_out_on_the_first_working_day(people):
    # 1 August 2026 is a Saturday: due on Monday 3 August at 06:00 UTC, not before.
    assert editions.run_due(datetime(2026, 7, 6, 6, 0, tzinfo=UTC)) == 1  # July's
    assert editions.run_due(datetime(2026, 8, 1, 6, 0, tzinfo=UTC)) == 0
    assert editions.run_due(datetime(2026, 8, 2, 23, 59, tzinfo=UTC)) == 0
    assert editions.run_due(datetime(2026, 8, 3, 6, 0, tzinfo=UTC)) == 1
    assert Edition.objects.filter(period="2026-08").exists()


def test_nothing_is_sent_without_members(db):
    assert editions.run_due(NOV) == 0
    assert not Edition.objects.exists()


def test_a_member_who_left_is_in_left_and_gets_no_mail(people, outbox):
    assert editions.run_due(datetime(2026, 10, 1, 6, 0, tzinfo=UTC)) == 1
    actions.leave(people.olga, actor=Actor.of(people.olga, "web"))
    assert editions.run_due(NOV) == 1
    november = Edition.objects.get(period="2026-11")
    assert november.changes["previous"] == "2026-10"
    assert november.changes["left"] == [
        {"person": people.olga.pk, "name": CYRILLIC, "tlds": ["xn--p1ai"]}
    ]
    assert november.changes["joined"] == [] and november.changes["changed"] == []
    to_november = [r for r, m in outbox("repository") if m["X-TLDOPS-Edition"] == "2026-11"]
    assert "olga@nic.ru" not in to_november and len(to_november) == 4
    body = body_of(_parse(bytes(november.raw)))
    assert f"Left: {CYRILLIC} (.xn--p1ai)" in body
    assert "olga@nic.ru" not in body


def test_export_current_and_stored(people):
    content, content_type, name = editions.export("csv")
    assert content_type == "text/csv; charset=utf-8"
    assert name.startswith("tld-ops-contacts-") and name.endswith(".csv")
    assert ARABIC in content.decode()
    with pytest.raises(NotFound):
        editions.export("txt", period="2026-11")
    editions.publish("2026-11", now=NOV)
    stored = Edition.objects.get()
    for fmt, field in (("txt", "text"), ("csv", "csv"), ("vcf", "vcf")):
        content, _t, name = editions.export(fmt, period="2026-11")
        assert content.decode() == getattr(stored, field)
        assert name == f"tld-ops-contacts-2026-11.{fmt}"
    pdf, content_type, _n = editions.export("pdf", period="2026-11")
    assert pdf == bytes(stored.pdf) and content_type == "application/pdf"
    current_pdf, _t, _n = editions.export("pdf")
    assert current_pdf.startswith(b"%PDF-")
    with pytest.raises(InvalidInput, match="Unknown format"):
        editions.export("docx")
    with pytest.raises(InvalidInput, match="year and month"):
        editions.get("2026-13")


def test_resend_to_everyone_or_named_members_is_audited(people, staff):
    from tldops.directory.models import AuditEntry

    editions.publish("2026-11", now=NOV)
    secretariat = staff()
    everyone = editions.resend("2026-11", actor=Actor.of(secretariat, "cli"))
    assert everyone.deliveries.count() == 6  # the members and the staff (on by default)
    one = editions.resend("2026-11", to=["olga@nic.ru"], actor=Actor.of(secretariat, "api"))
    assert list(one.deliveries.values_list("recipient", flat=True)) == ["olga@nic.ru"]
    assert bytes(one.raw) == bytes(Edition.objects.get().raw)
    entries = AuditEntry.objects.filter(action="repository-resend").order_by("id")
    assert [e.door for e in entries] == ["cli", "api"]
    assert entries[1].after["to"] == ["olga@nic.ru"]
    with pytest.raises(InvalidInput, match="not an address of an active member"):
        editions.resend("2026-11", to=["stranger@example.org"], actor=Actor.of(secretariat, "cli"))


def test_signed_edition_verifies_with_stock_gpg(people, signing_key, tmp_path):
    import subprocess

    from tldops.repository import signing

    edition = editions.publish("2026-11", now=NOV)
    assert edition.signer == signing_key.fingerprint
    raw = bytes(OutboundMessage.objects.get(purpose="repository").raw)
    msg = _parse(raw)
    assert msg.get_content_type() == "multipart/signed"
    signed, signature = msg.get_payload()
    assert signed.get_content_type() == "multipart/mixed"
    (tmp_path / "part").write_bytes(signing.first_part(raw))
    (tmp_path / "part.asc").write_bytes(signature.get_payload().encode())
    result = subprocess.run(
        ["gpg", "--homedir", signing_key.home, "--batch", "--status-fd", "1", "--verify",
         str(tmp_path / "part.asc"), str(tmp_path / "part")],
        capture_output=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    assert f"VALIDSIG {signing_key.fingerprint}".encode() in result.stdout
    # The attachments are inside the signed part.
    names = {p.get_filename() for p in signed.iter_attachments()}
    assert "tld-ops-contacts-2026-11.pdf" in names


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-1+1", "@SUM(1)"]
)
def test_a_formula_as_a_name_is_neutralised_in_the_edition_csv(catalog, make_member, outbox, name):
    """CSV injection: the name a contact chose is text in a spreadsheet, never a formula."""
    make_member(catalog["fr"], name, email="mallory@nic.fr")
    editions.publish("2026-11", now=NOV)
    (_to, msg), *_ = outbox("repository")
    attachment = next(p for p in msg.iter_attachments() if p.get_filename().endswith(".csv"))
    current, _t, _n = editions.export("csv")
    for text in (attachment.get_content(), current.decode()):
        (row,) = list(csv.DictReader(io.StringIO(text)))
        assert row["name"] == "'" + name


def test_the_first_edition_is_not_sent_a_minute_after_the_first_contacts_confirm(
    catalog, make_member, outbox, settings
):
    # An install whose first contact confirms now: the edition due now (this month's, already
    # past its send time, or last month's) began before the community did and is never sent.
    assert editions.next_due() is None
    make_member(catalog["fr"], name="Ana Lopez")
    now = datetime.now(UTC)
    assert editions.run_due(now) == 0 and editions.run_due(now + timedelta(minutes=1)) == 0
    first = editions.next_due()
    assert first is not None and first > now
    assert first == schedule.period_send_time(schedule.due_edition(first))
    assert editions.run_due(first - timedelta(seconds=1)) == 0
    assert editions.run_due(first) == 1
    assert Edition.objects.get().period == f"{first:%Y-%m}"
    # Then month after month, as before.
    after = editions.next_due(first)
    assert after is not None and after > first + timedelta(days=27)


def test_schedule_from_holds_periodic_sends_back(catalog, make_member, settings):
    make_member(catalog["fr"], name="Ana Lopez")
    unheld = editions.next_due()
    settings.SCHEDULE_FROM = f"{unheld + timedelta(days=40):%Y-%m-%d}"
    held = editions.next_due()
    assert held > unheld + timedelta(days=40)
    assert editions.run_due(unheld) == 0 and editions.run_due(held) == 1
    settings.SCHEDULE_FROM = "next spring"
    with pytest.raises(schedule.ScheduleError, match="TLDOPS_SCHEDULE_FROM"):
        editions.next_due()
