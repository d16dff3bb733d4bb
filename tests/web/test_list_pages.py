"""The list's portal pages: the members-only archive and the moderators' queue.

Posts go through the real pipeline (:func:`tldops.lists.pipeline.handle_post`): a member's post is
distributed and archived, a non-member's is held for moderation.
"""

from __future__ import annotations

import mailbox
from email.message import EmailMessage

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tldops.directory.models import AuditEntry
from tldops.lists import archive
from tldops.lists.models import ArchivedMessage, Post
from tldops.lists.pipeline import handle_post
from tldops.mail.models import InboundMessage

pytestmark = pytest.mark.django_db


def send_post(
    sender: str,
    subject: str,
    body: str,
    mid: str,
    reply_to: str = "",
    attachment: tuple[str, str, bytes] | None = None,
) -> Post:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "tld-ops@tldops.localhost"
    msg["Subject"] = subject
    msg["Message-ID"] = mid
    if reply_to:
        msg["In-Reply-To"] = reply_to
        msg["References"] = reply_to
    msg.set_content(body)
    if attachment:
        name, ctype, data = attachment
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    address = msg["From"].addresses[0].addr_spec
    inbound = InboundMessage.objects.create(
        mail_from=address, rcpt_to=["tld-ops@tldops.localhost"], raw=msg.as_bytes()
    )
    handle_post(inbound)
    return Post.objects.get(inbound=inbound)


@pytest.fixture
def thread(member_client):
    """A member's post with an attachment and a reply to it, both archived."""
    me = member_client.person.email
    first = send_post(
        f"Ana Lopez <{me}>",
        "Phishing wave against registrars",
        "Watch for fake renewal notices.\nDetails: https://example.org/x",
        "<p1@nic.fr>",
        attachment=("iocs.html", "text/html", b"<script>alert(1)</script>"),
    )
    reply = send_post(
        f"Ana Lopez <{me}>", "Re: Phishing wave", "We see them too.", "<p2@nic.fr>", "<p1@nic.fr>"
    )
    assert first.status == reply.status == Post.Status.ACCEPTED, (first.reasons, reply.reasons)
    return ArchivedMessage.objects.get(post=first), ArchivedMessage.objects.get(post=reply)


def test_archive_pages_need_a_member(client: Client, thread):
    root, _reply = thread
    anonymous = Client()
    for url in ("/archive/", f"/archive/thread/{root.pk}/", "/archive/search/?q=x"):
        response = anonymous.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_former_member_is_refused(thread, member_client):
    """Leaving the list's ccTLD ends archive access too."""
    from tldops.directory import actions
    from tldops.directory.audit import Actor

    person = member_client.person
    assert member_client.get("/archive/").status_code == 200
    actions.leave(person, actor=Actor.of(person, "web"))
    response = member_client.get("/archive/")
    assert response.status_code == 403 and "members of TLD-OPS" in response.content.decode()
    assert member_client.get("/archive/tld-ops.mbox").status_code == 403


def test_index_month_thread_message(member_client, thread):
    root, reply = thread
    html = member_client.get("/archive/").content.decode()
    assert "Phishing wave against registrars" in html and 'href="/archive/thread/' in html
    month = f"/archive/{root.date.year}/{root.date.month}/"
    assert month in html and "2 messages" in html
    assert "List archive" in html  # menu link in base.html
    month_html = member_client.get(month).content.decode()
    assert "Phishing wave against registrars" in month_html
    thread_html = member_client.get(f"/archive/thread/{root.pk}/").content.decode()
    assert thread_html.index("Watch for fake renewal") < thread_html.index("We see them too.")
    assert 'class="reply depth-1"' in thread_html
    assert '<a href="https://example.org/x"' in thread_html  # urlized, escaped otherwise
    # Asking for the thread through a reply redirects to its root.
    response = member_client.get(f"/archive/thread/{reply.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/archive/thread/{root.pk}/"
    msg_html = member_client.get(f"/archive/message/{reply.pk}/").content.decode()
    assert "&lt;p2@nic.fr&gt;" in msg_html and "In reply to" in msg_html
    assert member_client.get("/archive/message/999999/").status_code == 404
    assert member_client.get("/archive/2026/13/").status_code == 404


def test_search_page(member_client, thread):
    html = member_client.get("/archive/search/", {"q": "renewal notices"}).content.decode()
    results = html.split('id="search-results"')[1]
    assert "Phishing wave against registrars" in results and "1 message found" in html
    none = member_client.get("/archive/search/", {"q": "nothing-like-this"}).content.decode()
    assert "0 messages found" in none


def test_attachment_is_always_a_download(member_client, thread):
    root, _ = thread
    att = root.attachments.get()
    html = member_client.get(f"/archive/thread/{root.pk}/").content.decode()
    url = f"/archive/attachment/{att.pk}/iocs.html"
    assert url in html
    response = member_client.get(url)
    assert response.status_code == 200
    assert response.content == b"<script>alert(1)</script>"
    assert response["Content-Type"] == "application/octet-stream"  # never rendered as our page
    assert response["Content-Disposition"] == 'attachment; filename="iocs.html"'


def old_export_mbox(tmp_path, messages: list[ArchivedMessage]) -> bytes:
    """The mbox as it was built before it was streamed: by the standard library, in a file."""
    import datetime as dt
    import email

    path = tmp_path / "old.mbox"
    path.unlink(missing_ok=True)
    box = mailbox.mbox(str(path), create=True)
    for m in sorted(messages, key=lambda m: (m.date, m.pk)):
        item = mailbox.mboxMessage(email.message_from_bytes(bytes(m.raw)))
        item.set_from(m.author_email or "MAILER-DAEMON", m.date.astimezone(dt.UTC).timetuple())
        box.add(item)
    box.close()
    return path.read_bytes()


def expected_messages(url: str, root: ArchivedMessage) -> list[ArchivedMessage]:
    if "/thread/" in url:
        return [m for m, _d in archive.thread(root)]
    return list(ArchivedMessage.objects.all())


def test_mbox_downloads(member_client, thread, tmp_path):
    root, _ = thread
    for url, expected in (
        ("/archive/tld-ops.mbox", 2),
        (f"/archive/{root.date.year}/{root.date.month}/mbox/", 2),
        (f"/archive/thread/{root.pk}/mbox/", 2),
    ):
        response = member_client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/mbox"
        assert "attachment" in response["Content-Disposition"]
        assert response.streaming  # written as it is read, never whole in memory
        data = b"".join(response.streaming_content)
        assert data == old_export_mbox(tmp_path, expected_messages(url, root))
        path = tmp_path / "x.mbox"
        path.write_bytes(data)
        assert [m["Message-ID"] for m in mailbox.mbox(str(path))] == [
            "<p1@nic.fr>",
            "<p2@nic.fr>",
        ][:expected]


# --- Moderation ------------------------------------------------------------------------------------


@pytest.fixture
def held(db):
    post = send_post(
        "Mallory <mallory@spam.example>", "Cheap certificates", "Buy now.", "<h1@spam.example>"
    )
    assert post.status == Post.Status.HELD
    return post


def test_moderation_queue_is_for_staff(member_client, held):
    response = member_client.get("/moderation/")
    assert response.status_code == 403
    assert member_client.get(f"/moderation/{held.pk}/").status_code == 403
    assert 'href="/moderation/"' not in member_client.get("/archive/").content.decode()


def test_moderator_approves_held_post(staff_client, held):
    client = staff_client()
    html = client.get("/moderation/").content.decode()
    assert "Cheap certificates" in html and "mallory@spam.example" in html
    assert 'href="/moderation/"' in html  # menu link
    response = client.post("/moderation/", {"post": held.pk, "decision": "approve"})
    assert response.status_code == 302 and response["Location"] == "/moderation/"
    held.refresh_from_db()
    assert held.status == Post.Status.ACCEPTED and held.decided_by == client.person
    assert ArchivedMessage.objects.filter(post=held).exists()
    assert AuditEntry.objects.filter(action="list-accepted").exists()
    page = client.get("/moderation/").content.decode()
    assert "approved" in page and "No post is waiting" in page
    # Deciding twice is refused with a clear message.
    again = client.post("/moderation/", {"post": held.pk, "decision": "discard"}, follow=True)
    assert "not waiting for moderation" in again.content.decode()


def test_reject_needs_a_reason(staff_client, held, outbox):
    client = staff_client()
    response = client.post("/moderation/", {"post": held.pk, "decision": "reject", "reason": " "})
    assert response.status_code == 400
    assert "Give a reason" in response.content.decode()
    held.refresh_from_db()
    assert held.status == Post.Status.HELD
    response = client.post(
        "/moderation/", {"post": held.pk, "decision": "reject", "reason": "Off topic"}
    )
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == Post.Status.REJECTED and held.decision_reason == "Off topic"
    assert not ArchivedMessage.objects.filter(post=held).exists()
    assert any(r == "mallory@spam.example" for r, _m in outbox("list-moderated"))


def test_discard_and_unknown_post(staff_client, held):
    client = staff_client()
    assert client.post("/moderation/", {"post": 9999, "decision": "approve"}).status_code == 404
    assert client.post("/moderation/", {"post": held.pk, "decision": "eat"}).status_code == 400
    response = client.post("/moderation/", {"post": held.pk, "decision": "discard-silently"})
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == Post.Status.DISCARDED and held.decision_reason == "silently"
    assert not ArchivedMessage.objects.filter(post=held).exists()


def raw_loads(queries: list[dict]) -> list[str]:
    """The queries that read a stored message's raw bytes."""
    return [q["sql"] for q in queries if '"lists_inboundmessage"."raw"' in q["sql"]]


def test_moderation_queue_reads_the_stored_summary_never_the_raw_message(staff_client, held):
    client = staff_client()
    InboundMessage.objects.filter(pk=held.inbound_id).update(raw=b"unparsable \xff\x00")
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/moderation/").content.decode()
    assert "Cheap certificates" in html and "mallory@spam.example" in html
    assert "Buy now." in html  # the excerpt stored when the post arrived
    assert f'href="/moderation/{held.pk}/"' in html
    assert raw_loads(queries.captured_queries) == []


def test_one_held_post_has_its_own_page(staff_client, held):
    client = staff_client()
    page = client.get(f"/moderation/{held.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Cheap certificates" in html and "Buy now." in html
    assert 'action="/moderation/"' in html  # the decisions go to the queue
    assert client.get("/moderation/999999/").status_code == 404
