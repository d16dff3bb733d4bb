"""A Message-ID the list has already seen is a duplicate (sent twice, or to two of our addresses)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from tldops.lists.models import Post
from tldops.lists.rules.context import RuleContext


class Duplicate:
    name = "duplicate"
    description = "The list has already received a message with this Message-ID."
    action = "discard"

    def check(self, ctx: RuleContext) -> str | None:
        if not ctx.msg.get("Message-ID"):  # the pipeline gave it a fresh one
            return None
        earlier = Post.objects.filter(message_id=ctx.post.message_id).exclude(pk=ctx.post.pk)
        if not earlier.exists():
            return None
        return _("The list already received a message with the Message-ID %(id)s.") % {
            "id": ctx.post.message_id
        }


RULE = Duplicate()
