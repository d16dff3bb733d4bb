"""Sender verification: tldops' own SPF + DKIM + DMARC check beside ``authheaders`` on the same mail.

The issue that brought sender verification asked to measure ``authheaders`` against dkimpy + pyspf
and choose. Both run here in one process, against one real NSD on loopback serving the member
domain's SPF, DKIM and DMARC records, on the same messages: genuine ones (signed, from the
authorised server) and forged ones (a member's From from the attacker's server, unsigned). Both use
the same cached resolver (``tldops.mail.dns``), so the DNS costs the same to both.

Reported: the median wall time per message of each, and whether their verdicts agree. Usage
(``authheaders`` is a peer here, not a dependency: ``.venv/bin/pip install authheaders``)::

    .venv/bin/python bench/sender_auth.py [--messages 300] [--write]
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import platform
import statistics
import sys
import tempfile
import time
from email.message import EmailMessage
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tldops.settings")
os.environ.setdefault("TLDOPS_DATA_DIR", tempfile.mkdtemp(prefix="tldops-bench-"))

import django  # noqa: E402

django.setup()

import dkim  # noqa: E402
from django.conf import settings  # noqa: E402

from bench.report import cpu_model, write_section  # noqa: E402
from tests.lists.keys import dkim_record, rsa_keypair  # noqa: E402
from tests.lists.nsd import NsdServer, zone  # noqa: E402
from tldops.mail import dns as list_dns  # noqa: E402
from tldops.mail import senderauth  # noqa: E402

SELECTOR = "s2026"
GOOD, ATTACKER = "127.0.0.10", "127.0.0.66"
START = "<!-- bench/sender_auth.py: start -->"
END = "<!-- bench/sender_auth.py: end -->"


def messages(n: int, private: bytes) -> list[tuple[bytes, str, str, bool]]:
    """(raw, connecting address, envelope sender, genuine?) — half genuine, half forged."""
    out = []
    for i in range(n):
        msg = EmailMessage()
        msg["From"] = "Ana Lopez <ana@nic.fr>"
        msg["To"] = settings.LIST_ADDRESS
        msg["Subject"] = f"Random-subdomain flood, report {i}"
        msg["Message-ID"] = f"<bench-{i}@nic.fr>"
        msg.set_content("We see a flood of random subdomain queries.\n" * 20)
        raw = msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        if i % 2 == 0:
            sig = dkim.sign(raw, SELECTOR.encode(), b"nic.fr", private)
            out.append((sig + raw, GOOD, "ana@nic.fr", True))
        else:
            out.append((raw, ATTACKER, "x@evil.example", False))
    return out


def ours(raw: bytes, peer: str, mail_from: str) -> bool:
    inbound = SimpleNamespace(raw=raw, mail_from=mail_from, peer=peer, helo="mx.test", pk=None)
    inbound.auth_results = ""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return senderauth.check(inbound, msg).authentic


def theirs(raw: bytes, peer: str, mail_from: str) -> bool:
    import authheaders

    def dnsfunc(name, timeout=5):
        """dkimpy asks with bytes and wants bytes; authheaders' DMARC look-up asks with str."""
        text = name.decode() if isinstance(name, bytes) else name
        records = list_dns.txt(text)
        if not records:
            return None
        return records[0].encode() if isinstance(name, bytes) else records[0]

    header = authheaders.authenticate_message(
        raw,
        settings.AUTHSERV_ID,
        spf=True,
        dkim=True,
        dmarc=True,
        ip=peer,
        mail_from=mail_from,
        helo="mx.test",
        dnsfunc=dnsfunc,
    )
    return "dmarc=pass" in header


def timed(fn, batch) -> tuple[list[float], list[bool]]:
    times, verdicts = [], []
    for raw, peer, mail_from, _genuine in batch:
        start = time.perf_counter()
        verdicts.append(fn(raw, peer, mail_from))
        times.append(time.perf_counter() - start)
    return times, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--write", action="store_true", help="write docs/benchmarks.md")
    args = parser.parse_args()
    try:
        import authheaders  # noqa: F401
    except ImportError:
        sys.exit("authheaders is not installed: .venv/bin/pip install authheaders")

    work = Path(tempfile.mkdtemp(prefix="tldops-senderauth-"))
    key_file, public = rsa_keypair(work)
    private = key_file.read_bytes()
    record = dkim_record(public)
    nsd = NsdServer(
        work / "nsd",
        {
            "nic.fr": zone(
                "nic.fr",
                [
                    f'@ IN TXT "v=spf1 ip4:{GOOD} -all"',
                    '_dmarc IN TXT "v=DMARC1; p=reject"',
                    f"{SELECTOR}._domainkey IN TXT {record}",
                ],
            ),
            "evil.example": zone("evil.example", [f'@ IN TXT "v=spf1 ip4:{ATTACKER} -all"']),
        },
    ).start()
    try:
        settings.DNS_RESOLVER = nsd.address
        settings.VERIFY_SENDERS = True
        settings.LIST_TRUSTED_AUTHSERV_ID = ""
        list_dns.clear_cache()
        batch = messages(args.messages, private)
        timed(ours, batch[:10])  # warm the DNS cache and the imports for both
        timed(theirs, batch[:10])
        ours_t, ours_v = timed(ours, batch)
        theirs_t, theirs_v = timed(theirs, batch)
    finally:
        nsd.stop()
    truth = [genuine for *_rest, genuine in batch]
    ms = lambda xs: statistics.median(xs) * 1000  # noqa: E731
    body = "\n".join(
        [
            "## Sender verification (SPF, DKIM, DMARC)",
            "",
            f"`bench/sender_auth.py`, {len(batch)} messages (half signed from the authorised "
            "server, half forged from another), one NSD on loopback, the same cached resolver for "
            f"both. {cpu_model() or platform.machine()}, Python {platform.python_version()}.",
            "",
            "| checker | median per message | verdicts right |",
            "|---|---|---|",
            f"| tldops (`mail/senderauth.py`: dkimpy + pyspf + own alignment) | "
            f"{ms(ours_t):.2f} ms | {sum(a == b for a, b in zip(ours_v, truth, strict=True))}"
            f"/{len(batch)} |",
            f"| authheaders {version('authheaders')} (pyspf and dkimpy inside) | "
            f"{ms(theirs_t):.2f} ms | {sum(a == b for a, b in zip(theirs_v, truth, strict=True))}"
            f"/{len(batch)} |",
            "",
            "Choice: tldops keeps its own alignment on dkimpy + pyspf. Besides the numbers, "
            "authheaders judges organisational domains with the Public Suffix List frozen in "
            "`publicsuffix2` (2019), returns only a header string to parse back, and its SPF "
            "look-ups go through pyspf's global resolver unless patched as we do.",
        ]
    )
    print(body)
    if args.write:
        write_section(START, END, body)


if __name__ == "__main__":
    main()
