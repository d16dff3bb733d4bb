"""The handlers, alone and in their order: subject tag, list headers, Reply-To, footer, cleansing."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from tests.lists.posting import fast_passwords, message, parse  # noqa: F401 (autouse)
from tldops.lists import archive
from tldops.lists.handlers import (
    HANDLERS,
    HandlerContext,
    cleanse,
    footer,
    prepare,
    reply_to,
    rfc2369,
    subject_prefix,
)
from tldops.lists.models import Post
from tldops.mail.models import InboundMessage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_dns(settings):
    settings.DMARC_MITIGATION = False  # the DMARC handler has its own tests, with a DNS server
    settings.DKIM_SELECTOR = ""


def ctx_for(msg: EmailMessage) -> HandlerContext:
    inbound = InboundMessage.objects.create(
        mail_from="ana@nic.fr", rcpt_to=[], raw=msg.as_bytes(), route="list-post"
    )
    post = Post.objects.create(
        inbound=inbound,
        message_id=str(msg.get("Message-ID", "")) or "<made-by-us@tldops.localhost>",
        sender="ana@nic.fr",
        sender_name="Ana Lopez",
        status=Post.Status.HELD,
    )
    return HandlerContext.build(post, msg)


def roundtrip(msg: EmailMessage) -> EmailMessage:
    """As members receive it: serialised and parsed again."""
    return parse(msg.as_bytes())


def test_handlers_run_in_order_with_dkim_last():
    names = [h.__name__.rsplit(".", 1)[1] for h in HANDLERS]
    assert names == [
        "cleanse",
        "subject_prefix",
        "rfc2369",
        "reply_to",
        "banner",
        "footer",
        "dmarc",
        "dkim",
    ]


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("DDoS on the DNS", "[TLD-OPS] DDoS on the DNS"),
        ("Re: [TLD-OPS] DDoS on the DNS", "Re: [TLD-OPS] DDoS on the DNS"),
        ("[tld-ops] lower case tag", "[tld-ops] lower case tag"),
        ("", "[TLD-OPS] (no subject)"),
    ],
)
def test_subject_tag_once(subject, expected):
    msg = message(subject=subject)
    subject_prefix.process(msg, ctx_for(msg))
    assert roundtrip(msg)["Subject"] == expected
    assert len(msg.get_all("Subject")) == 1


def test_list_headers_rfc2369_and_rfc2919(settings):
    settings.LIST_ADDRESS = "tld-ops@lists.example"
    settings.LIST_ID = "tld-ops.lists.example"
    settings.BASE_URL = "https://portal.example"
    msg = message(headers={"List-Id": "Other <other.example>", "Precedence": "bulk"})
    rfc2369.process(msg, ctx_for(msg))
    got = roundtrip(msg)
    assert got["List-Id"] == "TLD-OPS <tld-ops.lists.example>"
    assert got.get_all("List-Id") == ["TLD-OPS <tld-ops.lists.example>"]
    assert got["List-Post"] == "<mailto:tld-ops@lists.example>"
    assert got["List-Help"] == "<mailto:tld-ops-request@lists.example?subject=help>"
    assert got["List-Owner"] == "<mailto:tld-ops-owner@lists.example>"
    assert got["List-Archive"] == "<https://portal.example/archive/>"
    assert got["List-Unsubscribe"] == "<mailto:tld-ops-request@lists.example?subject=unsubscribe>"
    assert got["Precedence"] == "list"
    assert got["X-Loop"] == "tld-ops@lists.example"


def test_cleanse_drops_misleading_headers_and_keeps_the_message_id():
    msg = message(
        message_id="<keep@nic.fr>",
        headers={
            "DKIM-Signature": "v=1; a=rsa-sha256; d=nic.fr; s=x; b=abc",
            "Authentication-Results": "mx.nic.fr; dmarc=pass",
            "Received-SPF": "pass",
            "Return-Path": "<ana@nic.fr>",
            "Approved": "secret",
            "Received": "from mx.nic.fr by us",
        },
    )
    cleanse.process(msg, ctx_for(msg))
    got = roundtrip(msg)
    for name in (
        "DKIM-Signature",
        "Authentication-Results",
        "Received-SPF",
        "Return-Path",
        "Approved",
    ):
        assert got[name] is None, name
    assert got["Message-ID"] == "<keep@nic.fr>"
    assert got["Received"] == "from mx.nic.fr by us"


def test_cleanse_gives_a_message_without_message_id_the_posts():
    msg = message()
    del msg["Message-ID"]
    ctx = ctx_for(msg)
    cleanse.process(msg, ctx)
    assert msg["Message-ID"] == "<made-by-us@tldops.localhost>"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("none", "Ana's own <ana.replies@nic.fr>"),
        ("list", "TLD-OPS <tld-ops@tldops.localhost>"),
        ("author", "Ana Lopez <ana@nic.fr>"),
    ],
)
def test_reply_to_policy(settings, policy, expected):
    settings.REPLY_TO_POLICY = policy
    msg = message(headers={"Reply-To": "Ana's own <ana.replies@nic.fr>"})
    reply_to.process(msg, ctx_for(msg))
    got = roundtrip(msg)
    assert got.get_all("Reply-To") == [expected]


def test_footer_on_plain_text(settings):
    settings.LIST_FOOTER = "Members only."
    msg = message(body="Hello.\n")
    footer.process(msg, ctx_for(msg))
    assert roundtrip(msg).get_content() == "Hello.\n-- \nMembers only.\n"


def test_footer_on_non_ascii_plain_text(settings):
    settings.LIST_FOOTER = "Réservé aux membres."
    msg = message(body="Attaque sur .рф\n")
    footer.process(msg, ctx_for(msg))
    assert roundtrip(msg).get_content() == "Attaque sur .рф\n-- \nRéservé aux membres.\n"


def test_footer_on_alternative_wraps_it_in_mixed(settings):
    settings.LIST_FOOTER = "Members only."
    msg = message(body="Plain.\n")
    msg.add_alternative("<p>HTML.</p>", subtype="html")
    footer.process(msg, ctx_for(msg))
    got = roundtrip(msg)
    assert got.get_content_type() == "multipart/mixed"
    first, last = list(got.iter_parts())
    assert first.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in first.iter_parts()] == ["text/plain", "text/html"]
    assert last.get_content_type() == "text/plain"
    assert last.get_content() == "-- \nMembers only.\n"


def test_footer_on_mixed_adds_a_last_part(settings):
    settings.LIST_FOOTER = "Members only."
    msg = message(body="See the log.\n")
    msg.add_attachment(b"log", maintype="text", subtype="csv", filename="log.csv")
    footer.process(msg, ctx_for(msg))
    parts = list(roundtrip(msg).iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/csv", "text/plain"]
    assert parts[0].get_content() == "See the log.\n"
    assert parts[-1].get_content() == "-- \nMembers only.\n"


SIGNED = b"""From: Ana Lopez <ana@nic.fr>
To: tld-ops@tldops.localhost
Subject: signed alert
Message-ID: <signed@nic.fr>
MIME-Version: 1.0
Content-Type: multipart/signed; micalg=pgp-sha256; protocol="application/pgp-signature"; boundary="sig"

--sig
Content-Type: text/plain; charset=utf-8

Signed text.
--sig
Content-Type: application/pgp-signature; name="signature.asc"

-----BEGIN PGP SIGNATURE-----
iQEzBAEBCAAdFiEE
-----END PGP SIGNATURE-----
--sig--
"""


def test_footer_never_touches_a_signed_message(settings):
    settings.LIST_FOOTER = "Members only."
    msg = parse(SIGNED)
    before = msg.as_bytes()
    footer.process(msg, ctx_for(msg))
    assert msg.as_bytes() == before
    assert b"Members only." not in msg.as_bytes()


def test_all_handlers_keep_a_signed_body_byte_for_byte(settings):
    msg = parse(SIGNED)
    body_before = SIGNED.split(b"\n\n", 1)[1]
    prepare(msg, ctx_for(msg))
    out = msg.as_bytes()
    assert out.split(b"\n\n", 1)[1] == body_before
    assert parse(out)["Subject"] == "[TLD-OPS] signed alert"


def test_footer_on_html_only_adds_a_plain_part(settings):
    settings.LIST_FOOTER = "Members only."
    msg = message()
    msg.set_content("<p>Alert</p>", subtype="html")
    footer.process(msg, ctx_for(msg))
    parts = list(roundtrip(msg).iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/html", "text/plain"]
    assert parts[1].get_content() == "-- \nMembers only.\n"
    # The footer part is not the message's only text: the archive reads the HTML too.
    assert archive.body_text(roundtrip(msg)) == "Alert\n\n-- \nMembers only."


def test_no_footer_when_the_setting_is_empty(settings):
    settings.LIST_FOOTER = ""
    msg = message(body="Hello.\n")
    footer.process(msg, ctx_for(msg))
    assert roundtrip(msg).get_content() == "Hello.\n"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("[TLP:AMBER] DDoS", "[TLD-OPS][TLP:AMBER] DDoS"),
        ("DDoS", "[TLD-OPS][TLP:AMBER] DDoS"),
        ("Re: [TLD-OPS] DDoS", "Re: [TLD-OPS][TLP:AMBER] DDoS"),
        ("Re: [TLD-OPS][TLP:AMBER] DDoS", "Re: [TLD-OPS][TLP:AMBER] DDoS"),
        ("", "[TLD-OPS][TLP:AMBER] (no subject)"),
    ],
)
def test_a_label_follows_the_list_tag_once(subject, expected):
    from tldops.mail.community import tagged  # noqa: PLC0415

    assert tagged(subject, "[TLD-OPS]", "[TLP:AMBER]") == expected


def test_the_banner_is_the_first_text_of_plain_and_multipart_messages():
    from dataclasses import replace  # noqa: PLC0415

    from tldops.lists.handlers import banner  # noqa: PLC0415
    from tldops.lists.handlers.context import HandlerContext  # noqa: PLC0415

    ctx = replace(HandlerContext.for_list_mail(), banner="TLP:GREEN — share in the community")
    plain = message(body="Hello.\n")
    banner.process(plain, ctx)
    assert plain.get_content().startswith("TLP:GREEN — share in the community\n\nHello.")
    alternative = message(body="Hello.\n")
    alternative.add_alternative("<p>Hello.</p>", subtype="html")
    banner.process(alternative, ctx)
    assert alternative.get_content_type() == "multipart/mixed"
    first = alternative.get_payload()[0]
    assert first.get_content().startswith("TLP:GREEN")
    assert alternative.get_payload()[1].get_content_type() == "multipart/alternative"
