"""The reachability API: the staff report, a member's own status, the one-click answer, and the
directory listing's last_reachable."""

from __future__ import annotations

from datetime import timedelta

from tests.api.conftest import ApiClient, token_for, verified_session
from tests.repository.reach import link_token, next_round
from tldops.repository import reachability
from tldops.repository.models import Challenge


def test_answer_status_and_report(catalog, make_member, staff, outbox):
    ana = make_member(catalog["fr"], name="Ana Lopez")
    make_member(catalog["fr"], name="Marc Dubois", email="marc@nic.fr")
    sec = staff("secretariat")
    period, starts = next_round()
    reachability.run_due(starts)
    token = next(link_token(m) for to, m in outbox("reachability") if to == "ana@nic.fr")
    member = ApiClient(token=token_for(ana))

    mine = member.get("/reachability/me")
    assert mine.status_code == 200
    assert mine.data["period"] == period and mine.data["challenge"] == "awaiting"
    assert mine.data["reachable"] is True and mine.data["bounced"] is False

    answered = ApiClient().post(f"/reachability/answer/{token}")
    assert answered.status_code == 200, answered.data
    assert answered.data["period"] == period and answered.data["answered_via"] == "click"
    assert member.get("/reachability/me").data["challenge"] == "answered"

    broken = ApiClient().post(f"/reachability/answer/{token[:-2]}zz")
    assert broken.status_code == 410 and "not valid" in broken.data["detail"]

    assert member.get("/reachability/report").status_code == 403
    report = ApiClient(client=verified_session(sec)).get("/reachability/report")
    assert report.status_code == 200
    assert report.data["overall"]["contacts"] == 2
    assert [r["key"] for r in report.data["by_tld"]] == ["fr"]
    assert report.data["by_region"][0]["key"] == "centr"
    (round_,) = report.data["trend"]
    assert (round_["period"], round_["challenged"], round_["answered"]) == (period, 2, 1)
    assert round_["percent"] == 50.0
    assert [c["email"] for c in report.data["oldest_unverified"]] == ["marc@nic.fr"]
    assert report.data["at_risk"] == []


def test_the_directory_listing_carries_last_reachable(catalog, make_member, outbox):
    ana = make_member(catalog["fr"], name="Ana Lopez")
    _period, starts = next_round()
    reachability.run_due(starts)
    client = ApiClient(token=token_for(ana))
    before = client.get("/directory/contacts").data["items"][0]["last_reachable"]
    reachability.answer(
        link_token(outbox("reachability")[0][1]), "click", starts + timedelta(days=1)
    )
    after = client.get("/directory/contacts").data["items"][0]["last_reachable"]
    assert before != after and after.startswith((starts + timedelta(days=1)).strftime("%Y-%m-%d"))


def test_an_old_token_answers_nothing_once_a_later_round_started(catalog, make_member, outbox):
    make_member(catalog["fr"], name="Ana Lopez")
    _period, starts = next_round()
    reachability.run_due(starts)
    token = link_token(outbox("reachability")[0][1])
    reachability.start_round("later", now=starts + timedelta(days=90))
    response = ApiClient().post(f"/reachability/answer/{token}")
    assert response.status_code == 410 and "has ended" in response.data["detail"]
    assert not Challenge.objects.filter(answered_at__isnull=False).exists()
