"""The public playbook pages in a real browser: reading in a language, the contents, the
templates that open, right-to-left Arabic, the PDF download (and no CSP violation anywhere: the
``page`` fixture fails the test on one)."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_a_visitor_reads_the_drbcp_playbook_in_arabic_and_downloads_the_pdf(page):
    page.goto("/")
    page.locator("#nav-playbooks").click()
    page.wait_for_url("**/playbooks/")
    card = page.locator("#playbook-drbcp")
    card.locator('a[href="/playbooks/drbcp/ar/"]').click()
    page.wait_for_url("**/playbooks/drbcp/ar/")
    article = page.locator("#playbook")
    expect(article).to_have_attribute("dir", "rtl")
    assert article.evaluate("el => getComputedStyle(el).direction") == "rtl"
    expect(page.locator("#pb-review")).to_have_count(0)

    # The contents lead to a scenario; its templates open on a click.
    page.locator('.toc a[href="#site-loss"]').click()
    expect(page).to_have_url(re.compile(r"#site-loss$"))
    template = page.locator("#site-loss details.template").first
    body = template.locator("p").last
    expect(body).to_be_hidden()
    template.locator("summary").click()
    expect(body).to_be_visible()

    with page.expect_download() as download:
        page.locator("#pb-downloads a", has_text="PDF").click()
    assert download.value.suggested_filename == "tldops-drbcp-ar.pdf"


def test_the_language_list_switches_the_playbook(page):
    page.goto("/playbooks/ddos/en/")
    first_step = page.locator(".step h4").first
    english = first_step.inner_text()
    page.locator(".pb-languages").get_by_role("link", name="Français").click()
    page.wait_for_url("**/playbooks/ddos/fr/")
    expect(page.locator("#playbook")).to_have_attribute("lang", "fr")
    assert page.locator(".step h4").first.inner_text() != english
    page.locator(".pb-languages").get_by_role("link", name="中文").click()
    page.wait_for_url("**/playbooks/ddos/zh/")
    expect(page.locator(".step").first).to_contain_text(re.compile(r"[\u4e00-\u9fff]"))
