"""Each rule alone: when it fires, with what reason, and when it stays quiet; and the chain."""

from __future__ import annotations

import pytest

from tests.lists.posting import fast_passwords, message  # noqa: F401 (autouse)
from tldops.directory.queries import member_by_address
from tldops.lists import chains
from tldops.lists.models import Post
from tldops.lists.rules import (
    RULES,
    RuleContext,
    administrivia,
    attachment_types,
    duplicate,
    loop,
    max_size,
    member,
)
from tldops.mail.models import InboundMessage

pytestmark = pytest.mark.django_db


def ctx_for(msg, *, sender: str = "ana@nic.fr") -> RuleContext:
    raw = msg.as_bytes()
    inbound = InboundMessage.objects.create(
        mail_from=sender, rcpt_to=[], raw=raw, route="list-post"
    )
    post = Post.objects.create(
        inbound=inbound,
        message_id=str(msg.get("Message-ID", "")) or "<generated@test>",
        sender=sender,
        status=Post.Status.HELD,
    )
    return RuleContext.build(
        inbound=inbound, msg=msg, post=post, sender=sender, person=member_by_address(sender)
    )


def test_rules_run_in_the_documented_order():
    assert [r.name for r in RULES] == [
        "loop",
        "duplicate",
        "administrivia",
        "member",
        "spoofing",
        "max_size",
        "attachment_types",
    ]
    assert all(r.action in ("hold", "reject", "discard") for r in RULES)


def test_member_rule_fires_for_a_stranger_and_not_for_a_member(catalog, make_member):
    make_member(catalog["fr"], "Ana Lopez", "ana@nic.fr")
    assert member.RULE.check(ctx_for(message())) is None
    reason = member.RULE.check(ctx_for(message(sender="eve@evil.test"), sender="eve@evil.test"))
    assert reason == "eve@evil.test is not an active member of the list."


def test_member_rule_accepts_an_alternate_address(catalog, make_member):
    person = make_member(catalog["fr"], "Ana Lopez", "ana@nic.fr")
    person.alt_emails = ["ana.lopez@afnic.test"]
    person.save()
    ctx = ctx_for(message(sender="ana.lopez@afnic.test"), sender="ana.lopez@afnic.test")
    assert member.RULE.check(ctx) is None


def test_max_size(settings):
    settings.LIST_MAX_SIZE = 2048
    assert max_size.RULE.check(ctx_for(message(body="short\n"))) is None
    reason = max_size.RULE.check(ctx_for(message(body=("y" * 70 + "\n") * 60)))
    assert reason is not None and "at most 2 KB" in reason


def test_attachment_types_names_the_part_refused(settings):
    msg = message()
    msg.add_attachment(
        b"MZ\x90\x00", maintype="application", subtype="x-msdownload", filename="run.exe"
    )
    reason = attachment_types.RULE.check(ctx_for(msg))
    assert reason is not None and "application/x-msdownload (run.exe)" in reason
    ok = message()
    ok.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="report.pdf")
    assert attachment_types.RULE.check(ctx_for(ok)) is None


def test_loop_by_list_id_and_by_x_loop(settings):
    ours = message(headers={"List-Id": f"TLD-OPS <{settings.LIST_ID}>"})
    assert loop.RULE.check(ctx_for(ours)) is not None
    xloop = message(headers={"X-Loop": settings.LIST_ADDRESS})
    assert loop.RULE.check(ctx_for(xloop)) is not None
    other = message(headers={"List-Id": "Other list <other.lists.example>"})
    assert loop.RULE.check(ctx_for(other)) is None


def test_duplicate_message_id():
    first = message(message_id="<same@nic.fr>")
    assert duplicate.RULE.check(ctx_for(first)) is None
    again = duplicate.RULE.check(ctx_for(message(message_id="<same@nic.fr>")))
    assert again == "The list already received a message with the Message-ID <same@nic.fr>."


@pytest.mark.parametrize(
    ("subject", "body", "fires"),
    [
        ("unsubscribe", "", True),
        ("Re: something", "unsubscribe\n", True),
        ("help", "", True),
        ("Help", "Help, our name servers are under attack since 10:00 UTC.\nAnyone else?\n", False),
        ("DDoS", "help me understand\nthis traffic pattern\nfrom AS64500\n", False),
        ("Status of the incident", "The attack stopped.\n", False),
    ],
)
def test_administrivia(subject, body, fires):
    msg = message(subject=subject, body=body or "\n")
    assert (administrivia.RULE.check(ctx_for(msg)) is not None) is fires


def test_chain_strongest_action_wins_and_keeps_every_hit():
    hold = chains.Hit("member", "hold", "not a member")
    reject = chains.Hit("administrivia", "reject", "a command")
    discard = chains.Hit("loop", "discard", "loop")
    assert chains.decide([]).action == "accept"
    assert chains.decide([hold]).action == "hold"
    assert chains.decide([hold, reject]).action == "reject"
    decision = chains.decide([reject, discard, hold])
    assert decision.action == "discard"
    assert decision.reasons == ["a command", "loop", "not a member"]


def test_moderators_may_post_without_being_members(staff):
    staff("committee", "chair@tldops.example")
    ctx = ctx_for(message(sender="chair@tldops.example"), sender="chair@tldops.example")
    assert ctx.person is None
    assert member.RULE.check(ctx) is None
