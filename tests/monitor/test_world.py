"""The simulated ccTLD world behaves as its spec says, asked directly with dnspython.

The monitor's own tests trust this world: if a fault were not really injected (or a healthy zone
were broken), they would test nothing. So each fault is checked here on the wire.
"""

from __future__ import annotations

import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.zone
import pytest

from tests.monitor.world import (
    AXFR_OPEN,
    DROPS,
    DS_MISMATCH,
    EXPIRING,
    FAULTS,
    GLUE_MISMATCH,
    LAME,
    NS_MISSING_AT_CHILD,
    OPEN_RECURSION,
    STALE,
    STOPPED,
    World,
)


def ask(world: World, address: str, name: str, rdtype: str, *, rd: bool = False, tcp=False):
    request = dns.message.make_query(name, rdtype, want_dnssec=True, payload=4096)
    if not rd:
        request.flags &= ~dns.flags.RD
    send = dns.query.tcp if tcp else dns.query.udp
    answer = send(request, address, port=world.port, timeout=2)
    if not tcp and answer.flags & dns.flags.TC:  # as a resolver does
        answer = dns.query.tcp(request, address, port=world.port, timeout=2)
    return answer


def test_a_big_dnskey_set_is_truncated_over_udp(dns_world):
    """.lt publishes four more RSA keys: its DNSKEY answer does not fit in 1232 bytes of UDP, so
    a sweep must ask again over TCP (tests/monitor/test_sweep.py finds .lt healthy)."""
    spec = dns_world.spec("lt")
    assert spec.big_keys and spec.signed
    request = dns.message.make_query("lt.", "DNSKEY", want_dnssec=True, payload=1232)
    request.flags &= ~dns.flags.RD
    answer = dns.query.udp(request, spec.servers[0].addresses[0], port=dns_world.port, timeout=2)
    assert answer.flags & dns.flags.TC
    full = ask(dns_world, spec.servers[0].addresses[0], "lt.", "DNSKEY")
    assert len(rrset(full.answer, "lt.", "DNSKEY")) == 5


def root(world: World) -> str:
    return world.root_addresses[0]


def with_fault(world: World, fault: str):
    return next(s for s in world.specs if s.fault == fault)


def rrset(section, name: str, rdtype: str):
    wanted = dns.name.from_text(name)
    kind = dns.rdatatype.from_text(rdtype)
    for r in section:
        if r.name == wanted and r.rdtype == kind:
            return r
    return None


def rrsig(section, name: str, covered: str):
    wanted = dns.name.from_text(name)
    kind = dns.rdatatype.from_text(covered)
    for r in section:
        if r.name == wanted and r.rdtype == dns.rdatatype.RRSIG and r.covers == kind:
            return r
    return None


def serial(world: World, address: str, tld: str) -> int:
    response = ask(world, address, tld + ".", "SOA")
    assert response.rcode() == dns.rcode.NOERROR
    assert response.flags & dns.flags.AA
    return rrset(response.answer, tld + ".", "SOA")[0].serial


def test_every_fault_is_in_the_world_once(dns_world):
    assert sorted(s.fault for s in dns_world.specs if s.fault) == sorted(FAULTS)
    assert set(dns_world.expected) == {s.name for s in dns_world.specs if s.fault}
    assert dns_world.expected[with_fault(dns_world, LAME).name] == {
        ("LAME_REFUSED", with_fault(dns_world, LAME).fault_server.host)
    }


def test_root_hints_and_trust_anchor_files(dns_world):
    hints = dns_world.root_hints_path.read_text().splitlines()
    assert f"A.ROOT.TEST.\t3600000\tA\t{root(dns_world)}" in hints
    anchor = dns_world.trust_anchor_path.read_text().split()
    assert anchor[:4] == [".", "3600", "IN", "DS"]
    assert "DNSKEY\t257 3 13" in dns_world.trust_anchor_dnskey_path.read_text()


def test_the_root_is_signed_and_validates_from_the_trust_anchor(dns_world):
    response = ask(dns_world, root(dns_world), ".", "DNSKEY")
    keys = rrset(response.answer, ".", "DNSKEY")
    dns.dnssec.validate(keys, rrsig(response.answer, ".", "DNSKEY"), {dns.name.root: keys})
    anchor = dns_world.trust_anchor_path.read_text().split()
    ksk = next(k for k in keys if k.flags == 257)
    digest = dns.dnssec.make_ds(dns.name.root, ksk, "SHA256")
    assert digest.to_text().split()[-1].lower() == anchor[-1].lower()


@pytest.mark.parametrize("rank", range(14))
def test_the_root_refers_each_tld_with_glue_and_ds(dns_world, rank):
    spec = dns_world.specs[rank]
    response = ask(dns_world, root(dns_world), spec.name + ".", "SOA")
    assert response.rcode() == dns.rcode.NOERROR
    assert not response.flags & dns.flags.AA  # a referral
    ns = rrset(response.authority, spec.name + ".", "NS")
    assert sorted(r.target.to_text() for r in ns) == sorted(s.host + "." for s in spec.servers)
    for server in spec.servers:
        for address in server.addresses:
            kind = "AAAA" if ":" in address else "A"
            glue = rrset(response.additional, server.host + ".", kind)
            assert glue is not None and address in {r.address for r in glue}, server.host
    ds = rrset(response.authority, spec.name + ".", "DS")
    assert (ds is not None) == spec.signed
    if spec.signed:
        assert rrsig(response.authority, spec.name + ".", "DS") is not None


def test_every_healthy_address_answers_with_authority_and_one_serial(dns_world):
    for spec in dns_world.specs:
        if spec.fault is not None:
            continue
        serials = {
            serial(dns_world, address, spec.name)
            for server in spec.servers
            for address in server.addresses
        }
        assert len(serials) == 1, spec.name
        tcp = ask(dns_world, spec.servers[0].addresses[0], spec.name + ".", "SOA", tcp=True)
        assert tcp.flags & dns.flags.AA


def test_ipv6_is_served(dns_world):
    ipv6 = [(s, a) for spec in dns_world.specs for s in spec.servers for a in s.addresses]
    server, address = next((s, a) for s, a in ipv6 if a == "::1")
    tld = next(spec.name for spec in dns_world.specs if server in spec.servers)
    assert serial(dns_world, "::1", tld) > 0


def test_signed_zones_validate(dns_world):
    for spec in dns_world.specs:
        if not spec.signed or spec.fault == DS_MISMATCH:
            continue
        origin = dns.name.from_text(spec.name + ".")
        address = spec.servers[0].addresses[0]
        keys_response = ask(dns_world, address, spec.name + ".", "DNSKEY")
        keys = rrset(keys_response.answer, spec.name + ".", "DNSKEY")
        dns.dnssec.validate(
            keys, rrsig(keys_response.answer, spec.name + ".", "DNSKEY"), {origin: keys}
        )
        soa = ask(dns_world, address, spec.name + ".", "SOA")
        dns.dnssec.validate(
            rrset(soa.answer, spec.name + ".", "SOA"),
            rrsig(soa.answer, spec.name + ".", "SOA"),
            {origin: keys},
        )
        referral = ask(dns_world, root(dns_world), spec.name + ".", "SOA")
        ds = rrset(referral.authority, spec.name + ".", "DS")
        made = {dns.dnssec.make_ds(origin, k, "SHA256") for k in keys}
        assert set(ds) & made, spec.name


def test_ds_mismatch_matches_no_key(dns_world):
    spec = with_fault(dns_world, DS_MISMATCH)
    origin = dns.name.from_text(spec.name + ".")
    keys = rrset(
        ask(dns_world, spec.servers[0].addresses[0], spec.name + ".", "DNSKEY").answer,
        spec.name + ".",
        "DNSKEY",
    )
    ds = rrset(
        ask(dns_world, root(dns_world), spec.name + ".", "SOA").authority, spec.name + ".", "DS"
    )
    assert ds is not None and keys is not None
    assert not set(ds) & {dns.dnssec.make_ds(origin, k, "SHA256") for k in keys}


def test_expiring_signatures_end_within_two_days(dns_world):
    import time

    spec = with_fault(dns_world, EXPIRING)
    soa = ask(dns_world, spec.servers[0].addresses[0], spec.name + ".", "SOA")
    left = rrsig(soa.answer, spec.name + ".", "SOA")[0].expiration - time.time()
    assert 0 < left < 2 * 86400
    healthy_signed = next(s for s in dns_world.specs if s.signed and s.fault is None)
    soa = ask(dns_world, healthy_signed.servers[0].addresses[0], healthy_signed.name + ".", "SOA")
    assert (
        rrsig(soa.answer, healthy_signed.name + ".", "SOA")[0].expiration - time.time() > 7 * 86400
    )


def test_the_lame_server_refuses(dns_world):
    spec = with_fault(dns_world, LAME)
    response = ask(dns_world, spec.fault_server.addresses[0], spec.name + ".", "SOA")
    assert response.rcode() == dns.rcode.REFUSED
    assert serial(dns_world, spec.servers[0].addresses[0], spec.name) > 0


def test_the_stale_server_is_behind(dns_world):
    spec = with_fault(dns_world, STALE)
    good = serial(dns_world, spec.servers[0].addresses[0], spec.name)
    assert serial(dns_world, spec.fault_server.addresses[0], spec.name) < good
    # signed with the same keys: the lag is the only fault
    origin = dns.name.from_text(spec.name + ".")
    keys = rrset(
        ask(dns_world, spec.servers[0].addresses[0], spec.name + ".", "DNSKEY").answer,
        spec.name + ".",
        "DNSKEY",
    )
    soa = ask(dns_world, spec.fault_server.addresses[0], spec.name + ".", "SOA")
    dns.dnssec.validate(
        rrset(soa.answer, spec.name + ".", "SOA"),
        rrsig(soa.answer, spec.name + ".", "SOA"),
        {origin: keys},
    )


def test_the_dropping_server_never_answers(dns_world):
    spec = with_fault(dns_world, DROPS)
    request = dns.message.make_query(spec.name + ".", "SOA")
    address = spec.fault_server.addresses[0]
    with pytest.raises(dns.exception.Timeout):
        dns.query.udp(request, address, port=dns_world.port, timeout=0.3)
    with pytest.raises(dns.exception.Timeout):
        dns.query.tcp(request, address, port=dns_world.port, timeout=0.3)


def test_the_stopped_server_is_closed(dns_world):
    spec = with_fault(dns_world, STOPPED)
    request = dns.message.make_query(spec.name + ".", "SOA")
    with pytest.raises(ConnectionRefusedError):
        dns.query.tcp(request, spec.fault_server.addresses[0], port=dns_world.port, timeout=1)


def test_open_axfr_for_that_zone_only(dns_world):
    spec = with_fault(dns_world, AXFR_OPEN)
    address = spec.servers[0].addresses[0]
    zone = dns.zone.from_xfr(
        dns.query.xfr(address, spec.name + ".", port=dns_world.port, timeout=2)
    )
    assert zone.get_rdataset("@", "SOA") is not None
    assert len(zone.nodes) > 3
    other = next(
        s for s in dns_world.specs if s.fault is None and s.servers[-1] == spec.servers[-1]
    )
    request = dns.message.make_query(other.name + ".", "AXFR")
    response = dns.query.tcp(request, spec.servers[-1].addresses[0], port=dns_world.port, timeout=2)
    assert response.rcode() == dns.rcode.REFUSED or not response.answer


def test_the_open_resolver_recurses_and_is_authoritative(dns_world):
    spec = with_fault(dns_world, OPEN_RECURSION)
    address = spec.fault_server.addresses[0]
    own = ask(dns_world, address, spec.name + ".", "SOA")
    assert own.flags & dns.flags.AA
    assert rrset(own.answer, spec.name + ".", "SOA")[0].serial == serial(
        dns_world, spec.servers[0].addresses[0], spec.name
    )
    other = next(s for s in dns_world.specs if s.fault is None)
    response = ask(dns_world, address, other.name + ".", "SOA", rd=True)
    assert response.flags & dns.flags.RA
    assert response.rcode() == dns.rcode.NOERROR
    assert rrset(response.answer, other.name + ".", "SOA") is not None


def test_glue_differs_from_the_child(dns_world):
    spec = with_fault(dns_world, GLUE_MISMATCH)
    host = spec.fault_server.host
    glue = rrset(
        ask(dns_world, root(dns_world), spec.name + ".", "SOA").additional, host + ".", "A"
    )
    child = rrset(
        ask(dns_world, spec.servers[0].addresses[0], host + ".", "A").answer, host + ".", "A"
    )
    assert {r.address for r in glue} == set(spec.fault_server.addresses)
    assert {r.address for r in child}.isdisjoint({r.address for r in glue})
    for r in [*glue, *child]:  # both answer: the mismatch is the only fault
        assert serial(dns_world, r.address, spec.name) > 0


def test_the_child_omits_a_delegated_server(dns_world):
    spec = with_fault(dns_world, NS_MISSING_AT_CHILD)
    response = ask(dns_world, spec.servers[0].addresses[0], spec.name + ".", "NS")
    child = {r.target.to_text() for r in rrset(response.answer, spec.name + ".", "NS")}
    assert spec.fault_server.host + "." not in child
    assert child == {s.host + "." for s in spec.servers if s is not spec.fault_server}
    assert serial(dns_world, spec.fault_server.addresses[0], spec.name) > 0


def test_the_servers_count_the_queries_they_get(dns_world):
    before = dns_world.queries()
    for _ in range(3):
        ask(dns_world, root(dns_world), "nl.", "SOA")
    assert dns_world.queries() - before == 3


def test_world_tlds_are_catalog_rows(world_tlds, dns_world):
    assert sorted(world_tlds) == sorted(dns_world.tlds)
    assert world_tlds["xn--p1ai"].ulabel == "рф"
