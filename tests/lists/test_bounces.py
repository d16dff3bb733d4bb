"""Bounces: real-format DSNs parsed and classified, VERP attribution through the real intake,
the decaying score, the threshold's notices, and "unreachable" in the directory and the API."""

from __future__ import annotations

import hashlib
import hmac
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.utils import timezone

from tests.web.conftest import sign_in
from tldops.directory import bounces
from tldops.directory.models import AuditEntry, BounceEvent, BounceScore
from tldops.lists import distribute
from tldops.lists.models import Post
from tldops.mail import dsn, intake, outbox, verp
from tldops.mail.models import Delivery, InboundMessage, OutboundMessage
from tldops.ops.worker import Worker

DSN = Path(__file__).parent / "dsn"
RCPT = "ana@nic.fr"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Members are made with passwords; PBKDF2 is slow by design and not what is tested here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def fixture(name: str, *, verp_address: str = "tld-ops-bounces@tldops.localhost", rcpt=RCPT):
    """A DSN fixture (real formats, see tests/lists/dsn/) with its addresses filled in, CRLF."""
    text = (DSN / name).read_text().replace("@@VERP@@", verp_address).replace("@@RCPT@@", rcpt)
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def only_report(name: str) -> dsn.Report:
    (report,) = dsn.parse(fixture(name))
    return report


# --- Parsing and classification (pure) ---------------------------------------------------------------


def test_postfix_user_unknown_is_hard():
    report = only_report("postfix_user_unknown.eml")
    assert report.recipient == RCPT
    assert report.action == "failed"
    assert report.status == "5.1.1"
    assert report.diagnostic.startswith("550 5.1.1 <ana@nic.fr>: Recipient address rejected:")
    assert "User unknown in virtual mailbox table" in report.diagnostic
    assert dsn.classify(report) == "hard"


def test_exim_generic_status_takes_the_precise_code_of_the_remote_answer():
    report = only_report("exim_disabled.eml")
    assert report.status == "5.2.1"  # Exim writes Status: 5.0.0; Gmail said 5.2.1 (disabled)
    assert dsn.classify(report) == "hard"


def test_spam_block_list_rejection_is_policy():
    report = only_report("postfix_policy_spam.eml")
    assert report.status == "5.7.1"
    assert "spamhaus" in report.diagnostic
    assert dsn.classify(report) == "policy"


def test_exchange_mailbox_full_is_soft_although_permanent():
    report = only_report("exchange_mailbox_full.eml")
    assert report.status == "5.2.2"
    assert dsn.classify(report) == "soft"


def test_delay_warning_is_no_failure():
    report = only_report("postfix_delayed.eml")
    assert (report.action, report.status) == ("delayed", "4.4.1")
    assert dsn.classify(report) is None


def test_plain_text_notice_without_dsn_falls_back_to_its_status_code():
    report = only_report("qmail_plain.eml")
    assert report.status == "5.1.1"
    assert dsn.classify(report) == "hard"


def test_auto_reply_is_not_a_bounce():
    assert dsn.parse(fixture("vacation.eml")) == []


@pytest.mark.parametrize(
    ("status", "diagnostic", "kind"),
    [
        ("5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found", "hard"),
        ("5.1.2", "550 5.1.2 Host unknown (Name server: nic.example: host not found)", "hard"),
        ("4.2.0", "450 4.2.0 Mailbox temporarily unavailable", "soft"),
        ("5.7.26", "550 5.7.26 Unauthenticated email is not accepted (DMARC)", "policy"),
        ("5.0.0", "550 Message rejected as spam by Content Filtering", "policy"),
        ("5.1.1", "552 5.1.1 mailbox over quota", "soft"),
        ("5.0.0", "554 delivery error: dd This user doesn't have an account", "hard"),
        ("2.0.0", "250 2.0.0 OK", None),
    ],
)
def test_classification_table(status, diagnostic, kind):
    assert dsn.classify(dsn.Report(RCPT, "failed", status, diagnostic)) == kind


def test_decay_halves_the_score_every_half_life(settings):
    settings.BOUNCE_DECAY_DAYS = 7
    now = timezone.now()
    assert bounces.decayed(4.0, now - timedelta(days=7), now) == pytest.approx(2.0)
    assert bounces.decayed(4.0, now - timedelta(days=14), now) == pytest.approx(1.0)
    assert bounces.decayed(4.0, now, now) == 4.0


# --- Attribution through the real intake ----------------------------------------------------------


@pytest.fixture
def bounce_route():
    """The lists app registers its routes at start (intake.list_routes): VERP addresses reach us."""
    route = intake.route_for(verp.encode(1))
    assert route is not None and route.handler == "tldops.lists.bounces.handle_bounce"
    return route


def distributed(*recipients_of_members) -> dict[str, Delivery]:
    """A post fanned out to the list's members, as the pipeline does; deliveries by recipient."""
    inbound = InboundMessage.objects.create(mail_from="jan@sidn.nl", rcpt_to=["tld-ops@x"], raw=b"")
    post = Post.objects.create(
        inbound=inbound,
        message_id="<c0ffee@sidn.nl>",
        sender="jan@sidn.nl",
        status=Post.Status.ACCEPTED,
    )
    msg = EmailMessage()
    msg["From"] = "Jan de Vries <jan@sidn.nl>"
    msg["Subject"] = "[TLD-OPS] Phishing campaign against registrars"
    msg.set_content("Heads up.")
    out = distribute.fan_out(post, msg)
    return {d.recipient: d for d in out.deliveries.all()}


def send_bounce(servers, handler, raw: bytes, to: str) -> InboundMessage:
    with smtplib.SMTP("127.0.0.1", servers.ports[0]) as smtp:
        assert smtp.sendmail("", [to], raw) == {}
    servers.run(handler.drain())
    return InboundMessage.objects.latest("id")


@pytest.fixture
def world(catalog, make_member, staff):
    """Ana (.fr, with a second address) and her colleague Marc, Jan (.nl), the secretariat."""
    ana = make_member(catalog["fr"], name="Ana Lopez", email=RCPT)
    ana.alt_emails = ["ana.lopez@example.org"]
    ana.save(update_fields=["alt_emails"])
    marc = make_member(catalog["fr"], name="Marc Dubois", email="marc@nic.fr")
    jan = make_member(catalog["nl"], name="Jan de Vries", email="jan@sidn.nl")
    sec = staff(email="sec@tldops.example")
    return {"ana": ana, "marc": marc, "jan": jan, "sec": sec}


def test_dsn_through_smtp_is_attributed_by_its_verp_token(intake_server, bounce_route, world):
    servers, handler = intake_server
    delivery = distributed()[RCPT]
    token = verp.encode(delivery.pk)
    # Forwarding rewrote the Final-Recipient: the VERP token, not the report, names who bounced.
    raw = fixture("postfix_user_unknown.eml", verp_address=token, rcpt="ana@forwarded.example")
    message = send_bounce(servers, handler, raw, token)
    assert message.route == bounce_route.name
    assert message.status == InboundMessage.Status.DONE, message.result
    event = BounceEvent.objects.get()
    assert (event.address, event.kind, event.status_code) == (RCPT, "hard", "5.1.1")
    assert event.delivery == delivery and event.inbound == message
    assert event.person == world["ana"]
    score = BounceScore.objects.get(address=RCPT)
    assert score.score == pytest.approx(1.0) and score.unreachable_since is None
    assert bounces.state(RCPT).score == pytest.approx(1.0, rel=1e-3)
    assert "hard bounce for ana@nic.fr (5.1.1); score 1.00/5" in message.result


def test_policy_rejection_is_recorded_but_never_counted(intake_server, bounce_route, world):
    servers, handler = intake_server
    delivery = distributed()[RCPT]
    token = verp.encode(delivery.pk)
    send_bounce(servers, handler, fixture("postfix_policy_spam.eml", verp_address=token), token)
    event = BounceEvent.objects.get()
    assert event.kind == "policy"
    assert BounceScore.objects.get(address=RCPT).score == 0.0
    assert BounceScore.objects.get(address=RCPT).last_bounce_at is None


@pytest.mark.parametrize(
    "to",
    [
        "tld-ops-bounces@tldops.localhost",  # no token
        "tld-ops-bounces+1-0000000000@tldops.localhost",  # forged MAC
    ],
)
def test_bounce_without_a_valid_token_counts_against_nobody(intake_server, bounce_route, world, to):
    servers, handler = intake_server
    distributed()
    message = send_bounce(
        servers, handler, fixture("postfix_user_unknown.eml", verp_address=to), to
    )
    assert message.status == InboundMessage.Status.REJECTED
    assert "not attributable" in message.result
    assert not BounceEvent.objects.exists() and not BounceScore.objects.exists()


def legacy_address(delivery_id: int) -> str:
    """The VERP address older versions made (no day; the MAC over the delivery id only)."""
    from django.conf import settings

    mac = hmac.new(settings.SECRET_KEY.encode(), f"verp:{delivery_id}".encode(), hashlib.sha256)
    return f"tld-ops-bounces+{delivery_id}-{mac.hexdigest()[:10]}@tldops.localhost"


def test_a_verp_token_is_dated_and_refused_past_its_max_age(settings):
    settings.VERP_MAX_AGE_DAYS = 30
    now = timezone.now()
    fresh = verp.encode(7, now=now - timedelta(days=29))
    assert verp.check(fresh, now=now).state == verp.VALID and verp.decode(fresh, now=now) == 7
    old = verp.encode(7, now=now - timedelta(days=31))
    assert verp.check(old, now=now).state == verp.EXPIRED and verp.decode(old, now=now) is None
    ahead = verp.encode(7, now=now + timedelta(days=3))
    assert verp.check(ahead, now=now).state == verp.EXPIRED
    # The day is covered by the MAC: re-dating an old address to today makes it a forgery.
    local, at, domain = old.partition("@")
    ident, day, mac = local.rsplit("+", 1)[1].split("-")
    redated = f"tld-ops-bounces+{ident}-{verp.today(now)}-{mac}@{domain}"
    assert verp.check(redated, now=now).state == verp.FORGED
    assert verp.check(legacy_address(7), now=now).state == verp.LEGACY
    assert verp.decode(legacy_address(7), now=now) is None
    assert verp.check("tld-ops-bounces@tldops.localhost").state == verp.NONE


def test_a_bounce_to_an_expired_verp_address_is_not_counted(
    intake_server, bounce_route, world, settings
):
    settings.VERP_MAX_AGE_DAYS = 30
    servers, handler = intake_server
    delivery = distributed()[RCPT]
    expired = verp.encode(delivery.pk, now=timezone.now() - timedelta(days=31))
    raw = fixture("postfix_user_unknown.eml", verp_address=expired)
    message = send_bounce(servers, handler, raw, expired)
    assert message.status == InboundMessage.Status.REJECTED
    assert "expired VERP token" in message.result and "nothing counted" in message.result
    assert not BounceEvent.objects.exists() and not BounceScore.objects.exists()
    # Within its max age, the same delivery's address counts.
    recent = verp.encode(delivery.pk, now=timezone.now() - timedelta(days=29))
    raw = fixture("postfix_user_unknown.eml", verp_address=recent)
    message = send_bounce(servers, handler, raw, recent)
    assert message.status == InboundMessage.Status.DONE, message.result
    assert BounceEvent.objects.get().delivery == delivery


def test_an_old_form_verp_address_counts_only_for_mail_still_in_flight(
    intake_server, bounce_route, world, settings
):
    settings.VERP_MAX_AGE_DAYS = 30
    servers, handler = intake_server
    deliveries = distributed()
    now = timezone.now()
    old, recent = deliveries[RCPT], deliveries["marc@nic.fr"]
    Delivery.objects.filter(pk=old.pk).update(
        status=Delivery.Status.SENT, sent_at=now - timedelta(days=40)
    )
    Delivery.objects.filter(pk=recent.pk).update(
        status=Delivery.Status.SENT, sent_at=now - timedelta(days=2)
    )
    to = legacy_address(old.pk)
    message = send_bounce(
        servers, handler, fixture("postfix_user_unknown.eml", verp_address=to), to
    )
    assert message.status == InboundMessage.Status.REJECTED
    assert "old form" in message.result and "nothing counted" in message.result
    assert not BounceEvent.objects.exists()
    to = legacy_address(recent.pk)
    raw = fixture("postfix_user_unknown.eml", verp_address=to, rcpt="marc@nic.fr")
    message = send_bounce(servers, handler, raw, to)
    assert message.status == InboundMessage.Status.DONE, message.result
    assert BounceEvent.objects.get().address == "marc@nic.fr"


def test_a_forged_verp_token_is_not_counted_and_recorded_as_forged(
    intake_server, bounce_route, world
):
    servers, handler = intake_server
    delivery = distributed()[RCPT]
    # An address seen long ago, re-dated to today to get past the max age: the MAC gives it away.
    seen = verp.encode(delivery.pk, now=timezone.now() - timedelta(days=400))
    local, _at, domain = seen.partition("@")
    ident, _day, mac = local.rsplit("+", 1)[1].split("-")
    for to in (
        f"tld-ops-bounces+{ident}-{verp.today()}-{mac}@{domain}",
        f"tld-ops-bounces+{ident}-{verp.today()}-0123456789@{domain}",
    ):
        raw = fixture("postfix_user_unknown.eml", verp_address=to)
        message = send_bounce(servers, handler, raw, to)
        assert message.status == InboundMessage.Status.REJECTED
        assert "forged VERP token" in message.result and "nothing counted" in message.result
    assert not BounceEvent.objects.exists() and not BounceScore.objects.exists()


@pytest.mark.parametrize("name", ["postfix_delayed.eml", "vacation.eml"])
def test_delay_warnings_and_auto_replies_count_nothing(intake_server, bounce_route, world, name):
    servers, handler = intake_server
    token = verp.encode(distributed()[RCPT].pk)
    message = send_bounce(servers, handler, fixture(name, verp_address=token), token)
    assert message.status == InboundMessage.Status.DONE
    assert not BounceEvent.objects.exists()


# --- Scoring, threshold, notices -------------------------------------------------------------------


def test_one_bounce_a_day_counts_the_strongest(world):
    delivery = distributed()[RCPT]
    day = timezone.now().replace(hour=8, minute=0, second=0, microsecond=0)
    bounces.record_bounce(RCPT, "soft", delivery=delivery, now=day)
    bounces.record_bounce(RCPT, "soft", delivery=delivery, now=day + timedelta(hours=1))
    hour = 0.5 ** (1 / 24 / 7)  # what an hour of decay leaves (half-life 7 days)
    assert BounceScore.objects.get(address=RCPT).score == pytest.approx(0.5 * hour)
    # A hard bounce the same day adds what it weighs beyond the soft one already counted.
    bounces.record_bounce(RCPT, "hard", delivery=delivery, now=day + timedelta(hours=2))
    today = 0.5 * hour * hour + 0.5
    assert BounceScore.objects.get(address=RCPT).score == pytest.approx(today)
    _e, row = bounces.record_bounce(RCPT, "hard", now=day + timedelta(days=1))
    assert row.score == pytest.approx(today * hour**22 + 1.0)
    assert BounceEvent.objects.count() == 4


def reach_threshold(settings, start=None):
    """Hard bounces on consecutive days until Ana's address is unreachable; returns the days."""
    settings.BOUNCE_THRESHOLD = 3.0
    settings.BOUNCE_DECAY_DAYS = 7
    start = start or timezone.now() - timedelta(days=10)
    days = []
    for i in range(4):
        now = start + timedelta(days=i)
        bounces.record_bounce(RCPT, "hard", status_code="5.1.1", diagnostic="User unknown", now=now)
        days.append(now)
    return days


def test_threshold_marks_unreachable_tells_people_and_audits(settings, world, outbox):
    days = reach_threshold(settings)
    row = BounceScore.objects.get(address=RCPT)
    # 1 + 0.906 + 0.821 = 2.73 < 3 after three days; the fourth crosses it.
    assert row.unreachable_since == days[3]
    assert row.notified_at == days[3]
    notices = outbox("bounce-unreachable")
    recipients = sorted(r for r, _m in notices)
    assert recipients == ["ana.lopez@example.org", "marc@nic.fr", "sec@tldops.example"]
    _r, msg = notices[0]
    assert RCPT not in msg["To"] and "sec@tldops.example" in msg["Cc"]
    assert msg["Subject"] == "TLD-OPS: list mail to Ana Lopez <ana@nic.fr> bounces"
    body = msg.get_body(("plain",)).get_content()
    assert "5.1.1 User unknown" in body and "Nobody has been removed" in body and ".fr" in body
    entry = AuditEntry.objects.get(action="contact-unreachable")
    assert entry.person == world["ana"] and entry.door == "system"
    assert entry.after["address"] == RCPT and entry.tld.alabel == "fr"
    # Still a member, still on the list; further bounces do not tell everybody again.
    assert world["ana"].memberships.get().status == "active"
    bounces.record_bounce(RCPT, "hard", now=days[3] + timedelta(days=1))
    assert len(outbox("bounce-unreachable")) == 3
    assert AuditEntry.objects.filter(action="contact-unreachable").count() == 1


def test_directory_page_and_api_show_unreachable(settings, client, world):
    assert sign_in(client, world["marc"]).status_code == 302
    page = client.get("/directory/").content.decode()
    assert "unreachable" not in page
    reach_threshold(settings)
    page = client.get("/directory/").content.decode()  # the cached page was invalidated
    ana_part = page[page.index("Ana Lopez") : page.index("Marc Dubois")]
    assert ">unreachable<" in ana_part
    assert "unreachable" not in page[page.index("Jan de Vries") :]
    items = client.get("/api/v1/directory/contacts").json()["items"]
    by_email = {i["emails"][0]: i["unreachable"] for i in items}
    assert by_email == {RCPT: True, "marc@nic.fr": False, "jan@sidn.nl": False}


def test_positive_report_makes_the_address_reachable_again(
    intake_server, bounce_route, settings, world
):
    servers, handler = intake_server
    reach_threshold(settings)
    delivery = distributed()[RCPT]
    token = verp.encode(delivery.pk)
    raw = (
        fixture("postfix_user_unknown.eml", verp_address=token)
        .replace(b"Action: failed", b"Action: delivered")
        .replace(b"Status: 5.1.1", b"Status: 2.0.0")
    )
    message = send_bounce(servers, handler, raw, token)
    assert message.result == f"delivered to {RCPT}"
    row = BounceScore.objects.get(address=RCPT)
    assert row.unreachable_since is None and row.score == 0.0
    assert AuditEntry.objects.filter(action="contact-reachable", person=world["ana"]).exists()


def test_sweep_clears_when_the_score_has_decayed_under_half_the_threshold(settings, world):
    days = reach_threshold(settings)
    score = BounceScore.objects.get(address=RCPT).score  # about 3.6
    assert bounces.sweep(now=days[3] + timedelta(days=1)) == 0
    # It takes log2(3.6 / 1.5) half-lives (about 8.9 days) to fall under 1.5.
    assert BounceScore.objects.get(address=RCPT).unreachable_since is not None
    assert score > 3.0
    assert bounces.sweep(now=days[3] + timedelta(days=9.5)) == 1
    assert BounceScore.objects.get(address=RCPT).unreachable_since is None
    assert AuditEntry.objects.filter(action="contact-reachable").count() == 1


def test_sweep_clears_after_a_list_delivery_that_never_bounced(settings, world):
    days = reach_threshold(settings, start=timezone.now() - timedelta(days=20))
    delivery = distributed()[RCPT]
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENT, sent_at=days[3] + timedelta(days=1)
    )
    assert bounces.sweep(now=days[3] + timedelta(days=3)) == 0  # may still bounce
    assert bounces.sweep(now=days[3] + timedelta(days=7)) == 1
    row = BounceScore.objects.get(address=RCPT)
    assert row.unreachable_since is None and row.score == 0.0


def test_sweep_counts_deliveries_our_outbox_saw_refused_once(settings, world, smarthost):
    """The smarthost refuses Ana's address at RCPT: no DSN will come, the outbox knows."""

    async def refuse_ana(server, session, envelope, address, rcpt_options):
        if address == RCPT:
            return "550 5.1.1 <ana@nic.fr>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smarthost.handle_RCPT = refuse_ana
    deliveries = distributed()
    outbox.deliver_due()
    assert Delivery.objects.get(pk=deliveries[RCPT].pk).status == Delivery.Status.FAILED
    assert Delivery.objects.get(pk=deliveries["marc@nic.fr"].pk).status == Delivery.Status.SENT
    Worker().run_once()  # the worker's hourly job sweeps
    # (The same round may send the month's contact repository, which Ana's server refuses too;
    # that is a later delivery, swept by a later round.)
    event = BounceEvent.objects.get(delivery=deliveries[RCPT])
    assert (event.address, event.kind, event.status_code) == (RCPT, "hard", "5.1.1")
    bounces.sweep()
    assert bounces.sweep() == 0  # counted once
    assert BounceEvent.objects.filter(delivery=deliveries[RCPT]).count() == 1
    assert OutboundMessage.objects.filter(purpose="bounce-unreachable").count() == 0
