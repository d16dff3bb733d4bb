"""A real authoritative DNS server for the tests: Debian's NSD on 127.0.0.1 with zones we write.

``NsdServer(workdir, zones).start()`` writes ``nsd.conf`` and one zone file per zone under
``workdir``, runs ``nsd -d`` (foreground) on a free loopback port, and waits (bounded) until it
answers. ``restart(zones)`` serves changed zones on the same port; ``stop()`` ends
it. The ``nsd`` fixture gives a started server for one test; :func:`zone` builds zone text.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import pytest

from tldops.ops.processes import terminate

NSD = shutil.which("nsd") or "/usr/sbin/nsd"


def zone(origin: str, records: list[str], *, serial: int = 1, minimum: int = 60) -> str:
    """A zone file for ``origin``: SOA, NS and ``records`` (relative or absolute owner names)."""
    head = [
        f"$ORIGIN {origin}.",
        "$TTL 3600",
        f"@ IN SOA ns.{origin}. hostmaster.{origin}. {serial} 3600 600 86400 {minimum}",
        f"@ IN NS ns.{origin}.",
        "ns IN A 127.0.0.1",
    ]
    return "\n".join(head + records) + "\n"


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                    udp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port for NSD")


class NsdServer:
    def __init__(self, workdir: Path, zones: dict[str, str]) -> None:
        self.dir = workdir
        self.zones = dict(zones)
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._stderr = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _write(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        for origin, text in self.zones.items():
            (self.dir / f"{origin}.zone").write_text(text)
        zones = "".join(
            f"zone:\n  name: {origin}\n  zonefile: {origin}.zone\n" for origin in self.zones
        )
        d = self.dir
        (d / "nsd.conf").write_text(
            "server:\n"
            f"  ip-address: 127.0.0.1@{self.port}\n"
            f"  port: {self.port}\n"
            "  do-ip6: no\n"
            '  username: ""\n'
            '  chroot: ""\n'
            f'  zonesdir: "{d}"\n'
            '  database: ""\n'
            f'  zonelistfile: "{d}/zone.list"\n'
            f'  xfrdfile: "{d}/xfrd.state"\n'
            f'  xfrdir: "{d}/xfr"\n'
            f'  pidfile: "{d}/nsd.pid"\n'
            f'  logfile: "{d}/nsd.log"\n'
            "  server-count: 1\n"
            "  verbosity: 1\n"
            "remote-control:\n"
            "  control-enable: no\n" + zones
        )

    def start(self) -> NsdServer:
        self.port = self.port or free_port()
        self._write()
        self._stderr = open(self.dir / "stderr.log", "ab")  # noqa: SIM115 — closed in stop()
        self.proc = subprocess.Popen(
            [NSD, "-d", "-c", str(self.dir / "nsd.conf")],
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        origin = next(iter(self.zones))
        self.wait_for(origin, "SOA", lambda response: response.rcode() == dns.rcode.NOERROR)
        return self

    def query(self, name: str, rdtype: str) -> dns.message.Message:
        request = dns.message.make_query(name, rdtype)
        return dns.query.udp(request, "127.0.0.1", port=self.port, timeout=0.5)

    def wait_for(self, name: str, rdtype: str, ready, *, within: float = 15.0) -> None:
        """Query until ``ready(response)`` is true; fail (with NSD's log) after ``within`` seconds."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                break
            try:
                if ready(self.query(name, rdtype)):
                    return
            except (dns.exception.Timeout, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"NSD on {self.address} not ready for {name} {rdtype}:\n{self.log()}")

    def restart(self, zones: dict[str, str]) -> None:
        """Serve changed zones: stop, rewrite the zone files, start again on the same port.

        (A SIGHUP reload would let the old server process answer for a moment beside the new.)
        """
        self.stop()
        self.zones.update(zones)
        self.start()

    def log(self) -> str:
        parts = []
        for name in ("nsd.log", "stderr.log"):
            path = self.dir / name
            if path.exists():
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)

    def stop(self) -> None:
        if self.proc is not None:
            terminate([self.proc], 10, "NSD")
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


def serve(tmp_path: Path, zones: dict[str, str]):
    """Start NSD for ``zones`` under ``tmp_path``; a generator for fixtures (stops at teardown)."""
    if not Path(NSD).exists():
        pytest.fail("NSD is not installed: apt-get install nsd (scripts/test installs it)")
    server = NsdServer(tmp_path / "nsd", zones).start()
    try:
        yield server
    finally:
        server.stop()
