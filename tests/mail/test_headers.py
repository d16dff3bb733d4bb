"""Reading received headers and copying their values into ours (:mod:`tldops.mail.headers`)."""

from __future__ import annotations

import email
import email.policy

import pytest

from tldops.mail import headers

QUOTED = '"x,a@one.example,b@two.example"@evil.example'


def parsed(from_: bytes, to: bytes = b"list@example.org") -> email.message.EmailMessage:
    raw = b"From: " + from_ + b"\r\nTo: " + to + b"\r\nSubject: s\r\n\r\nbody\r\n"
    return email.message_from_bytes(raw, policy=email.policy.default)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (QUOTED, QUOTED),
        ("<Ana@NIC.fr>", "ana@nic.fr"),
        ('"ana"@nic.fr', "ana@nic.fr"),  # quoted only where needed: one key per mailbox
        ("a@one.example, b@two.example", ""),
        ("x,a@one.example", ""),
        ("no-domain", ""),
        ("a@b.example\r\nRCPT TO:<c@d.example>", ""),
        ("", ""),
    ],
)
def test_one_address(value, expected):
    assert headers.one_address(value) == expected


@pytest.mark.parametrize(
    ("from_", "expected"),
    [
        (b"Ana Lopez <ana@nic.fr>", ("Ana Lopez", "ana@nic.fr")),
        (QUOTED.encode(), ("", QUOTED)),
        (b"=?utf-8?q?Ana=0D=0ABcc:_x@evil.example?= <ana@nic.fr>", ("Ana Bcc: x@evil.example", "ana@nic.fr")),
        (b"a@one.example, b@two.example", ("", "")),  # no single author, no single answer
        (b"x,a@one.example", ("", "")),
        (b"nobody", ("", "")),
    ],
)  # fmt: skip
def test_author(from_, expected):
    assert headers.author(parsed(from_)) == expected


def test_addresses_read_quoted_commas_and_odd_names():
    msg = parsed(b"ana@nic.fr", to=QUOTED.encode() + b", =?utf-8?q?Z=0A?= <z@q.example>")
    assert headers.addresses(msg, "To", "Cc") == [QUOTED, "z@q.example"]


def test_one_line_and_message_ids():
    assert headers.one_line("hi\r\nBcc: x\x00\u2028y   z") == "hi Bcc: x y z"
    assert headers.one_line("x" * 300, 10) == "x" * 10
    assert headers.message_ids("<a@b>\r\nBcc: x@y <c@d>") == ["<a@b>", "<c@d>"]
