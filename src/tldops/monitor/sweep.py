"""One sweep: every check of docs/monitor.md over a set of ccTLDs, from this machine.

``sweep(tlds, options)`` first fetches the root's DNSKEY set and checks it against the trust
anchor, then runs one task per ccTLD, all at once on one :class:`~tldops.monitor.transport.Network`:

1. **The parent's view.** The ccTLD's NS records, glue and DS records, asked of a root server
   (another one on timeout). Names of servers outside the ccTLD that came without glue are
   resolved iteratively from the root.
2. **Every address of every server**, all together: the SOA over UDP (with DNSSEC records) and over
   TCP, the NS set, the DNSKEY set (if the parent has DS records), a zone transfer on the same TCP
   connection, and once per address a recursive question for a name the server has no authority
   for.
3. **The comparison**: the parent's NS set and glue against the child's, the serials against each
   other, the DS records against the keys, the signatures against the keys and the clock.

The wall time is that of the slowest task, so about one timeout × tries when a server is down,
whatever the number of ccTLDs. Identical DNSSEC material served by several servers is validated
once.
"""

from __future__ import annotations

import errno
import time
import warnings
from collections import defaultdict
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zonefile
from django.conf import settings

from tldops.kernel.errors import DirectoryError, InvalidInput
from tldops.monitor import codes
from tldops.monitor.results import Finding, Sample, Stats, Status, SweepResult
from tldops.monitor.transport import Batch, Network, Outcome, Reply, Tcp, Udp, question_section

with warnings.catch_warnings():
    # dnspython imports its DSA support, which cryptography marks deprecated; we never use DSA.
    warnings.simplefilter("ignore")
    import dns.dnssec
    import dns.dnssecalgs

DATA = Path(__file__).resolve().parent / "data"
ROOT_HINTS_FILE = DATA / "root.hints"
TRUST_ANCHOR_FILE = DATA / "root-anchors.txt"
MAX_FILE_BYTES = 1_000_000  # root hints and trust anchors are a few kilobytes
MAX_RESOLUTION_STEPS = 12  # referrals followed to find the address of a server without glue
RESOLUTION_BUDGET = 30  # questions at most to find one server's addresses, all lookups included
ROOT = dns.name.root
IN = dns.rdataclass.IN
A, AAAA, NS, SOA, DS, DNSKEY, RRSIG, CNAME = (
    dns.rdatatype.A,
    dns.rdatatype.AAAA,
    dns.rdatatype.NS,
    dns.rdatatype.SOA,
    dns.rdatatype.DS,
    dns.rdatatype.DNSKEY,
    dns.rdatatype.RRSIG,
    dns.rdatatype.CNAME,
)
TC, AA = dns.flags.TC, dns.flags.AA
#: Local errors that mean this machine cannot reach an address at all (not the server's fault).
NO_ROUTE = frozenset({errno.ENETUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT})
#: DNSSEC findings about one address; gathered into one for the ccTLD when every address has it.
DNSSEC_CODES = frozenset(
    {
        "DNSKEY_MISSING",
        "DS_NO_MATCHING_DNSKEY",
        "RRSIG_MISSING",
        "RRSIG_INVALID",
        "RRSIG_EXPIRED",
        "RRSIG_EXPIRES_IMMINENT",
        "RRSIG_EXPIRES_SOON",
        "DNSSEC_UNSUPPORTED",
    }
)


class RootUnreachable(DirectoryError):
    """No root server answered: this vantage point cannot see the DNS (its network is down, or
    the root hints are wrong). Nothing is said about any ccTLD: blaming 309 of them for our own
    outage would be 309 false alarms."""

    status = 503


@dataclass
class Options:
    #: (host name, address) of the root servers; empty: the shipped root hints.
    root_hints: list[tuple[str, str]] = field(default_factory=list)
    #: The root's trust anchor as DS or DNSKEY records in zone-file text; "": the shipped one.
    trust_anchor: str = ""
    ipv4_only: bool = False
    ipv6_only: bool = False
    timeout: float = 2.0  # seconds per try
    tries: int = 2
    port: int = 53  # the port every server is asked on (tests and benchmarks use another)


# -- options ---------------------------------------------------------------------------------


def _read(path: Path, what: str) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(f"Cannot read the {what} {path}: {exc.strerror}.") from exc
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(f"The {what} {path} is over {MAX_FILE_BYTES:,} bytes.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"The {what} {path} is not UTF-8 text.") from exc


def _rrsets(text: str, what: str) -> list[dns.rrset.RRset]:
    try:
        return dns.zonefile.read_rrsets(
            text, origin=ROOT, relativize=False, rdclass=None, default_rdclass=IN
        )
    except dns.exception.DNSException as exc:
        raise InvalidInput(f"The {what} is not in zone-file format: {exc}") from exc


def parse_root_hints(text: str) -> list[tuple[str, str]]:
    """(host, address) of every root server in a root hints file (the root's NS records and their
    A/AAAA records, as in named.root)."""
    rrsets = _rrsets(text, "root hints file")
    hosts = [rd.target for r in rrsets if r.name == ROOT and r.rdtype == NS for rd in r]
    if not hosts:
        raise InvalidInput('The root hints file has no NS record for the root (".").')
    hints = [
        (r.name.to_text(omit_final_dot=True), rd.address)
        for host in hosts
        for r in rrsets
        if r.name == host and r.rdtype in (A, AAAA)
        for rd in r
    ]
    if not hints:
        raise InvalidInput("The root hints file has no address for the root's name servers.")
    return hints


def parse_trust_anchor(text: str) -> list[dns.rrset.RRset]:
    """The root's DS or DNSKEY records of a trust-anchor file (zone-file format)."""
    anchors = [r for r in _rrsets(text, "trust anchor") if r.rdtype in (DS, DNSKEY)]
    if not anchors or any(r.name != ROOT for r in anchors):
        raise InvalidInput('The trust anchor must hold DS or DNSKEY records of the root (".").')
    return anchors


def options_from(
    *,
    root_hints: Path | None = None,
    trust_anchor: Path | None = None,
    ipv4_only: bool = False,
    ipv6_only: bool = False,
    timeout: float | None = None,
    tries: int | None = None,
    port: int | None = None,
) -> Options:
    """Options from the settings, overridden by what a door was given (files are read here and
    refused with :class:`~tldops.kernel.errors.InvalidInput` when malformed)."""
    hints_path = root_hints or Path(settings.MONITOR_ROOT_HINTS or ROOT_HINTS_FILE)
    anchor_path = trust_anchor or Path(settings.MONITOR_TRUST_ANCHOR or TRUST_ANCHOR_FILE)
    anchor_text = _read(anchor_path, "trust anchor")
    parse_trust_anchor(anchor_text)
    timeout = settings.MONITOR_TIMEOUT if timeout is None else timeout
    tries = settings.MONITOR_TRIES if tries is None else tries
    port = settings.MONITOR_PORT if port is None else port
    if not 0.05 <= timeout <= 30:
        raise InvalidInput("The timeout must be between 0.05 and 30 seconds.")
    if not 1 <= tries <= 5:
        raise InvalidInput("Tries must be between 1 and 5.")
    if not 1 <= port <= 65535:
        raise InvalidInput("The port must be between 1 and 65535.")
    return Options(
        root_hints=parse_root_hints(_read(hints_path, "root hints file")),
        trust_anchor=anchor_text,
        ipv4_only=ipv4_only or (settings.MONITOR_IPV4_ONLY and not ipv6_only),
        ipv6_only=ipv6_only,
        timeout=timeout,
        tries=tries,
        port=port,
    )


# -- messages --------------------------------------------------------------------------------


class _Questions:
    """Query messages made once and reused (the transport rewrites the id)."""

    def __init__(self) -> None:
        self._made: dict[tuple[dns.name.Name, int, bool, bool, bool], tuple[bytes, bytes]] = {}

    def get(
        self,
        qname: dns.name.Name,
        rdtype: int,
        *,
        dnssec: bool = False,
        rd: bool = False,
        edns: bool = True,
    ) -> tuple[bytes, bytes]:
        key = (qname, rdtype, dnssec, rd, edns)
        made = self._made.get(key)
        if made is None:
            msg = dns.message.make_query(
                qname, rdtype, use_edns=0 if edns else False, payload=1232, want_dnssec=dnssec
            )
            if not rd:
                msg.flags &= ~dns.flags.RD
            wire = msg.to_wire()
            made = self._made[key] = (wire, question_section(wire))
        return made

    def udp(self, address: str, qname: dns.name.Name, rdtype: int, **kw: bool) -> Udp:
        wire, question = self.get(qname, rdtype, **kw)
        return Udp(address, wire, question)


class _Parser:
    """Answers parsed once per distinct content.

    The servers of one ccTLD send byte-identical answers to the same question (but for the
    message id), and parsing is most of a sweep's CPU: dnspython takes about 90 µs per record
    here. Keyed on the bytes after the id, an answer seen before is not parsed again (over the
    309-zone world, a third of the sweep's CPU). The messages are only read, never changed."""

    def __init__(self) -> None:
        self._seen: dict[bytes, dns.message.Message | None] = {}

    def __call__(self, reply: Reply) -> dns.message.Message | None:
        if reply.outcome != Outcome.OK:
            return None
        key = reply.wire[2:]
        if key in self._seen:
            return self._seen[key]
        try:
            msg = dns.message.from_wire(reply.wire, ignore_trailing=True)
        except (dns.exception.DNSException, ValueError):
            msg = None
        self._seen[key] = msg
        return msg


def _find(section: list[dns.rrset.RRset], name: dns.name.Name, rdtype: int, covers: int = 0):
    for rrset in section:
        if rrset.name == name and rrset.rdtype == rdtype and rrset.covers == covers:
            return rrset
    return None


def _serial_behind(a: int, b: int) -> bool:
    """RFC 1982: serial ``a`` is behind ``b``."""
    return a != b and ((b - a) % 2**32) < 2**31


# -- the sweep -------------------------------------------------------------------------------


@dataclass
class _Referral:
    ns: list[dns.name.Name]
    glue: dict[dns.name.Name, set[str]]
    ds: dns.rrset.RRset | None
    ds_sigs: dns.rrset.RRset | None


@dataclass
class _Target:
    host: dns.name.Name
    address: str


class _Sweep:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.net = Network(port=options.port, timeout=options.timeout, tries=options.tries)
        self.q = _Questions()
        self.parse = _Parser()
        self.findings: list[Finding] = []
        self.samples: list[Sample] = []
        self.servers = 0
        self.roots = [a for _, a in options.root_hints if self._family_ok(a)]
        self.root_keys: dns.rrset.RRset | None = None
        self.root_keys_problem = ""
        self.root_unreachable = False
        self.recursion: dict[str, bool] = {}  # address -> open
        self.recursion_asked: set[str] = set()
        self.resolved: dict[dns.name.Name, set[str]] = {}
        self.unmeasured = 0  # addresses this machine has no route to
        self.recursion_users: list[tuple[str, str, str]] = []  # (tld, host, address)
        self.validated: dict[Any, tuple[str, str, float | None]] = {}
        self.now = time.time()

    def _family_ok(self, address: str) -> bool:
        v6 = ":" in address
        return not (v6 and self.options.ipv4_only) and not (not v6 and self.options.ipv6_only)

    def add(self, tld: str, host: str, address: str, code: str, detail: str = "") -> None:
        self.findings.append(Finding(tld, host, address, code, detail[:500]))

    # -- asking ----------------------------------------------------------------------------

    def ask_roots(
        self, qname: dns.name.Name, rdtype: int, start: int = 0, *, dnssec: bool = True
    ) -> Generator[Any, Any, dns.message.Message | None]:
        """Ask root servers in turn (from ``start``), over TCP if the answer was truncated."""
        return (yield from self.ask_any(self.roots, qname, rdtype, start, dnssec=dnssec))

    def ask_any(
        self,
        servers: list[str],
        qname: dns.name.Name,
        rdtype: int,
        start: int = 0,
        *,
        dnssec: bool = True,
    ) -> Generator[Any, Any, dns.message.Message | None]:
        for i in range(min(len(servers), 3)):
            address = servers[(start + i) % len(servers)]
            reply = yield self.q.udp(address, qname, rdtype, dnssec=dnssec)
            msg = self.parse(reply)
            if msg is not None and msg.flags & TC:
                wire, _ = self.q.get(qname, rdtype, dnssec=dnssec)
                (reply,) = yield Tcp(address, [wire])
                msg = self.parse(reply)
            # REFUSED or SERVFAIL from one server says nothing about the name: ask another.
            if msg is not None and msg.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                return msg
        return None

    # -- the root's keys -------------------------------------------------------------------

    def root_keys_task(self, anchors: list[dns.rrset.RRset]) -> Generator[Any, Any, None]:
        msg = yield from self.ask_roots(ROOT, DNSKEY)
        if msg is None:
            self.root_unreachable = True
            return
        keys = _find(msg.answer, ROOT, DNSKEY)
        sigs = _find(msg.answer, ROOT, RRSIG, DNSKEY)
        if keys is None or sigs is None:
            self.root_keys_problem = "the root's DNSKEY set came without signatures"
            return
        trusted = []
        for anchor in anchors:
            for rd in anchor:
                for key in keys:
                    if anchor.rdtype == DNSKEY and key == rd:
                        trusted.append(key)
                    elif anchor.rdtype == DS and _ds_matches(ROOT, key, rd):
                        trusted.append(key)
        if not trusted:
            self.root_keys_problem = "no key of the root's DNSKEY set matches the trust anchor"
            return
        code, detail, _ = self.validate(
            ROOT, keys, sigs, keys, {dns.dnssec.key_id(k) for k in trusted}
        )
        if code:
            self.root_keys_problem = f"the root's DNSKEY set does not validate: {detail}"
            return
        self.root_keys = keys

    # -- DNSSEC ----------------------------------------------------------------------------

    def validate(
        self,
        zone: dns.name.Name,
        rrset: dns.rrset.RRset,
        sigs: dns.rrset.RRset | None,
        keys: dns.rrset.RRset,
        tags: set[int] | None = None,
        cache: bytes | None = None,
    ) -> tuple[str, str, float | None]:
        """("", "", expiration) when one signature by one of ``keys`` (restricted to ``tags``)
        validates ``rrset`` now; otherwise (code, detail, None).

        ``cache``: the answers' bytes the material came from (without their message ids), so
        the same material served by several servers is validated once. Not a key made of the
        records themselves: hashing an rdata makes its wire form again, which cost more than
        half the sweep's CPU over the 309-zone world."""
        key = (zone, rrset.rdtype, cache, frozenset(tags) if tags else None)
        done = self.validated.get(key) if cache is not None else None
        if done is not None:
            return done
        what = dns.rdatatype.to_text(rrset.rdtype)
        candidates = [
            s for s in (sigs or []) if s.signer == zone and (tags is None or s.key_tag in tags)
        ]
        result: tuple[str, str, float | None]
        if not candidates:
            result = ("RRSIG_MISSING", f"no signature over the {what} set by a key in use", None)
        else:
            usable = dns.rrset.RRset(zone, IN, DNSKEY)
            for k in keys:
                if tags is None or dns.dnssec.key_id(k) in tags:
                    usable.add(k)
            result = ("", "", None)
            expired = invalid = unsupported = ""
            best: float | None = None
            for sig in candidates:
                if sig.expiration < self.now:
                    expired = f"the signature over the {what} set (key {sig.key_tag}) expired"
                    continue
                try:
                    dns.dnssec.validate_rrsig(rrset, sig, {zone: usable}, now=self.now)
                except dns.dnssec.UnsupportedAlgorithm:
                    unsupported = f"algorithm {sig.algorithm} of key {sig.key_tag}"
                    continue
                except dns.dnssec.ValidationFailure as exc:
                    invalid = f"the signature over the {what} set (key {sig.key_tag}): {exc}"
                    continue
                best = sig.expiration if best is None else max(best, sig.expiration)
            if best is not None:
                result = ("", "", float(best))
            elif unsupported and not invalid and not expired:
                result = ("DNSSEC_UNSUPPORTED", unsupported, None)
            elif invalid:
                result = ("RRSIG_INVALID", invalid, None)
            else:
                result = ("RRSIG_EXPIRED", expired, None)
        if cache is not None:
            self.validated[key] = result
        return result

    # -- one ccTLD -------------------------------------------------------------------------

    def referral(
        self, tld: str, name: dns.name.Name
    ) -> Generator[Any, Any, _Referral | None | str]:
        start = hash(tld) % max(1, len(self.roots))
        msg = yield from self.ask_roots(name, NS, start)
        if msg is None:
            return None
        if msg.rcode() == dns.rcode.NXDOMAIN:
            # One answer (or one forged datagram) is not enough to call a ccTLD gone.
            if len(self.roots) > 1:
                again = yield from self.ask_roots(name, NS, start + 1)
                if again is not None and again.rcode() != dns.rcode.NXDOMAIN:
                    msg = again
                else:
                    return "NXDOMAIN from two root servers"
            else:
                return "NXDOMAIN"
        ns = _find(msg.authority, name, NS) or _find(msg.answer, name, NS)
        if ns is None:
            return f"rcode {dns.rcode.to_text(msg.rcode())}, no NS records"
        glue: dict[dns.name.Name, set[str]] = defaultdict(set)
        for rrset in msg.additional:
            if rrset.rdtype in (A, AAAA):
                glue[rrset.name].update(rd.address for rd in rrset)
        hosts = sorted({rd.target for rd in ns})
        if any(h.is_subdomain(name) and h not in glue for h in hosts) and not msg.flags & TC:
            # In-zone glue must be given in full (RFC 9471); ask again over TCP to be sure.
            wire, _ = self.q.get(name, NS, dnssec=True)
            (reply,) = yield Tcp(self.roots[start % len(self.roots)], [wire])
            again = self.parse(reply)
            if again is not None:
                for rrset in again.additional:
                    if rrset.rdtype in (A, AAAA):
                        glue[rrset.name].update(rd.address for rd in rrset)
        ds = _find(msg.authority, name, DS)
        sigs = _find(msg.authority, name, RRSIG, DS)
        return _Referral(hosts, dict(glue), ds, sigs)

    def resolve(self, host: dns.name.Name, depth: int = 0) -> Generator[Any, Any, set[str]]:
        """The addresses of ``host``, iteratively from the root (A and AAAA), once per sweep
        and within a budget of questions: a hostile zone on the way (endless referrals,
        glueless name servers whose names need looking up in turn) costs a bounded amount."""
        if host in self.resolved:
            return self.resolved[host]
        self.resolved[host] = set()  # while looking: a loop back to this name finds nothing
        budget = [RESOLUTION_BUDGET]
        found = yield from self._resolve(host, depth, budget)
        self.resolved[host] = found
        return found

    def _resolve(
        self, host: dns.name.Name, depth: int, budget: list[int]
    ) -> Generator[Any, Any, set[str]]:
        found: set[str] = set()
        for rdtype in (A, AAAA):
            if (rdtype == AAAA and self.options.ipv4_only) or (
                rdtype == A and self.options.ipv6_only
            ):
                continue
            servers, qname = list(self.roots), host
            for _ in range(MAX_RESOLUTION_STEPS):
                if budget[0] <= 0:
                    break
                budget[0] -= 1
                msg = yield from self.ask_any(servers, qname, rdtype, dnssec=False)
                if msg is None:
                    break
                answer = _find(msg.answer, qname, rdtype)
                if answer is not None:
                    found.update(rd.address for rd in answer)
                    break
                cname = _find(msg.answer, qname, CNAME)
                if cname is not None:
                    servers, qname = list(self.roots), cname[0].target
                    continue
                cut = next(
                    (r for r in msg.authority if r.rdtype == NS and qname.is_subdomain(r.name)),
                    None,
                )
                if cut is None:
                    break
                nxt = [
                    rd.address
                    for r in msg.additional
                    if r.rdtype in (A, AAAA) and any(r.name == n.target for n in cut)
                    for rd in r
                    if self._family_ok(rd.address)
                ]
                if not nxt and depth < 2:
                    for n in list(cut)[:3]:
                        if n.target in self.resolved:
                            nxt = sorted(self.resolved[n.target])
                        else:
                            self.resolved[n.target] = set()
                            got = yield from self._resolve(n.target, depth + 1, budget)
                            self.resolved[n.target] = got
                            nxt = sorted(got)
                        if nxt:
                            break
                if not nxt:
                    break
                servers = nxt
        return found

    def check(self, tld: str) -> Generator[Any, Any, None]:
        name = dns.name.from_text(tld)
        ref = yield from self.referral(tld, name)
        if ref is None:
            self.add(
                tld, "", "", "PARENT_NO_ANSWER", f"asked {min(3, len(self.roots))} root servers"
            )
            return
        if isinstance(ref, str):
            self.add(tld, "", "", "DELEGATION_MISSING", ref)
            return
        self.servers += len(ref.ns)
        if ref.ds is None:
            self.add(tld, "", "", "UNSIGNED")
        elif self.root_keys is not None:
            code, detail, _ = self.validate(ROOT, ref.ds, ref.ds_sigs, self.root_keys)
            if code:
                self.add(tld, "", "", "PARENT_DS_BOGUS", f"{code}: {detail}")

        addresses: dict[dns.name.Name, list[str]] = {}
        for host in ref.ns:
            glue = sorted(ref.glue.get(host, ()))
            if not glue and host.is_subdomain(name):
                self.add(tld, host.to_text(omit_final_dot=True), "", "GLUE_MISSING")
            elif not glue:
                glue = sorted((yield from self.resolve(host)))
            usable = [a for a in glue if self._family_ok(a)]
            if not glue and not host.is_subdomain(name):
                self.add(tld, host.to_text(omit_final_dot=True), "", "NS_NO_ADDRESS")
            addresses[host] = usable
        targets = [_Target(h, a) for h in ref.ns for a in addresses[h]]
        if not targets:
            self.add(tld, "", "", "ALL_SERVERS_DOWN", "no address to ask")
            return

        signed = ref.ds is not None
        requests: list[Udp | Tcp] = []
        soa_tcp, _ = self.q.get(name, SOA, dnssec=False)
        axfr, _ = self.q.get(name, dns.rdatatype.AXFR, edns=False)
        for t in targets:
            requests.append(self.q.udp(t.address, name, SOA, dnssec=True))
            requests.append(self.q.udp(t.address, name, NS))
            requests.append(Tcp(t.address, [soa_tcp, axfr]))
            if signed:
                requests.append(self.q.udp(t.address, name, DNSKEY, dnssec=True))
        ask_recursion = [t.address for t in targets if t.address not in self.recursion_asked]
        self.recursion_asked.update(ask_recursion)
        for address in ask_recursion:
            requests.append(self.q.udp(address, ROOT, SOA, rd=True))
        replies = yield Batch(requests)
        for address, reply in zip(
            ask_recursion, replies[len(replies) - len(ask_recursion) :], strict=True
        ):
            self.recursion[address] = _recursion_open(reply)
        per = 4 if signed else 3
        # Truncated answers (a large DNSKEY set, a SOA with many signatures) are asked again
        # over TCP, as a resolver would: a truncated answer is not a missing one.
        again = [
            (i * per + j, Tcp(t.address, [self.q.get(name, rdtype, dnssec=True)[0]]))
            for i, t in enumerate(targets)
            for j, rdtype in ((0, SOA), (3, DNSKEY))[: 2 if signed else 1]
            if _truncated(replies[i * per + j])
        ]
        if again:
            answers = yield Batch([request for _, request in again])
            for (index, _), (answer,) in zip(again, answers, strict=True):
                if answer.outcome == Outcome.OK:
                    replies[index] = answer
        # The zone's own addresses of its in-zone servers come with its NS answers; a server
        # that gives minimal answers is asked for them (A and AAAA), once, of one server.
        child_addr = self.child_addresses(name, targets, replies, per)
        missing = [
            h for h in ref.ns if h.is_subdomain(name) and h in ref.glue and h not in child_addr
        ]
        answering = next(
            (t.address for i, t in enumerate(targets) if self._authoritative(replies[i * per])),
            None,
        )
        if missing and answering is not None:
            kinds = [k for k in (A, AAAA) if self._family_ok("::" if k == AAAA else "0.0.0.0")]
            asked = [(h, k) for h in missing for k in kinds]
            answers = yield Batch([self.q.udp(answering, h, k) for h, k in asked])
            for (host, kind), reply in zip(asked, answers, strict=True):
                msg = self.parse(reply)
                rrset = _find(msg.answer, host, kind) if msg is not None else None
                if msg is not None and msg.flags & AA:
                    child_addr.setdefault(host, set()).update(rd.address for rd in (rrset or []))
        self.conclude(tld, name, ref, targets, replies, per, child_addr)

    def _authoritative(self, reply: Reply) -> bool:
        msg = self.parse(reply)
        return msg is not None and bool(msg.flags & AA) and msg.rcode() == dns.rcode.NOERROR

    def child_addresses(
        self, name: dns.name.Name, targets: list[_Target], replies: list[Any], per: int
    ) -> dict[dns.name.Name, set[str]]:
        """The addresses the zone itself gives its in-zone servers, from the additional
        section of its authoritative NS answers."""
        out: dict[dns.name.Name, set[str]] = defaultdict(set)
        for i in range(len(targets)):
            msg = self.parse(replies[i * per + 1])
            if msg is None or not msg.flags & AA:
                continue
            for rrset in msg.additional:
                if rrset.rdtype in (A, AAAA) and rrset.name.is_subdomain(name):
                    out[rrset.name].update(rd.address for rd in rrset)
        return out

    def conclude(
        self,
        tld: str,
        name: dns.name.Name,
        ref: _Referral,
        targets: list[_Target],
        replies: list[Any],
        per: int,
        child_addr: dict[dns.name.Name, set[str]],
    ) -> None:
        mark = len(self.findings)  # this ccTLD's findings are added after it, in one go
        unmeasured = 0
        serials: list[tuple[_Target, int]] = []
        child_ns: set[dns.name.Name] = set()
        answered = 0
        for i, t in enumerate(targets):
            host = t.host.to_text(omit_final_dot=True)
            soa_reply, ns_reply, tcp_replies = replies[i * per : i * per + 3]
            self.recursion_users.append((tld, host, t.address))
            tcp_soa, tcp_axfr = tcp_replies
            if soa_reply.outcome == Outcome.ERROR and soa_reply.errno in NO_ROUTE:
                # Our side: no route to the address's family. Not measured, not blamed.
                self.unmeasured += 1
                unmeasured += 1
                continue
            status, serial, msg = _soa_status(soa_reply, tcp_soa, name, self.parse)
            self.samples.append(
                Sample(
                    tld,
                    host,
                    t.address,
                    status,
                    round(soa_reply.rtt_ms, 3) if soa_reply.rtt_ms is not None else None,
                    round(tcp_soa.rtt_ms, 3) if tcp_soa.outcome == Outcome.OK else None,
                    serial,
                )
            )
            code = {
                Status.UNREACHABLE: "SERVER_UNREACHABLE",
                Status.TIMEOUT: "SERVER_NO_RESPONSE_UDP",
                Status.REFUSED: "LAME_REFUSED",
                Status.SERVFAIL: "LAME_SERVFAIL",
                Status.NOT_AUTHORITATIVE: "LAME_NOT_AUTHORITATIVE",
                Status.NO_SOA: "SOA_NO_ANSWER",
            }.get(status)
            if code:
                detail = {
                    Status.UNREACHABLE: _unreachable(soa_reply, tcp_soa),
                    Status.TIMEOUT: f"no answer to {self.options.tries} tries of "
                    f"{self.options.timeout:g} s",
                }.get(status, "")
                self.add(tld, host, t.address, code, detail)
            if status != Status.UNREACHABLE and tcp_soa.outcome != Outcome.OK:
                self.add(tld, host, t.address, "SERVER_NO_RESPONSE_TCP", tcp_soa.detail)
            if status != Status.OK:
                continue
            answered += 1
            if soa_reply.rtt_ms is not None and soa_reply.rtt_ms > codes.SLOW_MS:
                self.add(tld, host, t.address, "SLOW_RESPONSE", f"{soa_reply.rtt_ms:.0f} ms")
            if serial is not None:
                serials.append((t, serial))
            if tcp_axfr.outcome == Outcome.OK and _transfer_open(tcp_axfr.wire):
                self.add(tld, host, t.address, "AXFR_OPEN")
            nsmsg = self.parse(ns_reply)
            if nsmsg is not None and nsmsg.flags & AA:
                rrset = _find(nsmsg.answer, name, NS)
                if rrset is not None:
                    child_ns.update(rd.target for rd in rrset)
            if ref.ds is not None:
                self.dnssec(
                    tld, host, t.address, name, ref, msg, soa_reply.wire, replies[i * per + 3]
                )
        if not answered:
            if unmeasured < len(targets):
                self.add(tld, "", "", "ALL_SERVERS_DOWN", f"{len(targets)} addresses asked")
            return
        self.gather_dnssec(tld, mark, answered)
        if serials:
            newest = serials[0][1]
            for _, s in serials[1:]:
                if _serial_behind(newest, s):
                    newest = s
            for t, s in serials:
                if _serial_behind(s, newest):
                    self.add(
                        tld,
                        t.host.to_text(omit_final_dot=True),
                        t.address,
                        "SERIAL_BEHIND",
                        f"serial {s}, newest {newest}",
                    )
        if child_ns:
            parent = set(ref.ns)
            for host in sorted(parent - child_ns):
                self.add(tld, host.to_text(omit_final_dot=True), "", "NS_MISSING_AT_CHILD")
            for host in sorted(child_ns - parent):
                self.add(tld, host.to_text(omit_final_dot=True), "", "NS_EXTRA_AT_CHILD")
        for host in ref.ns:
            glue = {a for a in ref.glue.get(host, ()) if self._family_ok(a)}
            if not glue or not host.is_subdomain(name) or host not in child_addr:
                continue
            child = {a for a in child_addr[host] if self._family_ok(a)}
            if glue != child:
                self.add(
                    tld,
                    host.to_text(omit_final_dot=True),
                    "",
                    "GLUE_MISMATCH",
                    f"parent {', '.join(sorted(glue))}; zone {', '.join(sorted(child)) or 'none'}",
                )

    def gather_dnssec(self, tld: str, mark: int, answered: int) -> None:
        """A DNSSEC problem every answering address shows is the zone's: one finding for the
        ccTLD (server "") instead of one per address. One server's own stays its own."""
        mine = [f for f in self.findings[mark:] if f.code in DNSSEC_CODES and f.address]
        by_code: dict[str, list[Finding]] = defaultdict(list)
        for f in mine:
            by_code[f.code].append(f)
        for code, found in by_code.items():
            if len({f.address for f in found}) == answered:
                gone = set(found)
                self.findings = [f for f in self.findings if f not in gone]
                self.add(tld, "", "", code, found[0].detail)

    def dnssec(
        self,
        tld: str,
        host: str,
        address: str,
        name: dns.name.Name,
        ref: _Referral,
        soa: dns.message.Message | None,
        soa_wire: bytes,
        dnskey_reply: Reply,
    ) -> None:
        assert ref.ds is not None
        msg = self.parse(dnskey_reply)
        keys = _find(msg.answer, name, DNSKEY) if msg is not None else None
        if keys is None:
            self.add(tld, host, address, "DNSKEY_MISSING")
            return
        matched = {dns.dnssec.key_id(k) for k in keys for ds in ref.ds if _ds_matches(name, k, ds)}
        if not matched and not all(_supported(ds.algorithm, ds.digest_type) for ds in ref.ds):
            self.add(tld, host, address, "DNSSEC_UNSUPPORTED", _unsupported(ref.ds))
            return
        if not matched:
            tags = ", ".join(str(ds.key_tag) for ds in ref.ds)
            have = ", ".join(str(dns.dnssec.key_id(k)) for k in keys)
            self.add(tld, host, address, "DS_NO_MATCHING_DNSKEY", f"DS {tags}; DNSKEY {have}")
            return
        sigs = _find(msg.answer, name, RRSIG, DNSKEY)
        keys_wire = dnskey_reply.wire[2:]
        code, detail, key_expiry = self.validate(name, keys, sigs, keys, matched, cache=keys_wire)
        if code:
            self.add(tld, host, address, code, detail)
            return
        soa_set = _find(soa.answer, name, SOA) if soa is not None else None
        if soa_set is None:
            return
        code, detail, soa_expiry = self.validate(
            name, soa_set, _find(soa.answer, name, RRSIG, SOA), keys, cache=soa_wire[2:] + keys_wire
        )
        if code:
            self.add(tld, host, address, code, detail)
            return
        expiry = min(e for e in (key_expiry, soa_expiry) if e is not None)
        days = (expiry - self.now) / 86400
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(expiry))
        if days < codes.EXPIRY_ERROR_DAYS:
            self.add(tld, host, address, "RRSIG_EXPIRES_IMMINENT", f"expires {when}")
        elif days < codes.EXPIRY_WARNING_DAYS:
            self.add(tld, host, address, "RRSIG_EXPIRES_SOON", f"expires {when}")


def _ds_matches(name: dns.name.Name, key: Any, ds: Any) -> bool:
    if dns.dnssec.key_id(key) != ds.key_tag or key.algorithm != ds.algorithm:
        return False
    try:
        return dns.dnssec.make_ds(name, key, ds.digest_type).digest == ds.digest
    except (dns.dnssec.UnsupportedAlgorithm, dns.dnssec.ValidationFailure, ValueError):
        return False


def _supported(algorithm: int, digest_type: int | None = None) -> bool:
    """Whether dnspython (with cryptography) can check this algorithm and digest type."""
    if digest_type is not None and digest_type not in (1, 2, 4):
        return False
    try:
        dns.dnssecalgs.get_algorithm_cls(algorithm)
    except dns.dnssec.UnsupportedAlgorithm:
        return False
    return True


def _unsupported(ds_set: Any) -> str:
    return "; ".join(
        f"DS {ds.key_tag}: algorithm {ds.algorithm}, digest type {ds.digest_type}"
        for ds in ds_set
        if not _supported(ds.algorithm, ds.digest_type)
    )


def _soa_status(
    udp: Reply, tcp: Reply, name: dns.name.Name, parse: _Parser
) -> tuple[str, int | None, dns.message.Message | None]:
    if udp.outcome in (Outcome.ERROR, Outcome.REFUSED):
        return Status.UNREACHABLE, None, None
    if udp.outcome == Outcome.TIMEOUT:
        if tcp.outcome == Outcome.REFUSED:
            return Status.UNREACHABLE, None, None
        return Status.TIMEOUT, None, None
    msg = parse(udp)
    if msg is None:
        return Status.NO_SOA, None, None
    rcode = msg.rcode()
    if rcode == dns.rcode.REFUSED:
        return Status.REFUSED, None, msg
    if rcode == dns.rcode.SERVFAIL:
        return Status.SERVFAIL, None, msg
    if not msg.flags & AA:
        return Status.NOT_AUTHORITATIVE, None, msg
    soa = _find(msg.answer, name, SOA)
    if rcode != dns.rcode.NOERROR or soa is None:
        return Status.NO_SOA, None, msg
    return Status.OK, soa[0].serial, msg


def _unreachable(udp: Reply, tcp: Reply) -> str:
    if udp.outcome == Outcome.TIMEOUT:
        return f"no answer over UDP, TCP connection refused ({tcp.detail})"
    return f"UDP: {udp.detail}; TCP: {tcp.detail or 'connected'}"


def _truncated(reply: Reply) -> bool:
    """An answer with the TC bit (third byte of the header: QR, opcode, AA, TC, RD)."""
    return reply.outcome == Outcome.OK and len(reply.wire) >= 12 and bool(reply.wire[2] & 0x02)


def _transfer_open(wire: bytes) -> bool:
    """The first message of a zone transfer's answer: no error and records (the SOA first)."""
    return len(wire) >= 12 and wire[3] & 0x0F == 0 and int.from_bytes(wire[6:8]) > 0


def _recursion_open(reply: Reply) -> bool:
    """A recursive question for the root's SOA answered by recursion: RA, no error, an answer,
    and no authority of the server's own (AA clear)."""
    wire = reply.wire
    if reply.outcome != Outcome.OK or len(wire) < 12:
        return False
    return (
        bool(wire[3] & 0x80)
        and wire[3] & 0x0F == 0
        and not wire[2] & 0x04
        and int.from_bytes(wire[6:8]) > 0
    )


def sweep(tlds: Iterable[str], options: Options) -> SweepResult:
    """Run every check over ``tlds`` (A-labels) and return what was found."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = SweepResult()
    names = sorted({t.strip().strip(".").lower() for t in tlds if t.strip().strip(".")})
    if not options.root_hints:
        options.root_hints = parse_root_hints(ROOT_HINTS_FILE.read_text())
    anchors = parse_trust_anchor(options.trust_anchor or TRUST_ANCHOR_FILE.read_text())
    run = _Sweep(options)
    if not run.roots:
        raise InvalidInput("No root server address of the address family asked for.")
    run.net.spawn(run.root_keys_task(anchors))
    run.net.run()
    if run.root_unreachable:
        asked = ", ".join(run.roots[:3])
        raise RootUnreachable(
            f"No root server answered ({asked}): this machine cannot reach the DNS. Check its "
            "network, or the root hints and --port."
        )
    if run.root_keys is None:
        # This vantage point's configuration, not a ccTLD's problem: said, not reported.
        result.warnings.append(
            f"The root's keys could not be checked ({run.root_keys_problem}): the parent's DS "
            "records are not validated in this sweep. Check the trust anchor (--trust-anchor)."
        )
    for tld in names:
        run.net.spawn(run.check(tld))
    run.net.run()
    for tld, host, address in run.recursion_users:
        if run.recursion.get(address):
            run.add(tld, host, address, "OPEN_RECURSION")
    if run.unmeasured:
        result.warnings.append(
            f"{run.unmeasured} server addresses could not be asked from here (no route: "
            "IPv6 missing on this machine?); nothing is said about them. "
            "TLDOPS_MONITOR_IPV4_ONLY or --ipv4-only leaves them out."
        )
    result.findings = sorted(set(run.findings))
    result.samples = run.samples
    result.stats = Stats(
        zones=len(names),
        servers=run.servers,
        queries=run.net.queries,
        wall_s=round(time.perf_counter() - wall0, 3),
        cpu_s=round(time.process_time() - cpu0, 3),
    )
    return result
