"""The mail core's models, and the bounce scores, moved out of the lists app (issue 8) without
touching a row: a database made before the moves migrates forward and still holds its posts,
deliveries, editions, bounce scores and audit entries, on SQLite and on PostgreSQL (the suite runs
on both)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tldops.directory.models import AuditEntry, BounceScore
from tldops.lists.models import Post
from tldops.mail.models import Delivery, InboundMessage, OutboundMessage
from tldops.repository.models import Edition

BEFORE = [("lists", "0005_sender_auth"), ("repository", "0001_initial"), ("mail", None)]


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_move_keeps_every_row():
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        old = executor.loader.project_state(
            [("lists", "0005_sender_auth"), ("repository", "0001_initial")]
        ).apps
        now = timezone.now()
        inbound = old.get_model("lists", "InboundMessage").objects.create(
            mail_from="ana@nic.fr", raw=b"Subject: kept\r\n\r\nbody\r\n", peer="127.0.0.10"
        )
        post = old.get_model("lists", "Post").objects.create(
            inbound=inbound, message_id="<kept@nic.fr>", sender="ana@nic.fr", status="accepted"
        )
        out = old.get_model("lists", "OutboundMessage").objects.create(
            purpose="list-post", subject="kept", envelope_from="tld-ops@x", raw=b"raw"
        )
        old.get_model("lists", "Delivery").objects.create(
            message=out, recipient="bert@nic.nl", next_attempt_at=now, status="sent"
        )
        old.get_model("lists", "Post").objects.filter(pk=post.pk).update(outbound=out)
        old.get_model("repository", "Edition").objects.create(
            period="2026-11", generated_at=now, data={}, text="t", csv="c", vcf="v", pdf=b"%PDF",
            message=out,
        )  # fmt: skip
        old.get_model("lists", "BounceScore").objects.create(
            address="bert@nic.nl", score=2.5, updated_at=now, unreachable_since=now
        )
        old.get_model("directory", "AuditEntry").objects.create(
            at=now, actor="system", door="system", action="kept", summary="kept"
        )
    finally:  # whatever happens, the later tests need the whole schema back
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    kept = Post.objects.select_related("inbound", "outbound").get(message_id="<kept@nic.fr>")
    assert isinstance(kept.inbound, InboundMessage) and kept.inbound.peer == "127.0.0.10"
    assert bytes(kept.inbound.raw).startswith(b"Subject: kept")
    assert isinstance(kept.outbound, OutboundMessage)
    assert list(kept.outbound.deliveries.values_list("recipient", "status")) == [
        ("bert@nic.nl", "sent")
    ]
    assert Delivery.objects.get().message_id == kept.outbound.pk
    assert Edition.objects.get(period="2026-11").message_id == kept.outbound.pk
    assert AuditEntry.objects.filter(action="kept").count() == 1
    score = BounceScore.objects.get(address="bert@nic.nl")  # the directory's now (directory.0005)
    assert score.score == 2.5 and score.unreachable_since is not None
    # The moved models write where they always did.
    fresh = InboundMessage.objects.create(mail_from="x@y.example", raw=b"")
    assert InboundMessage._meta.db_table == "lists_inboundmessage"
    assert InboundMessage.objects.filter(pk=fresh.pk).exists()
