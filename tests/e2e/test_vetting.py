"""The whole vetting flow in a real browser, each person in their own browser context:
the secretariat invites a ccTLD, its admin contact names a contact from the link in the mail, the
contact confirms from the link in their mail, and then appears in the directory while the public
coverage page counts the ccTLD as a member."""

from __future__ import annotations

import re

from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.conftest import PASSWORD, body_of
from tests.e2e.conftest import sign_in, totp_code
from tldops.directory.models import Membership

NEW_PASSWORD = "a long passphrase for the portal"


def link_from_mail(outbox, purpose: str, recipient: str, path: str) -> str:
    """The link a person would click in the last mail of ``purpose`` sent to ``recipient``."""
    mails = [msg for rcpt, msg in outbox(purpose) if rcpt == recipient]
    assert mails, f"no {purpose} mail to {recipient}: {[r for r, _m in outbox()]}"
    match = re.search(rf"https?://\S+/{path}/\S+/", body_of(mails[-1]))
    assert match, body_of(mails[-1])
    return match.group(0)


def check_coverage(page, *, member: bool) -> None:
    """The public page: France among the members, or among the ccTLDs not yet subscribed."""
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Which ccTLDs are in TLD-OPS")
    members, open_tlds = page.locator("#member-tlds"), page.locator("#open-tlds")
    if member:
        expect(page.locator("#members")).to_have_text("1 member ccTLD")
        expect(members.get_by_role("row", name=".fr fr France")).to_be_visible()
        expect(open_tlds).not_to_contain_text("France")
        expect(page.locator("#not-yet")).to_have_text("5 ccTLDs not yet subscribed")
        expect(page.locator("#share-overall td").first).to_have_text("1")
    else:
        expect(page.locator("#members")).to_have_text("0 member ccTLDs")
        expect(open_tlds.get_by_role("row", name=".fr fr France")).to_be_visible()
        expect(page.locator("#share-overall td").first).to_have_text("0")


def test_invite_authorise_confirm_then_directory_and_coverage(
    page, new_page, live_server, settings, staff, catalog, outbox, tmp_path
):
    settings.BASE_URL = live_server.url  # links in mails point at this server
    secretariat = staff(email="sec@tldops.example")
    device = TOTPDevice.objects.create(user=secretariat.user, name="phone", confirmed=True)

    visitor = new_page()
    check_coverage(visitor, member=False)

    # 1. The secretariat signs in with a TOTP code and invites .fr.
    page.goto("/login/")
    sign_in(page, secretariat.email, PASSWORD, totp_code(device.bin_key))
    page.wait_for_url("**/home/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Invitations").click()
    page.wait_for_url("**/invitations/")
    page.locator('[name="one-tld"]').fill(".FR")
    page.locator('[name="one-batch"]').fill("e2e")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator("#invited")).to_contain_text("1 ccTLD invited: .fr")
    fr_row = page.locator("#invitations-table tbody tr", has_text=".fr")
    expect(fr_row).to_contain_text("admin@nic.fr")
    expect(fr_row).to_contain_text("e2e")
    expect(fr_row.locator("td").nth(5)).to_have_text("sent")

    # 2. The admin contact opens the link in the invitation mail and names a contact.
    admin = new_page()
    admin.goto(link_from_mail(outbox, "invite", "admin@nic.fr", "authorise"))
    expect(admin.get_by_role("heading", level=1)).to_have_text("Security contacts of .fr")
    admin.locator("#contact-0-name").fill("Marie Curie")
    admin.locator("#contact-0-email").fill("marie@nic.fr")
    admin.locator("#contact-0-phone0").fill("+33123456789")
    admin.locator("#contact-0-label0").select_option("24/7")
    admin.locator("#contact-0-phone1").fill("+33 6 12 34 56 78")
    admin.locator("#contact-0-label1").select_option("mobile")
    admin.locator("#contact-0-timezone").fill("Europe/Paris")
    admin.locator("#contact-0-languages").fill("fr, en")
    admin.get_by_role("button", name="Send", exact=True).click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(admin.locator("main li", has_text="Marie Curie")).to_contain_text("marie@nic.fr")
    assert Membership.objects.get(person__email="marie@nic.fr").status == "pending"

    # Named but not confirmed: not yet covered.
    check_coverage(visitor, member=False)

    # 3. The contact opens the link in the confirmation mail, chooses a password, and is in.
    contact = new_page()
    contact.goto(link_from_mail(outbox, "confirmation", "marie@nic.fr", "confirm"))
    expect(contact.get_by_role("heading", level=1)).to_have_text("Confirm your address")
    expect(contact.locator("main")).to_contain_text("Marie Curie")
    contact.locator('[name="password1"]').fill(NEW_PASSWORD)
    contact.locator('[name="password2"]').fill(NEW_PASSWORD)
    contact.get_by_role("button", name="Confirm and join").click()
    contact.wait_for_url("**/home/")
    expect(contact.get_by_role("button", name="Sign out")).to_be_visible()

    # 4. The contact appears in the directory, with the phone numbers in international format.
    contact.get_by_role("navigation", name="Main").get_by_role("link", name="Directory").click()
    contact.wait_for_url("**/directory/")
    expect(contact.locator("#directory-count")).to_have_text("1 contact")
    group = contact.locator("section.tld-group", has=contact.locator("#tld-fr"))
    expect(group.locator("#tld-fr")).to_have_text(".fr France")
    entry = group.locator("li.contact", has_text="Marie Curie")
    expect(entry.locator(".name")).to_have_text("Marie Curie contact 1 of .fr")
    expect(entry.locator("ul.phones li")).to_have_text(
        ["+33 1 23 45 67 89 (24/7)", "+33 6 12 34 56 78 (mobile)"]
    )
    expect(entry.get_by_role("link", name="marie@nic.fr")).to_have_attribute(
        "href", "mailto:marie@nic.fr"
    )
    expect(entry).to_contain_text("Europe/Paris")
    contact.screenshot(path=str(tmp_path / "directory.png"), full_page=True)

    # The secretariat sees the invitation answered.
    page.goto("/invitations/")
    expect(fr_row.locator("td").nth(5)).to_have_text("answered")

    # 5. The public page, in a browser that never signed in, counts .fr as covered.
    check_coverage(visitor, member=True)
    expect(visitor.locator("main")).not_to_contain_text("Marie")


def test_an_expired_invitation_link_says_how_to_get_a_new_one(page, catalog):
    from datetime import timedelta

    from django.utils import timezone

    from tldops.directory import actions, links
    from tldops.directory.audit import Actor
    from tldops.directory.models import Invitation

    inv = actions.invite_cctld(catalog["nl"], actor=Actor.system())
    Invitation.objects.filter(pk=inv.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = page.goto(f"/authorise/{links.invitation_token(inv)}/")
    assert response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    expect(page.get_by_role("alert")).to_contain_text("expired")
    page.get_by_role("link", name="Ask for a new link").click()
    page.wait_for_url("**/manage/")
    expect(page.locator("main form")).to_be_visible()
