"""A message that already went through this list (our List-Id or X-Loop) is dropped: a loop."""

from __future__ import annotations

from django.utils.translation import gettext as _

from tldops.lists.rules.context import RuleContext


class Loop:
    name = "loop"
    description = "The message already went through this list."
    action = "discard"

    def check(self, ctx: RuleContext) -> str | None:
        list_ids = [str(v).lower() for v in ctx.msg.get_all("List-Id", [])]
        if any(f"<{ctx.list_id}>" in v or v.strip() == ctx.list_id for v in list_ids):
            return _("The message carries this list's List-Id: it came back to the list.")
        loops = [str(v).strip().lower() for v in ctx.msg.get_all("X-Loop", [])]
        if any(ctx.list_address in v for v in loops):
            return _("The message carries this list's X-Loop header: it came back to the list.")
        return None


RULE = Loop()
