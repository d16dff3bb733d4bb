"""The IANA parsers against fixture files in the real formats, and against awkward variants."""

from __future__ import annotations

import pytest

from tldops.catalog import iana

from .conftest import FIXTURES

WWW = FIXTURES / "www"
PAGES = WWW / "domains" / "root" / "db"


def read(path) -> str:
    return path.read_text(encoding="utf-8")


def test_tld_list():
    tlds = iana.parse_tld_list(read(WWW / "TLD" / "tlds-alpha-by-domain.txt"))
    assert tlds == {"com", "de", "fr", "nl", "xn--80asehdb", "xn--90ae", "xn--p1ai"}


@pytest.mark.parametrize("text", ["# Version 1\n", "", "# Version 1\nFR\n<html>\n"])
def test_tld_list_refuses_what_is_not_one(text):
    with pytest.raises(iana.IanaFormatError):
        iana.parse_tld_list(text)


def test_index_gives_type_manager_and_absolute_page_url():
    entries = {
        e.alabel: e
        for e in iana.parse_index(read(PAGES / "index.html"), "http://h:1/domains/root/db")
    }
    assert set(entries) == {
        "an",
        "bl",
        "com",
        "de",
        "fr",
        "nl",
        "xn--80asehdb",
        "xn--90ae",
        "xn--p1ai",
    }
    assert entries["xn--p1ai"].type == "country-code"
    assert entries["xn--80asehdb"].type == "generic"
    assert entries["fr"].manager == "Association Fictive pour le Nommage Internet & la Coopération"
    assert entries["xn--90ae"].url == "http://h:1/domains/root/db/xn--90ae.html"


def test_index_without_links_uses_the_displayed_name():
    html = """<table><tr><th>Domain</th><th>Type</th><th>TLD Manager</th></tr>
    <tr><td>.РФ</td><td> Country-Code </td><td>X</td></tr>
    <tr><td><a href="db/fr.html?x=1">.fr</a></td><td>country-code</td><td>Y</td></tr></table>"""
    entries = {e.alabel: e for e in iana.parse_index(html, "https://example.org/db/")}
    assert entries["xn--p1ai"].type == "country-code"
    assert entries["xn--p1ai"].url == "https://example.org/db/xn--p1ai.html"
    assert entries["fr"].url == "https://example.org/db/db/fr.html?x=1"


def test_index_without_any_tld_is_refused():
    with pytest.raises(iana.IanaFormatError):
        iana.parse_index("<html><body><h1>Maintenance</h1></body></html>", "http://h/")


def test_ascii_page_with_ipv6_and_mailto():
    page = iana.parse_tld_page(read(PAGES / "fr.html"))
    assert page.title == "Delegation Record for .FR"
    assert page.manager == "Association Fictive pour le Nommage Internet & la Coopération"
    assert page.admin_org == page.manager
    assert page.admin_email == "tld-admin@nic.fr.example"
    assert page.tech_email == "tld-tech@nic.fr.example"
    assert page.nameservers == {
        "ns1.nic.fr": (["192.0.2.1"], ["2001:db8:f0::1"]),
        "ns2.nic.fr": (["192.0.2.2"], ["2001:db8:f0::2"]),
        # upper-case, zero-padded IPv6 on the page comes out canonical
        "ns.anycast-example.net": (["198.51.100.53"], ["2001:db8:53::35"]),
    }


def test_older_layout_with_strong_and_sponsoring_organisation():
    page = iana.parse_tld_page(read(PAGES / "nl.html"))
    assert page.manager == "Stichting Voorbeeld Internet Domeinregistratie"
    assert page.admin_email == "admin@sidn.nl.example"
    assert page.tech_org == "Voorbeeld Technical Services B.V."
    assert page.tech_email == "tech@sidn.nl.example"
    assert set(page.nameservers) == {"ns1.dns.nl", "ns2.dns.nl"}  # lower-cased


def test_idn_page():
    page = iana.parse_tld_page(read(PAGES / "xn--90ae.html"))
    assert page.title == "Delegation Record for .бг"
    assert page.manager == "Примерен Регистър ЕООД"
    assert page.nameservers == {"ns.register.bg": (["192.0.2.70"], ["2001:db8:b9::70"])}


def test_page_without_records_is_empty():
    page = iana.parse_tld_page("<html><h1>Delegation Record for .BL</h1><p>Not assigned</p></html>")
    assert page.empty


def test_root_zone_ns_ds_and_glue():
    zone = iana.parse_root_zone(read(WWW / "domain" / "root.zone"))
    assert zone.ns["fr"] == ["ns.anycast-example.net", "ns1.nic.fr", "ns2.nic.fr"]
    assert zone.ds == {"com", "de", "fr", "xn--p1ai"}
    assert zone.glue["ns1.nic.fr"] == (["192.0.2.1"], ["2001:db8:f0::1"])
    assert "ns.anycast-example.net" not in zone.glue
    assert "." not in zone.ns and "" not in zone.ns  # the root's own NS is not a TLD


@pytest.mark.parametrize("text", ["", "this is not a zone\n", ". 86400 IN SOA a. b. 1 2 3 4 5\n"])
def test_root_zone_refuses_what_is_not_one(text):
    with pytest.raises(iana.IanaFormatError):
        iana.parse_root_zone(text)


def test_split_addresses_ignores_noise():
    assert iana.split_addresses(["10.0.0.1, 2001:DB8::1", "n/a", "10.0.0.1"]) == (
        ["10.0.0.1"],
        ["2001:db8::1"],
    )
