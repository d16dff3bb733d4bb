"""DKIM signing of the list's copies, verified by dkimpy with the public key served by a real NSD."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import dkim
import pytest

from tests.lists.keys import rsa_keypair, txt_strings
from tests.lists.nsd import serve, zone
from tests.lists.posting import message as posting_message
from tests.lists.posting import post
from tldops.lists.handlers import HandlerContext
from tldops.lists.handlers import dkim as dkim_handler
from tldops.lists.models import Post
from tldops.mail import dns as list_dns
from tldops.mail.models import InboundMessage

SELECTOR = "list2026"


@pytest.fixture(scope="module")
def keypair(tmp_path_factory):
    """An RSA key made by openssl: (path of the PEM private key, base64 DER public key)."""
    return rsa_keypair(tmp_path_factory.mktemp("dkim"))


@pytest.fixture(scope="module")
def nsd(tmp_path_factory, keypair):
    _private, public = keypair
    record = txt_strings(f"v=DKIM1; k=rsa; p={public}")
    zones = {
        "tldops.localhost": zone("tldops.localhost", [f"{SELECTOR}._domainkey IN TXT {record}"]),
        "reject.example": zone("reject.example", ['_dmarc IN TXT "v=DMARC1; p=reject"']),
    }
    yield from serve(tmp_path_factory.mktemp("dkim-nsd"), zones)


@pytest.fixture
def signing(nsd, keypair, settings):
    settings.DNS_RESOLVER = nsd.address
    settings.DKIM_SELECTOR = SELECTOR
    settings.DKIM_KEY_FILE = str(keypair[0])
    list_dns.clear_cache()
    yield settings
    list_dns.clear_cache()


def dns_txt(name: bytes, timeout: int = 5) -> bytes | None:
    """dkimpy's DNS hook, answered through the list's resolver (settings.DNS_RESOLVER → NSD)."""
    records = list_dns.txt(name.decode("ascii"))
    return records[0].encode("ascii") if records else None


def wire(raw: bytes) -> bytes:
    """The bytes as the outbox puts them on the wire (CRLF line ends)."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def verifies(raw: bytes) -> bool:
    return dkim.verify(wire(raw), dnsfunc=dns_txt)


def sign(db, msg: EmailMessage) -> bytes:
    inbound = InboundMessage.objects.create(mail_from="a@x", rcpt_to=["tld-ops@x"], raw=b"x")
    p = Post.objects.create(
        inbound=inbound, message_id="<d@x>", sender="a@x", status=Post.Status.ACCEPTED
    )
    dkim_handler.process(msg, HandlerContext.build(p, msg))
    return msg.as_bytes()


def list_copy() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Zoë Þórsdóttir via TLD-OPS <tld-ops@tldops.localhost>"
    msg["To"] = "tld-ops@tldops.localhost"
    msg["Subject"] = "[TLD-OPS] Résolveurs ouverts : une liste à partager " * 2
    msg["Message-ID"] = "<d@x>"
    msg["List-Id"] = "TLD-OPS <tld-ops.tldops.localhost>"
    msg.set_content("Bonjour,\n\nvoici la liste.   \n-- \nTLD-OPS\n")
    return msg


def test_the_copy_is_signed_and_verifies_with_the_published_key(signing, db):
    raw = sign(db, list_copy())
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    signature = str(parsed["DKIM-Signature"])
    assert raw.startswith(b"DKIM-Signature:")
    assert f"s={SELECTOR};" in signature.replace(" ", "")
    assert "d=tldops.localhost;" in signature.replace(" ", "")
    assert verifies(raw)


def test_a_changed_copy_no_longer_verifies(signing, db):
    raw = sign(db, list_copy())
    assert not verifies(raw.replace(b"voici la liste", b"voici LA liste"))
    assert not verifies(raw.replace(b"To: tld-ops@", b"To: evil@"))


def test_dkim_domain_setting_names_the_signing_domain(signing, db):
    signing.DKIM_DOMAIN = "lists.tldops.localhost"  # no key published there
    raw = sign(db, list_copy())
    assert b"d=lists.tldops.localhost" in raw
    assert not verifies(raw)


def test_nothing_is_signed_without_selector_and_key(signing, db):
    signing.DKIM_SELECTOR = ""
    assert b"DKIM-Signature" not in sign(db, list_copy())


def test_an_unreadable_key_sends_the_copy_unsigned(signing, db, tmp_path, caplog):
    signing.DKIM_KEY_FILE = str(tmp_path / "missing.pem")
    raw = sign(db, list_copy())
    assert b"DKIM-Signature" not in raw
    assert "DKIM signing" in caplog.text


def test_posts_leave_the_pipeline_signed_with_from_aligned(
    signing, catalog, make_member, settings, outbox
):
    """A member at a p=reject domain: From becomes the list's, the list signs; receivers see DKIM
    aligned with From, so DMARC passes for every copy."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast set-up
    make_member(catalog["fr"], "Ana Silva", "ana@reject.example")
    make_member(catalog["nl"], "Bert de Vries", "bert@nic.nl")

    p = post(posting_message(sender="ana@reject.example", name="Ana Silva"))
    assert p.status == Post.Status.ACCEPTED
    raw = bytes(p.outbound.raw)
    assert verifies(raw)
    copies = outbox("list-post")
    assert len(copies) == 2
    for _recipient, copy in copies:
        assert copy["From"].addresses[0].domain == "tldops.localhost"
