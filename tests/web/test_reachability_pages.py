"""The reachability pages: the one-click answer (GET changes nothing), the staff report with its
chart and tables, the directory's "last proved reachable", the members-only at-risk flag."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from tests.repository.reach import link_token, next_round
from tests.web.conftest import sign_in
from tldops.directory import bounces
from tldops.directory.models import AuditEntry, Person
from tldops.repository import reachability
from tldops.repository.models import Challenge, ChallengeRound


@pytest.fixture
def round_started(catalog, make_member, outbox):
    """Ana (.fr) and Jan (.nl) are checked; returns their link tokens."""
    if not Person.objects.filter(email="ana@nic.fr").exists():  # member_client made her
        make_member(catalog["fr"], name="Ana Lopez")
    make_member(catalog["nl"], name="Jan Jansen", email="jan@nic.nl")
    _period, starts = next_round()
    reachability.run_due(starts)
    return {to: link_token(m) for to, m in outbox("reachability")}


def test_opening_the_link_changes_nothing_and_the_button_answers(client, round_started):
    url = f"/reachable/{round_started['ana@nic.fr']}/"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Ana Lopez" in html and 'id="answer-button"' in html and 'method="post"' in html
    assert (
        Challenge.objects.filter(answered_at__isnull=False).count() == 0
    )  # a prefetch is harmless

    done = client.post(url)
    assert done.status_code == 200
    assert "your answer has been recorded" in done.content.decode()
    challenge = Challenge.objects.get(person__email="ana@nic.fr")
    assert challenge.answered_via == "click" and challenge.answered_at is not None
    assert AuditEntry.objects.get(action="reachability-answered").door == "web"

    again = client.get(url)
    assert (
        "already recorded" in again.content.decode()
        and "answer-button" not in again.content.decode()
    )


def test_a_broken_link_says_so_with_410(client, round_started):
    response = client.get(f"/reachable/{round_started['ana@nic.fr'][:-4]}abcd/")
    assert response.status_code == 410
    assert "not valid" in response.content.decode()
    assert client.post("/reachable/garbage/").status_code == 410


def test_a_link_of_an_ended_round_says_so_and_answers_nothing(client, round_started):
    _period, starts = next_round()
    reachability.start_round("later", now=starts + timedelta(days=90))
    url = f"/reachable/{round_started['ana@nic.fr']}/"
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 410
        html = response.content.decode()
        assert "has ended" in html and "answer-button" not in html
        assert "latest check" in html
    assert not Challenge.objects.filter(answered_at__isnull=False).exists()


def test_the_report_is_for_staff_only(client, member_client, round_started):
    assert Client().get("/reachability/").status_code == 302  # to the login page
    assert member_client.get("/reachability/").status_code == 403


def test_the_report_shows_tables_and_an_accessible_svg_chart(staff_client, round_started):
    _period, starts = next_round()
    reachability.answer(round_started["jan@nic.nl"], "click", starts + timedelta(days=1))
    client = staff_client()
    html = client.get("/reachability/").content.decode()
    assert '<svg id="trend-chart" role="img"' in html
    assert '<title id="trend-chart-title">' in html and "<script" not in html.split("<main")[1]
    assert 'id="trend-table"' in html and 'id="tld-table"' in html and 'id="region-table"' in html
    # Jan answered, Ana not yet: 50 % of the round, Ana among the oldest unverified.
    assert "50.0&nbsp;%" in html
    oldest = html.split('id="oldest-table"')[1].split("</table>")[0]
    assert "ana@nic.fr" in oldest and "jan@nic.nl" not in oldest
    assert 'href="/reachability/"' in html  # the staff menu links here


def test_the_directory_shows_when_each_contact_last_proved_reachable(member_client, round_started):
    _period, starts = next_round()
    reachability.answer(round_started["jan@nic.nl"], "click", starts + timedelta(days=2))
    before = member_client.get("/directory/").content.decode()
    assert "Last proved reachable" in before
    assert (starts + timedelta(days=2)).strftime("%Y-%m-%d") in before


def test_at_risk_is_shown_to_members_only(client, catalog, make_member, settings):
    settings.BOUNCE_THRESHOLD = 1.0
    ana = make_member(catalog["fr"], name="Ana Lopez")
    make_member(catalog["nl"], name="Jan Jansen", email="jan@nic.nl")
    bounces.record_bounce("jan@nic.nl", "hard", status_code="5.1.1")

    public = Client().get("/").content.decode()  # the public page first: its fragment is cached
    assert "at risk" not in public.lower()
    sign_in(client, ana)
    members = client.get("/").content.decode()
    section = members.split('id="at-risk-section"')[1]
    assert ".nl" in section.split("</section>")[0] and ".fr" not in section.split("</section>")[0]
    # The public page stays free of it, even right after a member's visit.
    assert "at risk" not in Client().get("/").content.decode().lower()


def test_staff_start_a_round_from_the_report_once(staff_client, catalog, make_member, outbox):
    make_member(catalog["nl"], name="Jan Jansen", email="jan@nic.nl")
    staff_client = staff_client()
    page = staff_client.get("/reachability/")
    assert 'id="start-round-form"' in page.content.decode()
    period, starts = reachability.next_due()
    assert f"Next scheduled round: {period}, starting {starts:%Y-%m-%d %H:%M} UTC." in (
        page.content.decode()
    )

    done = staff_client.post("/reachability/", {"period": "2026-extra"}, follow=True)
    assert "Round 2026-extra started: 1 contact(s)" in done.content.decode()
    rnd = ChallengeRound.objects.get(period="2026-extra")
    assert rnd.trigger == "web"
    assert [to for to, _msg in outbox("reachability")] == ["jan@nic.nl"]
    assert AuditEntry.objects.filter(door="web", action__startswith="reachability").exists()

    again = staff_client.post("/reachability/", {"period": "2026-extra"})
    assert again.status_code == 409
    assert "already been started" in again.content.decode()
    assert ChallengeRound.objects.count() == 1
    assert len(outbox("reachability")) == 1


def test_members_cannot_start_a_round(member_client):
    response = member_client.post("/reachability/", {"period": "2026-extra"})
    assert response.status_code in (302, 403)
    assert not ChallengeRound.objects.exists()
