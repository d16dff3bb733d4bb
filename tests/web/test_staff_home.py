"""The staff home page (issue 9): what waits for the secretariat, each number a link; the outbox
page with its retry buttons; the same numbers from the API; and the few queries it costs."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.api.test_roles import _held_post
from tests.conftest import _invite_and_authorise
from tests.web.conftest import sign_in
from tldops.directory import actions
from tldops.directory.audit import Actor
from tldops.directory.models import AuditEntry, BounceScore
from tldops.directory.validation import ContactInput
from tldops.mail import outbox
from tldops.mail.models import Delivery, OutboundMessage
from tldops.ops import summary
from tldops.repository import editions, reachability


def failed_delivery(recipient: str = "gone@nic.example") -> Delivery:
    message = OutboundMessage.objects.create(
        purpose="colleague-notice",
        subject="TLD-OPS: a notice",
        envelope_from="secretariat@tldops.localhost",
        raw=b"From: secretariat@tldops.localhost\r\nTo: gone@nic.example\r\nSubject: x\r\n\r\nx\r\n",
    )
    return Delivery.objects.create(
        message=message,
        recipient=recipient,
        status=Delivery.Status.FAILED,
        attempts=8,
        next_attempt_at=timezone.now(),
        last_error="550 5.1.1 no such user",
    )


def community(catalog, make_member, first: int = 0, n: int = 1) -> None:
    """Something waiting in every corner the page counts (``n`` more of what has no limit)."""
    if first == 0:
        make_member(catalog["fr"], name="Ana Lopez", email="ana@nic.fr")
        _invite_and_authorise(catalog["br"], [ContactInput(name="Bruno", email="b0@nic.br")])
        actions.invite_cctld(catalog["ua"], actor=Actor.system())
        editions.publish("2026-10", trigger="cli", now=datetime(2026, 10, 1, 6, tzinfo=UTC))
        reachability.start_round("2026-Q4", trigger="cli")
    for i in range(first, first + n):
        _held_post(None, "")
        failed_delivery(f"gone{i}@nic.example")
        BounceScore.objects.create(
            address=f"full{i}@nic.fr",
            score=9.0,
            updated_at=timezone.now(),
            unreachable_since=timezone.now(),
        )


def _number(html: str, anchor_id: str) -> str:
    match = re.search(rf'id="{anchor_id}" href="([^"]*)">([^<]*)<', html)
    assert match, anchor_id
    return match.group(1), match.group(2)


def test_the_staff_home_page_counts_and_links(staff_client, catalog, make_member):
    community(catalog, make_member)
    client = staff_client()
    response = client.get("/staff/")
    assert response.status_code == 200
    html = response.content.decode()
    assert _number(html, "count-pending") == ("#pending", "1")
    assert _number(html, "count-invitations") == ("/invitations/?status=sent", "1")
    assert _number(html, "count-held") == ("/moderation/", "1")
    queued = Delivery.objects.filter(status="pending").count()  # the community's own mail
    assert queued and _number(html, "count-outbox") == (
        "/staff/outbox/",
        f"{queued} queued, 0 retrying, 1 failed",
    )
    assert _number(html, "count-unreachable") == ("#unreachable", "1")
    href, text = _number(html, "last-edition")
    assert href == "/repository/" and text.startswith("2026-10, sent to 1 members")
    href, text = _number(html, "reachability-round")
    assert href == "/reachability/"
    assert text == "2026-Q4: 0 answered, 1 unanswered, 0 overdue"
    assert "b0@nic.br" in html and "full0@nic.fr" in html  # the lists below the numbers
    # Each link leads to a page that opens.
    for path in ("/invitations/?status=sent", "/moderation/", "/staff/outbox/", "/repository/"):
        assert client.get(path).status_code == 200, path
    # The navigation and the home page lead here.
    assert 'id="nav-staff-home" href="/staff/"' in client.get("/home/").content.decode()
    assert 'id="home-staff-home"' in client.get("/home/").content.decode()


def test_the_member_sees_no_staff_home(member_client):
    assert member_client.get("/staff/").status_code == 403
    assert 'href="/staff/"' not in member_client.get("/home/").content.decode()


def test_the_summary_costs_the_same_few_queries_whatever_the_size(catalog, make_member):
    community(catalog, make_member)
    with CaptureQueriesContext(connection) as small:
        summary.summary()
    community(catalog, make_member, first=1, n=3)
    Delivery.objects.filter(status="pending").update(attempts=2)  # tried, waiting to try again
    with CaptureQueriesContext(connection) as larger:
        numbers = summary.summary()
    assert len(small) == len(larger) <= summary.QUERIES
    assert numbers.directory.unreachable == 4 and numbers.outbox.failed == 4
    assert numbers.outbox.retrying and not numbers.outbox.queued
    assert numbers.held_posts == 4 and numbers.directory.pending_contacts == 1


def test_failed_deliveries_are_sent_again_from_the_outbox_page(staff_client, db, settings):
    one, other = failed_delivery("one@nic.example"), failed_delivery("two@nic.example")
    client = staff_client()
    page = client.get("/staff/outbox/").content.decode()
    assert "one@nic.example" in page and "550 5.1.1 no such user" in page
    response = client.post("/staff/outbox/retry/", {"delivery": one.pk}, follow=True)
    assert "1 delivery queued again" in response.content.decode()
    one.refresh_from_db()
    other.refresh_from_db()
    assert (one.status, one.attempts) == ("pending", 0) and other.status == "failed"
    entry = AuditEntry.objects.get(action="mail-retry")
    assert entry.actor_person == client.person and entry.after["ids"] == [one.pk]
    # The worker delivers it now (here: to the sink folder).
    assert outbox.deliver_due() == 1
    one.refresh_from_db()
    assert one.status == "sent"
    # Every failed one.
    client.post("/staff/outbox/retry/", {"all": "1"})
    other.refresh_from_db()
    assert other.status == "pending"
    # Nothing left to retry: said, nothing changed.
    again = client.post("/staff/outbox/retry/", {"all": "1"}, follow=True)
    assert "nothing to send again" in again.content.decode()
    assert AuditEntry.objects.filter(action="mail-retry").count() == 2


def test_a_member_cannot_retry_deliveries(member_client, db):
    delivery = failed_delivery()
    assert member_client.post("/staff/outbox/retry/", {"all": "1"}).status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert not AuditEntry.objects.filter(action="mail-retry").exists()


def test_staff_lands_on_a_page_that_leads_to_the_staff_home(client, staff):
    from tests.web.conftest import code_for, confirmed_device

    person = staff()
    response = sign_in(client, person, code=code_for(confirmed_device(person)))
    home = client.get(response["Location"]).content.decode()
    assert 'href="/staff/"' in home
