"""The chain: what the rules' hits mean for a post. The strongest action wins.

``discard`` (silently dropped: loops, duplicates) > ``reject`` (refused, the sender is told why) >
``hold`` (a moderator decides) > ``accept`` (no rule fired: distributed). Every hit is kept, so a
moderator sees all the reasons, not only the strongest one.
"""

from __future__ import annotations

from dataclasses import dataclass

from tldops.lists.rules import RULES, Rule, RuleContext

ACCEPT, HOLD, REJECT, DISCARD = "accept", "hold", "reject", "discard"
STRENGTH = {ACCEPT: 0, HOLD: 1, REJECT: 2, DISCARD: 3}


@dataclass(frozen=True)
class Hit:
    """One rule that fired, the action it asks for and the reason it gave."""

    rule: str
    action: str
    reason: str

    def as_json(self) -> dict[str, str]:
        return {"rule": self.rule, "action": self.action, "reason": self.reason}


@dataclass(frozen=True)
class Decision:
    action: str
    hits: list[Hit]

    @property
    def reasons(self) -> list[str]:
        return [h.reason for h in self.hits]


def decide(hits: list[Hit]) -> Decision:
    """The strongest action among ``hits`` (``accept`` when there are none)."""
    action = max((h.action for h in hits), key=STRENGTH.__getitem__, default=ACCEPT)
    return Decision(action, list(hits))


def run(ctx: RuleContext, rules: list[Rule] | None = None) -> Decision:
    """Run every rule (default: :data:`~tldops.lists.rules.RULES`) on ``ctx`` and decide."""
    hits = []
    for rule in RULES if rules is None else rules:
        reason = rule.check(ctx)
        if reason:
            hits.append(Hit(rule.name, rule.action, str(reason)))
    return decide(hits)
