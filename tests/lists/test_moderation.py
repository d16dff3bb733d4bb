"""Moderation: approve, reject with a reason, discard — audited, in one transaction, sender told.

The service functions directly, and the email door (a reply to the moderation notice).
"""

from __future__ import annotations

import pytest

from tests.lists.posting import deliver, fast_passwords, message, parse, post  # noqa: F401 (autouse)
from tldops.directory.audit import Actor
from tldops.directory.models import AuditEntry
from tldops.kernel.errors import InvalidInput, NotAuthorised, NotFound
from tldops.lists import moderation
from tldops.lists.models import ArchivedMessage, Post
from tldops.mail.models import Delivery, InboundMessage, OutboundMessage

pytestmark = pytest.mark.django_db

REQUEST = "tld-ops-request@tldops.localhost"
# The members, and the secretariat member, who receives the list by default (issue 9).
EVERYONE = ["ana@nic.fr", "bert@nic.nl", "sec@tldops.example"]


@pytest.fixture(autouse=True)
def _no_dns(settings):
    settings.DMARC_MITIGATION = False


@pytest.fixture
def members(catalog, make_member):
    return [
        make_member(catalog["fr"], "Ana Lopez", "ana@nic.fr"),
        make_member(catalog["nl"], "Bert de Vries", "bert@nic.nl"),
    ]


@pytest.fixture
def sec(staff):
    return staff("secretariat", "sec@tldops.example")


@pytest.fixture
def held(members, sec) -> Post:
    p = post(message(sender="eve@partner.test", name="Eve Martin", subject="Botnet C2 list"))
    assert p.status == Post.Status.HELD
    return p


def copies() -> list[str]:
    return sorted(
        Delivery.objects.filter(message__purpose="list-post").values_list("recipient", flat=True)
    )


def test_approve_distributes_archives_audits_and_tells_the_sender(held, sec, outbox):
    moderation.approve(held, actor=Actor.of(sec, "web"))
    held.refresh_from_db()
    assert held.status == Post.Status.ACCEPTED
    assert held.decided_by == sec and held.decision_door == "web" and held.decided_at
    assert copies() == EVERYONE
    sent = parse(bytes(held.outbound.raw))
    assert sent["Subject"] == "[TLD-OPS] Botnet C2 list"
    assert sent["List-Id"]
    assert ArchivedMessage.objects.get().post == held
    entry = AuditEntry.objects.get(action="list-accepted")
    assert entry.actor_person == sec and entry.door == "web"
    ((to, told),) = outbox("list-moderated")
    assert to == "eve@partner.test"
    assert "approved" in told["Subject"]


def test_reject_needs_a_reason_and_tells_it_to_the_sender(held, sec, outbox):
    with pytest.raises(InvalidInput):
        moderation.reject(held, "  ", actor=Actor.of(sec, "web"))
    with pytest.raises(InvalidInput, match="at most 2000"):
        moderation.reject(held, "r" * 100_000, actor=Actor.of(sec, "web"))
    held.refresh_from_db()
    assert held.status == Post.Status.HELD
    moderation.reject(held, "Please ask your ccTLD to name you first.", actor=Actor.of(sec, "api"))
    held.refresh_from_db()
    assert held.status == Post.Status.REJECTED
    assert held.decision_reason == "Please ask your ccTLD to name you first."
    assert copies() == [] and not ArchivedMessage.objects.exists()
    ((to, told),) = outbox("list-moderated")
    assert to == "eve@partner.test"
    assert "Please ask your ccTLD to name you first." in told.get_content()
    assert AuditEntry.objects.filter(action="list-rejected", door="api").count() == 1


def test_discard_tells_the_sender_and_sends_nothing_to_the_list(held, sec, outbox):
    moderation.discard(held, actor=Actor.of(sec, "cli"))
    held.refresh_from_db()
    assert held.status == Post.Status.DISCARDED
    assert copies() == [] and not ArchivedMessage.objects.exists()
    ((to, told),) = outbox("list-moderated")
    assert to == held.sender
    assert "was discarded" in str(told["Subject"])
    assert "not sent to the members" in told.get_content()
    assert AuditEntry.objects.filter(action="list-discarded").count() == 1


def test_silent_discard_tells_nobody(held, sec, outbox):
    moderation.discard(held, actor=Actor.of(sec, "cli"), silent=True)
    held.refresh_from_db()
    assert held.status == Post.Status.DISCARDED and held.decision_reason == "silently"
    assert copies() == [] and not ArchivedMessage.objects.exists()
    assert outbox("list-moderated") == []


def test_a_decided_post_cannot_be_decided_again(held, sec):
    moderation.discard(held, actor=Actor.of(sec, "web"))
    with pytest.raises(InvalidInput, match="already discarded"):
        moderation.approve(held, actor=Actor.of(sec, "web"))
    assert copies() == []


def test_only_moderators_moderate(held, members):
    with pytest.raises(NotAuthorised):
        moderation.approve(held, actor=Actor.of(members[0], "web"))
    with pytest.raises(NotAuthorised):
        moderation.approve(held, actor=Actor(label="anonymous", door="api"))
    held.refresh_from_db()
    assert held.status == Post.Status.HELD


def test_committee_members_moderate_too(held, staff):
    chair = staff("committee", "chair@tldops.example")
    moderation.approve(held, actor=Actor.of(chair, "web"))
    assert copies() == sorted([*EVERYONE, "chair@tldops.example"])


def test_unknown_post(sec):
    with pytest.raises(NotFound):
        moderation.get_post(999)


def test_approve_is_all_or_nothing(held, sec, monkeypatch):
    """If archiving fails, nothing is queued and the post stays held."""
    from tldops.lists import archive

    def broken(post, msg):
        raise RuntimeError("disk full")

    monkeypatch.setattr(archive, "archive_post", broken)
    with pytest.raises(RuntimeError):
        moderation.approve(held, actor=Actor.of(sec, "web"))
    held.refresh_from_db()
    assert held.status == Post.Status.HELD
    assert copies() == []
    assert not AuditEntry.objects.filter(action="list-accepted").exists()


# --- The email door -------------------------------------------------------------------------------


def reply_to_notice(held: Post, first_line: str, *, sender: str = "sec@tldops.example", ref=None):
    ref = ref or moderation.reference(held)
    msg = message(
        sender=sender,
        name="Sec",
        to=REQUEST,
        subject=f"Re: TLD-OPS moderation: post {held.pk} {ref}",
        body=f"{first_line}\n\n> A message to the list is waiting for your decision\n",
    )
    return deliver(msg, to=REQUEST)


def test_email_approve(held, outbox):
    outcome = reply_to_notice(held, "Approve")
    held.refresh_from_db()
    assert held.status == Post.Status.ACCEPTED, outcome
    assert held.decision_door == "email"
    assert copies() == EVERYONE
    ((to, answer),) = outbox("list-request-reply")
    assert to == "sec@tldops.example"
    assert "is now accepted and distributed" in answer.get_content()


def test_email_reject_with_reason(held, outbox):
    reply_to_notice(held, "reject: Not a member; ask your admin contact to name you.")
    held.refresh_from_db()
    assert held.status == Post.Status.REJECTED
    assert held.decision_reason == "Not a member; ask your admin contact to name you."
    ((to, told),) = outbox("list-moderated")
    assert to == "eve@partner.test"
    assert "ask your admin contact" in told.get_content()


def test_email_discard(held, outbox):
    reply_to_notice(held, "discard")
    held.refresh_from_db()
    assert held.status == Post.Status.DISCARDED
    assert [to for to, _m in outbox("list-moderated")] == [held.sender]


def test_email_discard_silently(held, outbox):
    reply_to_notice(held, "discard silently")
    held.refresh_from_db()
    assert held.status == Post.Status.DISCARDED and held.decision_reason == "silently"
    assert outbox("list-moderated") == []


def test_email_from_a_non_moderator_is_refused(held, outbox):
    outcome = reply_to_notice(held, "approve", sender="ana@nic.fr")
    held.refresh_from_db()
    assert held.status == Post.Status.HELD
    assert outcome.status == InboundMessage.Status.REJECTED
    assert copies() == []
    ((to, answer),) = outbox("list-request-reply")
    assert to == "ana@nic.fr"
    assert "is not a moderator's address" in answer.get_content()


def test_email_with_a_wrong_nonce_is_refused(held):
    reply_to_notice(held, "approve", ref=f"[mod:{held.pk}-0000000000000000]")
    held.refresh_from_db()
    assert held.status == Post.Status.HELD


def test_email_with_an_unknown_command_is_explained(held, outbox):
    reply_to_notice(held, "yes please")
    held.refresh_from_db()
    assert held.status == Post.Status.HELD
    ((_to, answer),) = outbox("list-request-reply")
    assert "“approve”, “reject: <reason>” or “discard”" in answer.get_content()


def test_email_reject_without_reason_is_explained(held, outbox):
    reply_to_notice(held, "reject")
    held.refresh_from_db()
    assert held.status == Post.Status.HELD
    ((_to, answer),) = outbox("list-request-reply")
    assert "Give a reason" in answer.get_content()


def test_the_whole_email_loop_from_the_notice(held, outbox):
    """The moderator replies to the notice as received: its subject and Reply-To lead back here."""
    ((to, notice), *_rest) = outbox("list-moderation")
    reply = message(
        sender=to,
        to=str(notice["Reply-To"]),
        subject="Re: " + str(notice["Subject"]),
        body="approve\n",
    )
    deliver(reply, to=str(notice["Reply-To"]))
    held.refresh_from_db()
    assert held.status == Post.Status.ACCEPTED
    assert OutboundMessage.objects.filter(purpose="list-post").count() == 1


# --- Flooding the queue (issue 7, item 5) ---------------------------------------------------------


def test_notice_of_a_large_post_is_a_summary_with_a_link_not_the_original(
    members, sec, settings, outbox
):
    settings.LIST_HOLD_ATTACH_MAX = 10_000
    body = "Indicators follow.\n" + "203.0.113.7 scanning port 53\n" * 2000
    p = post(message(sender="eve@partner.test", subject="Big list", body=body))
    assert p.status == Post.Status.HELD and p.size > 10_000
    ((to, notice),) = outbox("list-moderation")
    assert to == "sec@tldops.example"
    assert [part.get_content_type() for part in notice.walk()] == ["text/plain"]
    assert len(notice.as_bytes()) < 10_000
    text = notice.get_content()
    assert f"{settings.BASE_URL}/moderation/{p.pk}/" in text
    assert "Indicators follow." in text  # a bounded excerpt of the text
    assert "reject: <" in text and f"tldops moderate approve {p.pk}" in text
    assert moderation.reference(p) in str(notice["Subject"])

    # Under the limit the original is still attached, as before.
    small = post(message(sender="eve@partner.test", subject="Small", body="Short.\n"))
    (_to, notice) = outbox("list-moderation")[-1]
    assert moderation.reference(small) in str(notice["Subject"])
    assert "message/rfc822" in [part.get_content_type() for part in notice.walk()]


def test_a_sender_with_too_many_held_posts_is_refused_and_told_once(members, sec, settings, outbox):
    settings.LIST_MAX_HELD_PER_SENDER = 2
    sent = [post(message(sender="eve@partner.test", subject=f"Offer {i}")) for i in range(4)]
    assert [p.status for p in sent] == ["held", "held", "rejected", "rejected"]
    assert sent[2].reasons[-1]["rule"] == "held_limit"
    assert "2 messages waiting for a moderator" in sent[2].reasons[-1]["reason"]
    assert len(outbox("list-moderation")) == 2  # moderators are not mailed for the refused ones
    told = outbox("list-rejected")
    assert [to for to, _m in told] == ["eve@partner.test"]  # once, not once per refused post
    assert "2 messages waiting for a moderator" in told[0][1].get_content()
    assert moderation.held_posts().count() == 2

    # Another sender is not affected.
    assert post(message(sender="bob@partner.test")).status == Post.Status.HELD

    # Once a moderator decided one, the sender may be held again, and is told again when over.
    moderation.discard(sent[0], actor=Actor.of(sec, "web"), silent=True)
    assert post(message(sender="eve@partner.test", subject="Offer 5")).status == "held"
    assert post(message(sender="eve@partner.test", subject="Offer 6")).status == "rejected"
    assert len(outbox("list-rejected")) == 2


@pytest.mark.django_db(transaction=True)
def test_migration_0004_summarises_the_posts_already_held():
    """Posts held before the summary columns existed get them, one message at a time."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("lists", "0003_archive_search")])
        apps = executor.loader.project_state([("lists", "0003_archive_search")]).apps
        Inbound, OldPost = (
            apps.get_model("lists", "InboundMessage"),
            apps.get_model("lists", "Post"),
        )
        held = message(sender="eve@partner.test", subject="Old\u202e one", body="Held last year.\n")
        held.add_attachment(b"\x00" * 10, maintype="application", subtype="pdf", filename="a.pdf")
        pks = []
        for status, raw in (
            ("held", held.as_bytes()),
            ("held", b"\xff\x00 not mail"),
            ("accepted", b""),
        ):
            inbound = Inbound.objects.create(mail_from="eve@partner.test", raw=raw)
            pks.append(
                OldPost.objects.create(
                    inbound=inbound,
                    sender="eve@partner.test",
                    subject="Old\u202e one",
                    status=status,
                ).pk
            )
    finally:  # the later tests need the whole schema back, whatever happened here
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    first, unreadable, accepted = (Post.objects.get(pk=pk) for pk in pks)
    assert first.excerpt.strip() == "Held last year." and first.subject == "Old one"
    assert first.attachment_list == [
        {"filename": "a.pdf", "content_type": "application/pdf", "size": 10}
    ]
    assert unreadable.status == "held" and unreadable.attachment_list == []
    assert accepted.excerpt == "" and accepted.subject == "Old\u202e one"  # only held posts
