"""Posts above ``LIST_MAX_SIZE`` wait for a moderator (members' mailboxes are not all large)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from tldops.lists.rules.context import RuleContext


class MaxSize:
    name = "max_size"
    description = "The message is larger than the list allows."
    action = "hold"

    def check(self, ctx: RuleContext) -> str | None:
        if ctx.max_size <= 0 or ctx.size <= ctx.max_size:
            return None
        return _("The message is %(size)d KB; the list accepts at most %(max)d KB.") % {
            "size": (ctx.size + 1023) // 1024,
            "max": ctx.max_size // 1024,
        }


RULE = MaxSize()
