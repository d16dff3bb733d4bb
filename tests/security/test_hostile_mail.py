"""Generated hostile mail through every mail door: nothing crashes, nothing from a non-member (or
from a member's forged address) reaches the members, and no answer goes to more than one address.

Hypothesis builds the raw bytes from header tricks (folded, encoded-word CR/LF, quoted local parts
full of commas, several From headers, NUL and 8-bit bytes, huge values), body encodings (base64 and
quoted-printable garbage, unknown charsets), MIME nesting (up to 30 levels, missing boundaries) and
sizes. Each message is stored and processed exactly as the intake does after DATA, with sender
verification on against a real NSD, from an address no member's domain authorises.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.lists.posting import fast_passwords  # noqa: F401 - fixture
from tests.mail import test_senderauth as auth
from tldops.lists.models import ArchivedMessage, Post
from tldops.mail import dns as list_dns
from tldops.mail import intake
from tldops.mail.models import Delivery, InboundMessage, OutboundMessage

keypair = auth.keypair
nsd = auth.nsd

MEMBER = "ana@nic.fr"


@pytest.fixture
def world(nsd, settings, catalog, make_member):
    settings.VERIFY_SENDERS = True
    settings.LIST_TRUSTED_AUTHSERV_ID = ""
    settings.DNS_RESOLVER = nsd.address
    list_dns.clear_cache()
    make_member(catalog["fr"], "Ana Lopez", MEMBER)
    make_member(catalog["nl"], "Bert de Vries", "bert@nic.nl")
    yield
    list_dns.clear_cache()


def doors() -> dict[str, str]:
    local, _at, domain = settings.LIST_ADDRESS.rpartition("@")
    return {
        "post": settings.LIST_ADDRESS,
        "request": f"{local}-request@{domain}",
        "owner": f"{local}-owner@{domain}",
        "bounces": f"{local}-bounces+1-0123456789@{domain}",
        "authorise": settings.AUTHORISE_ADDRESS,
        "reachability": settings.REACHABILITY_ADDRESS,
    }


# --- Strategies -------------------------------------------------------------------------------------

_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
_crlf_word = st.sampled_from(
    [
        "=?utf-8?q?hi=0D=0ABcc:_victim@evil.example?=",
        "=?utf-8?b?aGkNCkJjYzogdmljdGltQGV2aWwuZXhhbXBsZQ==?=",
        "=?x-unknown?q?=FF=FE?=",
        "=?utf-8?q?",
        "\x00\x01",
    ]
)
_from = st.one_of(
    st.just(MEMBER),
    st.just(f"Ana <{MEMBER}>"),
    st.just(f'"x,v1@victim.example,v2@victim.example"@evil.example, {MEMBER}'),
    st.just(f'"{MEMBER}" <eve@evil.example>'),
    st.just(f"{MEMBER} <eve@evil.example>"),
    st.just(f"=?utf-8?q?Ana?= <{MEMBER}>, <bert@nic.nl>"),
    st.just("<>"),
    st.just(""),
    st.builds(lambda n: "a" * n + "@nic.fr", st.integers(1, 2000)),
    _crlf_word.map(lambda w: f"{w} <{MEMBER}>"),
)
_header_value = st.one_of(_text, _crlf_word, st.builds(lambda n: "x" * n, st.integers(0, 5000)))
_header_name = st.sampled_from(
    [
        "Subject",
        "To",
        "Cc",
        "Reply-To",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Content-Type",
        "Content-Transfer-Encoding",
        "Authentication-Results",
        "DKIM-Signature",
        "List-Id",
        "Auto-Submitted",
        "X-Loop",
        "Precedence",
    ]
)


def _leaf(payload: bytes, ctype: str, cte: str) -> bytes:
    return (
        f"Content-Type: {ctype}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n".encode()
        + payload
        + b"\r\n"
    )


_leaves = st.builds(
    _leaf,
    st.binary(max_size=400) | st.builds(lambda n: b"A" * n, st.integers(0, 200_000)),
    st.sampled_from(
        [
            "text/plain; charset=utf-8",
            "text/plain; charset=x-bogus",
            "text/html",
            "application/octet-stream",
            "message/rfc822",
            "multipart/mixed",  # no boundary
            "text/plain; charset*=utf-8''%FF",
        ]
    ),
    st.sampled_from(["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "bogus"]),
)


def _nest(inner: bytes, depth: int) -> bytes:
    for level in range(depth):
        boundary = f"b{level}"
        inner = (
            f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n--{boundary}\r\n'.encode()
            + inner
            + f"\r\n--{boundary}--\r\n".encode()
        )
    return inner


_bodies = st.builds(_nest, _leaves, st.integers(0, 30))


@st.composite
def hostile(draw) -> bytes:
    headers = [("From", draw(_from))]
    for name, value in draw(st.lists(st.tuples(_header_name, _header_value), max_size=8)):
        headers.append((name, value))
    if draw(st.booleans()):
        headers.append(("From", draw(_from)))
    head = b"".join(
        f"{name}: {value}".encode("utf-8", "surrogateescape").replace(b"\n", b"\r\n ") + b"\r\n"
        for name, value in headers
    )
    return head + draw(_bodies)


# --- The property -----------------------------------------------------------------------------------


@pytest.mark.parametrize("door", list(doors()))
@hsettings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=hostile(), envelope=st.sampled_from([MEMBER, "eve@evil.example", ""]))
def test_hostile_mail_never_crashes_a_door_nor_reaches_the_members(world, door, raw, envelope):
    address = doors()[door]
    route = intake.route_for(address)
    pk = intake.store(envelope, [address], raw, route.name, peer=auth.ATTACKER, helo="evil")
    outcome = intake.process_message(pk)
    assert outcome is not None
    assert outcome.status != InboundMessage.Status.FAILED, outcome.result
    # Nothing reached the members: no accepted post, no archive, no list copy queued.
    assert not Post.objects.filter(status=Post.Status.ACCEPTED).exists()
    assert not ArchivedMessage.objects.exists()
    assert not Delivery.objects.filter(message__purpose="list-post").exists()
    # An answer goes to one address, never to a list of them taken from the headers.
    for message in OutboundMessage.objects.filter(purpose__endswith="reply"):
        recipients = list(message.deliveries.values_list("recipient", flat=True))
        assert len(recipients) <= 1, recipients
        assert all(r.count("@") == 1 for r in recipients), recipients
