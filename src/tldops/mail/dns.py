"""DNS look-ups the list needs: TXT records (DMARC policies, DKIM keys), cached for their TTL.

The resolver is dnspython's, pointed at ``settings.DNS_RESOLVER`` (``host[:port]``) when it is set
and at the system's resolvers otherwise. Answers are cached in this process for the record's TTL
(capped at :data:`MAX_TTL`); "no such record" answers are cached too, for the zone's negative TTL
(the SOA minimum, capped at :data:`NEGATIVE_TTL`). Failures (timeouts, SERVFAIL, refused) are never
cached: they raise :class:`DnsError` and the caller decides what an unknown answer means.

Also here, because both the DMARC handler and the spoofing rule need them:
:func:`organizational_domain` (RFC 7489 §3.2, from the Public Suffix List) and
:func:`dmarc_policy` (RFC 7489 §6.6.3 policy discovery).
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass

import dns.exception
import dns.message
import dns.name
import dns.rdatatype
import dns.resolver
from django.conf import settings
from publicsuffixlist import PublicSuffixList

#: Longest time a positive answer is kept, whatever its TTL (seconds).
MAX_TTL = 3600
#: Longest time a "no such record" answer is kept (seconds).
NEGATIVE_TTL = 300
#: Time allowed for one look-up, all retries included (seconds).
LIFETIME = 5.0


class DnsError(Exception):
    """The DNS could not answer (timeout, SERVFAIL, refused…): the record's state is unknown."""


# --- The resolver ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _resolver(configured: str) -> dns.resolver.Resolver:
    if not configured:
        resolver = dns.resolver.Resolver()
    else:
        host, port = _host_port(configured)
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [host]
        resolver.port = port
    resolver.lifetime = LIFETIME
    resolver.timeout = min(2.0, LIFETIME)
    return resolver


def _host_port(configured: str) -> tuple[str, int]:
    """``127.0.0.1:5353`` → (``127.0.0.1``, 5353); ``[::1]:5353``, ``::1`` and ``10.0.0.1`` too."""
    if configured.startswith("["):
        host, _, rest = configured[1:].partition("]")
        return host, int(rest.lstrip(":") or 53)
    if configured.count(":") == 1:
        host, _, port = configured.partition(":")
        return host, int(port or 53)
    return configured, 53


def resolver() -> dns.resolver.Resolver:
    """The resolver for the current ``settings.DNS_RESOLVER`` (``host[:port]``, or the system's)."""
    return _resolver(settings.DNS_RESOLVER.strip())


# --- The cache -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    expires: float  # time.monotonic()
    records: tuple[str, ...]


_cache: dict[tuple[str, str], _Entry] = {}
_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every cached answer (tests; or after changing DNS_RESOLVER at run time)."""
    with _lock:
        _cache.clear()


def _negative_ttl(response: dns.message.Message | None) -> int:
    """The negative-caching TTL of a response: the SOA in its authority section (RFC 2308)."""
    if response is not None:
        for rrset in response.authority:
            if rrset.rdtype == dns.rdatatype.SOA and len(rrset):
                return min(rrset.ttl, rrset[0].minimum, NEGATIVE_TTL)
    return NEGATIVE_TTL


def txt(name: str) -> tuple[str, ...]:
    """The TXT records of ``name`` (each record's strings joined), ``()`` when there are none.

    Cached for the answer's TTL. Raises :class:`DnsError` when the DNS cannot answer.
    """
    qname = name.strip().rstrip(".").lower()
    key = (settings.DNS_RESOLVER.strip(), qname)
    now = time.monotonic()
    with _lock:
        entry = _cache.get(key)
    if entry is not None and entry.expires > now:
        return entry.records
    records, ttl = _query_txt(qname)
    if ttl > 0:
        with _lock:
            _cache[key] = _Entry(now + min(ttl, MAX_TTL), records)
    return records


def _query_txt(qname: str) -> tuple[tuple[str, ...], int]:
    try:
        answer = resolver().resolve(qname + ".", "TXT", raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN as exc:
        responses = exc.responses() if hasattr(exc, "responses") else {}
        return (), _negative_ttl(next(iter(responses.values()), None))
    except (dns.exception.DNSException, OSError) as exc:
        raise DnsError(f"{qname} TXT: {exc.__class__.__name__}: {exc}") from exc
    if answer.rrset is None:
        return (), _negative_ttl(answer.response)
    records = tuple(
        b"".join(rdata.strings).decode("utf-8", errors="replace") for rdata in answer.rrset
    )
    return records, answer.rrset.ttl


# --- DMARC -----------------------------------------------------------------------------------------

_psl = PublicSuffixList()


def organizational_domain(domain: str) -> str:
    """The registered domain under its public suffix: ``mail.bank.co.uk`` → ``bank.co.uk``.

    A domain that is itself a public suffix (or unknown to the list, with one label) is returned
    as it is.
    """
    domain = domain.strip().rstrip(".").lower()
    return _psl.privatesuffix(domain) or domain


@dataclass(frozen=True)
class DmarcRecord:
    """A published DMARC record: the policy for ``domain``, and ``sp`` for its subdomains."""

    domain: str
    p: str
    sp: str
    adkim: str = "r"  # identifier alignment: r(elaxed, organisational domains) or s(trict)
    aspf: str = "r"


_POLICIES = ("none", "quarantine", "reject")


def _parse_dmarc(domain: str, records: tuple[str, ...]) -> DmarcRecord | None:
    found = [r for r in records if r.strip().lower().startswith("v=dmarc1")]
    if len(found) != 1:  # RFC 7489 §6.6.3: none, or more than one, means no policy
        return None
    tags: dict[str, str] = {}
    for part in found[0].split(";"):
        key, sep, value = part.partition("=")
        if sep:
            tags.setdefault(key.strip().lower(), value.strip().lower())
    p = tags.get("p", "")
    if p not in _POLICIES:
        # An invalid or missing p= with a report address is treated as p=none (§6.6.3 step 6).
        if "rua" not in tags:
            return None
        p = "none"
    sp = tags.get("sp", "")
    return DmarcRecord(
        domain=domain,
        p=p,
        sp=sp if sp in _POLICIES else p,
        adkim="s" if tags.get("adkim") == "s" else "r",
        aspf="s" if tags.get("aspf") == "s" else "r",
    )


def dmarc_record(domain: str) -> DmarcRecord | None:
    """The DMARC record that governs mail from ``domain``: its own, or its organisational domain's.

    Raises :class:`DnsError` when the DNS cannot answer.
    """
    domain = domain.strip().rstrip(".").lower()
    record = _parse_dmarc(domain, txt(f"_dmarc.{domain}"))
    if record is not None:
        return record
    org = organizational_domain(domain)
    if org != domain:
        return _parse_dmarc(org, txt(f"_dmarc.{org}"))
    return None


def dmarc_policy(domain: str) -> str:
    """The DMARC policy receivers apply to mail from ``domain``: none, quarantine or reject.

    ``"none"`` also when no record is published. Raises :class:`DnsError` when the DNS cannot answer.
    """
    record = dmarc_record(domain)
    if record is None:
        return "none"
    return record.p if record.domain == domain.strip().rstrip(".").lower() else record.sp
