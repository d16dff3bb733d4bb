"""What a sweep returns: findings, one sample per server address (the time series), and its cost.

The same shapes travel from a member's probe to the hub (:meth:`SweepResult.to_json` /
:meth:`SweepResult.from_json`), so a probe's report and the hub's own sweep are stored alike.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from tldops.monitor.codes import CODES, Severity


@dataclass(frozen=True, order=True)
class Finding:
    tld: str  # the ccTLD's A-label without the dot: "fr", "xn--p1ai"
    server: str  # the name server's host name, "" for a finding about the whole ccTLD
    address: str  # the address asked, "" when the finding is not about one address
    code: str  # a key of tldops.monitor.codes.CODES
    detail: str = ""  # one line: what was seen ("serial 2026120501, siblings have 2026120502")

    @property
    def severity(self) -> Severity:
        return CODES[self.code].severity

    def as_dict(self) -> dict[str, str]:
        return {
            "tld": self.tld,
            "server": self.server,
            "address": self.address,
            "code": self.code,
            "severity": self.severity.name,
            "detail": self.detail,
        }


class Status:
    """How one address answered the ccTLD's SOA question (a sample's ``status``)."""

    OK = "ok"
    TIMEOUT = "timeout"  # no answer over UDP within timeout × tries
    UNREACHABLE = "unreachable"  # port closed or host unreachable (ICMP)
    REFUSED = "refused"
    SERVFAIL = "servfail"
    NOT_AUTHORITATIVE = "not_authoritative"
    NO_SOA = "no_soa"
    ALL = (OK, TIMEOUT, UNREACHABLE, REFUSED, SERVFAIL, NOT_AUTHORITATIVE, NO_SOA)


@dataclass(frozen=True)
class Sample:
    """One address of one name server of one ccTLD, as this sweep saw it."""

    tld: str
    server: str
    address: str
    status: str  # one of Status.ALL
    udp_ms: float | None = None  # round trip of the SOA question over UDP
    tcp_ms: float | None = None  # over TCP (connection set-up included)
    serial: int | None = None


@dataclass
class Stats:
    zones: int = 0
    servers: int = 0  # NS records swept (a host serving two ccTLDs counts twice)
    queries: int = 0  # DNS messages sent, UDP and TCP, retries included
    wall_s: float = 0.0
    cpu_s: float = 0.0


@dataclass
class SweepResult:
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    findings: list[Finding] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    stats: Stats = field(default_factory=Stats)
    #: What this vantage point could not check, for the person running it (not stored, not sent).
    warnings: list[str] = field(default_factory=list)
    #: Findings and samples a probe's report carried about servers the hub does not know.
    ignored: int = 0

    def to_json(self, *, samples: bool = True) -> dict[str, Any]:
        """The documented JSON of ``tldops monitor sweep --format json`` (and, with the samples,
        of a probe's report)."""
        out: dict[str, Any] = {
            "started_at": self.started_at.isoformat(),
            "findings": [f.as_dict() for f in sorted(self.findings)],
            "stats": asdict(self.stats),
        }
        if samples:
            out["samples"] = [asdict(s) for s in self.samples]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SweepResult:
        """The inverse of :meth:`to_json`, for data already validated by the API's schema."""
        started = datetime.fromisoformat(data["started_at"])
        if started.tzinfo is None:
            started = started.replace(tzinfo=UTC)
        return cls(
            started_at=started,
            findings=[
                Finding(f["tld"], f["server"], f["address"], f["code"], f.get("detail", ""))
                for f in data.get("findings", [])
            ],
            samples=[Sample(**s) for s in data.get("samples", [])],
            stats=Stats(**data.get("stats", {})),
        )
