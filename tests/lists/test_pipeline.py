"""A post's way through the pipeline: accepted and distributed, held, rejected, discarded.

Held, rejected and discarded posts are never distributed nor archived. One test goes through a
real SMTP intake and a real smarthost sink.
"""

from __future__ import annotations

import smtplib

import pytest
from django.conf import settings

from tests.lists.posting import fast_passwords, message, parse, post  # noqa: F401 (autouse)
from tldops.lists import archive
from tldops.lists.models import ArchivedMessage, Post
from tldops.mail import outbox, verp
from tldops.mail.models import Delivery, InboundMessage, OutboundMessage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_dns(settings):
    settings.DMARC_MITIGATION = False  # the DMARC handler has its own tests, with a DNS server


@pytest.fixture
def members(catalog, make_member):
    return [
        make_member(catalog["fr"], "Ana Lopez", "ana@nic.fr"),
        make_member(catalog["nl"], "Bert de Vries", "bert@nic.nl"),
        make_member(catalog["br"], "Carla Souza", "carla@nic.br"),
    ]


@pytest.fixture
def moderators(staff):
    return [staff("secretariat", "sec@tldops.example"), staff("committee", "chair@tldops.example")]


def list_copies() -> list[Delivery]:
    return list(Delivery.objects.filter(message__purpose="list-post").order_by("recipient"))


def assert_not_distributed(p: Post) -> None:
    assert p.outbound is None
    assert not OutboundMessage.objects.filter(purpose="list-post").exists()
    assert not ArchivedMessage.objects.exists()


def test_a_members_post_goes_to_every_member_prepared_and_archived(members, moderators):
    p = post(message(subject="DDoS on the DNS", message_id="<alert-1@nic.fr>"))
    assert p.status == Post.Status.ACCEPTED
    assert p.reasons == []
    assert p.person == members[0]
    copies = list_copies()
    # The moderators are staff: they receive the list by default (issue 9).
    assert [d.recipient for d in copies] == [
        "ana@nic.fr",
        "bert@nic.nl",
        "carla@nic.br",
        "chair@tldops.example",
        "sec@tldops.example",
    ]
    assert all(d.message_id == p.outbound_id for d in copies)
    sent = parse(bytes(p.outbound.raw))
    assert sent["Subject"] == "[TLD-OPS] DDoS on the DNS"
    assert sent["List-Id"] == f"TLD-OPS <{settings.LIST_ID}>"
    assert sent["Message-ID"] == "<alert-1@nic.fr>"
    assert sent["Precedence"] == "list"
    assert settings.LIST_FOOTER in sent.get_content()
    archived = ArchivedMessage.objects.get()
    assert archived.post == p
    assert archived.message_id == "<alert-1@nic.fr>"
    assert InboundMessage.objects.get().status == InboundMessage.Status.DONE
    assert not OutboundMessage.objects.filter(purpose="list-moderation").exists()


def test_an_html_only_post_is_archived_with_its_text_and_found(members, moderators):
    """The footer is added as a text/plain part; the archive must still keep the author's words."""
    msg = message(subject="Resolver trouble", message_id="<html-1@nic.fr>")
    msg.set_content(
        "<html><head><title>x</title><style>p { color: red }</style></head><body>"
        "<p>Our resolvers drop <b>EDNS</b> fragments&nbsp;since 09:00 UTC.</p>"
        "<script>alert('boo')</script></body></html>",
        subtype="html",
    )
    p = post(msg)
    assert p.status == Post.Status.ACCEPTED
    archived = ArchivedMessage.objects.get()
    assert "Our resolvers drop EDNS fragments since 09:00 UTC." in archived.body_text
    assert settings.LIST_FOOTER.strip() not in archived.body_text  # as the author wrote it
    assert "color" not in archived.body_text and "boo" not in archived.body_text
    assert [m.pk for m in archive.search("fragments")] == [archived.pk]


def test_the_archive_keeps_the_authors_words_without_the_list_footer(members, moderators, settings):
    """Every copy carries the footer, the archive does not: its words would match every post."""
    settings.LIST_FOOTER = "Members only: do not forward outside the community."
    plain = post(message(subject="Resolver trouble", body="Fragments dropped since 09:00."))
    msg = message(subject="Lame delegation", message_id="<html-2@nic.fr>")
    msg.set_content("<p>A lame delegation for .example</p>", subtype="html")
    html = post(msg)
    for p in (plain, html):
        assert settings.LIST_FOOTER in parse(bytes(p.outbound.raw)).as_string()  # the copies
        archived = ArchivedMessage.objects.get(post=p)
        assert "forward" not in archived.body_text and "community" not in archived.body_text
        assert b"forward outside" in bytes(archived.raw)  # the mbox keeps the message as sent
    assert archive.search("community") == [] and archive.search("forward") == []
    assert [m.post for m in archive.search("fragments")] == [plain]
    assert [m.post for m in archive.search("lame delegation")] == [html]


def test_a_non_members_post_is_held_and_the_moderators_asked(members, moderators, outbox):
    p = post(message(sender="eve@evil.test", name="Eve", subject="Cheap pills"))
    assert p.status == Post.Status.HELD
    assert [r["rule"] for r in p.reasons] == ["member"]
    assert p.reasons[0]["reason"] == "eve@evil.test is not an active member of the list."
    assert len(p.moderation_nonce) == 16
    assert_not_distributed(p)
    notices = outbox("list-moderation")
    assert sorted(r for r, _m in notices) == ["chair@tldops.example", "sec@tldops.example"]
    _to, notice = notices[0]
    assert f"[mod:{p.pk}-{p.moderation_nonce}]" in notice["Subject"]
    assert notice["Reply-To"] == "tld-ops-request@tldops.localhost"
    text = notice.get_body(("plain",)).get_content()
    assert "is not an active member of the list" in text
    assert f"tldops moderate approve {p.pk}" in text
    attached = [part for part in notice.iter_attachments()]
    assert attached[0].get_content_type() == "message/rfc822"
    assert attached[0].get_content()["Subject"] == "Cheap pills"


def test_an_oversized_post_from_a_member_is_held(members, moderators, settings):
    settings.LIST_MAX_SIZE = 4096
    p = post(message(body="A very long log.\n" * 400))
    assert p.status == Post.Status.HELD
    assert [r["rule"] for r in p.reasons] == ["max_size"]
    assert_not_distributed(p)


def test_an_executable_attachment_is_held(members, moderators):
    msg = message()
    msg.add_attachment(b"MZ", maintype="application", subtype="x-msdownload", filename="tool.exe")
    p = post(msg)
    assert p.status == Post.Status.HELD
    assert [r["rule"] for r in p.reasons] == ["attachment_types"]
    assert_not_distributed(p)


def test_a_stranger_with_an_oversized_post_sees_both_reasons(members, moderators, settings):
    settings.LIST_MAX_SIZE = 4096
    p = post(message(sender="eve@evil.test", body=("x" * 80 + "\n") * 100))
    assert p.status == Post.Status.HELD
    assert [r["rule"] for r in p.reasons] == ["member", "max_size"]


def test_a_command_sent_to_the_list_is_rejected_and_the_sender_told(members, moderators, outbox):
    p = post(message(subject="unsubscribe", body="unsubscribe\n"))
    assert p.status == Post.Status.REJECTED
    assert [r["rule"] for r in p.reasons] == ["administrivia"]
    assert_not_distributed(p)
    ((to, bounce),) = outbox("list-rejected")
    assert to == "ana@nic.fr"
    assert bounce["In-Reply-To"] == p.message_id
    text = bounce.get_content()
    assert "was not distributed" in text
    assert "Commands go to tld-ops-request@tldops.localhost" in text
    assert InboundMessage.objects.get().status == InboundMessage.Status.REJECTED


def test_a_quoted_comma_sender_is_told_once_and_an_encoded_message_id_stays_one_line(
    members, moderators, outbox
):
    quoted = '"x,victim1@one.example,victim2@two.example"@evil.example'
    raw = (
        message(sender=quoted, subject="unsubscribe", body="unsubscribe\n", message_id="<m@x>")
        .as_bytes()
        .replace(b"<m@x>", b"=?utf-8?q?<m@x>=0D=0ABcc:_victim@evil.example?=")
    )
    p = post(raw, mail_from=quoted)
    assert p.status == Post.Status.REJECTED
    ((to, bounce),) = outbox("list-rejected")
    assert to == quoted
    assert [a.addr_spec for a in bounce["To"].addresses] == [quoted]
    assert bounce["In-Reply-To"] == "<m@x>" and bounce["Bcc"] is None
    assert b"\nBcc:" not in bounce.as_bytes()


def test_an_automatic_message_is_never_answered(members, moderators, outbox):
    p = post(message(subject="help", body="help\n", headers={"Auto-Submitted": "auto-replied"}))
    assert p.status == Post.Status.REJECTED
    assert outbox("list-rejected") == []


def test_our_own_list_mail_coming_back_is_discarded_silently(members, moderators, outbox):
    first = post(message(message_id="<once@nic.fr>"))
    looped = parse(bytes(first.outbound.raw))
    del looped["Message-ID"]
    looped["Message-ID"] = "<came-back@nic.fr>"
    p = post(looped)
    assert p.status == Post.Status.DISCARDED
    assert p.reasons[0]["rule"] == "loop"
    assert OutboundMessage.objects.filter(purpose="list-post").count() == 1
    assert outbox("list-rejected") == [] and outbox("list-moderation") == []


def test_a_duplicate_message_id_is_discarded(members, moderators):
    post(message(message_id="<twice@nic.fr>"))
    p = post(message(message_id="<twice@nic.fr>"))
    assert p.status == Post.Status.DISCARDED
    assert [r["rule"] for r in p.reasons] == ["duplicate"]
    assert OutboundMessage.objects.filter(purpose="list-post").count() == 1
    assert ArchivedMessage.objects.count() == 1


def test_a_spoofed_post_is_held(members, moderators, settings):
    """From a member's address, but our own MTA found that DMARC fails: held (spoofing rule)."""
    settings.LIST_TRUSTED_AUTHSERV_ID = "mx.tldops.localhost"
    msg = message(
        headers={
            "Authentication-Results": "mx.tldops.localhost; spf=fail smtp.mailfrom=nic.fr; "
            "dkim=none; dmarc=fail (p=reject) header.from=nic.fr"
        }
    )
    p = post(msg)
    assert p.status == Post.Status.HELD
    assert "spoofing" in [r["rule"] for r in p.reasons]
    assert_not_distributed(p)


def test_a_post_without_message_id_gets_one(members, moderators):
    msg = message()
    del msg["Message-ID"]
    p = post(msg)
    assert p.status == Post.Status.ACCEPTED
    assert p.message_id.endswith("@tldops.localhost>")
    assert parse(bytes(p.outbound.raw))["Message-ID"] == p.message_id


@pytest.mark.django_db(transaction=True)
def test_through_smtp_intake_and_out_to_the_smarthost(
    members, moderators, intake_server, smarthost
):
    servers, handler = intake_server
    msg = message(subject="Phishing wave", message_id="<smtp-1@nic.fr>")
    with smtplib.SMTP("127.0.0.1", servers.ports[0]) as smtp:
        assert smtp.sendmail("ana@nic.fr", [settings.LIST_ADDRESS], msg.as_bytes()) == {}
    servers.run(handler.drain())
    p = Post.objects.get()
    assert p.status == Post.Status.ACCEPTED
    while outbox.deliver_due():
        pass
    copies = [m for m in smarthost.messages if b"Phishing wave" in m.content]
    assert sorted(r for m in copies for r in m.rcpt_tos) == [
        "ana@nic.fr",
        "bert@nic.nl",
        "carla@nic.br",
        "chair@tldops.example",
        "sec@tldops.example",
    ]
    for m in copies:
        (rcpt,) = m.rcpt_tos
        delivery = Delivery.objects.get(recipient=rcpt, message__purpose="list-post")
        assert verp.decode(m.mail_from) == delivery.pk
        got = parse(m.content)
        assert got["Subject"] == "[TLD-OPS] Phishing wave"
        assert got["List-Post"] == f"<mailto:{settings.LIST_ADDRESS}>"
