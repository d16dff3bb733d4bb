"""What the moderation queue shows of a held post, stored on the post (issue 7).

The queue used to parse every held message in full on every view; it now reads ``Post.excerpt``
and ``Post.attachment_list``, filled when a post is held. This migration adds them and fills them
for the posts already waiting, one message at a time (one message in memory, never the queue),
also cleaning their subject and sender name as new posts' are.
"""

import email
import email.policy

from django.db import migrations, models


def summarise_held(apps, schema_editor):
    from tldops.lists.moderation import summarise
    from tldops.mail.headers import one_line as clean_header

    Post = apps.get_model("lists", "Post")
    InboundMessage = apps.get_model("lists", "InboundMessage")
    held = list(Post.objects.filter(status="held").order_by("pk").values_list("pk", "inbound_id"))
    for pk, inbound_id in held:
        raw = InboundMessage.objects.filter(pk=inbound_id).values_list("raw", flat=True).first()
        post = Post.objects.only("subject", "sender_name").get(pk=pk)
        try:
            msg = email.message_from_bytes(bytes(raw or b""), policy=email.policy.default)
            summary = summarise(msg)
        except Exception:  # noqa: BLE001 - a message the parser cannot read keeps an empty summary
            summary = {"excerpt": "", "attachment_list": []}
        Post.objects.filter(pk=pk).update(
            subject=clean_header(post.subject, 998),
            sender_name=clean_header(post.sender_name, 300),
            **summary,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("lists", "0003_archive_search"),
    ]

    operations = [
        migrations.AddField(
            model_name="post",
            name="attachment_list",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="post",
            name="excerpt",
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(summarise_held, migrations.RunPython.noop, elidable=True),
    ]
