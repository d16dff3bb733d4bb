"""The list in a real browser: a moderator approves a held post, which then shows in the archive
and is found by its search."""

from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in, totp_code
from tests.web.test_list_pages import send_post
from tldops.lists.models import ArchivedMessage, Post


def test_moderator_approves_held_post_then_archive_search_finds_it(page, staff):
    moderator = staff(email="sec@tldops.example")
    device = TOTPDevice.objects.create(user=moderator.user, name="phone", confirmed=True)
    held = send_post(
        "Pat Outsider <pat@registry.example>",
        "Resolver outage in the Pacific",
        "Anycast node down since 04:00 UTC; routing around it.",
        "<outage@registry.example>",
    )
    assert held.status == Post.Status.HELD

    page.goto("/login/?next=/moderation/")
    sign_in(page, moderator.email, PASSWORD, totp_code(device.bin_key))
    page.wait_for_url("**/moderation/")
    section = page.locator(f"#post-{held.pk}")
    expect(section).to_contain_text("Resolver outage in the Pacific")
    expect(section).to_contain_text("pat@registry.example")
    expect(section).to_contain_text("Anycast node down")

    # Reject needs a reason: the browser itself refuses the empty field.
    section.get_by_role("button", name="Reject with this reason").click()
    held.refresh_from_db()
    assert held.status == Post.Status.HELD

    section.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text(f"Post {held.pk} was approved")
    expect(page.locator("main")).to_contain_text("No post is waiting for moderation.")
    assert ArchivedMessage.objects.filter(post=held).exists()

    page.get_by_role("link", name="List archive").click()
    expect(page.locator("#threads")).to_contain_text("Resolver outage in the Pacific")
    page.get_by_label("Search the archive").fill("anycast routing")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**/archive/search/?q=anycast+routing")
    results = page.locator("#search-results")
    expect(results).to_contain_text("Resolver outage in the Pacific")
    results.get_by_role("link", name="Resolver outage in the Pacific").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Resolver outage in the Pacific")
    expect(page.locator(".mail-body")).to_contain_text("Anycast node down since 04:00 UTC")
