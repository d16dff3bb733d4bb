"""A bare command (``unsubscribe``, ``help``…) sent to the posting address is refused with advice.

Otherwise every member would receive someone's "unsubscribe"; the sender is told to write to the
``-request`` address instead.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from tldops.lists.rules.context import RuleContext

COMMANDS = {"help", "status", "subscribe", "unsubscribe", "join", "leave", "remove", "signoff"}
# A message longer than this is a post that happens to start with a command word.
MAX_LINES = 2


def _lines(ctx: RuleContext) -> list[str]:
    part = ctx.msg.get_body(preferencelist=("plain",))
    if part is None:
        return []
    try:
        text = part.get_content()
    except (LookupError, KeyError):
        return []
    lines = []
    for line in text.splitlines():
        if line.rstrip() == "--":
            break
        if line.strip() and not line.lstrip().startswith(">"):
            lines.append(line.strip())
    return lines


def looks_like_command(subject: str, lines: list[str]) -> bool:
    """A subject or a short first line that is just a command word (with at most one argument),
    and hardly anything else: "help, our name servers are down" is a post, "unsubscribe" is not."""
    if len(lines) > MAX_LINES:
        return False

    def is_command(text: str) -> bool:
        words = text.strip().lower().split()
        return 0 < len(words) <= 2 and words[0] in COMMANDS

    if lines:
        return is_command(lines[0]) and len(lines) <= 2
    return is_command(subject)


class Administrivia:
    name = "administrivia"
    description = "The message is a list command sent to the posting address."
    action = "reject"

    def check(self, ctx: RuleContext) -> str | None:
        if not looks_like_command(str(ctx.msg.get("Subject", "")), _lines(ctx)):
            return None
        local, _at, domain = ctx.list_address.rpartition("@")
        return _(
            "Your message looks like a list command. Commands go to %(req)s, not to the list; "
            "to leave the list, use “Leave” on your profile page in the portal."
        ) % {"req": f"{local}-request@{domain}"}


RULE = Administrivia()
