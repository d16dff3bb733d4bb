"""Parts whose type is not in ``LIST_ALLOWED_TYPES`` (e.g. executables) wait for a moderator."""

from __future__ import annotations

from fnmatch import fnmatchcase

from django.utils.translation import gettext as _

from tldops.lists.rules.context import RuleContext


def disallowed_parts(ctx: RuleContext) -> list[str]:
    """``type (filename)`` of every part whose content type no allowed pattern matches."""
    found = []
    for part in ctx.msg.walk():
        ctype = part.get_content_type().lower()
        if not any(fnmatchcase(ctype, pattern) for pattern in ctx.allowed_types):
            filename = part.get_filename()
            found.append(f"{ctype} ({filename})" if filename else ctype)
    return found


class AttachmentTypes:
    name = "attachment_types"
    description = "The message has a part of a type the list does not accept."
    action = "hold"

    def check(self, ctx: RuleContext) -> str | None:
        found = disallowed_parts(ctx)
        if not found:
            return None
        return _("The message contains parts of a type the list does not accept: %(t)s.") % {
            "t": ", ".join(found)
        }


RULE = AttachmentTypes()
