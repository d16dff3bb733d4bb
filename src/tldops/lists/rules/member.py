"""Only the directory's active members post, and the moderators (secretariat and committee, who
run the list); anyone else's post waits for a moderator."""

from __future__ import annotations

from django.utils.translation import gettext as _

from tldops.lists.moderation import moderator_by_address
from tldops.lists.rules.context import RuleContext


class NonMember:
    name = "member"
    description = "The sender is not an active member of the list."
    action = "hold"

    def check(self, ctx: RuleContext) -> str | None:
        if ctx.person is not None:
            return None
        if ctx.sender and moderator_by_address(ctx.sender) is not None:
            return None
        return _("%(s)s is not an active member of the list.") % {"s": ctx.sender or _("(none)")}


RULE = NonMember()
