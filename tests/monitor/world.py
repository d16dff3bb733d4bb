"""A simulated ccTLD world on loopback: real name servers the monitor is swept against.

Debian's NSD serves synthetic ccTLD zones (some signed with ldns-signzone) on many 127.x
addresses, all on one port; a synthetic signed root zone "." delegates to every ccTLD with NS
records, glue for every name server host (as the real root has) and DS records for the signed
ones. Faults are injected per ccTLD (see :data:`FAULTS`): a stopped server, one that drops
packets, a stale serial, a lame server, signatures about to expire, a DS that matches no key, an
open AXFR, open recursion (Unbound), glue that differs from the child, a server the child does not
list. :attr:`World.expected` says which findings the monitor should report for each faulty ccTLD.

    with World(specs) as world:   # or world.start() ... world.stop()
        world.port, world.root_hints_path, world.trust_anchor_path, world.expected

``World.generate(...)`` builds a world the size of the real one for the benchmark. Every process
started here is stopped by :meth:`World.stop`; nothing leaves 127.0.0.0/8 and ::1.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import json
import os
import random
import selectors
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode

from tldops.ops.processes import terminate

NSD = shutil.which("nsd") or "/usr/sbin/nsd"
NSD_CONTROL = shutil.which("nsd-control") or "/usr/sbin/nsd-control"
UNBOUND = shutil.which("unbound") or "/usr/sbin/unbound"
KEYGEN = shutil.which("ldns-keygen") or "/usr/bin/ldns-keygen"
SIGNZONE = shutil.which("ldns-signzone") or "/usr/bin/ldns-signzone"
KEY2DS = shutil.which("ldns-key2ds") or "/usr/bin/ldns-key2ds"
ALGORITHM = "ECDSAP256SHA256"

#: The faults a ccTLD can be given, and the server they apply to (:attr:`TldSpec.faulty`).
STOPPED = "stopped"  # nothing listens at the server's addresses
DROPS = "drops"  # a socket reads UDP and TCP at the server's addresses and never answers
STALE = "stale"  # the server is another NSD with the zone at a lower serial
LAME = "lame"  # the server's NSD does not have the zone: REFUSED
EXPIRING = "expiring"  # the zone's signatures expire in a day
DS_MISMATCH = "ds_mismatch"  # the root's DS matches no key of the zone
AXFR_OPEN = "axfr_open"  # NSD transfers the zone to anyone
OPEN_RECURSION = "open_recursion"  # the server is an Unbound, authoritative and open resolver
GLUE_MISMATCH = "glue_mismatch"  # the root's glue differs from the child's A record
NS_MISSING_AT_CHILD = "ns_missing_at_child"  # the root delegates to a server the child omits
FAULTS = (
    STOPPED,
    DROPS,
    STALE,
    LAME,
    EXPIRING,
    DS_MISMATCH,
    AXFR_OPEN,
    OPEN_RECURSION,
    GLUE_MISMATCH,
    NS_MISSING_AT_CHILD,
)
#: Faults about one server (the others are about the zone as a whole).
SERVER_FAULTS = frozenset(
    {STOPPED, DROPS, STALE, LAME, OPEN_RECURSION, GLUE_MISMATCH, NS_MISSING_AT_CHILD}
)
SIGNED_FAULTS = frozenset({EXPIRING, DS_MISMATCH})

SERIAL = 2026120501
ROOT_SERVERS = ("a.root.test", "b.root.test", "c.root.test")


@dataclass
class NameServer:
    host: str  # "ns1.fr": lower case, no trailing dot
    addresses: list[str]  # as the root's glue gives them


@dataclass
class TldSpec:
    """One ccTLD of the world.

    ``servers``: (host, [addresses]) pairs or :class:`NameServer`; a host may serve several ccTLDs
    (give it the same addresses each time) and lives in the zone of the world ccTLD it ends with.
    ``fault``: one of :data:`FAULTS` or None; a server fault applies to ``servers[faulty]``,
    which must be a host of this ccTLD's own zone that no other ccTLD uses.
    """

    name: str  # A-label without the dot: "fr", "xn--p1ai"
    servers: list[NameServer]
    signed: bool = False
    csk: bool = True  # one combined key; False: a KSK and a ZSK
    big_keys: bool = False  # four more RSA keys published: the DNSKEY answer exceeds 1232 bytes
    fault: str | None = None
    faulty: int = -1

    def __post_init__(self) -> None:
        self.name = self.name.strip(".").lower()
        self.servers = [
            s if isinstance(s, NameServer) else NameServer(s[0].strip(".").lower(), list(s[1]))
            for s in self.servers
        ]
        if self.fault is not None and self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}")
        if self.fault in SIGNED_FAULTS:
            self.signed = True

    @property
    def fault_server(self) -> NameServer | None:
        return self.servers[self.faulty] if self.fault in SERVER_FAULTS else None


class Addresses:
    """Loopback addresses handed out in order: 127.<a>.<b>.<c>, never .0 or .255 last."""

    def __init__(self, first: int = 53) -> None:
        self._next = first << 16

    def __call__(self) -> str:
        while True:
            n = self._next
            self._next += 1
            if n & 0xFF not in (0, 255):
                return f"127.{(n >> 16) & 0xFF}.{(n >> 8) & 0xFF}.{n & 0xFF}"


def _bindable(port: int) -> bool:
    """Whether ``port`` is free on every address, UDP and TCP, IPv4 and IPv6 (a wildcard bind
    fails when any address has it)."""
    try:
        for family, kind, host in (
            (socket.AF_INET, socket.SOCK_STREAM, "0.0.0.0"),
            (socket.AF_INET, socket.SOCK_DGRAM, "0.0.0.0"),
            (socket.AF_INET6, socket.SOCK_STREAM, "::"),
            (socket.AF_INET6, socket.SOCK_DGRAM, "::"),
        ):
            with socket.socket(family, kind) as s:
                if family == socket.AF_INET6:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s.bind((host, port))
    except OSError:
        return False
    return True


def free_port() -> int:
    """A high port nothing uses on any address."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("0.0.0.0", 0))
            port = probe.getsockname()[1]
        if _bindable(port):
            return port
    raise RuntimeError("no free port")


def _run(args: list[str], cwd: Path) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")


def _addr(address: str, port: int) -> str:
    return f"{address}@{port}"


def _query(address: str, port: int, name: str, rdtype: str, timeout: float = 0.5):
    request = dns.message.make_query(name, rdtype, use_edns=0, payload=1232)
    return dns.query.udp(request, address, port=port, timeout=timeout)


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the process that started it dies, so that a test
    run killed outright (no finalizers) leaves no server behind (Linux's PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG


class Process:
    """One server process we started (NSD or Unbound), its directory and its log."""

    def __init__(self, name: str, directory: Path, args: list[str]) -> None:
        self.name = name
        self.dir = directory
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None
        self.conf: Path | None = None  # NSD's, for nsd-control
        self._log = None

    def start(self) -> None:
        self._log = open(self.dir / "stderr.log", "ab")  # noqa: SIM115 — closed in stop()
        self.proc = subprocess.Popen(
            self.args, stdout=self._log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        parts = []
        for path in sorted(self.dir.glob("*.log")):
            parts.append(path.read_text(errors="replace")[-4000:])
        return "\n".join(parts)

    def stop(self) -> None:
        if self.proc is not None:
            terminate([self.proc], 10, "name server")
        if self._log is not None:
            self._log.close()
            self._log = None


class Dropper:
    """Sockets bound on UDP and TCP at some addresses that read everything and answer nothing:
    a server whose answers never come back. One thread; TCP connections are accepted, read and
    kept open (at most ``keep``, the oldest closed first) until :meth:`stop`."""

    def __init__(self, addresses: Sequence[str], port: int, keep: int = 64) -> None:
        self.addresses = list(addresses)
        self.port = port
        self.keep = keep
        self._sel = selectors.DefaultSelector()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._socks: list[socket.socket] = []
        self._conns: list[socket.socket] = []
        self.received = 0  # UDP messages and TCP connections swallowed

    def start(self) -> None:
        for address in self.addresses:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            udp = socket.socket(family, socket.SOCK_DGRAM)
            udp.bind((address, self.port))
            tcp = socket.socket(family, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind((address, self.port))
            tcp.listen(16)
            for s in (udp, tcp):
                s.setblocking(False)
                self._socks.append(s)
            self._sel.register(udp, selectors.EVENT_READ, "udp")
            self._sel.register(tcp, selectors.EVENT_READ, "listen")
        self._thread = threading.Thread(target=self._loop, name="world-dropper", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._sel.select(timeout=0.2):
                sock = key.fileobj
                with contextlib.suppress(OSError):
                    if key.data == "udp":
                        sock.recvfrom(65535)
                        self.received += 1
                    elif key.data == "listen":
                        conn, _ = sock.accept()
                        self.received += 1
                        conn.setblocking(False)
                        self._conns.append(conn)
                        self._sel.register(conn, selectors.EVENT_READ, "conn")
                        if len(self._conns) > self.keep:
                            old = self._conns.pop(0)
                            self._sel.unregister(old)
                            old.close()
                    elif not sock.recv(65535):  # the client closed
                        self._sel.unregister(sock)
                        self._conns.remove(sock)
                        sock.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for s in self._socks + self._conns:
            s.close()
        self._sel.close()


@dataclass
class _Zone:
    spec: TldSpec
    text: str = ""  # the zone file served (signed when the spec is)
    stale_text: str = ""  # the same zone one serial behind (fault STALE)
    ds: list[str] = field(default_factory=list)  # DS lines for the root


class World:
    """The simulated world: build with :meth:`start` (or ``with World(specs) as world``)."""

    def __init__(
        self,
        specs: Iterable[TldSpec],
        *,
        workdir: Path | None = None,
        port: int = 0,
        root_addresses: Sequence[str] = ("127.53.255.1", "127.53.255.2"),
        addresses: Addresses | None = None,
        ready_within: float = 20.0,
    ) -> None:
        self.specs = list(specs)
        self.tlds = [s.name for s in self.specs]
        if len(set(self.tlds)) != len(self.tlds):
            raise ValueError("a ccTLD appears twice")
        self._own_dir = workdir is None
        self.dir = Path(workdir or tempfile.mkdtemp(prefix="tldops-world-"))
        self.port = port
        self.root_addresses = list(root_addresses)[: len(ROOT_SERVERS)]
        self._alloc = addresses or Addresses(first=61)
        self.ready_within = ready_within
        self.root_hints_path = self.dir / "named.root"
        self.trust_anchor_path = self.dir / "root-anchor.ds"  # DS form, as dig prints it
        self.trust_anchor_dnskey_path = self.dir / "root-anchor.dnskey"
        self.expected: dict[str, set[tuple[str, str]]] = {}
        self.processes: list[Process] = []
        self.dropper: Dropper | None = None
        self.build_s = 0.0  # zones written and signed
        self.start_s = 0.0  # servers started and answering
        self._zones: dict[str, _Zone] = {}
        self._hosts: dict[str, NameServer] = {}  # host -> its addresses (glue)
        self._child_address: dict[str, str] = {}  # GLUE_MISMATCH host -> the child's address
        self._check()

    # -- the spec -------------------------------------------------------------------------------

    def _check(self) -> None:
        names = set(self.tlds)
        users: dict[str, set[str]] = {}
        for spec in self.specs:
            if len(spec.servers) < 2 and spec.fault in SERVER_FAULTS:
                raise ValueError(f"{spec.name}: a server fault needs two servers or more")
            for server in spec.servers:
                known = self._hosts.setdefault(server.host, server)
                if sorted(known.addresses) != sorted(server.addresses):
                    raise ValueError(f"{server.host} given two sets of addresses")
                users.setdefault(server.host, set()).add(spec.name)
                if self.owner(server.host) not in names:
                    raise ValueError(f"{server.host} is in no ccTLD of the world")
        for spec in self.specs:
            bad = spec.fault_server
            if bad is None:
                continue
            if self.owner(bad.host) != spec.name or users[bad.host] != {spec.name}:
                raise ValueError(f"{spec.name}: the faulty server must be its own, not shared")
            if spec.fault == OPEN_RECURSION and any(":" in a for a in bad.addresses):
                raise ValueError("the open resolver is IPv4 only")
        for spec in self.specs:  # a host in a faulty zone would carry the fault elsewhere
            for server in spec.servers:
                owner = self.owner(server.host)
                fault = self.spec(owner).fault
                if owner != spec.name and fault in (STOPPED, DROPS, LAME, STALE):
                    if self.spec(owner).fault_server.host == server.host:
                        raise ValueError(f"{server.host} is faulty and serves {spec.name}")

    def owner(self, host: str) -> str:
        """The world ccTLD whose zone holds ``host``'s address records."""
        return host.rsplit(".", 1)[-1]

    def spec(self, tld: str) -> TldSpec:
        return next(s for s in self.specs if s.name == tld)

    # -- building -------------------------------------------------------------------------------

    def __enter__(self) -> World:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> World:
        """Write and sign every zone, start every server, wait until each answers."""
        began = time.monotonic()
        try:
            if self.port and not _bindable(self.port):
                raise RuntimeError(f"port {self.port} is in use on some address: stop that first")
            self.port = self.port or free_port()
            for sub in ("keys", "zones", "root", "main", "aux", "unbound"):
                (self.dir / sub).mkdir(parents=True, exist_ok=True)
            self._build_zones()
            self._build_root()
            self.build_s = time.monotonic() - began
            self._start_servers()
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self.start_s = time.monotonic() - began
        self.expected = self._expected()
        (self.dir / "expected.json").write_text(
            json.dumps({t: sorted(map(list, e)) for t, e in self.expected.items()}, indent=1)
        )
        return self

    def _zone_text(self, spec: TldSpec, serial: int) -> str:
        origin = spec.name + "."
        child_ns = [s for i, s in enumerate(spec.servers) if not self._omitted_at_child(spec, i)]
        lines = [
            f"$ORIGIN {origin}",
            "$TTL 3600",
            f"@ IN SOA {child_ns[0].host}. hostmaster.nic.{origin} {serial} 3600 600 604800 300",
        ]
        lines += [f"@ IN NS {s.host}." for s in child_ns]
        for host in sorted(h for h in self._hosts if self.owner(h) == spec.name):
            for address in self._hosts[host].addresses:
                address = self._child_address.get(host, address) if ":" not in address else address
                kind = "AAAA" if ":" in address else "A"
                lines.append(f"{host}. IN {kind} {address}")
        lines += [
            "nic IN A 192.0.2.53",
            "nic IN AAAA 2001:db8::53",
            "www IN CNAME nic",
            '@ IN TXT "a ccTLD of the tldops simulated world"',
            "example IN MX 10 mail.example",
            "mail.example IN A 192.0.2.25",
        ]
        return "\n".join(lines) + "\n"

    @staticmethod
    def _omitted_at_child(spec: TldSpec, index: int) -> bool:
        return spec.fault == NS_MISSING_AT_CHILD and spec.servers[index] is spec.fault_server

    def _build_zones(self) -> None:
        used = {a for s in self._hosts.values() for a in s.addresses} | set(self.root_addresses)
        for spec in self.specs:
            bad = spec.fault_server
            if spec.fault == GLUE_MISMATCH:
                address = self._alloc()
                while address in used:
                    address = self._alloc()
                self._child_address[bad.host] = address
            self._zones[spec.name] = _Zone(spec)
        now = dt.datetime.now(dt.UTC)

        def make(zone: _Zone) -> None:
            spec = zone.spec
            zone.text = self._zone_text(spec, SERIAL)
            if spec.fault == STALE:
                zone.stale_text = self._zone_text(spec, SERIAL - 1)
            if spec.signed:
                if spec.big_keys:  # published, not signing: as during a rollover
                    for n in range(4):
                        key = self._keygen(spec.name, ksk=False, tag=f"big{n}", rsa=True)
                        zone.text += Path(str(key) + ".key").read_text()
                if spec.fault == EXPIRING:
                    window = (now - dt.timedelta(days=6), now + dt.timedelta(days=1))
                else:
                    window = (now - dt.timedelta(hours=1), now + dt.timedelta(days=30))
                zone.text, zone.ds, zone.stale_text = self._sign(
                    spec.name, zone.text, window, csk=spec.csk, stale=zone.stale_text
                )
                if spec.fault == DS_MISMATCH:  # a key the zone never had
                    other = self._keygen(spec.name, ksk=True, tag="other")
                    zone.ds = self._key2ds(other)

        jobs = list(self._zones.values())
        with ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 2) * 2)) as pool:
            list(pool.map(make, jobs))

    def _keygen(self, name: str, *, ksk: bool, tag: str, rsa: bool = False) -> Path:
        where = self.dir / "keys" / (name or "root") / tag
        where.mkdir(parents=True, exist_ok=True)
        algorithm = ["-a", "RSASHA256", "-b", "2048"] if rsa else ["-a", ALGORITHM]
        args = [KEYGEN, *algorithm] + (["-k"] if ksk else []) + [name + "."]
        base = _run(args, where).strip()
        return where / base

    def _key2ds(self, key: Path) -> list[str]:
        out = _run([KEY2DS, "-n", "-2", str(key) + ".key"], key.parent)
        return [line for line in out.splitlines() if line.strip()]

    def _sign(
        self,
        name: str,
        text: str,
        window: tuple[dt.datetime, dt.datetime],
        *,
        csk: bool,
        stale: str = "",
    ) -> tuple[str, list[str], str]:
        """``text`` signed by ldns-signzone with a CSK or a KSK+ZSK; the DS lines of its KSK;
        ``stale`` (an older version of the zone) signed with the same keys."""
        ksk = self._keygen(name, ksk=True, tag="ksk")
        keys = [ksk] if csk else [self._keygen(name, ksk=False, tag="zsk"), ksk]
        where = ksk.parent.parent
        out = []
        for label, content in (("zone", text), ("stale", stale)):
            if not content:
                out.append("")
                continue
            unsigned = where / label
            unsigned.write_text(content)
            signed = where / f"{label}.signed"
            _run(
                [SIGNZONE, "-i", _stamp(window[0]), "-e", _stamp(window[1]), "-f", str(signed)]
                + ["-o", name + ".", str(unsigned)]
                + [str(k) for k in keys],
                where,
            )
            out.append(signed.read_text())
        return out[0], self._key2ds(ksk), out[1]

    def _build_root(self) -> None:
        if not self.root_addresses:
            raise ValueError("the world needs a root server")
        names = ROOT_SERVERS[: len(self.root_addresses)]
        lines = [
            "$ORIGIN .",
            "$TTL 86400",
            f". IN SOA {names[0]}. nstld.root.test. {SERIAL} 1800 900 604800 86400",
        ]
        lines += [f". IN NS {n}." for n in names]
        lines += [f"{n}. IN A {a}" for n, a in zip(names, self.root_addresses, strict=True)]
        for spec in self.specs:
            for server in spec.servers:
                lines.append(f"{spec.name}. 172800 IN NS {server.host}.")
            lines += self._zones[spec.name].ds
        for host in sorted(self._hosts):
            for address in self._hosts[host].addresses:
                lines.append(f"{host}. 172800 IN {'AAAA' if ':' in address else 'A'} {address}")
        now = dt.datetime.now(dt.UTC)
        text, ds, _ = self._sign(
            "",
            "\n".join(lines) + "\n",
            (now - dt.timedelta(hours=1), now + dt.timedelta(days=30)),
            csk=True,
        )
        (self.dir / "root" / "root.zone").write_text(text)
        self.trust_anchor_path.write_text("\n".join(ds) + "\n")
        dnskeys = [
            line
            for line in text.splitlines()
            if "\tDNSKEY\t257 " in line or "\tDNSKEY\t257\t" in line
        ]
        self.trust_anchor_dnskey_path.write_text("\n".join(dnskeys) + "\n")
        hints = [f".\t3600000\tNS\t{n.upper()}." for n in names]
        hints += [
            f"{n.upper()}.\t3600000\tA\t{a}"
            for n, a in zip(names, self.root_addresses, strict=True)
        ]
        self.root_hints_path.write_text("\n".join(hints) + "\n")

    # -- servers --------------------------------------------------------------------------------

    def _nsd(self, name: str, addresses: list[str], zones: dict[str, tuple[str, bool]]) -> Process:
        """An NSD instance on ``addresses``; ``zones``: origin -> (zone text, AXFR open)."""
        d = self.dir / name
        d.mkdir(parents=True, exist_ok=True)
        blocks = []
        for origin, (text, axfr) in zones.items():
            file = d / f"{origin or 'root'}.zone"
            file.write_text(text)
            blocks.append(f'zone:\n  name: "{origin}."\n  zonefile: "{file}"\n')
            if axfr:
                blocks.append("  provide-xfr: 0.0.0.0/0 NOKEY\n  provide-xfr: ::/0 NOKEY\n")
        ip6 = any(":" in a for a in addresses)
        listen = "".join(f"  ip-address: {_addr(a, self.port)}\n" for a in addresses)
        (d / "nsd.conf").write_text(
            "server:\n"
            + listen
            + f"  port: {self.port}\n"
            + f"  do-ip4: yes\n  do-ip6: {'yes' if ip6 else 'no'}\n"
            + '  username: ""\n  chroot: ""\n'
            + f'  zonesdir: "{d}"\n  database: ""\n'
            + f'  zonelistfile: "{d}/zone.list"\n  xfrdfile: "{d}/xfrd.state"\n'
            + f'  xfrdir: "{d}/xfr"\n  pidfile: "{d}/nsd.pid"\n  logfile: "{d}/nsd.log"\n'
            + "  server-count: 1\n  verbosity: 1\n  refuse-any: yes\n"
            + "  tcp-count: 256\n  reuseport: no\n"
            # Debian builds NSD with response rate limiting: 200 answers/s to a /24, the rest
            # dropped or truncated. Every client here is 127.0.0.1: a sweep would trip it.
            + "  rrl-ratelimit: 0\n  rrl-whitelist-ratelimit: 0\n"
            + f'remote-control:\n  control-enable: yes\n  control-interface: "{d}/ctl.sock"\n'
            + "".join(blocks)
        )
        process = Process(name, d, [NSD, "-d", "-c", str(d / "nsd.conf")])
        process.conf = d / "nsd.conf"
        return process

    def _unbound(self, specs: list[TldSpec]) -> Process:
        d = self.dir / "unbound"
        auth = []
        for spec in specs:
            file = d / f"{spec.name}.zone"
            file.write_text(self._zones[spec.name].text)
            auth.append(
                f'auth-zone:\n  name: "{spec.name}."\n  zonefile: "{file}"\n'
                "  for-downstream: yes\n  for-upstream: no\n  fallback-enabled: no\n"
            )
        served = {s.name for s in specs}
        stubs = [
            'stub-zone:\n  name: "."\n'
            + "".join(f"  stub-addr: {_addr(a, self.port)}\n" for a in self.root_addresses)
        ]
        for tld, addresses in self._main_addresses_by_tld().items():
            v4 = [a for a in addresses if ":" not in a]
            if tld not in served and v4:
                stubs.append(
                    f'stub-zone:\n  name: "{tld}."\n'
                    + "".join(f"  stub-addr: {_addr(a, self.port)}\n" for a in v4)
                )
        listen = "".join(
            f"  interface: {_addr(a, self.port)}\n" for s in specs for a in s.fault_server.addresses
        )
        (d / "unbound.conf").write_text(
            "server:\n"
            + listen
            + f"  port: {self.port}\n  do-ip4: yes\n  do-ip6: no\n  do-udp: yes\n  do-tcp: yes\n"
            + f'  chroot: ""\n  username: ""\n  directory: "{d}"\n  pidfile: "{d}/unbound.pid"\n'
            + f'  logfile: "{d}/unbound.log"\n  use-syslog: no\n  do-daemonize: no\n'
            + "  verbosity: 1\n  num-threads: 1\n  so-reuseport: no\n"
            + '  module-config: "iterator"\n'
            + "  access-control: 127.0.0.0/8 allow\n  access-control: ::1/128 allow\n"
            + "  do-not-query-localhost: no\n  outgoing-range: 64\n"
            + "  qname-minimisation: no\n  harden-referral-path: no\n"
            + "remote-control:\n  control-enable: no\n"
            + "".join(auth)
            + "".join(stubs)
        )
        return Process("unbound", d, [UNBOUND, "-d", "-c", str(d / "unbound.conf")])

    def _main_addresses_by_tld(self) -> dict[str, list[str]]:
        """The addresses where the main NSD answers for each ccTLD (its healthy servers)."""
        out: dict[str, list[str]] = {}
        for spec in self.specs:
            bad = spec.fault_server
            out[spec.name] = [
                a
                for s in spec.servers
                if not (bad is not None and s is bad and spec.fault != NS_MISSING_AT_CHILD)
                for a in s.addresses
            ]
        return out

    def _start_servers(self) -> None:
        elsewhere: set[str] = set()  # addresses the main NSD must not take
        aux_addresses: list[str] = []
        aux_zones: dict[str, tuple[str, bool]] = {}
        drop: list[str] = []
        resolvers: list[TldSpec] = []
        for spec in self.specs:
            bad = spec.fault_server
            if bad is None or spec.fault in (GLUE_MISMATCH, NS_MISSING_AT_CHILD):
                continue
            elsewhere.update(bad.addresses)
            if spec.fault in (STALE, LAME):
                aux_addresses += bad.addresses
                if spec.fault == STALE:
                    aux_zones[spec.name] = (self._zones[spec.name].stale_text, False)
            elif spec.fault == DROPS:
                drop += bad.addresses
            elif spec.fault == OPEN_RECURSION:
                resolvers.append(spec)
        main_addresses = sorted(
            {a for s in self._hosts.values() for a in s.addresses} - elsewhere
        ) + sorted(self._child_address.values())
        zones = {s.name: (self._zones[s.name].text, s.fault == AXFR_OPEN) for s in self.specs}
        self.processes.append(self._nsd("main", main_addresses, zones))
        root_zone = (self.dir / "root" / "root.zone").read_text()
        self.processes.append(self._nsd("root", self.root_addresses, {"": (root_zone, False)}))
        if aux_addresses:
            self.processes.append(self._nsd("aux", aux_addresses, aux_zones))
        if resolvers:
            self.processes.append(self._unbound(resolvers))
        for process in self.processes:
            process.start()
        if drop:
            self.dropper = Dropper(drop, self.port)
            self.dropper.start()
        self._probes = [
            (self.processes[0], main_addresses[0], self.specs[0].name),
            (self.processes[1], self.root_addresses[0], "."),
        ]
        if aux_addresses:
            self._probes.append((self.processes[2], aux_addresses[0], "."))
        if resolvers:
            r = resolvers[0]
            self._probes.append((self.processes[-1], r.fault_server.addresses[0], r.name))

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_within
        pending = list(self._probes)
        while pending:
            process, address, name = pending[0]
            if not process.alive():
                raise RuntimeError(f"{process.name} exited:\n{process.log()}")
            try:
                _query(address, self.port, name, "SOA", timeout=0.3)
                pending.pop(0)
                continue
            except (dns.exception.Timeout, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{process.name} not answering on {address}:\n{process.log()}")
            time.sleep(0.05)

    def repair(self, tld: str) -> Process:
        """Start a server where ``tld``'s stopped server should be (fault ``stopped``): an NSD
        serving the zone at that server's addresses, answering when this returns. ``stop()`` it
        to break the ccTLD again (the caller must: the world is shared by a session)."""
        spec = self.spec(tld)
        if spec.fault != STOPPED:
            raise ValueError(f".{tld} has no stopped server to repair")
        bad = spec.fault_server
        assert bad is not None
        process = self._nsd(
            f"repair-{tld}", list(bad.addresses), {tld: (self._zones[tld].text, False)}
        )
        process.start()
        deadline = time.monotonic() + self.ready_within
        while True:
            if not process.alive():
                raise RuntimeError(f"{process.name} exited:\n{process.log()}")
            try:
                _query(bad.addresses[0], self.port, tld, "SOA", timeout=0.3)
                return process
            except (dns.exception.Timeout, OSError):
                if time.monotonic() > deadline:
                    process.stop()
                    raise
                time.sleep(0.05)

    def queries(self) -> int:
        """The queries every NSD of the world (root and ccTLDs) has received so far, from
        ``nsd-control stats_noreset``: what a tool swept against the world cost, counted by the
        servers and not by the tool (plus the packets the dropping address swallowed)."""
        total = self.dropper.received if self.dropper is not None else 0
        for process in self.processes:
            if process.conf is None:
                continue
            out = _run([NSD_CONTROL, "-c", str(process.conf), "stats_noreset"], process.dir)
            for line in out.splitlines():
                if line.startswith("num.queries="):
                    total += int(line.split("=", 1)[1])
        return total

    def stop(self) -> None:
        """Stop every process and thread we started (safe to call twice)."""
        if self.dropper is not None:
            self.dropper.stop()
            self.dropper = None
        for process in self.processes:
            process.stop()
        self.processes = []

    def cleanup(self) -> None:
        """Stop, then remove the working directory when we made it."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- what the monitor should find -----------------------------------------------------------

    def _expected(self) -> dict[str, set[tuple[str, str]]]:
        """For each faulty ccTLD, the (code, server host or "") the monitor should report;
        "" for a finding about the ccTLD as a whole. Healthy ccTLDs: nothing of WARNING or above
        (an unsigned one may get the INFO ``UNSIGNED``, not listed here)."""
        out: dict[str, set[tuple[str, str]]] = {}
        for spec in self.specs:
            bad = spec.fault_server
            host = bad.host if bad is not None else ""
            codes = {
                STOPPED: {("SERVER_UNREACHABLE", host)},
                DROPS: {("SERVER_NO_RESPONSE_UDP", host), ("SERVER_NO_RESPONSE_TCP", host)},
                STALE: {("SERIAL_BEHIND", host)},
                LAME: {("LAME_REFUSED", host)},
                EXPIRING: {("RRSIG_EXPIRES_IMMINENT", "")},
                DS_MISMATCH: {("DS_NO_MATCHING_DNSKEY", "")},
                AXFR_OPEN: {("AXFR_OPEN", s.host) for s in spec.servers},
                OPEN_RECURSION: {("OPEN_RECURSION", host)},
                GLUE_MISMATCH: {("GLUE_MISMATCH", host)},
                NS_MISSING_AT_CHILD: {("NS_MISSING_AT_CHILD", host)},
            }
            if spec.fault is not None:
                out[spec.name] = codes[spec.fault]
        return out

    # -- the sizes of the real world ------------------------------------------------------------

    @classmethod
    def generate(
        cls,
        labels: Sequence[str],
        *,
        n_tlds: int = 309,
        ns_records: int = 1543,
        hosts: int = 1098,
        signed: int = 221,
        faults: dict[str, str] | None = None,
        seed: int = 11,
        **kwargs: object,
    ) -> World:
        """A world of ``n_tlds`` ccTLDs named from ``labels`` (the catalog's A-labels), with
        ``ns_records`` NS records over ``hosts`` distinct hosts (each one IPv4 address; hosts
        beyond two per ccTLD are shared, out-of-zone for most of the ccTLDs they serve), glue
        for all, ``signed`` of them signed; ``faults`` maps a label to a fault (applied to its
        second server, which is always its own)."""
        names = sorted({label.strip(".").lower() for label in labels})[:n_tlds]
        if len(names) < n_tlds:
            raise ValueError(f"{len(names)} labels for {n_tlds} ccTLDs")
        rng = random.Random(seed)
        base, extra = divmod(ns_records, n_tlds)
        counts = [base + (1 if i < extra else 0) for i in range(n_tlds)]
        own = [min(2, c) for c in counts]
        shared_hosts = hosts - sum(own)
        shared_slots = ns_records - sum(own)
        if shared_hosts < 0 or shared_slots < shared_hosts or (shared_slots and not shared_hosts):
            raise ValueError("these counts cannot be met with two own servers per ccTLD")
        alloc = kwargs.pop("addresses", None) or Addresses(first=60)
        pool = [
            NameServer(f"ns{j}.dns.{names[(j * 7) % n_tlds]}", [alloc()])
            for j in range(shared_hosts)
        ]
        faults = faults or {}
        must = {n for n, f in faults.items() if f in SIGNED_FAULTS}
        rest = [n for n in names if n not in must]
        signed_set = must | set(rng.sample(rest, max(0, signed - len(must))))
        specs = []
        slot = 0
        for i, name in enumerate(names):
            servers = [NameServer(f"ns{k + 1}.{name}", [alloc()]) for k in range(own[i])]
            for _ in range(counts[i] - own[i]):
                servers.append(pool[slot % shared_hosts])
                slot += 1
            fault = faults.get(name)
            specs.append(
                TldSpec(
                    name,
                    servers,
                    signed=name in signed_set,
                    csk=True,
                    fault=fault,
                    faulty=1,
                )
            )
        return cls(specs, addresses=alloc, **kwargs)


def standard_specs(addresses: Addresses | None = None) -> list[TldSpec]:
    """The test world: 4 healthy ccTLDs (2 unsigned, 2 signed, one of them an IDN), one ccTLD
    per fault of :data:`FAULTS`. Out-of-zone servers live under the healthy ones."""
    a = addresses or Addresses(first=60)
    ns_nl = NameServer("ns.nl", [a()])  # shared, out-of-zone for most of its ccTLDs
    nic_de = NameServer("a.nic.de", [a()])

    def own(tld: str, n: int = 2) -> list[NameServer]:
        return [NameServer(f"ns{k}.{tld}", [a()]) for k in range(1, n + 1)]

    specs = [
        TldSpec("nl", [NameServer("ns1.nl", [a(), "::1"]), ns_nl, *own("nl")[1:]]),
        TldSpec("be", [*own("be"), ns_nl]),
        TldSpec("de", [nic_de, NameServer("b.nic.de", [a()]), ns_nl], signed=True, csk=False),
        # Signed, healthy, with a DNSKEY answer too big for UDP (asked again over TCP).
        TldSpec("lt", own("lt"), signed=True, big_keys=True),
        TldSpec(
            "xn--p1ai",
            [NameServer("a.dns.xn--p1ai", [a()]), NameServer("b.dns.xn--p1ai", [a()]), nic_de],
            signed=True,
        ),
    ]
    faulty = {
        "at": STOPPED,
        "ch": DROPS,
        "dk": STALE,
        "se": LAME,
        "no": EXPIRING,
        "fi": DS_MISMATCH,
        "is": AXFR_OPEN,
        "ie": OPEN_RECURSION,
        "pt": GLUE_MISMATCH,
        "lu": NS_MISSING_AT_CHILD,
    }
    for i, (tld, fault) in enumerate(faulty.items()):
        third = ns_nl if i % 2 else nic_de
        servers = own(tld) + [third]
        signed = fault in SIGNED_FAULTS or fault == STALE  # the stale copy is signed too
        specs.append(TldSpec(tld, servers, fault=fault, faulty=1, signed=signed))
    return specs


def wait_until(check: Callable[[], bool], within: float = 5.0) -> bool:
    """Poll ``check`` (bounded); for tests that wait on the world."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False
