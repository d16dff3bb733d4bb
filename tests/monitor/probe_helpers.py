"""What the probe tests share: a member's probe, a key, and reports built as data."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tldops.monitor import probe_client
from tldops.monitor.results import Finding, Sample, Stats, SweepResult


def result(started_at: datetime | None = None, tld: str = "fr") -> SweepResult:
    """A small sweep of one ccTLD: one server up, one lame, one finding."""
    return SweepResult(
        started_at=started_at or datetime.now(UTC),
        findings=[Finding(tld, "ns2.nic." + tld, "192.0.2.2", "LAME_REFUSED", "REFUSED")],
        samples=[
            Sample(tld, "ns1.nic." + tld, "192.0.2.1", "ok", 1.5, 3.0, 2026120501),
            Sample(tld, "ns2.nic." + tld, "192.0.2.2", "refused", 1.2, None, None),
            Sample(tld, "ns1.nic." + tld, "2001:db8::1", "ok", 2.5, 4.0, 2026120501),
        ],
        stats=Stats(zones=1, servers=2, queries=6, wall_s=0.2, cpu_s=0.01),
    )


def known_servers(tld) -> None:
    """The catalog's name servers of ``tld`` (a Tld row) that :func:`result` reports about: the
    hub keeps only what a probe says about servers it knows."""
    from tldops.catalog.models import NameServer  # noqa: PLC0415 - needs the database

    NameServer.objects.get_or_create(
        tld=tld,
        hostname="ns1.nic." + tld.alabel,
        defaults={"ipv4": ["192.0.2.1"], "ipv6": ["2001:db8::1"]},
    )
    NameServer.objects.get_or_create(
        tld=tld, hostname="ns2.nic." + tld.alabel, defaults={"ipv4": ["192.0.2.2"]}
    )


def report(
    key: Ed25519PrivateKey, report_id: str | None = None, **changes: Any
) -> tuple[bytes, str]:
    """A signed report body (as the probe makes it) with ``changes`` to its JSON before signing."""
    data = {**result().to_json(), "report_id": report_id or uuid.uuid4().hex, **changes}
    body = json.dumps(data, separators=(",", ":")).encode()
    return body, base64.b64encode(key.sign(body)).decode()


def public(key: Ed25519PrivateKey) -> str:
    return probe_client.public_key_b64(key)


def new_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()
