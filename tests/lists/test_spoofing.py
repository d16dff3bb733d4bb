"""The spoofing rule: Authentication-Results from our own MTA, and our own domain from outside."""

from __future__ import annotations

import pytest

from tests.lists.posting import message, post
from tldops.lists.models import OutboundMessage, Post
from tldops.lists.rules.spoofing import AuthResult, parse_authentication_results

MX = "mx.tldops.localhost"


@pytest.fixture
def members(catalog, make_member, settings):
    settings.DMARC_MITIGATION = False  # the rule, not the rewrite, is under test here
    settings.LIST_TRUSTED_AUTHSERV_ID = MX
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
    p = post_with(*ar("mx.elsewhere.example; dmarc=fail header.from=nic.fr"))
    assert p.status == Post.Status.ACCEPTED


def test_only_the_topmost_header_of_our_mta_counts(members):
    """Ours is prepended last; one below it with our name was forged before it reached us."""
    p = post_with(
        *ar(
            f"{MX}; dmarc=fail header.from=nic.fr",  # topmost: from our MTA
            f"{MX}; dmarc=pass header.from=nic.fr",  # forged further down
        )
    )
    assert p.status == Post.Status.HELD


def test_without_a_trusted_authserv_id_results_are_ignored(members, settings):
    settings.LIST_TRUSTED_AUTHSERV_ID = ""
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


def test_spf_fail_of_another_domain_is_not_a_spoofing_signal(members):
    p = post_with(*ar(f"{MX}; spf=fail smtp.mailfrom=forwarder.example; dmarc=none"))
    assert p.status == Post.Status.ACCEPTED


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
