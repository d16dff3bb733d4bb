"""Per-ccTLD slices of an alert's domain names, sent by mail (issue 10): each member ccTLD gets only
its own names, the ccTLDs without members go to the secretariat, TLP decides who receives, and
each name is sent once whatever the worker does. The mails are read back from the outbox rows."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import json
from datetime import timedelta
from email.message import EmailMessage

import idna
import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.alerts.conftest import raise_as
from tests.api.conftest import ApiClient, token_for
from tests.web.test_alert_pages import client_for
from tldops.alerts import services, slices
from tldops.alerts.models import AlertSlice, Indicator, SliceJob
from tldops.directory.audit import Actor
from tldops.directory.models import Person
from tldops.mail.models import Delivery, OutboundMessage
from tldops.ops.worker import Worker

#: Under .fr twice, .nl, .uk (via .co.uk), .рф twice (written both ways), .io, one gTLD each.
NAMES = [
    "a.fr",
    "b.example.fr",
    "shop.nl",
    "bank.co.uk",
    "xn--e1afmkfd.xn--p1ai",
    "пример2.рф",
    "evil.io",
    "spam.com",
    "phish.org",
    "192.0.2.1",  # an IPv4 indicator, not a domain: not sliced at all
]


@pytest.fixture
def more_tlds(make_tld):
    return {
        "uk": make_tld("uk", iso_code="GB", reserved_code="UK", country_name="United Kingdom"),
        "io": make_tld(
            "io",
            country_name="British Indian Ocean Territory",
            admin_org="Internet Computer Bureau",
            admin_email="admin@nic.io",
        ),  # fmt: skip
    }


@pytest.fixture
def world(community, more_tlds):
    # Marc's other address must never receive anything (AMBER+STRICT: not his other mailbox).
    Person.objects.filter(pk=community.marc.pk).update(alt_emails=["marc.private@example.org"])
    return community


def mails(purpose: str | None = None) -> list[tuple[list[str], EmailMessage]]:
    """Each queued message (parsed from its raw bytes) with the addresses it is delivered to."""
    purposes = [purpose] if purpose else [slices.PURPOSE, slices.OUTREACH_PURPOSE]
    qs = OutboundMessage.objects.filter(purpose__in=purposes).order_by("id")
    out = []
    for m in qs:
        to = sorted(Delivery.objects.filter(message=m).values_list("recipient", flat=True))
        out.append((to, email.message_from_bytes(bytes(m.raw), policy=email.policy.default)))
    return out


def sent_to() -> set[str]:
    """Every address a slice or an outreach mail is delivered to."""
    return {address for to, _msg in mails() for address in to}


def attachments(msg: EmailMessage) -> dict[str, str]:
    return {
        part.get_filename(): part.get_payload(decode=True).decode("utf-8")
        for part in msg.iter_attachments()
    }


def rows(text: str) -> tuple[str, list[str]]:
    """A slice's marking line and its names (the CSV after it, header checked)."""
    first, _, rest = text.partition("\r\n")
    table = list(csv.reader(io.StringIO(rest)))
    assert table[0] == ["domain"]
    return first, [r[0] for r in table[1:]]


def subject(msg: EmailMessage) -> str:
    """The subject as a reader sees it: a long one is folded before its first word, and unfolding
    leaves the fold's space (``Subject:\\n [TLD-OPS]…`` reads ``Subject: [TLD-OPS]…``)."""
    return str(msg["Subject"]).strip()


def first_line(msg: EmailMessage) -> str:
    return msg.get_body(("plain",)).get_content().splitlines()[0]


def test_each_member_cctld_gets_only_its_own_names_and_the_rest_goes_to_the_secretariat(world):
    alert = raise_as(world.ana, "AMBER", title="DGA wave", indicators=NAMES)
    assert SliceJob.objects.get(alert=alert).pending
    assert not mails()  # the worker sends, not the request
    assert slices.run_due() == 3

    members = {to[0].split("@")[1]: (to, m) for to, m in mails(slices.PURPOSE)}
    assert set(members) == {"nic.fr", "nic.nl"}
    to, fr = members["nic.fr"]
    assert to == ["ana@nic.fr", "marc@nic.fr"]
    assert subject(fr) == f"[TLD-OPS][TLP:AMBER] Names under .fr in alert {alert.pk}: DGA wave"
    assert first_line(fr) == "TLP:AMBER"
    body = fr.get_body(("plain",)).get_content()
    assert f"/alerts/{alert.pk}/" in body and "2 names under .fr" in body
    assert list(attachments(fr)) == ["fr.csv"]
    assert rows(attachments(fr)["fr.csv"]) == ("# TLP:AMBER", ["a.fr", "b.example.fr"])
    to, nl = members["nic.nl"]
    assert to == ["jan@nic.nl"]
    assert rows(attachments(nl)["nl.csv"]) == ("# TLP:AMBER", ["shop.nl"])

    ((to, outreach),) = mails(slices.OUTREACH_PURPOSE)
    assert to == ["sec@tldops.example"]  # the secretariat, not the committee
    assert subject(outreach).startswith("[TLD-OPS][TLP:AMBER] ")
    assert first_line(outreach) == "TLP:AMBER"
    files = attachments(outreach)
    assert set(files) == {"uk.csv", "io.csv", "xn--p1ai.csv"}  # .рф once, .co.uk under .uk
    assert rows(files["uk.csv"]) == ("# TLP:AMBER", ["bank.co.uk"])
    assert rows(files["xn--p1ai.csv"])[1] == [
        "xn--e1afmkfd.xn--p1ai",
        idna.encode("пример2.рф").decode(),  # stored as its A-label
    ]
    text = outreach.get_body(("plain",)).get_content()
    assert ".рф (xn--p1ai): 2 names" in text and ".io: 1 name" in text
    assert "Internet Computer Bureau <admin@nic.io>" in text  # the catalog's IANA admin contact
    assert "spam.com" not in str(outreach) and "phish.org" not in str(fr)

    summary = slices.summary(alert)
    got = {s["cctld"]: (s["names"], s["member"], s["recipients"]) for s in summary.cctlds}
    assert got == {
        "fr": (2, True, 2),
        "nl": (1, True, 1),
        "io": (1, False, 1),
        "uk": (1, False, 1),
        "xn--p1ai": (2, False, 1),
    }
    assert (summary.not_cctld, summary.invalid, summary.pending) == (2, 0, False)
    assert all(s["sent_at"] for s in summary.cctlds)
    everyone = sent_to()
    assert "marc.private@example.org" not in everyone and "chair@tldops.example" not in everyone


def _send_all(world, tlp: str, **fields):
    alert = raise_as(world.ana, tlp, title="Wave", indicators=["a.fr", "b.io", "c.com"], **fields)
    slices.run_due()
    return alert


@pytest.mark.parametrize("tlp", ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT"])
def test_tlp_matrix_community_labels(world, tlp):
    alert = _send_all(world, tlp)
    tag = f"TLP:{tlp}"
    sent = {subject(m): (to, m) for to, m in mails()}
    assert len(sent) == 2
    for _to, msg in sent.values():
        assert subject(msg).startswith(f"[TLD-OPS][{tag}] ")
        assert first_line(msg) == tag
        for text in attachments(msg).values():
            assert text.startswith(f"# {tag}\r\ndomain\r\n")
    ((to, _m),) = mails(slices.PURPOSE)
    assert to == ["ana@nic.fr", "marc@nic.fr"]
    ((to, _m),) = mails(slices.OUTREACH_PURPOSE)
    assert to == ["sec@tldops.example"]
    assert slices.summary(alert).note == ""
    everyone = sent_to()
    assert everyone == {"ana@nic.fr", "marc@nic.fr", "sec@tldops.example"}


def test_tlp_red_goes_only_to_named_readers_and_skips_outreach(world):
    # Jan is named; Marc (a .fr contact) is not, the secretariat is not: neither gets anything.
    alert = _send_all(world, "RED", recipients=["jan@nic.nl"])
    ((to, msg),) = mails()
    assert to == ["ana@nic.fr"]  # the author, a .fr contact; not Marc
    assert subject(msg).startswith("[TLD-OPS][TLP:RED] ") and first_line(msg) == "TLP:RED"
    assert attachments(msg)["fr.csv"].startswith("# TLP:RED\r\n")
    summary = slices.summary(alert)
    assert "TLP:RED" in summary.note and "Outreach skipped" in summary.note
    io_row = next(s for s in summary.cctlds if s["cctld"] == "io")
    assert (io_row["member"], io_row["recipients"], io_row["sent_at"]) == (False, 0, None)
    assert SliceJob.objects.get(alert=alert).outreach_skipped == slices.SKIPPED_RED


def test_tlp_red_member_cctld_without_a_named_contact_gets_nothing(world):
    alert = raise_as(
        world.ana, "RED", recipients=["marc@nic.fr"], indicators=["x.nl", "y.fr"], title="R"
    )
    slices.run_due()
    # .fr's named contacts, a copy each (nobody learns who else was named); .nl's Jan is not.
    assert sorted(to for to, _m in mails()) == [["ana@nic.fr"], ["marc@nic.fr"]]
    nl = next(s for s in slices.summary(alert).cctlds if s["cctld"] == "nl")
    assert (nl["member"], nl["recipients"], nl["sent_at"]) == (True, 0, None)
    assert "TLP:RED" in nl["note"]


def test_tlp_red_naming_the_secretariat_sends_the_outreach(world):
    alert = _send_all(world, "RED", recipients=["sec@tldops.example"])
    ((to, msg),) = mails(slices.OUTREACH_PURPOSE)
    assert to == ["sec@tldops.example"] and first_line(msg) == "TLP:RED"
    assert slices.summary(alert).note == ""


def test_a_rerun_sends_nothing_and_a_later_upload_only_the_new_names(world):
    alert = raise_as(world.ana, "GREEN", indicators=["a.fr", "b.fr", "z.io"], title="W")
    assert slices.run_due() == 2
    assert slices.run_due() == 0 and slices.run_job(SliceJob.objects.get().pk) == 0
    assert len(mails()) == 2
    upload = io.BytesIO(b"a.fr\nb.fr\nc.fr\nd.nl\nz.io\n")  # two known, two new
    services.add_indicators(world.ana, alert.pk, upload, actor=Actor.of(world.ana, "web"))
    assert SliceJob.objects.get().pending
    assert slices.run_due() == 2
    new = mails(slices.PURPOSE)[1:]
    got = {to[0]: rows(next(iter(attachments(m).values())))[1] for to, m in new}
    assert got == {"ana@nic.fr": ["c.fr"], "jan@nic.nl": ["d.nl"]}
    assert len(mails(slices.OUTREACH_PURPOSE)) == 1  # nothing new under .io
    fr = next(s for s in slices.summary(alert).cctlds if s["cctld"] == "fr")
    assert (fr["names"], fr["mails"]) == (3, 2)
    assert slices.run_due() == 0


def test_a_failed_run_sends_nothing_and_is_retried_whole(world, monkeypatch):
    raise_as(world.ana, "AMBER", indicators=["a.fr", "b.io"], title="W")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(slices, "_outreach_mail", broken)
    assert slices.run_due() == 0
    # The .fr mail was queued before the failure: rolled back with the rest.
    assert not mails() and not AlertSlice.objects.exists()
    job = SliceJob.objects.get()
    assert job.pending and job.failures == 1 and "disk full" in job.last_error
    assert job.done_up_to == 0
    monkeypatch.undo()
    assert slices.run_due() == 0  # not due again yet
    assert slices.run_due(now=timezone.now() + timedelta(minutes=5)) == 2
    assert SliceJob.objects.get().failures == 0


def test_nothing_is_sent_for_an_alert_without_domain_names(world):
    raise_as(world.ana, "AMBER", title="none")
    assert not SliceJob.objects.exists()
    alert = raise_as(world.ana, "AMBER", title="ips", indicators=["192.0.2.1", "evil.com"])
    assert Indicator.objects.filter(alert=alert).count() == 2
    assert slices.run_due() == 0
    assert not mails() and not AlertSlice.objects.exists()
    assert slices.summary(alert).not_cctld == 1


def test_the_worker_runs_the_slices(world, settings):
    raise_as(world.ana, "AMBER", indicators=["a.fr"], title="W")
    report = Worker().run_once()
    assert "slices" not in report.errors
    ((to, msg),) = mails(slices.PURPOSE)
    assert to == ["ana@nic.fr", "marc@nic.fr"]
    # Delivered in the same round, to the sink.
    statuses = Delivery.objects.filter(message__purpose=slices.PURPOSE).values_list("status")
    assert set(statuses) == {(Delivery.Status.SENT,)}


def test_cli_show_lists_the_slices(world, capsys):
    alert = raise_as(world.ana, "AMBER", indicators=["a.fr", "b.io", "c.com"], title="W")
    slices.run_due()
    out = io.StringIO()
    call_command("alert", "show", str(alert.pk), "--as", "jan@nic.nl", stdout=out)
    text = out.getvalue()
    assert ".fr: 1 names" in text and ".io: 1 names, secretariat (no member) (1)" in text
    assert "not under a ccTLD: 1, invalid: 0" in text
    out = io.StringIO()
    call_command("alert", "show", str(alert.pk), "--as", "ana@nic.fr", "--format", "json",
                 stdout=out)  # fmt: skip
    detail = json.loads(out.getvalue())
    assert [s["cctld"] for s in detail["slices"]["cctlds"]] == ["fr", "io"]
    assert detail["slices"]["not_cctld"] == 1


def test_the_api_and_the_portal_show_the_slices_to_readers_only(world):
    alert = raise_as(
        world.ana, "RED", recipients=["jan@nic.nl"], indicators=["a.fr", "b.io", "c.com"],
        title="Tango-red slices",
    )  # fmt: skip
    slices.run_due()
    detail = ApiClient(token=token_for(world.ana)).get(f"/alerts/{alert.pk}")
    assert detail.status_code == 200
    got = detail.data["slices"]
    assert [(s["cctld"], s["names"], s["member"], s["recipients"]) for s in got["cctlds"]] == [
        ("fr", 1, True, 1),
        ("io", 1, False, 0),
    ]
    assert (got["not_cctld"], got["invalid"], got["pending"]) == (1, 0, False)
    assert "TLP:RED" in got["note"]
    assert ApiClient(token=token_for(world.marc)).get(f"/alerts/{alert.pk}").status_code == 404

    page = client_for(world.jan).get(f"/alerts/{alert.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and 'id="slices"' in html and "Outreach skipped" in html
    assert "Slices sent to each ccTLD" in html
    assert client_for(world.marc).get(f"/alerts/{alert.pk}/").status_code == 404
    plain = raise_as(world.ana, "AMBER", title="no names")
    assert 'id="slices"' not in client_for(world.jan).get(f"/alerts/{plain.pk}/").content.decode()
