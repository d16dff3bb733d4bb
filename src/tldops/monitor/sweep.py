"""One sweep: every check of docs/monitor.md over a set of ccTLDs, from this machine.

``sweep(tlds, options)`` asks the root servers for each ccTLD's delegation, then every address of
every name server, and returns a :class:`~tldops.monitor.results.SweepResult`. (Being written.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tldops.monitor.results import SweepResult


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


def sweep(tlds: Iterable[str], options: Options) -> SweepResult:
    raise NotImplementedError


def options_from(
    *,
    root_hints: object = None,
    trust_anchor: object = None,
    ipv4_only: bool = False,
    ipv6_only: bool = False,
    timeout: float | None = None,
    tries: int | None = None,
    port: int | None = None,
) -> Options:
    """Options from the settings, overridden by what a door was given (files are read here and
    refused with :class:`~tldops.kernel.errors.InvalidInput` when malformed)."""
    raise NotImplementedError
