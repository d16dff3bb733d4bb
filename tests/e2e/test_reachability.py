"""Reachability in a real browser: a contact answers with one click on the button behind the link,
and the secretariat reads the report with its SVG trend chart and tables."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in, totp_code
from tests.repository.reach import link_token, next_round
from tldops.repository import reachability
from tldops.repository.models import Challenge


def test_a_contact_answers_by_click_and_staff_read_the_report_with_its_chart(
    new_page, catalog, make_member, staff, outbox
):
    make_member(catalog["fr"], name="Ana Lopez")
    make_member(catalog["fr"], name="Marc Dubois", email="marc@nic.fr")
    make_member(catalog["br"], name="Bruno Silva", email="bruno@nic.br")
    # An earlier round (everyone answered but Bruno), then the current one.
    # (Answered while that round lasted: a check can be answered only until the next round.)
    reachability.start_round(
        "2026-Q1", now=timezone.now() - timedelta(days=10), since=timezone.now()
    )
    for to, msg in outbox("reachability"):
        if to != "bruno@nic.br":
            reachability.answer(link_token(msg), "click")
    first = len(outbox("reachability"))
    period, starts = next_round()
    reachability.run_due(starts)
    tokens = {to: link_token(m) for to, m in outbox("reachability")[first:]}

    # Ana opens the link: a page with a button; opening it records nothing, the button does.
    ana = new_page()
    ana.goto(f"/reachable/{tokens['ana@nic.fr']}/")
    expect(ana.get_by_role("heading", level=1)).to_have_text("Reachability check")
    assert (
        Challenge.objects.get(round__period=period, person__email="ana@nic.fr").answered_at is None
    )
    ana.get_by_role("button", name="Yes, I received it").click()
    expect(ana.locator("#answer-done")).to_contain_text("your answer has been recorded")
    assert Challenge.objects.get(round__period=period, person__email="ana@nic.fr").answered_via == (
        "click"
    )

    secretariat = staff(email="sec@tldops.example")
    device = TOTPDevice.objects.create(user=secretariat.user, name="phone", confirmed=True)
    page = new_page()
    page.goto("/login/?next=/home/")
    sign_in(page, secretariat.email, PASSWORD, totp_code(device.bin_key))
    page.wait_for_url("**/home/")
    page.get_by_role("link", name="Reachability").click()
    page.wait_for_url("**/reachability/")

    chart = page.get_by_role("img", name="Share of contacts who answered each round")
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 50  # drawn, not collapsed
    # Two bars per round; the earlier round: 2 of 3 answered (66.7 %).
    expect(page.locator("#trend-chart rect.bar")).to_have_count(4)
    expect(page.locator("#trend-chart")).to_contain_text("2026-Q1")
    expect(page.locator("#trend-chart")).to_contain_text(period)
    trend = page.locator("#trend-table")
    expect(trend.locator("tr", has_text="2026-Q1")).to_contain_text("66.7")
    expect(trend.locator("tr", has_text=period)).to_contain_text("1 (33.3")

    expect(page.locator("#tld-table tr", has_text=".fr")).to_contain_text("100.0")
    expect(page.locator("#region-table tr", has_text="CENTR")).to_be_visible()
    expect(page.locator("#region-table tr", has_text="LACTLD")).to_be_visible()
    oldest = page.locator("#oldest-table")
    expect(oldest).to_contain_text("bruno@nic.br")
    expect(oldest).to_contain_text("marc@nic.fr")
    expect(oldest).not_to_contain_text("ana@nic.fr")
    # The contact whose last proof is oldest comes first: Bruno never answered.
    expect(oldest.locator("tbody tr").first).to_contain_text("bruno@nic.br")
