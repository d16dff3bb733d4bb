"""One sweep against the simulated world (tests/monitor/world.py): every injected fault is found
with its code and severity, healthy ccTLDs get no warning, and the doors report it as documented."""

from __future__ import annotations

import json
import socket
import threading
from io import StringIO
from pathlib import Path

import dns.message
import dns.rdatatype
import pytest
from django.core.management import CommandError, call_command

from tests.monitor.world import World
from tldops.kernel.errors import InvalidInput
from tldops.monitor import sweep as sweeping
from tldops.monitor.codes import CODES, Severity
from tldops.monitor.results import Status
from tldops.monitor.transport import Network, Udp, question_section


def options(world: World, **kw: object) -> sweeping.Options:
    return sweeping.options_from(
        root_hints=Path(world.root_hints_path),
        trust_anchor=Path(world.trust_anchor_path),
        port=world.port,
        timeout=kw.pop("timeout", 0.5),
        tries=kw.pop("tries", 2),
        **kw,
    )


@pytest.fixture(scope="module")
def swept(dns_world: World):
    return sweeping.sweep(dns_world.tlds, options(dns_world))


def serious(result, tld: str) -> set[tuple[str, str]]:
    return {
        (f.code, f.server)
        for f in result.findings
        if f.tld == tld and f.severity >= Severity.WARNING
    }


def test_every_injected_fault_is_found_with_its_code_and_nothing_else(dns_world, swept):
    assert dns_world.expected  # one ccTLD per fault
    for tld, expected in dns_world.expected.items():
        assert serious(swept, tld) == expected, tld


def test_healthy_cctlds_get_no_warning(dns_world, swept):
    """Including .lt, whose DNSKEY answer is too big for UDP: asked again over TCP, it
    validates (without that, DNSKEY_MISSING, CRITICAL, from every vantage point)."""
    healthy = [s for s in dns_world.specs if s.fault is None]
    assert len(healthy) >= 5 and any(s.big_keys for s in healthy)
    for spec in healthy:
        assert serious(swept, spec.name) == set(), spec.name
        unsigned = {f.code for f in swept.findings if f.tld == spec.name} == {"UNSIGNED"}
        assert unsigned == (not spec.signed), spec.name


def test_findings_carry_the_codes_severity_and_the_address(dns_world, swept):
    for f in swept.findings:
        assert f.code in CODES
        assert f.as_dict()["severity"] == CODES[f.code].severity.name
    stopped = next(f for f in swept.findings if f.code == "SERVER_UNREACHABLE")
    spec = dns_world.spec(stopped.tld)
    assert stopped.severity == Severity.ERROR
    assert stopped.address in spec.fault_server.addresses
    expiring = next(f for f in swept.findings if f.code == "RRSIG_EXPIRES_IMMINENT")
    assert expiring.severity == Severity.ERROR and "expires" in expiring.detail
    assert next(f for f in swept.findings if f.code == "DS_NO_MATCHING_DNSKEY").severity == (
        Severity.CRITICAL
    )


def test_every_address_is_sampled_with_how_it_answered(dns_world, swept):
    samples = {(s.tld, s.server, s.address): s for s in swept.samples}
    for spec in dns_world.specs:
        for server in spec.servers:
            for address in server.addresses:
                assert (spec.name, server.host, address) in samples, (spec.name, server.host)
    by_fault = {s.fault: s for s in dns_world.specs if s.fault}
    status = {
        "stopped": Status.UNREACHABLE,
        "drops": Status.TIMEOUT,
        "lame": Status.REFUSED,
    }
    for fault, expected in status.items():
        spec = by_fault[fault]
        sample = samples[(spec.name, spec.fault_server.host, spec.fault_server.addresses[0])]
        assert sample.status == expected and sample.serial is None
    stale = by_fault["stale"]
    serials = {
        s.server: s.serial for s in swept.samples if s.tld == stale.name and s.status == Status.OK
    }
    assert serials[stale.fault_server.host] < max(serials.values())
    ok = [s for s in swept.samples if s.status == Status.OK]
    assert all(s.udp_ms is not None and s.tcp_ms is not None for s in ok)


def test_ipv6_is_asked_and_can_be_left_out(dns_world, swept):
    assert any(s.address == "::1" and s.status == Status.OK for s in swept.samples)
    v4 = sweeping.sweep(["nl"], options(dns_world, ipv4_only=True))
    assert v4.samples and all(":" not in s.address for s in v4.samples)
    assert serious(v4, "nl") == set()


def test_stats(dns_world, swept):
    stats = swept.stats
    assert stats.zones == len(dns_world.tlds)
    assert stats.servers == sum(len(s.servers) for s in dns_world.specs)
    # At least the SOA over UDP and TCP and the NS set of every address, and one referral each.
    addresses = sum(len(srv.addresses) for s in dns_world.specs for srv in s.servers)
    assert stats.queries >= 4 * addresses + stats.zones
    assert stats.wall_s > 0 and stats.cpu_s > 0


def test_a_trust_anchor_that_matches_no_root_key_is_a_warning_and_no_ds_is_called_bogus(
    dns_world, tmp_path
):
    anchor = tmp_path / "anchor.txt"
    anchor.write_text(". 3600 IN DS 12345 13 2 " + "AB" * 32 + "\n")
    result = sweeping.sweep(
        ["de", "nl"],
        sweeping.options_from(
            root_hints=Path(dns_world.root_hints_path),
            trust_anchor=anchor,
            port=dns_world.port,
            timeout=0.5,
        ),
    )
    assert [f for f in result.findings if f.severity >= Severity.WARNING] == []
    assert len(result.warnings) == 1 and "trust anchor" in result.warnings[0]


def test_a_ccTLD_the_root_does_not_know_is_not_delegated(dns_world):
    result = sweeping.sweep(["zz"], options(dns_world))
    assert [(f.code, f.severity) for f in result.findings] == [
        ("DELEGATION_MISSING", Severity.CRITICAL)
    ]


def test_no_root_server_answering_blames_no_cctld(dns_world, tmp_path):
    """Our own network is out (or the hints are wrong): the sweep refuses, rather than report
    every ccTLD as broken."""
    hints = tmp_path / "hints"
    hints.write_text(". 3600000 NS x.root.test.\nx.root.test. 3600000 A 127.250.250.1\n")
    opts = sweeping.options_from(
        root_hints=hints,
        trust_anchor=Path(dns_world.trust_anchor_path),
        port=dns_world.port,
        timeout=0.2,
        tries=1,
    )
    with pytest.raises(sweeping.RootUnreachable, match="No root server answered"):
        sweeping.sweep(["nl"], opts)


@pytest.mark.django_db
def test_the_sweep_command_says_when_no_root_server_answers(dns_world, world_tlds, tmp_path):
    hints = tmp_path / "hints"
    hints.write_text(". 3600000 NS x.root.test.\nx.root.test. 3600000 A 127.250.250.1\n")
    with pytest.raises(CommandError, match="cannot reach the DNS"):
        call_command(
            "monitor", "sweep", "--tld", "nl", "--root-hints", str(hints),
            "--port", str(dns_world.port), "--timeout", "0.2", "--tries", "1",
        )  # fmt: skip


# -- the files and the door -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a.root.test. 3600 A 127.0.0.1\n", "no NS record for the root"),
        (". 3600 NS a.root.test.\n", "no address"),
        (". 3600 NS a.root.test.\na.root.test 3600 A not-an-address\n", "zone-file format"),
    ],
)
def test_malformed_root_hints_are_refused(tmp_path, text, message):
    path = tmp_path / "hints"
    path.write_text(text)
    with pytest.raises(InvalidInput, match=message):
        sweeping.options_from(root_hints=path)


def test_a_trust_anchor_must_be_the_roots_ds_or_dnskey(tmp_path):
    path = tmp_path / "anchor"
    path.write_text("fr. 3600 IN DS 12345 13 2 " + "AB" * 32 + "\n")
    with pytest.raises(InvalidInput, match="of the root"):
        sweeping.options_from(trust_anchor=path)
    path.write_bytes(b"x" * (sweeping.MAX_FILE_BYTES + 1))
    with pytest.raises(InvalidInput, match="over"):
        sweeping.options_from(trust_anchor=path)


def test_the_shipped_files_are_the_real_root(settings):
    opts = sweeping.options_from()
    assert len(opts.root_hints) == 26  # 13 servers, IPv4 and IPv6
    assert ("a.root-servers.net", "198.41.0.4") in opts.root_hints
    tags = {rd.key_tag for r in sweeping.parse_trust_anchor(opts.trust_anchor) for rd in r}
    assert tags == {20326, 38696}


@pytest.mark.django_db
def test_the_sweep_command_prints_the_documented_json(dns_world, world_tlds):
    out = StringIO()
    call_command(
        "monitor", "sweep", "--tld", "at", "--tld", "nl",
        "--root-hints", dns_world.root_hints_path, "--trust-anchor", dns_world.trust_anchor_path,
        "--port", str(dns_world.port), "--timeout", "0.5", "--format", "json", stdout=out,
    )  # fmt: skip
    data = json.loads(out.getvalue())
    assert set(data) == {"started_at", "findings", "stats"}
    assert set(data["stats"]) == {"zones", "servers", "queries", "wall_s", "cpu_s"}
    assert data["stats"]["zones"] == 2
    keys = {"tld", "server", "address", "code", "severity", "detail"}
    assert all(set(f) == keys for f in data["findings"])
    assert {(f["tld"], f["code"], f["severity"]) for f in data["findings"]} >= {
        ("at", "SERVER_UNREACHABLE", "ERROR"),
        ("nl", "UNSIGNED", "INFO"),
    }


@pytest.mark.django_db
def test_the_sweep_command_table_and_its_errors(dns_world, world_tlds, tmp_path):
    out = StringIO()
    args = [
        "--root-hints", dns_world.root_hints_path, "--trust-anchor", dns_world.trust_anchor_path,
        "--port", str(dns_world.port), "--timeout", "0.5",
    ]  # fmt: skip
    call_command("monitor", "sweep", "--tld", "se", "--min-severity", "error", *args, stdout=out)
    text = out.getvalue()
    assert "LAME_REFUSED" in text and "UNSIGNED" not in text
    with pytest.raises(CommandError, match="Not a ccTLD of the catalog: zz"):
        call_command("monitor", "sweep", "--tld", "zz", *args)
    with pytest.raises(CommandError, match="Unknown severity"):
        call_command("monitor", "sweep", "--tld", "se", "--min-severity", "loud", *args)
    bad = tmp_path / "hints"
    bad.write_text("nothing here\n")
    with pytest.raises(CommandError, match="root hints"):
        call_command("monitor", "sweep", "--tld", "se", "--root-hints", str(bad))


# -- the transport ----------------------------------------------------------------------------


def test_an_answer_that_does_not_repeat_the_question_is_ignored():
    """A datagram with the right id from the right address but another question (a spoofing
    attempt, or a confused server) is not taken for the answer: the question times out."""
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(2)
    port = server.getsockname()[1]

    def answer_wrongly() -> None:
        wire, peer = server.recvfrom(4096)
        other = dns.message.make_query("evil.example.", dns.rdatatype.A)
        other.id = dns.message.from_wire(wire).id
        server.sendto(dns.message.make_response(other).to_wire(), peer)

    thread = threading.Thread(target=answer_wrongly)
    thread.start()
    wire = dns.message.make_query("nl.", dns.rdatatype.SOA).to_wire()
    results = []

    def task():
        results.append((yield Udp("127.0.0.1", wire, question_section(wire))))

    net = Network(port=port, timeout=0.3, tries=1)
    net.spawn(task())
    net.run()
    thread.join()
    server.close()
    assert results[0].outcome == "timeout"
    assert net.queries == 1


def test_a_closed_port_ends_the_question_with_the_icmp_error_not_a_timeout():
    """Nothing listens: the kernel's ICMP "port unreachable" (queued on the socket with
    IP_RECVERR) ends each try at once (three tries of five seconds would take fifteen), and the
    question as refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    wire = dns.message.make_query("nl.", dns.rdatatype.SOA).to_wire()
    results = []

    def task():
        results.append((yield Udp("127.0.0.1", wire, question_section(wire))))

    net = Network(port=port, timeout=5, tries=3)
    net.spawn(task())
    net.run()
    assert results[0].outcome == "refused" and "port unreachable" in results[0].detail
    assert net.queries == 3
