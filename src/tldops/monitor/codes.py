"""Every finding a sweep can report: a stable code, a severity, a one-line explanation, its RFC.

Codes never change meaning once published (probes of older versions report them, and incidents and
filters keep them); a new check gets a new code. The severities follow Zonemaster's levels: INFO
(worth knowing), NOTICE (unusual, not wrong), WARNING (wrong, not yet breaking), ERROR (breaks
resolution for some), CRITICAL (breaks the ccTLD for everyone, or for every validating resolver).
docs/monitor.md lists the same table; ``tests/monitor/test_codes.py`` keeps the two in step.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Severity(enum.IntEnum):
    INFO = 10
    NOTICE = 20
    WARNING = 30
    ERROR = 40
    CRITICAL = 50

    @classmethod
    def parse(cls, name: str) -> Severity:
        """The severity named ``name`` (any case); ``KeyError`` otherwise."""
        return cls[name.strip().upper()]


@dataclass(frozen=True)
class Code:
    code: str
    severity: Severity
    text: str | Promise  # one line, translatable
    rfc: str  # "RFC 1035 §4.2.1"


_CODES = [
    # The delegation, as the parent (the root) gives it, and as the child says it is.
    Code(
        "PARENT_NO_ANSWER",
        Severity.ERROR,
        _("No root server answered the question for the ccTLD's delegation."),
        "RFC 1034 §4.3.2",
    ),
    Code(
        "DELEGATION_MISSING",
        Severity.CRITICAL,
        _("The root gives no delegation (no NS records) for the ccTLD."),
        "RFC 1034 §4.2.2",
    ),
    Code(
        "NS_NO_ADDRESS",
        Severity.ERROR,
        _("The name server has no address: no glue at the parent and none found."),
        "RFC 9471 §2",
    ),
    Code(
        "GLUE_MISSING",
        Severity.ERROR,
        _("The name server is inside the ccTLD but the parent gives no glue for it."),
        "RFC 9471 §2.1",
    ),
    Code(
        "GLUE_MISMATCH",
        Severity.ERROR,
        _("The glue at the parent differs from the name server's own addresses in the zone."),
        "RFC 1034 §4.2.2",
    ),
    Code(
        "NS_MISSING_AT_CHILD",
        Severity.WARNING,
        _("The parent delegates to a name server the zone's own NS set does not list."),
        "RFC 1034 §4.2.2",
    ),
    Code(
        "NS_EXTRA_AT_CHILD",
        Severity.NOTICE,
        _("The zone's own NS set lists a name server the parent does not delegate to."),
        "RFC 1034 §4.2.2",
    ),
    # One server, one address.
    Code(
        "SERVER_UNREACHABLE",
        Severity.ERROR,
        _("Nothing answers DNS at this address: the port is closed or the host unreachable."),
        "RFC 1035 §4.2",
    ),
    Code(
        "SERVER_NO_RESPONSE_UDP",
        Severity.ERROR,
        _(
            "No answer over UDP within the timeout: packets are dropped on the way or by the server."
        ),
        "RFC 1035 §4.2.1",
    ),
    Code(
        "SERVER_NO_RESPONSE_TCP",
        Severity.ERROR,
        _("No answer over TCP: every authoritative server must answer over TCP."),
        "RFC 7766 §5",
    ),
    Code(
        "LAME_REFUSED",
        Severity.ERROR,
        _("Lame delegation: the server refuses to answer for the ccTLD (REFUSED)."),
        "RFC 1912 §2.8",
    ),
    Code(
        "LAME_SERVFAIL",
        Severity.ERROR,
        _("Lame delegation: the server fails to answer for the ccTLD (SERVFAIL)."),
        "RFC 1912 §2.8",
    ),
    Code(
        "LAME_NOT_AUTHORITATIVE",
        Severity.ERROR,
        _("Lame delegation: the server answers for the ccTLD without authority (no AA bit)."),
        "RFC 1034 §4.3.1",
    ),
    Code(
        "SOA_NO_ANSWER",
        Severity.ERROR,
        _("The server's authoritative answer holds no SOA record for the ccTLD."),
        "RFC 1035 §3.3.13",
    ),
    Code(
        "SERIAL_BEHIND",
        Severity.WARNING,
        _("The server's SOA serial is behind its siblings': it has not taken the latest zone."),
        "RFC 1982, RFC 1996",
    ),
    Code(
        "SLOW_RESPONSE",
        Severity.NOTICE,
        _("The server answered, but slowly (over 500 ms)."),
        "RFC 1035 §4.2.1",
    ),
    Code(
        "AXFR_OPEN",
        Severity.WARNING,
        _("The server transfers the whole zone (AXFR) to anyone who asks."),
        "RFC 5936 §5",
    ),
    Code(
        "OPEN_RECURSION",
        Severity.ERROR,
        _("The authoritative server resolves names for anyone (open recursion): an amplifier."),
        "RFC 5358",
    ),
    # The ccTLD as a whole.
    Code(
        "ALL_SERVERS_DOWN",
        Severity.CRITICAL,
        _("No name server of the ccTLD gives an authoritative answer: the ccTLD is down."),
        "RFC 1034 §4.1",
    ),
    # DNSSEC.
    Code(
        "DNSSEC_UNSUPPORTED",
        Severity.NOTICE,
        _(
            "The ccTLD is signed with an algorithm or digest type tldops cannot check: its "
            "signatures are not validated here."
        ),
        "RFC 4035 §5.2, RFC 6840 §5.2",
    ),
    Code(
        "UNSIGNED",
        Severity.INFO,
        _("The ccTLD has no DS record at the parent: it is not signed, or not linked to the root."),
        "RFC 4035 §5",
    ),
    Code(
        "PARENT_DS_BOGUS",
        Severity.CRITICAL,
        _("The DS records the root gives for the ccTLD do not validate from the trust anchor."),
        "RFC 4035 §5.2",
    ),
    Code(
        "DNSKEY_MISSING",
        Severity.CRITICAL,
        _("The parent has DS records but the server gives no DNSKEY set."),
        "RFC 4035 §5.2",
    ),
    Code(
        "DS_NO_MATCHING_DNSKEY",
        Severity.CRITICAL,
        _("No DS record at the parent matches a key of the ccTLD's DNSKEY set (validation fails)."),
        "RFC 4035 §5.2",
    ),
    Code(
        "RRSIG_MISSING",
        Severity.CRITICAL,
        _("The SOA or DNSKEY set comes without a signature from a key the DS records point to."),
        "RFC 4035 §3.1",
    ),
    Code(
        "RRSIG_INVALID",
        Severity.CRITICAL,
        _("The signature over the SOA or the DNSKEY set does not validate now."),
        "RFC 4035 §5.3",
    ),
    Code(
        "RRSIG_EXPIRED",
        Severity.CRITICAL,
        _("The signature over the SOA or the DNSKEY set has expired."),
        "RFC 4034 §3.1.5",
    ),
    Code(
        "RRSIG_EXPIRES_IMMINENT",
        Severity.ERROR,
        _("A signature over the SOA or the DNSKEY set expires in less than 2 days."),
        "RFC 4034 §3.1.5",
    ),
    Code(
        "RRSIG_EXPIRES_SOON",
        Severity.WARNING,
        _("A signature over the SOA or the DNSKEY set expires in less than 7 days."),
        "RFC 4034 §3.1.5",
    ),
]

CODES: dict[str, Code] = {c.code: c for c in _CODES}

#: Days before expiry at which a signature is a warning, and an error.
EXPIRY_WARNING_DAYS = 7
EXPIRY_ERROR_DAYS = 2
#: An answer slower than this (milliseconds) is a NOTICE.
SLOW_MS = 500.0
