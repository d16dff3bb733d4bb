"""Indicators: each kind validated and normalised to one spelling; lists read line by line,
bad lines reported and the rest kept, the limits enforced before the rest is read."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tldops.alerts.indicators import (
    ERRORS_KEPT,
    LINE_MAX_BYTES,
    MISP_TYPES,
    STIX_PATHS,
    Indicator,
    Kind,
    parse_lines,
    parse_one,
)
from tldops.kernel.errors import InvalidInput

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        # domains: UTS 46 (IDN → A-label, case, full-width dot), one trailing dot removed
        ("example.com", Kind.DOMAIN, "example.com"),
        ("  WWW.Example.COM.  ", Kind.DOMAIN, "www.example.com"),
        ("Bücher.example", Kind.DOMAIN, "xn--bcher-kva.example"),
        ("XN--BCHER-KVA.example", Kind.DOMAIN, "xn--bcher-kva.example"),
        ("пример.рф", Kind.DOMAIN, "xn--e1afmkfd.xn--p1ai"),
        ("例え。テスト", Kind.DOMAIN, "xn--r8jz45g.xn--zckzah"),
        ("straße.de", Kind.DOMAIN, "xn--strae-oqa.de"),
        ("bbc.co.uk", Kind.DOMAIN, "bbc.co.uk"),
        ("ab--cd.example", Kind.DOMAIN, "ab--cd.example"),
        ("a" * 63 + ".example", Kind.DOMAIN, "a" * 63 + ".example"),
        # addresses
        ("192.0.2.1", Kind.IPV4, "192.0.2.1"),
        ("2001:DB8:0:0:0:0:0:1", Kind.IPV6, "2001:db8::1"),
        ("2001:0db8:0000:0000:0001:0000:0000:0001", Kind.IPV6, "2001:db8::1:0:0:1"),
        ("::FFFF:192.0.2.1", Kind.IPV6, "::ffff:192.0.2.1"),
        ("::1", Kind.IPV6, "::1"),
        # prefixes
        ("10.0.0.0/8", Kind.IPV4_PREFIX, "10.0.0.0/8"),
        ("192.0.2.7/32", Kind.IPV4_PREFIX, "192.0.2.7/32"),
        ("2001:DB8:0::/32", Kind.IPV6_PREFIX, "2001:db8::/32"),
        ("2001:db8::1/128", Kind.IPV6_PREFIX, "2001:db8::1/128"),
        # URLs: scheme and host normalised, the rest kept as given
        ("HTTP://Example.COM/Path?Q=A#Frag", Kind.URL, "http://example.com/Path?Q=A#Frag"),
        ("https://Bücher.example/ä", Kind.URL, "https://xn--bcher-kva.example/ä"),
        ("https://example.com.:08443/x", Kind.URL, "https://example.com:8443/x"),
        ("http://[2001:DB8::0:1]:8080/", Kind.URL, "http://[2001:db8::1]:8080/"),
        ("http://192.0.2.1/a", Kind.URL, "http://192.0.2.1/a"),
        ("ftp://files.example/x.exe", Kind.URL, "ftp://files.example/x.exe"),
        (
            "http://www.paypal.com@Evil.Example/login",
            Kind.URL,
            "http://www.paypal.com@evil.example/login",
        ),
        ("https://example.com", Kind.URL, "https://example.com"),
        # AS numbers
        ("AS64500", Kind.ASN, "AS64500"),
        ("as64500", Kind.ASN, "AS64500"),
        ("ASN 64500", Kind.ASN, "AS64500"),
        ("AS1.10", Kind.ASN, "AS65546"),
        ("AS4294967295", Kind.ASN, "AS4294967295"),
        # hashes, lower case
        (MD5.upper(), Kind.MD5, MD5),
        (SHA1, Kind.SHA1, SHA1),
        (SHA256.upper(), Kind.SHA256, SHA256),
        # email addresses: local part kept, domain normalised
        ("John.Doe@Example.COM", Kind.EMAIL, "John.Doe@example.com"),
        ("abuse@пример.рф", Kind.EMAIL, "abuse@xn--e1afmkfd.xn--p1ai"),
        ("x+tag@mail.example.", Kind.EMAIL, "x+tag@mail.example"),
    ],
)
def test_detected_and_normalised(text, kind, value):
    assert parse_one(text) == Indicator(kind, value)
    # the kind given instead of detected gives the same; the value is stable (idempotent)
    assert parse_one(text, kind) == Indicator(kind, value)
    assert parse_one(text, kind.value) == Indicator(kind, value)  # as stored, e.g. from a form
    assert parse_one(value) == Indicator(kind, value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("hxxp://evil[.]example/login", "http://evil.example/login"),
        ("hXXps[:]//evil[.]example[/]x", "https://evil.example/x"),
        ("hxxps[://]evil(.)example", "https://evil.example"),
        ("fxp://files{.}example/a", "ftp://files.example/a"),
        ("evil[.]example", "evil.example"),
        ("evil[dot]example", "evil.example"),
        ("192.0.2[.]1", "192.0.2.1"),
        ("2001:db8[:]:1", "2001:db8::1"),
        ("phish[@]evil[.]example", "phish@evil.example"),
        ("phish(@)evil.example", "phish@evil.example"),
        ("phish[at]evil.example", "phish@evil.example"),
    ],
)
def test_defanged_forms_are_refanged(text, value):
    assert parse_one(text).value == value


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("64500", Kind.ASN),
        ("AS 64500", Kind.ASN),
        ("1.10", Kind.ASN),
    ],
)
def test_a_bare_number_is_an_as_number_only_when_said(text, kind):
    assert parse_one(text, kind).value in {"AS64500", "AS65546"}


@pytest.mark.parametrize(
    ("text", "kind", "expected", "why"),
    [
        # domains
        ("a..example", None, "Domain name expected", "empty label"),
        ("-a.example", None, "Domain name expected", "hyphen"),
        ("a-.example", None, "Domain name expected", "hyphen"),
        ("a_b.example", None, "Domain name expected", "letters, digits and hyphens"),
        ("a*.example", None, "Domain name expected", "letters, digits and hyphens"),
        ("A!B.example", None, "Domain name expected", "letters, digits and hyphens"),
        ("ä!b.example", None, "Domain name expected", "internationalised"),
        ("a" * 64 + ".example", None, "Domain name expected", "63"),
        (".".join(["a" * 60] * 5), None, "Domain name expected", "253"),
        ("é" * 60 + ".example", None, "Domain name expected", "63"),
        ("localhost", None, "Domain name expected", "single label"),
        ("example.", None, "Domain name expected", "single label"),
        ("xn--zz.example", None, "Domain name expected", "A-label"),
        ("💩.la", None, "Domain name expected", "internationalised"),
        ("example.123", None, "Domain name expected", "numeric"),
        ("192.0.2.1", Kind.DOMAIN, "Domain name expected", "numeric"),
        # addresses
        ("1.2.3.999", None, "IPv4 address expected", "0 to 255"),
        ("010.0.0.1", None, "IPv4 address expected", "leading zeros"),
        ("1.2.3", None, "IPv4 address expected", "four numbers"),
        ("example.com", Kind.IPV4, "IPv4 address expected", "four numbers"),
        ("2001:db8::1::2", None, "IPv6 address expected", "not an IPv6 address"),
        ("fe80::1%eth0", None, "IPv6 address expected", "zone index"),
        ("192.0.2.1", Kind.IPV6, "IPv6 address expected", "not an IPv6 address"),
        # prefixes: host bits refused, naming the network; too broad refused
        ("192.0.2.1/24", None, "IPv4 prefix expected", "192.0.2.0/24"),
        ("2001:db8::1/32", None, "IPv6 prefix expected", "2001:db8::/32"),
        ("10.0.0.0/33", None, "IPv4 prefix expected", "0 to 32"),
        ("10.0.0.0/255.0.0.0", None, "IPv4 prefix expected", "prefix length"),
        ("0.0.0.0/0", None, "IPv4 prefix expected", "broader than /8"),
        ("::/0", None, "IPv6 prefix expected", "broader than /16"),
        ("192.0.2.0/24", Kind.IPV6_PREFIX, "IPv6 prefix expected", "not an address"),
        # URLs
        ("gopher://example.com/", None, "URL expected", "http://, https:// or ftp://"),
        ("javascript://example.com/%0aalert(1)", None, "URL expected", "http://"),
        ("example.com/login", Kind.URL, "URL expected", "http://"),
        ("http://exa mple.com/", None, "URL expected", "space"),
        ("http://a..b/", None, "URL expected", "empty label"),
        ("http:///path", None, "URL expected", "no host"),
        ("http://example.com:99999/", None, "URL expected", "port"),
        ("http://[2001:db8::1/", None, "URL expected", "closing"),
        ("http://[2001:db8::zz]/", None, "URL expected", "IPv6 host"),
        ("http://example.com/" + "a" * 2048, None, "URL expected", "2048"),
        # AS numbers
        ("AS0", None, "AS number expected", "between 1 and 4294967295"),
        ("AS4294967296", None, "AS number expected", "between 1 and 4294967295"),
        ("AS1.65536", None, "AS number expected", "65535"),
        ("64500", None, "bare number", "AS64500"),
        ("ASX", Kind.ASN, "AS number expected", "AS64500"),
        # hashes
        ("deadbeef" * 3, None, "not a hash", "this has 24"),
        (MD5[:-1] + "g", Kind.MD5, "MD5 hash expected", "32 hexadecimal digits"),
        (SHA1, Kind.SHA256, "SHA-256 hash expected", "64 hexadecimal digits"),
        # email addresses
        ("a@b@example.com", None, "Email address expected", "exactly one"),
        ("@example.com", None, "Email address expected", "nothing before"),
        (".a@example.com", None, "Email address expected", "dot"),
        ("a..b@example.com", None, "Email address expected", "dot"),
        ("a@localhost", None, "Email address expected", "single label"),
        ("a@exa_mple.com", None, "Email address expected", "letters, digits and hyphens"),
        ("a" * 65 + "@example.com", None, "Email address expected", "64 octets"),
        (
            "a" * 20 + "@" + ".".join(["b" * 60] * 3 + ["c" * 49]) + ".example",
            None,
            "Email address expected",
            "254",
        ),
        ("example.com", Kind.EMAIL, "Email address expected", "exactly one"),
        # none of them
        ("example.com:8080", None, "not an indicator", "URL"),
        ("two words", None, "not an indicator", "domain name"),
        ("", None, "cannot be empty", ""),
        ("   ", Kind.DOMAIN, "cannot be empty", ""),
    ],
)
def test_invalid_indicators_are_refused_naming_the_kind_and_the_text(text, kind, expected, why):
    with pytest.raises(InvalidInput) as refused:
        parse_one(text, kind)
    message = refused.value.message
    assert expected in message and why in message, message
    assert refused.value.field == "indicators"
    if text.strip():
        assert text.strip()[:20] in message  # the offending text, at least its start


def test_a_refused_text_is_shown_short_and_with_its_control_characters_escaped():
    with pytest.raises(InvalidInput) as refused:
        parse_one("evil\u202e.example")
    assert "\u202e" not in refused.value.message and "\\u202e" in refused.value.message
    with pytest.raises(InvalidInput) as refused:
        parse_one("a\x00b.example", Kind.DOMAIN)
    assert "\x00" not in refused.value.message and "\\u0000" in refused.value.message
    long = "x" * 3000 + ".example"
    with pytest.raises(InvalidInput) as refused:
        parse_one(long)
    assert len(refused.value.message) < 300
    with pytest.raises(InvalidInput) as refused:
        parse_one("a" * 5000)
    assert "too long" in refused.value.message and len(refused.value.message) < 300


def test_every_kind_maps_to_misp_and_stix():
    assert set(MISP_TYPES) == set(Kind) == set(STIX_PATHS)
    assert STIX_PATHS[Kind.MD5] == "file:hashes.MD5"
    assert STIX_PATHS[Kind.SHA1] == "file:hashes.'SHA-1'"
    assert STIX_PATHS[Kind.SHA256] == "file:hashes.'SHA-256'"
    asn = parse_one("AS64500")
    assert (asn.misp_type, asn.misp_value) == ("AS", "64500")
    assert asn.stix_pattern == "[autonomous-system:number = 64500]"
    prefix = parse_one("10.0.0.0/8")
    assert (prefix.misp_type, prefix.misp_value) == ("ip-dst", "10.0.0.0/8")
    assert prefix.stix_pattern == "[ipv4-addr:value ISSUBSET '10.0.0.0/8']"
    assert parse_one(SHA256).stix_pattern == f"[file:hashes.'SHA-256' = '{SHA256}']"
    assert parse_one("a@example.com").misp_type == "email-src"
    url = parse_one("http://evil.example/it's\\here")
    assert url.stix_pattern == "[url:value = 'http://evil.example/it\\'s\\\\here']"


def test_stix_patterns_are_valid_stix():
    stix2 = pytest.importorskip("stix2")
    for text in [
        "evil.example",
        "192.0.2.1",
        "2001:db8::/32",
        "AS64500",
        MD5,
        SHA1,
        SHA256,
        "a@evil.example",
        "http://evil.example/it's",
        "10.0.0.0/8",
        "2001:db8::1",
    ]:
        stix2.Indicator(pattern=parse_one(text).stix_pattern, pattern_type="stix")


# -- lists -------------------------------------------------------------------------------------

LIMITS = {"max_bytes": 10_000_000, "max_items": 100_000}


def test_a_list_keeps_the_valid_lines_and_reports_the_others_by_number():
    data = (
        "\ufeff# phishing feed, 2026-12-05\r\n"  # 1 (BOM, comment)
        "evil.example\r\n"  # 2
        "\r\n"  # 3
        "a..b.example\n"  # 4: error
        "hxxp://evil[.]example/login\n"  # 5
        "192.0.2.1\n"  # 6
        "64500\n"  # 7: error (bare number)
        "asn,64500\n"  # 8
        "EVIL.EXAMPLE.\n"  # 9: duplicate of 2
        "Bücher.example\n"  # 10
        "xn--bcher-kva.example\n"  # 11: duplicate of 10
        f"{MD5.upper()}\n"  # 12
        "   # indented comment\n"  # 13
        "ipv4,example.com\n"  # 14: error (named kind, wrong value)
        "2001:db8::/32"  # 15, no final newline
    ).encode()
    result = parse_lines(io.BytesIO(data), **LIMITS)
    assert [(i.kind, i.value) for i in result.indicators] == [
        (Kind.DOMAIN, "evil.example"),
        (Kind.URL, "http://evil.example/login"),
        (Kind.IPV4, "192.0.2.1"),
        (Kind.ASN, "AS64500"),
        (Kind.DOMAIN, "xn--bcher-kva.example"),
        (Kind.MD5, MD5),
        (Kind.IPV6_PREFIX, "2001:db8::/32"),
    ]
    assert [number for number, _message in result.errors] == [4, 7, 14]
    assert "empty label" in result.errors[0][1] and "IPv4 address" in result.errors[2][1]
    assert result.error_count == 3 and result.lines == 15
    assert result.counts == {
        Kind.DOMAIN: 2,
        Kind.URL: 1,
        Kind.IPV4: 1,
        Kind.ASN: 1,
        Kind.MD5: 1,
        Kind.IPV6_PREFIX: 1,
    }


def test_a_list_of_one_kind():
    data = b"64500\nAS64501\nasn,64502\ndomain,evil.example\nevil.example\n"
    result = parse_lines(io.BytesIO(data), kind=Kind.ASN, **LIMITS)
    assert [i.value for i in result.indicators] == ["AS64500", "AS64501", "AS64502"]
    assert [n for n, _m in result.errors] == [4, 5]
    assert "“domain”" in result.errors[0][1] and "“asn”" in result.errors[0][1]
    assert result.counts == {Kind.ASN: 3}


def test_undecodable_lines_are_errors_on_their_line():
    data = b"evil.example\n\xff\xfe\xc3(.example\nother.example\n"
    result = parse_lines(io.BytesIO(data), **LIMITS)
    assert [i.value for i in result.indicators] == ["evil.example", "other.example"]
    assert result.errors == [(2, "the line is not UTF-8 text")]


def test_an_overlong_line_is_an_error_and_the_next_line_is_read():
    data = b"a.example\n" + b"x" * (3 * LINE_MAX_BYTES) + b"\nb.example\n"
    stream = Served(iter([data]), allowed=len(data))
    result = parse_lines(stream, **LIMITS)
    assert [i.value for i in result.indicators] == ["a.example", "b.example"]
    assert [n for n, _m in result.errors] == [2] and "longer than" in result.errors[0][1]
    assert stream.largest_ask <= LINE_MAX_BYTES + 1


def test_errors_are_counted_all_and_kept_bounded():
    data = b"bad..example\n" * (ERRORS_KEPT + 500) + b"good.example\n"
    result = parse_lines(io.BytesIO(data), **LIMITS)
    assert len(result.errors) == ERRORS_KEPT and result.error_count == ERRORS_KEPT + 500
    assert result.errors[-1][0] == ERRORS_KEPT
    assert [i.value for i in result.indicators] == ["good.example"]


def test_text_streams_and_uploaded_files_are_read_too():
    text = io.StringIO("evil.example\nAS64500\n")
    assert [i.value for i in parse_lines(text, **LIMITS).indicators] == ["evil.example", "AS64500"]
    upload = SimpleUploadedFile("feed.txt", b"evil.example\n192.0.2.1\n", "text/plain")
    assert len(parse_lines(upload, **LIMITS).indicators) == 2


class Served:
    """A stream that serves the text of ``chunks`` (possibly without end) through
    ``readline(size)``, and fails the test if it is asked for more than ``allowed`` bytes in all
    or for a line without a bound: what a file of any size would cost."""

    def __init__(self, chunks: Iterator[bytes], *, allowed: int) -> None:
        self.chunks = chunks
        self.allowed = allowed
        self.buffer = b""
        self.served = 0
        self.largest_ask = 0

    def readline(self, size: int = -1) -> bytes:
        assert size is not None and size > 0, "a line read without a bound"
        self.largest_ask = max(self.largest_ask, size)
        while b"\n" not in self.buffer[:size] and len(self.buffer) < size:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.buffer += chunk
        end = self.buffer.find(b"\n", 0, size)
        cut = end + 1 if end >= 0 else min(size, len(self.buffer))
        line, self.buffer = self.buffer[:cut], self.buffer[cut:]
        self.served += len(line)
        assert self.served <= self.allowed, f"read {self.served} bytes, past {self.allowed}"
        return line


def test_a_file_over_the_byte_limit_is_refused_without_being_read_whole():
    endless = (f"host{n}.example\n".encode() for n in itertools.count())
    stream = Served(endless, allowed=1_000_001)  # the limit and one byte to know it is passed
    with pytest.raises(InvalidInput) as refused:
        parse_lines(stream, max_bytes=1_000_000, max_items=10_000_000)
    assert "over the limit of" in refused.value.message
    assert "nothing was kept" in refused.value.message
    assert stream.served == 1_000_001


def test_a_file_of_exactly_the_byte_limit_is_read():
    data = b"a.example\nb.example\n"
    result = parse_lines(io.BytesIO(data), max_bytes=len(data), max_items=10)
    assert len(result.indicators) == 2
    with pytest.raises(InvalidInput):
        parse_lines(io.BytesIO(data), max_bytes=len(data) - 1, max_items=10)


def test_an_overlong_line_counts_towards_the_byte_limit():
    endless = itertools.chain([b"a.example\n"], itertools.repeat(b"x" * 4096))
    stream = Served(endless, allowed=100_001)
    with pytest.raises(InvalidInput):
        parse_lines(stream, max_bytes=100_000, max_items=10)


def test_a_list_over_the_item_limit_is_refused_when_it_passes_it():
    line = 0

    def lines() -> Iterator[bytes]:
        nonlocal line
        for n in itertools.count():
            line += 1
            yield f"host{n}.example\n".encode()

    stream = Served(lines(), allowed=10**9)
    with pytest.raises(InvalidInput) as refused:
        parse_lines(stream, max_bytes=10**9, max_items=1000)
    assert "more than 1000 indicators" in refused.value.message
    assert "nothing was kept" in refused.value.message
    assert line == 1001  # it stopped at the first indicator past the limit


def test_duplicates_and_errors_do_not_count_towards_the_item_limit():
    data = b"a.example\n" * 50 + b"A.EXAMPLE.\nbad..example\nb.example\n"
    result = parse_lines(io.BytesIO(data), max_bytes=10_000, max_items=2)
    assert [i.value for i in result.indicators] == ["a.example", "b.example"]
