"""An exercise in a real browser: a contact of .fr opens Exercises from the menu, starts a
table-top exercise of a DR/BCP scenario, ticks a step off with a note, records a decision, adds an
inject, ends it with the after-action report and downloads the PDF. The page fixture fails the
test on any Content-Security-Policy violation."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tldops.playbooks.models import Exercise


def test_a_contact_runs_an_exercise_to_its_report(page, catalog, make_member):
    member = make_member(catalog["fr"], name="Ana Lopez")
    make_member(catalog["fr"], name="Marc Dubois", email="marc@nic.fr")

    page.goto("/login/")
    sign_in(page, member.email, PASSWORD)
    page.wait_for_url("**/home/")
    page.locator("#nav-exercises").click()
    page.wait_for_url("**/exercises/")
    expect(page.locator("#no-exercises")).to_be_visible()

    page.locator("#s-scenario").select_option("drbcp/site-loss")
    page.locator("#s-title").fill("Flood drill")
    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_url("**/exercises/*/")
    exercise = Exercise.objects.get()
    expect(page.get_by_role("heading", level=1)).to_have_text("Flood drill")
    expect(page.locator("#exercise-status")).to_contain_text("Running")
    expect(page.locator("#plan-link")).to_have_attribute("href", "/plans/fr/")

    first = exercise.steps.first()
    item = page.locator(f"#step-{first.step_id}")
    item.locator("summary").click()
    item.locator('input[name="done"]').check()
    item.locator('select[name="assignee_id"]').select_option(label="Marc Dubois")
    item.locator('textarea[name="note"]').fill("Everyone reached by phone.")
    item.get_by_role("button", name="Save").click()
    item = page.locator(f"#step-{first.step_id}")
    expect(item.locator(".step-done")).to_contain_text("by Ana Lopez")
    expect(item.locator(".step-assignee")).to_contain_text("Marc Dubois")
    expect(item.locator(".step-note")).to_have_text("Everyone reached by phone.")

    page.locator("#tl-kind").select_option("decision")
    page.locator("#tl-text").fill("We move to the backup site.")
    page.locator("#timeline-form button").click()
    expect(page.locator("#timeline")).to_contain_text("We move to the backup site.")

    page.locator("#in-title").fill("The lift is out")
    page.locator("#in-text").fill("Carry the spare server up the stairs.")
    page.locator("#inject-form button").click()
    expect(page.locator("#injects")).to_contain_text("The lift is out")

    page.locator("#r-well").fill("The contact tree worked.")
    page.locator("#r-change").fill("Keep the backup tokens off site.")
    page.locator("#r-action-0").fill("Move the tokens to the bank safe")
    page.locator("#r-owner-0").fill("Marc Dubois")
    page.get_by_role("button", name="End and write the report").click()
    page.wait_for_url(f"**/exercises/{exercise.pk}/report/")
    report = page.locator("#report")
    expect(report.get_by_role("heading", level=1)).to_contain_text("Flood drill")
    expect(report).to_contain_text("The contact tree worked.")
    expect(report).to_contain_text("Move the tokens to the bank safe")
    expect(report).to_contain_text("Everyone reached by phone.")

    with page.expect_download() as download:
        page.locator("#report-pdf").click()
    assert download.value.suggested_filename == f"after-action-fr-{exercise.pk}.pdf"
    with open(download.value.path(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"
