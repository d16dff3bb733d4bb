"""The spoofing rule behind a trusted MTA: its Authentication-Results header is the source (our own
checks are in test_senderauth.py), and our own domain from outside."""

from __future__ import annotations

import pytest

from tests.lists.posting import message, post
from tests.mail import test_senderauth as senderauth_tests
from tldops.lists.models import Post, SenderOverride
from tldops.lists.rules.spoofing import AuthResult, parse_authentication_results
from tldops.mail import dns as list_dns
from tldops.mail.models import OutboundMessage

MX = "mx.tldops.localhost"

# The zones of test_senderauth (nic.fr publishes DMARC, nic.nl only SPF -all) on a real NSD.
keypair = senderauth_tests.keypair
nsd = senderauth_tests.nsd


@pytest.fixture
def members(catalog, make_member, settings, nsd):
    settings.DMARC_MITIGATION = False  # the rule, not the rewrite, is under test here
    settings.LIST_TRUSTED_AUTHSERV_ID = MX
    settings.DNS_RESOLVER = nsd.address
    list_dns.clear_cache()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast set-up
    return [
        make_member(catalog["fr"], "Ana Lopez", "ana@nic.fr"),
        make_member(catalog["nl"], "Bert de Vries", "bert@nic.nl"),
    ]


def reasons(p: Post) -> dict[str, str]:
    return {r["rule"]: r["reason"] for r in p.reasons}


def ar(*headers: str) -> list[tuple[str, str]]:
    return [("Authentication-Results", h) for h in headers]


def post_with(*headers: tuple[str, str], sender: str = "ana@nic.fr") -> Post:
    msg = message(sender=sender)
    for name, value in headers:
        msg[name] = value
    return post(msg)


# --- Parsing ----------------------------------------------------------------------------------------


def test_parse_rfc8601_examples():
    server, results = parse_authentication_results(
        "mx.tldops.localhost 1; spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=ana@nic.fr; "
        'dkim=pass reason="good (sig)" header.d=nic.fr header.s=2026; '
        "dmarc=fail (p=reject dis=none) header.from=nic.fr"
    )
    assert server == "mx.tldops.localhost"
    assert results == [
        AuthResult("spf", "pass", {"smtp.mailfrom": "ana@nic.fr"}),
        AuthResult(
            "dkim", "pass", {"reason": "good (sig)", "header.d": "nic.fr", "header.s": "2026"}
        ),
        AuthResult("dmarc", "fail", {"header.from": "nic.fr"}),
    ]


def test_parse_none_and_folded_headers():
    assert parse_authentication_results("example.org; none") == ("example.org", [])
    server, results = parse_authentication_results(
        "Example.ORG;\r\n\tdkim/1=NEUTRAL (no key)\r\n header.i=@nic.fr"
    )
    assert server == "example.org"
    assert results == [AuthResult("dkim", "neutral", {"header.i": "@nic.fr"})]


# --- The rule in the pipeline ------------------------------------------------------------------------


def test_dmarc_fail_from_our_mta_is_held(members):
    p = post_with(*ar(f"{MX}; spf=fail smtp.mailfrom=nic.fr; dmarc=fail header.from=nic.fr"))
    assert p.status == Post.Status.HELD
    assert "DMARC" in reasons(p)["spoofing"]
    assert not OutboundMessage.objects.filter(purpose="list-post").exists()


def test_dmarc_pass_from_our_mta_goes_out(members):
    p = post_with(*ar(f"{MX}; spf=pass smtp.mailfrom=nic.fr; dmarc=pass header.from=nic.fr"))
    assert p.status == Post.Status.ACCEPTED
    assert "spoofing" not in reasons(p)


def test_results_of_other_servers_are_not_trusted(members):
    """A sender can write any Authentication-Results; only our MTA's header counts."""
    p = post_with(*ar("mx.elsewhere.example; spf=pass smtp.mailfrom=nic.fr; dmarc=pass"))
    assert p.status == Post.Status.HELD
    assert "DMARC" in reasons(p)["spoofing"]


def test_without_any_header_of_our_mta_nothing_vouches(members):
    p = post_with()
    assert p.status == Post.Status.HELD


def test_an_aligned_pass_reported_by_our_mta_goes_out_without_its_dmarc_verdict(members):
    """Postfix with OpenDKIM but no OpenDMARC: we align its results ourselves."""
    p = post_with(*ar(f"{MX}; dkim=pass header.d=nic.fr header.s=s1"))
    assert p.status == Post.Status.ACCEPTED, p.reasons


def test_only_the_topmost_header_of_our_mta_counts(members):
    """Ours is prepended last; one below it with our name was forged before it reached us."""
    p = post_with(
        *ar(
            f"{MX}; dmarc=fail header.from=nic.fr",  # topmost: from our MTA
            f"{MX}; dmarc=pass header.from=nic.fr",  # forged further down
        )
    )
    assert p.status == Post.Status.HELD


def test_with_verification_switched_off_results_are_ignored(members, settings):
    """The operator's explicit choice (``tldops run`` warns about it): the From is believed."""
    settings.LIST_TRUSTED_AUTHSERV_ID = ""
    settings.VERIFY_SENDERS = False
    p = post_with(*ar(f"{MX}; dmarc=fail header.from=nic.fr"))
    assert p.status == Post.Status.ACCEPTED


def test_spf_fail_of_the_authors_domain_without_its_signature_is_held(members):
    """No DMARC record at nic.nl (dmarc=none), but a server nic.nl does not authorise sent it."""
    p = post_with(
        *ar(
            f"{MX}; spf=fail smtp.mailfrom=bounce.nic.nl; dkim=none; dmarc=none header.from=nic.nl"
        ),
        sender="bert@nic.nl",
    )
    assert p.status == Post.Status.HELD
    assert "SPF" in reasons(p)["spoofing"]


def test_spf_fail_with_an_aligned_signature_goes_out(members):
    """A forwarder broke SPF, but nic.nl's own DKIM signature holds: not spoofed."""
    p = post_with(
        *ar(f"{MX}; spf=fail smtp.mailfrom=nic.nl; dkim=pass header.d=mail.nic.nl; dmarc=none"),
        sender="bert@nic.nl",
    )
    assert p.status == Post.Status.ACCEPTED


def test_spf_fail_of_another_domain_is_no_forgery_but_vouches_for_nothing(members):
    """A forwarder's SPF failure proves nothing against bert@nic.nl (no DMARC record), nor for him;
    and since it did not come from a server nic.nl lists, not even a pin lets it through."""
    p = post_with(
        *ar(f"{MX}; spf=fail smtp.mailfrom=forwarder.example; dmarc=none"), sender="bert@nic.nl"
    )
    assert p.status == Post.Status.HELD
    SenderOverride.objects.create(address="bert@nic.nl", pinned=True)
    p = post_with(
        *ar(f"{MX}; spf=fail smtp.mailfrom=forwarder.example; dmarc=none"), sender="bert@nic.nl"
    )
    assert p.status == Post.Status.HELD
    assert "pinned sender is held too" in reasons(p)["spoofing"]


def test_a_dmarc_pass_about_another_domain_proves_nothing(members):
    """``From: ana@nic.fr <m@evil.example>``: an MTA may judge evil.example where we read nic.fr."""
    p = post_with(*ar(f"{MX}; dmarc=pass header.from=evil.example"))
    assert p.status == Post.Status.HELD


def test_our_mtas_headers_are_read_together_down_to_the_first_of_anyone_else(members):
    """OpenDKIM, policyd-spf and OpenDMARC each add a header with our MTA's id."""
    p = post_with(
        *ar(
            f"{MX}; dmarc=none header.from=nic.nl",
            f"{MX}; dkim=pass header.d=nic.nl header.s=s1",
            "mx.elsewhere.example; dkim=pass header.d=nic.fr",
        ),
        sender="bert@nic.nl",
    )
    assert p.status == Post.Status.ACCEPTED, p.reasons
    p = post_with(
        *ar(
            f"{MX}; dmarc=none header.from=nic.nl",
            "mx.elsewhere.example; spf=none",
            f"{MX}; dkim=pass header.d=nic.nl",  # below someone else's: written before our MTA
        ),
        sender="bert@nic.nl",
    )
    assert p.status == Post.Status.HELD


def test_our_own_domain_from_outside_is_held(members, settings):
    p = post_with(sender=f"secretariat@{settings.MAIL_DOMAIN}")
    assert p.status == Post.Status.HELD
    assert "own domain" in reasons(p)["spoofing"]


def test_our_own_domain_with_dmarc_pass_is_not_spoofing(members, settings):
    p = post_with(
        *ar(f"{MX}; dmarc=pass header.from={settings.MAIL_DOMAIN}"),
        sender=f"secretariat@{settings.MAIL_DOMAIN}",
    )
    assert "spoofing" not in reasons(p)  # still held: not a member
    assert set(reasons(p)) == {"member"}
