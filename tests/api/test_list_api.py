"""The list's API: archive reading and search, the moderation queue and decisions."""

from __future__ import annotations

import pytest

from tests.api.test_roles import _held_post
from tests.lists.test_archive import archive_msg
from tldops.lists.models import ArchivedMessage, Post

pytestmark = pytest.mark.django_db


@pytest.fixture
def archived(db):
    root = archive_msg(mid="<r@x>", subject="KSK rollover", body="Rolling on Monday.")
    reply = archive_msg(mid="<a@x>", reply_to="<r@x>", references=["<r@x>"], body="Good luck")
    return root, reply


def test_threads_thread_message_and_search(world, archived):
    root, reply = archived
    client = world.clients["member"]
    threads = client.get("/archive/threads").data
    assert threads["count"] == 1
    (t,) = threads["items"]
    assert t["id"] == root.pk and t["message_count"] == 2 and t["subject"] == "KSK rollover"
    assert client.get("/archive/threads", year=2026, month=10).data["count"] == 1
    assert client.get("/archive/threads", year=2026, month=9).data["count"] == 0
    assert client.get("/archive/threads", month=13).status_code == 422

    detail = client.get(f"/archive/threads/{reply.pk}").data  # any message names its thread
    assert detail["id"] == root.pk
    assert [(m["message_id"], m["depth"]) for m in detail["messages"]] == [
        ("<r@x>", 0),
        ("<a@x>", 1),
    ]
    message = client.get(f"/archive/messages/{reply.pk}").data
    assert message["parent_id"] == root.pk and message["thread_id"] == root.pk
    assert message["body"].strip() == "Good luck" and message["attachments"] == []
    missing = client.get("/archive/messages/999999")
    assert missing.status_code == 404 and missing.data["field"] == "id"

    found = client.get("/archive/search", q="rolling").data
    assert [m["id"] for m in found["items"]] == [root.pk] and found["count"] == 1
    assert client.get("/archive/search", q="nothing").data == {"items": [], "count": 0}
    assert client.get("/archive/search").status_code == 422


def test_moderation_queue_and_decisions(world, outbox):
    client = world.clients["secretariat"]
    first, second, third = (_held_post(world, "x") for _ in range(3))
    Post.objects.filter(pk=second).update(message_id="<h2@spam.example>")
    queue = client.get("/moderation/posts").data["items"]
    assert [p["id"] for p in queue] == [first, second, third]
    assert queue[0]["reasons"] == [{"rule": "member", "reason": "not a member"}]
    assert queue[0]["body"].strip() == "Buy now." and queue[0]["is_member"] is False

    approved = client.post(f"/moderation/posts/{first}/approve")
    assert approved.status_code == 200 and approved.data["status"] == "accepted"
    assert ArchivedMessage.objects.filter(post_id=first).exists()

    empty = client.post(f"/moderation/posts/{second}/reject", {"reason": ""})
    assert empty.status_code == 422
    rejected = client.post(f"/moderation/posts/{second}/reject", {"reason": "Spam"})
    assert rejected.data["status"] == "rejected" and rejected.data["decision_reason"] == "Spam"

    silently = client.post(f"/moderation/posts/{third}/discard?silent=true").data
    assert silently["status"] == "discarded" and silently["decision_reason"] == "silently"
    again = client.post(f"/moderation/posts/{third}/approve")
    assert again.status_code == 400 and "not waiting" in again.data["detail"]
    assert client.post("/moderation/posts/999999/approve").status_code == 404
    assert client.get("/moderation/posts").data == {"items": [], "count": 0}
    assert not ArchivedMessage.objects.filter(post_id__in=[second, third]).exists()


def test_moderation_listing_reads_the_stored_summary_never_the_raw_message(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tldops.mail.models import InboundMessage

    client = world.clients["secretariat"]
    pk = _held_post(world, "x")
    InboundMessage.objects.filter(post__pk=pk).update(raw=b"unparsable \xff\x00")
    with CaptureQueriesContext(connection) as queries:
        queue = client.get("/moderation/posts").data
    assert [p["id"] for p in queue["items"]] == [pk] and queue["count"] == 1
    assert queue["items"][0]["body"].strip() == "Buy now."
    assert not [q for q in queries.captured_queries if '"lists_inboundmessage"."raw"' in q["sql"]]
