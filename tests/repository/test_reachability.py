"""Reachability rounds: started exactly once, answered by click, reminded after the grace period,
escalated after that (nobody removed), bounces counted, and the reports."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, connections
from django.utils import timezone

from tests.conftest import body_of
from tests.repository.reach import link_token, next_round, subject_ref
from tldops.directory import bounces
from tldops.directory.audit import current_version
from tldops.directory.models import AuditEntry, Membership
from tldops.kernel.errors import InvalidInput, LinkInvalid
from tldops.repository import reachability, schedule
from tldops.repository.models import Challenge, ChallengeRound


@pytest.fixture
def people(catalog, make_member, staff):
    """Two contacts of .fr, one of .nl (also a contact of .br), the secretariat."""
    ana = make_member(catalog["fr"], name="Ana Lopez")
    marc = make_member(catalog["fr"], name="Marc Dubois", email="marc@nic.fr")
    jan = make_member(catalog["nl"], name="Jan Jansen", email="jan@nic.nl")
    make_member(catalog["br"], name="Jan Jansen", email="jan@nic.nl")
    sec = staff("secretariat", email="sec@tldops.example")
    return {"ana": ana, "marc": marc, "jan": jan, "sec": sec}


def start(_settings=None):
    period, starts = next_round()
    return period, starts + timedelta(minutes=1)


def test_the_due_round_starts_once_with_one_challenge_per_contact(people, outbox, settings):
    period, now = start(settings)
    assert reachability.run_due(now) == 3
    assert reachability.run_due(now) == 0
    assert reachability.run_due(now + timedelta(hours=5)) == 0

    rnd = ChallengeRound.objects.get()
    assert rnd.period == period and rnd.trigger == "schedule"
    challenges = {c.person.email: c for c in Challenge.objects.select_related("person")}
    assert set(challenges) == {"ana@nic.fr", "marc@nic.fr", "jan@nic.nl"}  # not the secretariat
    assert sorted(m.tld.alabel for m in challenges["jan@nic.nl"].memberships.all()) == ["br", "nl"]

    mails = outbox("reachability")
    assert sorted(to for to, _m in mails) == ["ana@nic.fr", "jan@nic.nl", "marc@nic.fr"]
    to, msg = next(m for m in mails if m[0] == "jan@nic.nl")
    assert msg["Reply-To"] == settings.REACHABILITY_ADDRESS
    assert f"({period})" in msg["Subject"]
    assert subject_ref(msg) == reachability.challenge_ref(challenges["jan@nic.nl"])
    text = body_of(msg)
    assert "Hello Jan Jansen" in text and ".br .nl" in text
    assert f"/reachable/{reachability.challenge_token(challenges['jan@nic.nl'])}/" in text
    assert "just reply to this mail" in text and "Nobody is removed" in text
    assert AuditEntry.objects.filter(action="reachability-round").count() == 1


def test_contacts_who_confirmed_after_the_round_started_are_not_challenged(people, outbox):
    # Ana has been a contact for a year; Marc and Jan confirmed just now, after the round due now
    # started: they just proved they are reachable.
    period, starts = schedule.due_round(timezone.now())
    Membership.objects.filter(person=people["ana"]).update(
        confirmed_at=starts - timedelta(days=365)
    )
    assert reachability.run_due() == 1
    rnd = ChallengeRound.objects.get()
    assert rnd.period == period
    assert [r for r, _m in outbox("reachability")] == ["ana@nic.fr"]
    # A round started by hand challenges everyone.
    rnd = reachability.start_round("2026-extra", trigger="cli")
    assert rnd.challenges.count() == 3


def test_a_new_install_uses_up_no_round_and_an_empty_round_can_run_again(
    db, catalog, make_member, outbox, settings
):
    # Installed with nobody: the worker starts nothing (the quarter is not used up).
    now = timezone.now()
    assert reachability.run_due(now) == 0 and not ChallengeRound.objects.exists()
    assert reachability.next_due(now) is None
    # The first contacts confirm: the round due now began before them, so it stays unstarted
    # and the next one is the first the worker runs.
    make_member(catalog["fr"], name="Ana Lopez")
    make_member(catalog["nl"], name="Jan Jansen", email="jan@nic.nl")
    assert reachability.run_due() == 0 and not ChallengeRound.objects.exists()
    period, starts = reachability.next_due()
    assert starts > timezone.now() and (period, starts) == schedule.due_round(starts)
    assert reachability.run_due(starts + timedelta(minutes=1)) == 2

    # A round that challenged nobody (an install made before this release started the quarter
    # with no contacts) is run again by staff under its name; one that challenged someone is not.
    empty = ChallengeRound.objects.create(period="2026-Q1", started_at=now - timedelta(days=300))
    rnd = reachability.start_round("2026-Q1", trigger="cli")
    assert rnd.pk == empty.pk and rnd.trigger == "cli" and rnd.challenges.count() == 2
    entry = AuditEntry.objects.filter(action="reachability-round").latest("id")
    assert "started again" in entry.summary and entry.after["rerun"] is True
    with pytest.raises(reachability.AlreadyStarted):
        reachability.start_round("2026-Q1", trigger="cli")
    assert ChallengeRound.objects.get(period="2026-Q1").challenges.count() == 2


def test_a_round_started_by_hand_cannot_run_twice_and_names_are_checked(people):
    reachability.start_round("2026-Q4", trigger="cli")
    with pytest.raises(reachability.AlreadyStarted) as exc:
        reachability.start_round("2026-Q4", trigger="web")
    assert exc.value.status == 409 and "already been started" in exc.value.message
    with pytest.raises(InvalidInput):
        reachability.start_round("not a period!", trigger="cli")
    # The scheduler does not start a period a person already started.
    period, now = next_round()
    reachability.start_round(period, trigger="cli", now=now)
    assert reachability.run_due(now + timedelta(minutes=1)) == 0
    assert ChallengeRound.objects.filter(period=period).get().trigger == "cli"


def test_answer_by_click_records_it_refreshes_the_directory_and_is_idempotent(people, outbox):
    period, now = start(None)
    reachability.run_due(now)
    ((_to, msg),) = [m for m in outbox("reachability") if m[0] == "ana@nic.fr"]
    token = link_token(msg)
    version = current_version()

    answered_at = now + timedelta(days=2)
    challenge = reachability.answer(token, "click", answered_at)
    assert challenge.answered_at == answered_at and challenge.answered_via == "click"
    assert current_version() > version  # cached directory pages are rebuilt
    entry = AuditEntry.objects.get(action="reachability-answered")
    assert entry.person == people["ana"] and entry.door == "web"
    assert reachability.last_reachable([people["ana"]])[people["ana"].pk] == answered_at

    again = reachability.answer(token, "click", answered_at + timedelta(days=1))
    assert again.answered_at == answered_at
    assert AuditEntry.objects.filter(action="reachability-answered").count() == 1

    with pytest.raises(LinkInvalid):
        reachability.answer(token[:-3] + "xyz", "click")


def test_a_reminder_after_the_grace_period_then_escalation_nobody_removed(people, outbox, settings):
    settings.REACHABILITY_GRACE_DAYS = 14
    settings.REACHABILITY_ESCALATE_DAYS = 7
    period, now = start(settings)
    reachability.run_due(now)
    marc_token = link_token(next(m for to, m in outbox("reachability") if to == "marc@nic.fr"))
    reachability.answer(marc_token, "click", now + timedelta(days=1))
    jan_token = link_token(next(m for to, m in outbox("reachability") if to == "jan@nic.nl"))
    reachability.answer(jan_token, "click", now + timedelta(days=1))

    assert reachability.run_due(now + timedelta(days=14) - timedelta(seconds=1)) == 0
    assert reachability.run_due(now + timedelta(days=14)) == 1  # Ana only: the others answered
    assert reachability.run_due(now + timedelta(days=15)) == 0  # once
    ((to, reminder),) = outbox("reachability-reminder")
    assert to == "ana@nic.fr"
    assert reminder["Subject"].strip().startswith("Reminder: ")
    original = next(m for t, m in outbox("reachability") if t == "ana@nic.fr")
    assert subject_ref(reminder) == subject_ref(original)
    # The same check behind the link (the token itself carries its signing time, so two mails
    # made a second apart differ in their bytes).
    assert reachability.open_challenge(link_token(reminder)) == reachability.open_challenge(
        link_token(original)
    )

    reminded = now + timedelta(days=14)
    assert reachability.run_due(reminded + timedelta(days=7) - timedelta(seconds=1)) == 0
    version = current_version()
    assert reachability.run_due(reminded + timedelta(days=7)) == 1
    assert reachability.run_due(reminded + timedelta(days=30)) == 0  # once
    ((to, escalation),) = outbox("reachability-escalation")[:1]
    recipients = {t for t, _m in outbox("reachability-escalation")}
    # Ana's colleague of .fr, the secretariat, and Ana herself in copy; not Jan (.nl).
    assert recipients == {"marc@nic.fr", "sec@tldops.example", "ana@nic.fr"}
    assert escalation["To"] == "marc@nic.fr"
    text = body_of(escalation)
    assert "Ana Lopez <ana@nic.fr> has not answered" in text
    assert "Nobody has been removed" in text
    assert Membership.objects.filter(person=people["ana"], status="active").count() == 1
    assert current_version() > version
    entry = AuditEntry.objects.get(action="reachability-escalated")
    assert entry.person == people["ana"] and entry.tld.alabel == "fr"

    states = {s.email: s for s in reachability.contact_states()}
    assert states["ana@nic.fr"].challenge == "escalated" and not states["ana@nic.fr"].reachable
    assert states["marc@nic.fr"].reachable
    # .fr still has a reachable contact: not at risk.
    assert reachability.at_risk_tlds() == []

    # A late answer still counts.
    reachability.answer(link_token(original), "click", reminded + timedelta(days=8))
    assert reachability.contact_states()[0].reachable


def test_a_lone_contact_escalates_to_the_secretariat_and_the_tld_is_at_risk(
    catalog, make_member, staff, outbox, settings
):
    make_member(catalog["ca"], name="Carl Tremblay", email="carl@nic.ca")
    staff("secretariat", email="sec@tldops.example")
    period, now = start(settings)
    reachability.run_due(now)
    reachability.run_due(now + timedelta(days=settings.REACHABILITY_GRACE_DAYS))
    later = now + timedelta(
        days=settings.REACHABILITY_GRACE_DAYS + settings.REACHABILITY_ESCALATE_DAYS
    )
    assert reachability.run_due(later) == 1
    ((to, msg), (cc, _m)) = outbox("reachability-escalation")
    assert (to, cc) == ("sec@tldops.example", "carl@nic.ca")
    assert msg["To"] == "sec@tldops.example"
    assert [t.alabel for t in reachability.at_risk_tlds()] == ["ca"]


def test_contacts_who_left_are_not_reminded(people, outbox, settings):
    from tldops.directory import actions
    from tldops.directory.audit import Actor

    period, now = start(settings)
    reachability.run_due(now)
    actions.leave(people["ana"], actor=Actor.of(people["ana"], "web"))
    reachability.run_due(now + timedelta(days=settings.REACHABILITY_GRACE_DAYS))
    assert "ana@nic.fr" not in {to for to, _m in outbox("reachability-reminder")}
    assert len(outbox("reachability-reminder")) == 2


def _bounce_until_unreachable(address: str, now) -> None:
    for day in range(3):
        bounces.record_bounce(address, "hard", status_code="5.1.1", now=now + timedelta(days=day))


def test_a_bounce_marked_address_counts_as_unreachable_despite_an_earlier_answer(
    people, outbox, settings
):
    settings.BOUNCE_THRESHOLD = 2.0
    period, now = start(None)
    reachability.run_due(now)
    tokens = {to: link_token(m) for to, m in outbox("reachability")}
    for address in ("ana@nic.fr", "marc@nic.fr"):
        reachability.answer(tokens[address], "click", now + timedelta(hours=1))
    _bounce_until_unreachable("ana@nic.fr", now + timedelta(days=1))
    _bounce_until_unreachable("marc@nic.fr", now + timedelta(days=1))

    states = {s.email: s for s in reachability.contact_states()}
    assert states["ana@nic.fr"].challenge == "answered"
    assert states["ana@nic.fr"].bounced and not states["ana@nic.fr"].reachable
    assert [t.alabel for t in reachability.at_risk_tlds()] == ["fr"]

    # Answering again proves the address works: the bounce mark goes.
    reachability.start_round("extra", now=now + timedelta(days=10))
    new = [m for to, m in outbox("reachability") if to == "ana@nic.fr"][-1]
    reachability.answer(link_token(new), "click", now + timedelta(days=11))
    assert not bounces.state("ana@nic.fr").unreachable
    assert reachability.at_risk_tlds() == []


def test_a_round_1_token_does_not_answer_round_2(people, outbox):
    period, now = start(None)
    reachability.run_due(now)
    old = link_token(next(m for to, m in outbox("reachability") if to == "ana@nic.fr"))
    reachability.start_round("later", now=now + timedelta(days=90))
    with pytest.raises(LinkInvalid) as exc:
        reachability.answer(old, "click", now + timedelta(days=91))
    assert period in exc.value.message and "has ended" in exc.value.message
    assert not Challenge.objects.filter(answered_at__isnull=False).exists()
    assert not AuditEntry.objects.filter(action="reachability-answered").exists()
    # The check of the round that is open is answered by its own link only.
    new = link_token([m for to, m in outbox("reachability") if to == "ana@nic.fr"][-1])
    reachability.answer(new, "click", now + timedelta(days=92))
    answered = Challenge.objects.filter(person=people["ana"], answered_at__isnull=False)
    assert [c.round.period for c in answered] == ["later"]


def test_a_token_is_refused_after_its_round_ends_or_its_max_age(people, outbox, settings):
    settings.REACHABILITY_ANSWER_DAYS = 30
    period, now = start(None)
    reachability.run_due(now)
    tokens = {to: link_token(m) for to, m in outbox("reachability")}
    # Late is fine while the round lasts (after the reminder and the escalation too) ...
    reachability.answer(tokens["marc@nic.fr"], "click", now + timedelta(days=29))
    # ... but not beyond its maximum age, even if no later round started (a stopped worker).
    with pytest.raises(LinkInvalid) as exc:
        reachability.answer(tokens["ana@nic.fr"], "click", now + timedelta(days=31))
    assert "30 days" in exc.value.message
    with pytest.raises(LinkInvalid):
        reachability.open_challenge(tokens["ana@nic.fr"], now=now + timedelta(days=31))
    assert Challenge.objects.get(person=people["ana"]).answered_at is None
    # A round ended by a later one: its unanswered checks cannot be answered any more.
    reachability.start_round("later", now=now + timedelta(days=5))
    with pytest.raises(LinkInvalid) as exc:
        reachability.answer(tokens["jan@nic.nl"], "click", now + timedelta(days=6))
    assert "has ended" in exc.value.message
    assert not Challenge.objects.filter(person=people["jan"], answered_at__isnull=False).exists()


def test_a_used_token_cannot_be_reused_to_answer_anything_else(people, outbox):
    period, now = start(None)
    reachability.run_due(now)
    token = link_token(next(m for to, m in outbox("reachability") if to == "ana@nic.fr"))
    first = reachability.answer(token, "click", now + timedelta(days=1))
    # Again within its round: nothing changes (the first answer stays).
    assert reachability.answer(token, "click", now + timedelta(days=2)).answered_at == (
        first.answered_at
    )
    # Once a later round has started, the used token answers neither check.
    reachability.start_round("later", now=now + timedelta(days=90))
    with pytest.raises(LinkInvalid):
        reachability.answer(token, "click", now + timedelta(days=91))
    later = Challenge.objects.get(person=people["ana"], round__period="later")
    assert later.answered_at is None
    assert Challenge.objects.get(person=people["ana"], round__period=period).answered_at == (
        first.answered_at
    )
    assert AuditEntry.objects.filter(action="reachability-answered").count() == 1


def test_reports_per_tld_region_oldest_and_trend(people, outbox, settings, catalog):
    period, now = start(settings)
    reachability.run_due(now)
    tokens = {to: link_token(m) for to, m in outbox("reachability")}
    reachability.answer(tokens["jan@nic.nl"], "click", now + timedelta(days=1))
    reachability.answer(
        tokens["marc@nic.fr"], "reply", now + timedelta(days=30), sender="marc@nic.fr"
    )
    late = now + timedelta(days=settings.REACHABILITY_GRACE_DAYS)
    reachability.run_due(late)
    reachability.run_due(late + timedelta(days=settings.REACHABILITY_ESCALATE_DAYS))

    report = reachability.report()
    assert (report.overall.contacts, report.overall.reachable, report.overall.tlds) == (4, 3, 3)
    assert report.overall.percent == 75.0
    rows = {s.key: (s.contacts, s.reachable, s.percent) for s in report.by_tld}
    assert rows == {"br": (1, 1, 100.0), "fr": (2, 1, 50.0), "nl": (1, 1, 100.0)}
    regions = {s.key: (s.contacts, s.reachable, s.tlds) for s in report.by_region}
    assert regions == {"centr": (3, 2, 2), "lactld": (1, 1, 1)}
    assert [s.email for s in report.oldest_unverified] == ["ana@nic.fr"]
    (stat,) = report.trend
    assert stat.period == period
    assert (stat.challenged, stat.answered, stat.on_time, stat.reminded, stat.escalated) == (
        3, 2, 1, 1, 1,
    )  # fmt: skip
    assert stat.percent == 66.7 and stat.percent_on_time == 33.3
    assert report.at_risk == []


def test_the_directory_listing_carries_when_each_contact_last_proved_reachable(
    people, outbox, django_assert_max_num_queries
):
    from tldops.directory import queries

    period, now = start(None)
    reachability.run_due(now)
    token = next(link_token(m) for to, m in outbox("reachability") if to == "ana@nic.fr")
    reachability.answer(token, "click", now + timedelta(days=3))
    with django_assert_max_num_queries(2):
        rows = {m.person.email: m.last_reachable for m in queries.directory_memberships()}
    assert rows["ana@nic.fr"] == now + timedelta(days=3)
    marc = Membership.objects.get(person=people["marc"])
    assert rows["marc@nic.fr"] == marc.confirmed_at


# --- Exactly once under concurrent callers ------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="threads sharing a test database need PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_run_due_threads_start_the_round_once(catalog, make_member, outbox):
    for i, code in enumerate(("fr", "nl", "br", "ca")):
        make_member(catalog[code], name=f"Person {i}", email=f"p{i}@nic.{code}")
    period, now = start(None)
    barrier = threading.Barrier(4)
    results: list[int] = []

    def call() -> None:
        try:
            barrier.wait()
            results.append(reachability.run_due(now))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [0, 0, 0, 4]
    assert ChallengeRound.objects.count() == 1 and Challenge.objects.count() == 4
    assert len(outbox("reachability")) == 4


SETUP = textwrap.dedent(
    """
    import os, django
    os.environ["DJANGO_SETTINGS_MODULE"] = "tldops.settings"
    django.setup()
    from datetime import timedelta
    from django.utils import timezone
    from tldops.catalog.models import Tld
    from tldops.directory.models import Membership, Person

    then = timezone.now() - timedelta(days=400)
    for i in range(30):
        tld = Tld.objects.create(alabel=f"t{i}", ulabel=f"t{i}", kind="ascii")
        person = Person.objects.create(name=f"Person {i}", email=f"p{i}@nic.t{i}")
        Membership.objects.create(
            person=person, tld=tld, status="active", number=1, authorised_by="a@b.c",
            authorisation_rule="admin-address", authorised_via="web", authorised_at=then,
            confirmed_at=then,
        )
    """
)

CALL = textwrap.dedent(
    """
    import os, sys, time, django
    os.environ["DJANGO_SETTINGS_MODULE"] = "tldops.settings"
    django.setup()
    from tldops.repository import reachability, schedule
    go = float(sys.argv[1])
    time.sleep(max(0.0, go - time.time()))  # every process calls at the same moment
    print(reachability.run_due())
    """
)


def test_concurrent_worker_processes_start_the_round_exactly_once(tmp_path):
    """Four real processes call run_due() at the same instant on one SQLite database: one round,
    one challenge and one mail per contact."""
    import sqlite3
    import time

    from tests.ops.test_run import TLDOPS, WAIT

    env = {k: v for k, v in os.environ.items() if not k.startswith("TLDOPS_")}
    env.update(TLDOPS_DATA_DIR=str(tmp_path / "data"), TLDOPS_LOG_LEVEL="ERROR")
    subprocess.run([str(TLDOPS), "migrate", "-v0"], env=env, check=True, timeout=WAIT)
    subprocess.run([sys.executable, "-c", SETUP], env=env, check=True, timeout=WAIT)
    go = time.time() + 4
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CALL, str(go)], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    outputs = [int(p.communicate(timeout=WAIT)[0].strip().splitlines()[-1]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sorted(outputs) == [0, 0, 0, 30]
    db = Path(env["TLDOPS_DATA_DIR"]) / "tldops.sqlite3"
    with sqlite3.connect(db) as conn:
        rounds = conn.execute("select count(*) from repository_challengeround").fetchone()[0]
        challenges = conn.execute("select count(*) from repository_challenge").fetchone()[0]
        mails = conn.execute(
            "select count(*) from lists_delivery d join lists_outboundmessage m "
            "on d.message_id = m.id where m.purpose = 'reachability'"
        ).fetchone()[0]
    assert (rounds, challenges, mails) == (1, 30, 30)
