"""The list's rules: small checks that each say *why* a post must not go out as it is.

Every rule is a class with a ``name``, a one-line ``description``, the ``action`` its hit asks for
(``"hold"``, ``"reject"`` or ``"discard"``) and ``check(ctx) -> str | None``, which returns the
reason (written for the sender and the moderators) when the rule fires, ``None`` otherwise. Rules
never change anything; :mod:`tldops.lists.chains` decides what their hits mean, and
:mod:`tldops.lists.pipeline` acts. :data:`RULES` is the order in which they run (all of them run,
so a moderator sees every reason at once).
"""

from __future__ import annotations

from tldops.lists.rules import (
    administrivia,
    attachment_types,
    duplicate,
    loop,
    max_size,
    member,
    spoofing,
)
from tldops.lists.rules.context import Rule, RuleContext  # noqa: F401 - the package's public names

# The order the rules run in (all of them run; the chain weighs their hits).
RULES: list[Rule] = [
    loop.RULE,
    duplicate.RULE,
    administrivia.RULE,
    member.RULE,
    spoofing.RULE,
    max_size.RULE,
    attachment_types.RULE,
]
