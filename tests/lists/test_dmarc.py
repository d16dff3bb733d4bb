"""DMARC mitigation against a real authoritative DNS server (NSD on loopback) with our own zones."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest

from tests.lists.nsd import serve, zone
from tests.lists.posting import message as posting_message
from tests.lists.posting import post
from tldops.lists.handlers import HandlerContext, dmarc
from tldops.lists.models import Post, SenderOverride
from tldops.mail import dns as list_dns
from tldops.mail.models import InboundMessage

ZONES = {
    "reject.example": zone(
        "reject.example", ['_dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:d@reject.example"']
    ),
    "quarantine.example": zone("quarantine.example", ['_dmarc IN TXT "v=DMARC1; p=quarantine"']),
    "none.example": zone("none.example", ['_dmarc IN TXT "v=DMARC1; p=none"']),
    "nodmarc.example": zone("nodmarc.example", ['@ IN TXT "v=spf1 -all"']),
    # The organisation publishes p=none for itself, sp=reject for its subdomains.
    "parent.example": zone("parent.example", ['_dmarc IN TXT "v=DMARC1; p=none; sp=reject"']),
    # Two DMARC records: RFC 7489 says neither applies.
    "double.example": zone(
        "double.example",
        ['_dmarc IN TXT "v=DMARC1; p=reject"', '_dmarc IN TXT "v=DMARC1; p=none"'],
    ),
    # A real public suffix with two labels: mail.bank.co.uk's organisational domain is bank.co.uk.
    "bank.co.uk": zone("bank.co.uk", ['_dmarc IN TXT "v=DMARC1; p=reject"']),
    # The record is split in two strings, as long records are.
    "split.example": zone("split.example", ['_dmarc IN TXT "v=DMARC1; " "p=quarantine"']),
}


@pytest.fixture(scope="module")
def nsd(tmp_path_factory):
    """One NSD for the module (tests that stop or change it start their own)."""
    yield from serve(tmp_path_factory.mktemp("dmarc"), ZONES)


@pytest.fixture
def resolver(nsd, settings):
    """settings.DNS_RESOLVER points at our NSD; the look-up cache starts empty."""
    settings.DNS_RESOLVER = nsd.address
    list_dns.clear_cache()
    yield nsd
    list_dns.clear_cache()


def make_post(db, sender: str) -> Post:
    inbound = InboundMessage.objects.create(mail_from=sender, rcpt_to=["tld-ops@x"], raw=b"x")
    return Post.objects.create(
        inbound=inbound, message_id="<p@x>", sender=sender, status=Post.Status.ACCEPTED
    )


def message(from_: str, **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = from_
    msg["To"] = "tld-ops@tldops.localhost"
    msg["Subject"] = "[TLD-OPS] Phishing wave"
    msg["Message-ID"] = "<p@x>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("Heads up.\n")
    return msg


def run(db, msg: EmailMessage) -> EmailMessage:
    post = make_post(db, str(msg["From"].addresses[0].addr_spec))
    dmarc.process(msg, HandlerContext.build(post, msg))
    # What members receive: the bytes, parsed again.
    return email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)


# --- Policy discovery --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "policy"),
    [
        ("reject.example", "reject"),
        ("quarantine.example", "quarantine"),
        ("none.example", "none"),
        ("nodmarc.example", "none"),
        ("mail.reject.example", "reject"),  # no own record: the organisational domain's p=
        ("parent.example", "none"),
        ("lists.parent.example", "reject"),  # subdomain of the organisation: sp=
        ("double.example", "none"),
        ("mail.bank.co.uk", "reject"),
        ("split.example", "quarantine"),
    ],
)
def test_policy_discovery(resolver, domain, policy):
    assert list_dns.dmarc_policy(domain) == policy


def test_organizational_domain_follows_the_public_suffix_list():
    assert list_dns.organizational_domain("mail.bank.co.uk") == "bank.co.uk"
    assert list_dns.organizational_domain("A.B.Reject.Example.") == "reject.example"
    assert list_dns.organizational_domain("nic.fr") == "nic.fr"


def test_unanswerable_lookup_raises(resolver):
    """NSD refuses zones it does not serve: the state is unknown, not "no policy"."""
    with pytest.raises(list_dns.DnsError):
        list_dns.txt("_dmarc.elsewhere.test")


def test_resolver_honours_the_setting(resolver, settings):
    r = list_dns.resolver()
    assert r.nameservers == ["127.0.0.1"]
    assert r.port == resolver.port
    settings.DNS_RESOLVER = "[::1]:5353"
    assert (list_dns.resolver().nameservers, list_dns.resolver().port) == (["::1"], 5353)


# --- The cache ---------------------------------------------------------------------------------------


def test_answers_are_cached_for_their_ttl(tmp_path, settings):
    """A TTL 3600 answer is served from the cache after the zone changes; a TTL 0 answer is not.
    A "no record" answer is cached for the zone's negative TTL (SOA minimum)."""
    gen = serve(
        tmp_path,
        {
            "ttl.example": zone(
                "ttl.example",
                [
                    'long 3600 IN TXT "v=DMARC1; p=none"',
                    'short 0 IN TXT "v=DMARC1; p=none"',
                ],
                minimum=3600,
            )
        },
    )
    server = next(gen)
    try:
        settings.DNS_RESOLVER = server.address
        list_dns.clear_cache()
        assert list_dns.txt("long.ttl.example") == ("v=DMARC1; p=none",)
        assert list_dns.txt("short.ttl.example") == ("v=DMARC1; p=none",)
        assert list_dns.txt("absent.ttl.example") == ()

        server.restart(
            {
                "ttl.example": zone(
                    "ttl.example",
                    [
                        'long 3600 IN TXT "v=DMARC1; p=reject"',
                        'short 0 IN TXT "v=DMARC1; p=reject"',
                        'absent 3600 IN TXT "v=DMARC1; p=reject"',
                    ],
                    serial=2,
                    minimum=3600,
                )
            }
        )
        assert list_dns.txt("long.ttl.example") == ("v=DMARC1; p=none",)  # cached
        assert list_dns.txt("short.ttl.example") == ("v=DMARC1; p=reject",)  # TTL 0: asked again
        assert list_dns.txt("absent.ttl.example") == ()  # negative answer cached

        list_dns.clear_cache()
        assert list_dns.txt("long.ttl.example") == ("v=DMARC1; p=reject",)
        assert list_dns.txt("absent.ttl.example") == ("v=DMARC1; p=reject",)
    finally:
        gen.close()
        list_dns.clear_cache()


def test_cached_answers_survive_the_server_going_away(tmp_path, settings):
    gen = serve(tmp_path, ZONES)
    server = next(gen)
    try:
        settings.DNS_RESOLVER = server.address
        list_dns.clear_cache()
        assert list_dns.dmarc_policy("reject.example") == "reject"
        server.stop()
        assert list_dns.dmarc_policy("reject.example") == "reject"
        with pytest.raises(list_dns.DnsError):
            list_dns.dmarc_policy("quarantine.example")
    finally:
        gen.close()
        list_dns.clear_cache()


# --- The rewrite -------------------------------------------------------------------------------------


def test_reject_policy_rewrites_from_and_puts_the_author_in_reply_to(resolver, db):
    out = run(db, message("Ana Silva <ana@reject.example>"))
    assert out["From"].addresses[0].display_name == "Ana Silva via TLD-OPS"
    assert out["From"].addresses[0].addr_spec == "tld-ops@tldops.localhost"
    assert [a.addr_spec for a in out["Reply-To"].addresses] == ["ana@reject.example"]
    assert out["Reply-To"].addresses[0].display_name == "Ana Silva"
    assert "Cc" not in out


def test_quarantine_policy_rewrites_too(resolver, db):
    out = run(db, message("Bo <bo@mail.quarantine.example>"))
    assert out["From"].addresses[0].addr_spec == "tld-ops@tldops.localhost"


@pytest.mark.parametrize("author", ["cy@none.example", "cy@nodmarc.example", "cy@double.example"])
def test_lenient_or_no_policy_keeps_from(resolver, db, author):
    out = run(db, message(f"Cy <{author}>"))
    assert out["From"].addresses[0].addr_spec == author
    assert "Reply-To" not in out


def test_without_a_name_the_address_is_shown(resolver, db):
    out = run(db, message("ana@reject.example"))
    assert out["From"].addresses[0].display_name == "ana@reject.example via TLD-OPS"


def test_non_ascii_name_survives(resolver, db):
    out = run(db, message("Zoë Þórsdóttir <zoe@reject.example>"))
    assert out["From"].addresses[0].display_name == "Zoë Þórsdóttir via TLD-OPS"
    assert out["Reply-To"].addresses[0].display_name == "Zoë Þórsdóttir"


def test_authors_own_reply_to_is_kept(resolver, db):
    out = run(db, message("Ana <ana@reject.example>", Reply_To="cert@reject.example"))
    assert [a.addr_spec for a in out["Reply-To"].addresses] == ["cert@reject.example"]


def test_reply_to_list_puts_the_author_in_cc(resolver, db, settings):
    settings.REPLY_TO_POLICY = "list"
    msg = message("Ana <ana@reject.example>", Cc="Bo <bo@nic.fr>")
    msg["Reply-To"] = "TLD-OPS <tld-ops@tldops.localhost>"  # as the reply_to handler leaves it
    out = run(db, msg)
    assert [a.addr_spec for a in out["Reply-To"].addresses] == ["tld-ops@tldops.localhost"]
    assert [a.addr_spec for a in out["Cc"].addresses] == ["bo@nic.fr", "ana@reject.example"]


def test_override_always_and_never(resolver, db):
    SenderOverride.objects.create(address="Cy@None.Example", dmarc=SenderOverride.Dmarc.ALWAYS)
    SenderOverride.objects.create(address="ana@reject.example", dmarc=SenderOverride.Dmarc.NEVER)
    SenderOverride.objects.create(address="bo@reject.example", dmarc=SenderOverride.Dmarc.AUTO)
    assert run(db, message("Cy <cy@none.example>"))["From"].addresses[0].display_name == (
        "Cy via TLD-OPS"
    )
    assert run(db, message("Ana <ana@reject.example>"))["From"].addresses[0].addr_spec == (
        "ana@reject.example"
    )
    assert run(db, message("Bo <bo@reject.example>"))["From"].addresses[0].addr_spec == (
        "tld-ops@tldops.localhost"
    )


def test_unknown_policy_rewrites_to_be_safe(resolver, db):
    out = run(db, message("Di <di@elsewhere.test>"))
    assert out["From"].addresses[0].addr_spec == "tld-ops@tldops.localhost"


def test_mitigation_can_be_switched_off(resolver, db, settings):
    settings.DMARC_MITIGATION = False
    out = run(db, message("Ana <ana@reject.example>"))
    assert out["From"].addresses[0].addr_spec == "ana@reject.example"


# --- Through the whole pipeline ------------------------------------------------------------------------


def test_a_members_post_from_a_reject_domain_reaches_members_under_the_lists_from(
    resolver, catalog, make_member, settings, outbox
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast set-up
    make_member(catalog["fr"], "Ana Silva", "ana@reject.example")
    make_member(catalog["nl"], "Bert de Vries", "bert@none.example")

    p = post(posting_message(sender="ana@reject.example", name="Ana Silva"))
    assert p.status == Post.Status.ACCEPTED
    copies = outbox("list-post")
    assert sorted(r for r, _m in copies) == ["ana@reject.example", "bert@none.example"]
    for _r, copy in copies:
        assert copy["From"].addresses[0].display_name == "Ana Silva via TLD-OPS"
        assert copy["From"].addresses[0].addr_spec == settings.LIST_ADDRESS
        assert [a.addr_spec for a in copy["Reply-To"].addresses] == ["ana@reject.example"]
        assert copy["List-Id"]  # the other handlers ran too

    p = post(posting_message(sender="bert@none.example", name="Bert de Vries"))
    assert p.status == Post.Status.ACCEPTED
    latest = [m for _r, m in outbox("list-post")][-1]
    assert latest["From"].addresses[0].addr_spec == "bert@none.example"
