"""Sender verification of our own (no trusted MTA): SPF for the connecting address, DKIM, DMARC
alignment, against a real NSD serving the members' domains — through the list, the authorisation
door and the reachability door, and through the real SMTP intake on loopback."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import dkim
import pytest
from django.conf import settings

from tests.lists import smtp as smtp_fixtures
from tests.lists.keys import dkim_record, rsa_keypair
from tests.lists.nsd import serve, zone
from tests.lists.posting import fast_passwords, message  # noqa: F401 - fixture
from tests.repository.reach import next_round, subject_ref
from tldops.directory import actions, links
from tldops.directory.audit import Actor
from tldops.directory.models import Membership, Person
from tldops.lists.models import ArchivedMessage, Post, SenderOverride
from tldops.mail import dns as list_dns
from tldops.mail import intake
from tldops.mail.models import InboundMessage, OutboundMessage
from tldops.repository import reachability
from tldops.repository.models import Challenge

intake_server = smtp_fixtures.intake_server

SELECTOR = "s2026"
FR_SERVER = "127.0.0.10"  # the only server nic.fr authorises (SPF -all, DMARC p=reject)
NL_SERVER = "127.0.0.20"  # nic.nl: SPF -all, no DMARC record
BR_SERVER = "127.0.0.30"  # nic.br: SPF ~all, no DMARC record (nothing to verify with)
ATTACKER = "127.0.0.66"


@pytest.fixture(scope="module")
def keypair(tmp_path_factory):
    """(PEM private key bytes, base64 DER public key) of nic.fr's DKIM key."""
    private, public = rsa_keypair(tmp_path_factory.mktemp("senderauth-key"))
    return private.read_bytes(), public


@pytest.fixture(scope="module")
def nsd(tmp_path_factory, keypair):
    _private, public = keypair
    zones = {
        "nic.fr": zone(
            "nic.fr",
            [
                f'@ IN TXT "v=spf1 ip4:{FR_SERVER} -all"',
                '_dmarc IN TXT "v=DMARC1; p=reject"',
                f"{SELECTOR}._domainkey IN TXT {dkim_record(public)}",
            ],
        ),
        # An explanation modifier after -all: the record still fails everyone it does not list.
        "nic.nl": zone("nic.nl", [f'@ IN TXT "v=spf1 ip4:{NL_SERVER} -all exp=why.nic.nl"']),
        "nic.br": zone("nic.br", [f'@ IN TXT "v=spf1 ip4:{BR_SERVER} ~all"']),
        "evil.example": zone("evil.example", [f'@ IN TXT "v=spf1 ip4:{ATTACKER} -all"']),
    }
    yield from serve(tmp_path_factory.mktemp("senderauth-nsd"), zones)


@pytest.fixture
def verifying(nsd, settings):
    """Our own checks on (the embedded default), the DNS pointed at the test NSD."""
    settings.VERIFY_SENDERS = True
    settings.LIST_TRUSTED_AUTHSERV_ID = ""
    settings.DNS_RESOLVER = nsd.address
    settings.DMARC_MITIGATION = False
    list_dns.clear_cache()
    yield settings
    list_dns.clear_cache()


@pytest.fixture
def members(verifying, catalog, make_member):
    return {
        "ana": make_member(catalog["fr"], "Ana Lopez", "ana@nic.fr"),
        "bert": make_member(catalog["nl"], "Bert de Vries", "bert@nic.nl"),
        "carla": make_member(catalog["br"], "Carla Souza", "carla@nic.br"),
    }


def signed(msg: EmailMessage, private: bytes, domain: str = "nic.fr") -> bytes:
    raw = msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    signature = dkim.sign(
        raw, SELECTOR.encode(), domain.encode(), private, include_headers=[b"from", b"subject"]
    )
    return signature + raw


def deliver(raw: bytes | EmailMessage, *, peer: str, mail_from: str, helo: str = "mx.test"):
    """Store as the intake does (with the connecting address it saw) and process."""
    raw = raw if isinstance(raw, bytes) else raw.as_bytes()
    route = intake.route_for(settings.LIST_ADDRESS)
    pk = intake.store(mail_from, [settings.LIST_ADDRESS], raw, route.name, peer=peer, helo=helo)
    outcome = intake.process_message(pk)
    assert outcome is not None and outcome.status != "failed", outcome
    return Post.objects.get(inbound_id=pk)


def reasons(post: Post) -> dict[str, str]:
    return {r["rule"]: r["reason"] for r in post.reasons}


def distributed(post: Post) -> bool:
    post.refresh_from_db()
    return (
        post.status == Post.Status.ACCEPTED
        or ArchivedMessage.objects.filter(post=post).exists()
        or OutboundMessage.objects.filter(purpose="list-post").exists()
    )


# --- The attack of the issue ---------------------------------------------------------------------


def test_a_post_in_a_members_name_from_an_attackers_server_is_held(members):
    """From: a member, envelope and server the attacker's own: held, never distributed."""
    p = deliver(message(sender="ana@nic.fr"), peer=ATTACKER, mail_from="x@evil.example")
    assert p.status == Post.Status.HELD
    assert "DMARC" in reasons(p)["spoofing"]
    assert not distributed(p)


def test_a_forged_envelope_of_the_members_domain_fails_spf(members):
    p = deliver(message(sender="bert@nic.nl"), peer=ATTACKER, mail_from="bert@nic.nl")
    assert p.status == Post.Status.HELD
    assert "SPF" in reasons(p)["spoofing"]
    assert not distributed(p)


def test_the_members_own_server_passes_spf_and_dmarc(members):
    p = deliver(message(sender="ana@nic.fr"), peer=FR_SERVER, mail_from="ana@nic.fr")
    assert p.status == Post.Status.ACCEPTED, p.reasons
    inbound = InboundMessage.objects.get(pk=p.inbound_id)
    assert inbound.auth_results == (
        f"{settings.AUTHSERV_ID}; spf=pass smtp.mailfrom=nic.fr; dkim=none; "
        "dmarc=pass header.from=nic.fr"
    )


def test_a_valid_signature_of_the_domain_passes_from_any_server(members, keypair):
    """A forwarder's server (SPF fails for nic.fr) but nic.fr's DKIM signature holds."""
    raw = signed(message(sender="ana@nic.fr"), keypair[0])
    p = deliver(raw, peer=ATTACKER, mail_from="ana@nic.fr")
    assert p.status == Post.Status.ACCEPTED, p.reasons
    assert "dkim=pass header.d=nic.fr" in InboundMessage.objects.get(pk=p.inbound_id).auth_results


def test_a_signature_of_another_domain_does_not_vouch(members, keypair, nsd):
    """evil.example signs with a key of its own: the signature holds, but not for nic.fr."""
    raw = signed(message(sender="ana@nic.fr"), keypair[0], domain="nic.nl")  # no key at nic.nl
    p = deliver(raw, peer=ATTACKER, mail_from="x@evil.example")
    assert p.status == Post.Status.HELD


def test_a_tampered_signed_message_is_held(members, keypair):
    raw = signed(message(sender="ana@nic.fr", subject="Original"), keypair[0])
    raw = raw.replace(b"Subject: Original", b"Subject: Changed")
    p = deliver(raw, peer=ATTACKER, mail_from="ana@nic.fr")
    assert p.status == Post.Status.HELD
    assert "dkim=fail" in InboundMessage.objects.get(pk=p.inbound_id).auth_results


def test_no_dmarc_and_no_spf_hard_fail_is_held_until_a_moderator_pins_the_sender(members):
    """nic.br publishes only ``~all``: even its own server cannot prove the author."""
    p = deliver(message(sender="carla@nic.br"), peer=BR_SERVER, mail_from="carla@nic.br")
    assert p.status == Post.Status.HELD
    assert "pin" in reasons(p)["spoofing"]

    SenderOverride.objects.create(address="carla@nic.br", pinned=True)
    p = deliver(message(sender="carla@nic.br"), peer=BR_SERVER, mail_from="carla@nic.br")
    assert p.status == Post.Status.ACCEPTED, p.reasons


def test_pinning_does_not_let_a_proven_forgery_through(members):
    SenderOverride.objects.create(address="bert@nic.nl", pinned=True)
    p = deliver(message(sender="bert@nic.nl"), peer=ATTACKER, mail_from="bert@nic.nl")
    assert p.status == Post.Status.HELD


def test_no_dmarc_but_spf_hard_fail_and_the_domains_server_passes(members):
    p = deliver(message(sender="bert@nic.nl"), peer=NL_SERVER, mail_from="bert@nic.nl")
    assert p.status == Post.Status.ACCEPTED, p.reasons


def test_two_from_addresses_are_held(members):
    msg = message(sender="ana@nic.fr")
    del msg["From"]
    msg["From"] = "Ana <ana@nic.fr>, Eve <eve@evil.example>"
    p = deliver(msg, peer=FR_SERVER, mail_from="ana@nic.fr")
    assert p.status == Post.Status.HELD


def test_a_dns_failure_holds_rather_than_trusts(members, settings, monkeypatch):
    monkeypatch.setattr(list_dns, "LIFETIME", 0.5)  # the time allowed per look-up, not a result
    settings.DNS_RESOLVER = "127.0.0.1:9"  # nothing answers there
    list_dns.clear_cache()
    p = deliver(message(sender="ana@nic.fr"), peer=FR_SERVER, mail_from="ana@nic.fr")
    assert p.status == Post.Status.HELD
    assert "DNS" in reasons(p)["spoofing"]


def test_a_header_claiming_our_authserv_id_is_neither_believed_nor_passed_on(members):
    """Our own result is kept on the stored message; received Authentication-Results are not read
    in this mode, and the list's copies carry none."""
    forged = message(sender="ana@nic.fr")
    forged["Authentication-Results"] = f"{settings.AUTHSERV_ID}; dmarc=pass header.from=nic.fr"
    p = deliver(forged, peer=ATTACKER, mail_from="x@evil.example")
    assert p.status == Post.Status.HELD
    assert "dmarc=fail" in InboundMessage.objects.get(pk=p.inbound_id).auth_results

    genuine = message(sender="ana@nic.fr")
    genuine["Authentication-Results"] = f"{settings.AUTHSERV_ID}; dmarc=fail header.from=nic.fr"
    p = deliver(genuine, peer=FR_SERVER, mail_from="ana@nic.fr")
    assert p.status == Post.Status.ACCEPTED, p.reasons
    copy = bytes(OutboundMessage.objects.get(purpose="list-post").raw)
    assert b"Authentication-Results" not in copy
    assert b"Authentication-Results" not in bytes(ArchivedMessage.objects.get(post=p).raw)


# --- Found by review: identities, replays, pins, limits ---------------------------------------


def test_a_bare_domain_as_envelope_sender_proves_nothing(members):
    """``MAIL FROM:<evil.example>``: pyspf checks evil.example (pass, the attacker's own server);
    that pass must not be filed under the HELO name nic.fr the attacker also chose."""
    p = deliver(
        message(sender="ana@nic.fr"), peer=ATTACKER, mail_from="evil.example", helo="nic.fr"
    )
    assert p.status == Post.Status.HELD
    assert "spf=permerror" in InboundMessage.objects.get(pk=p.inbound_id).auth_results


def test_the_null_sender_is_checked_by_its_helo_name(members):
    p = deliver(message(sender="ana@nic.fr"), peer=ATTACKER, mail_from="<>", helo="nic.fr")
    assert p.status == Post.Status.HELD
    p = deliver(message(sender="ana@nic.fr"), peer=FR_SERVER, mail_from="<>", helo="nic.fr")
    assert p.status == Post.Status.ACCEPTED, p.reasons


def test_a_signed_message_replayed_with_headers_put_above_it_is_held(members, keypair):
    """dkimpy verifies the bottom copy of a signed header; readers see the top one."""
    raw = signed(message(sender="ana@nic.fr", subject="Thanks"), keypair[0])
    replay = b"Subject: URGENT: rotate your KSK today, see http://evil.example\r\n" + raw
    p = deliver(replay, peer=ATTACKER, mail_from="x@evil.example")
    assert p.status == Post.Status.HELD
    assert "more than one Subject" in reasons(p)["spoofing"]


def test_a_pin_does_not_trust_mail_from_servers_the_domain_does_not_list(members):
    """carla@nic.br is pinned (nic.br publishes ``~all``): her own server passes; a forger with
    an envelope of their own (SPF passes for evil.example) or of nic.br (softfail) does not."""
    SenderOverride.objects.create(address="carla@nic.br", pinned=True)
    forged = deliver(message(sender="carla@nic.br"), peer=ATTACKER, mail_from="x@evil.example")
    assert forged.status == Post.Status.HELD
    assert "pinned sender is held too" in reasons(forged)["spoofing"]
    softfail = deliver(message(sender="carla@nic.br"), peer=ATTACKER, mail_from="carla@nic.br")
    assert softfail.status == Post.Status.HELD
    own = deliver(message(sender="carla@nic.br"), peer=BR_SERVER, mail_from="carla@nic.br")
    assert own.status == Post.Status.ACCEPTED, own.reasons


def test_forged_posts_do_not_use_up_a_members_held_post_limit(members, settings):
    settings.LIST_MAX_HELD_PER_SENDER = 2
    for _ in range(3):
        deliver(message(sender="ana@nic.fr"), peer=ATTACKER, mail_from="x@evil.example")
    settings.LIST_MAX_SIZE = 100  # Ana's own post is held, for its size: but held, not refused
    p = deliver(message(sender="ana@nic.fr"), peer=FR_SERVER, mail_from="ana@nic.fr")
    assert p.status == Post.Status.HELD
    assert set(reasons(p)) == {"max_size"}


# --- Through the real SMTP intake: the connecting address is the one the server sees --------------


def smtp_send(servers, msg: EmailMessage, *, source: str, envelope: str, to: str) -> InboundMessage:
    with smtplib.SMTP("127.0.0.1", servers.ports[0], source_address=(source, 0)) as smtp:
        smtp.ehlo("mail.test")
        smtp.sendmail(envelope, [to], msg.as_bytes())
    handler = servers.handler
    servers.run(handler.drain())
    return InboundMessage.objects.latest("id")


@pytest.fixture
def servers(intake_server):
    servers, handler = intake_server
    servers.handler = handler
    return servers


@pytest.mark.django_db(transaction=True)
def test_through_smtp_the_connecting_address_decides(members, servers):
    forged = smtp_send(
        servers, message(sender="ana@nic.fr"), source=ATTACKER, envelope="ana@nic.fr",
        to=settings.LIST_ADDRESS,
    )  # fmt: skip
    assert forged.peer == ATTACKER and forged.helo == "mail.test"
    assert Post.objects.get(inbound=forged).status == Post.Status.HELD

    genuine = smtp_send(
        servers, message(sender="ana@nic.fr"), source=FR_SERVER, envelope="ana@nic.fr",
        to=settings.LIST_ADDRESS,
    )  # fmt: skip
    assert Post.objects.get(inbound=genuine).status == Post.Status.ACCEPTED


# --- The authorisation and reachability doors ----------------------------------------------------


def authorisation_reply(invitation, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = settings.AUTHORISE_ADDRESS
    msg["Subject"] = f"Re: please name the contacts [ref:{links.invitation_ref(invitation)}]"
    msg["Message-ID"] = "<auth-1@nic.fr>"
    msg.set_content("Contact: Eve Mallory <eve@evil.example>; +33 1 23 45 67 89 (office)\n")
    return msg


def deliver_to(address: str, msg: EmailMessage, *, peer: str, mail_from: str):
    route = intake.route_for(address)
    pk = intake.store(mail_from, [address], msg.as_bytes(), route.name, peer=peer, helo="mx.test")
    return intake.process_message(pk)


def test_a_spoofed_admin_address_cannot_authorise(verifying, catalog, outbox):
    invitation = actions.invite_cctld(catalog["fr"], actor=Actor.system())
    outcome = deliver_to(
        settings.AUTHORISE_ADDRESS,
        authorisation_reply(invitation, "admin@nic.fr"),
        peer=ATTACKER,
        mail_from="x@evil.example",
    )
    assert outcome.status == InboundMessage.Status.REJECTED
    assert "not verified" in outcome.result
    assert not Person.objects.filter(email="eve@evil.example").exists()
    assert not Membership.objects.exists()
    ((to, reply),) = outbox("authorise-reply")
    assert to == "x@evil.example" or to == "admin@nic.fr"
    assert "Nothing was changed" in reply.get_body().get_content()


def test_the_real_admin_address_still_authorises(verifying, catalog):
    invitation = actions.invite_cctld(catalog["fr"], actor=Actor.system())
    outcome = deliver_to(
        settings.AUTHORISE_ADDRESS,
        authorisation_reply(invitation, "admin@nic.fr"),
        peer=FR_SERVER,
        mail_from="admin@nic.fr",
    )
    assert outcome.status == InboundMessage.Status.DONE, outcome.result
    assert Membership.objects.filter(person__email="eve@evil.example").exists()


def test_a_spoofed_reachability_answer_is_not_counted(members, outbox):
    _period, starts = next_round()
    reachability.run_due(starts)
    check_mail = next(m for to, m in outbox("reachability") if to == "ana@nic.fr")
    msg = EmailMessage()
    msg["From"] = "ana@nic.fr"
    msg["To"] = settings.REACHABILITY_ADDRESS
    msg["Subject"] = f"Re: {check_mail['Subject']} [ref:{subject_ref(check_mail)}]"
    msg["Message-ID"] = "<reach-1@evil.example>"
    msg.set_content("Yes, still here.")

    outcome = deliver_to(
        settings.REACHABILITY_ADDRESS, msg, peer=ATTACKER, mail_from="x@evil.example"
    )
    assert outcome.status == InboundMessage.Status.REJECTED
    assert Challenge.objects.get(person__email="ana@nic.fr").answered_at is None

    outcome = deliver_to(settings.REACHABILITY_ADDRESS, msg, peer=FR_SERVER, mail_from="ana@nic.fr")
    assert outcome.status == InboundMessage.Status.DONE, outcome.result
    assert Challenge.objects.get(person__email="ana@nic.fr").answered_at is not None


def test_a_forged_moderators_reply_decides_nothing(members, staff, outbox):
    """The notice's reference is secret, but a leaked one with a forged From must not approve."""
    from tldops.lists import moderation

    staff(email="sec@nic.fr")
    held = deliver(message(sender="eve@evil.example"), peer=ATTACKER, mail_from="eve@evil.example")
    assert held.status == Post.Status.HELD
    local, _at, domain = settings.LIST_ADDRESS.rpartition("@")
    request = f"{local}-request@{domain}"
    reply = message(
        sender="sec@nic.fr",
        to=request,
        subject=f"Re: moderation {moderation.reference(held)}",
        body="approve\n",
    )
    outcome = deliver_to(request, reply, peer=ATTACKER, mail_from="sec@nic.fr")
    assert outcome.status == InboundMessage.Status.REJECTED
    assert "not applied" in outcome.result
    held.refresh_from_db()
    assert held.status == Post.Status.HELD

    outcome = deliver_to(request, reply, peer=FR_SERVER, mail_from="sec@nic.fr")
    held.refresh_from_db()
    assert held.status == Post.Status.ACCEPTED, outcome.result
