"""Is the author of a message really the owner of its From address? (SPF, DKIM, DMARC alignment)

Every mail door that acts on *who* sent a message asks this module first: the list's posting
address (a post in a member's name), the authorisation address (an IANA admin contact naming
contacts) and the reachability address (a contact proving they read their mail). The From header
alone proves nothing: anyone can write any From.

Two sources, chosen by the operator:

* **Our own MTA** (``LIST_TRUSTED_AUTHSERV_ID`` set, e.g. Postfix with OpenDKIM/OpenDMARC or
  policyd-spf in front of tldops): the topmost ``Authentication-Results`` header with that
  authserv-id is the source; headers from anyone else are ignored.
* **Our own checks** (the embedded default, or tldops receiving mail itself): SPF (RFC 7208, by
  pyspf) for the connecting address and the envelope sender the SMTP session saw, every DKIM
  signature (RFC 6376, by dkimpy; at most :data:`MAX_SIGNATURES`), and DMARC identifier alignment
  (RFC 7489 §3.1) against the From domain's record, all through the resolver of
  :mod:`tldops.mail.dns`. We record the outcome as our own ``Authentication-Results`` header
  (authserv-id ``AUTHSERV_ID``) on the stored message (``InboundMessage.auth_results``); in this
  mode no received ``Authentication-Results`` header is read at all, and the list's copies carry
  none (:mod:`tldops.lists.handlers.cleanse`).

Then one rule for both (:func:`evaluate`): the sender is **authentic** when a DKIM signature of
the From domain verifies, or SPF passes for an envelope sender of that domain (DMARC alignment,
relaxed or strict as the domain's record says). Without a DMARC record, an SPF pass counts only
when the domain's SPF record ends in ``-all`` — ``~all``, ``?all`` or ``+all`` say the domain
does not mind who sends in its name. A sender that is not authentic is not trusted; the doors hold
(posts) or refuse (authorisations, reachability answers) with :attr:`SenderCheck.reason`.

A moderator may *pin* an address (``SenderOverride.pinned``): its posts are then not held for
being unverifiable, but are still held when a check proves a forgery (SPF or DMARC ``fail``).

Why dkimpy + pyspf rather than ``authheaders``: authheaders wraps the same two libraries, but it
computes DMARC with a Public Suffix List frozen in the ``publicsuffix2`` package (2019) where this
project keeps ``publicsuffixlist`` current, returns only a header string we would have to parse
back, and cannot point pyspf at our resolver either. The alignment rule is twenty lines here,
written once for both sources.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from email.message import Message

import dkim
import dns.exception
import dns.resolver
import spf
from django.conf import settings
from django.utils.translation import gettext as _

from tldops.mail import dns as mail_dns
from tldops.mail import headers
from tldops.mail.dns import DnsError, organizational_domain

log = logging.getLogger(__name__)

#: At most this many DKIM-Signature headers are verified per message (each costs a DNS query).
MAX_SIGNATURES = 5
#: Header fields a message has at most once (RFC 5322 §3.6). Two of one mean someone prepended a
#: copy above a signed message: dkimpy verifies the bottom one, readers see the top one.
ONCE_ONLY = (
    "from", "sender", "reply-to", "to", "cc", "subject", "date", "message-id", "in-reply-to",
    "references", "mime-version", "content-type", "content-transfer-encoding",
)  # fmt: skip
#: Time allowed for the whole SPF evaluation, all its look-ups included (seconds).
SPF_TIME = 10.0

AUTHENTIC = "authentic"
UNVERIFIABLE = "unverifiable"  # no way to tell: a pinned sender may pass
FORGED = "forged"  # a check says the message does not come from the domain
UNKNOWN = "unknown"  # the DNS did not answer: try later, or a moderator decides
SUSPECT = "suspect"  # nothing proves it, and it did not come from a server the domain lists


@dataclass(frozen=True)
class Result:
    """One ``method=result`` with the domain it is about (``header.d``, ``smtp.mailfrom``…)."""

    method: str  # spf | dkim | dmarc
    result: str  # pass | fail | softfail | neutral | none | temperror | permerror | policy
    domain: str = ""


@dataclass
class SenderCheck:
    """What we know of the From address of one message, and the verdict."""

    address: str
    domain: str
    source: str  # "own" (our checks) | "mta" (LIST_TRUSTED_AUTHSERV_ID) | "off"
    results: list[Result] = field(default_factory=list)
    verdict: str = UNVERIFIABLE
    reason: str = ""
    header: str = ""  # our Authentication-Results value ("" when the MTA's header is the source)

    @property
    def authentic(self) -> bool:
        return self.verdict == AUTHENTIC

    @property
    def proven(self) -> bool:
        """Authentic by a check (not merely believed with verification switched off)."""
        return self.source != "off" and self.verdict == AUTHENTIC

    def trusted(self, *, pinned: bool = False) -> bool:
        """Authentic, or unverifiable but pinned by a moderator."""
        return self.authentic or (pinned and self.verdict == UNVERIFIABLE)


def enabled() -> bool:
    """Whether senders are verified at all (our own MTA's header, or our own checks)."""
    return bool(settings.LIST_TRUSTED_AUTHSERV_ID) or settings.VERIFY_SENDERS


def from_address(msg: Message) -> str:
    """The one From address, lower case; "" when there is none or more than one."""
    return headers.author(msg)[1].strip().lower()


def _domain(address: str) -> str:
    return address.rpartition("@")[2].strip().strip("<>").rstrip(".").lower()


# --- Authentication-Results headers (RFC 8601) ------------------------------------------------


@dataclass(frozen=True)
class AuthResult:
    """One ``method=result`` of an Authentication-Results header, with its properties."""

    method: str
    result: str
    props: dict[str, str] = field(default_factory=dict)


def _strip_comments(value: str) -> str:
    """Remove RFC 5322 comments ``(…)`` (nested, outside quoted strings)."""
    out, depth, quoted, escaped = [], 0, False, False
    for ch in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(ch)
            continue
        if ch == "\\":
            escaped = True
            if depth == 0:
                out.append(ch)
        elif quoted:
            out.append(ch)
            if ch == '"':
                quoted = False
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif depth == 0:
            out.append(ch)
            if ch == '"':
                quoted = True
    return "".join(out)


def _split(value: str, sep: str) -> list[str]:
    """Split on ``sep`` outside quoted strings."""
    parts, current, quoted = [], [], False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def parse_authentication_results(value: str) -> tuple[str, list[AuthResult]]:
    """``"mx.example; dmarc=fail (p=reject) header.from=a.example"`` →
    (``"mx.example"``, [AuthResult("dmarc", "fail", {"header.from": "a.example"})]) (RFC 8601)."""
    segments = [s.strip() for s in _split(_strip_comments(value), ";")]
    authserv_id = segments[0].split()[0].lower() if segments and segments[0].split() else ""
    results = []
    for segment in segments[1:]:
        tokens = [t for t in _split(" ".join(segment.split()), " ") if t]
        if not tokens or "=" not in tokens[0]:
            continue  # "none", or something we do not understand
        method, _eq, result = tokens[0].partition("=")
        props = {}
        for token in tokens[1:]:
            key, eq, prop = token.partition("=")
            if eq:
                props[key.strip().lower()] = prop.strip().strip('"').lower()
        results.append(
            AuthResult(method.split("/")[0].strip().lower(), result.strip().lower(), props)
        )
    return authserv_id, results


def trusted_results(msg: Message, authserv_id: str) -> list[AuthResult] | None:
    """The results of the topmost block of Authentication-Results headers from our MTA (Postfix
    with OpenDKIM, OpenDMARC or policyd-spf adds one each, all with its authserv-id); the block
    ends at the first header of anyone else. None without one.

    Headers with our id further down were written before the message reached our MTA, by anyone:
    the MTA must also remove such headers from incoming mail (RFC 8601 §5), or a forged one placed
    right below its own would be read with them.
    """
    if not authserv_id:
        return None
    ours = authserv_id.strip().lower()
    block: list[AuthResult] | None = None
    for value in msg.get_all("Authentication-Results", []):
        server, results = parse_authentication_results(str(value))
        if server == ours:
            block = (block or []) + results
        elif block is not None:
            break
    return block


# --- DNS for the libraries ----------------------------------------------------------------------


def _dkim_txt(name: bytes, timeout: int = 5) -> bytes | None:
    """dkimpy's DNS hook: the DKIM key record, through our resolver and cache."""
    try:
        records = mail_dns.txt(name.decode("ascii", "replace"))
    except DnsError:
        return None  # dkimpy reports "no key": a temperror for us is handled as not verified
    keys = [r for r in records if r.lower().lstrip().startswith("v=dkim1")] or list(records)
    return keys[0].encode("utf-8") if keys else None


def _spf_lookup(name: str, qtype: str, strict: bool = True, timeout: float = 5) -> list:
    """pyspf's DNS hook (the module-level ``spf.DNSLookup``), answered by our resolver.

    pyspf calls the global ``dnspython`` default resolver otherwise, which is neither the
    configured ``DNS_RESOLVER`` nor bounded like our look-ups.
    """
    out: list = []
    try:
        answer = mail_dns.resolver().resolve(
            name, qtype, raise_on_no_answer=False, lifetime=min(float(timeout), mail_dns.LIFETIME)
        )
    except dns.resolver.NXDOMAIN:
        return out
    except (dns.exception.DNSException, OSError) as exc:
        raise spf.TempError(f"DNS {exc}") from exc
    if answer.rrset is None:
        return out
    for rdata in answer.rrset:
        if qtype in ("A", "AAAA"):
            out.append(((name, qtype), rdata.address))
        elif qtype == "MX":
            out.append(((name, qtype), (rdata.preference, rdata.exchange)))
        elif qtype == "PTR":
            out.append(((name, qtype), rdata.target.to_text(True)))
        elif qtype in ("TXT", "SPF"):
            out.append(((name, qtype), rdata.strings))
    return out


spf.DNSLookup = _spf_lookup  # pyspf's documented hook; nothing else in tldops uses pyspf


def _spf_record(domain: str, depth: int = 0) -> str:
    """The domain's SPF record, following ``redirect=`` (at most 3); "" without one."""
    found = [r for r in mail_dns.txt(domain) if re.match(r"(?i)v=spf1(\s|$)", r.strip())]
    if len(found) != 1:
        return ""
    record = found[0]
    redirect = re.search(r"(?i)(?:^|\s)redirect=(\S+)", record)
    if redirect and depth < 3 and not re.search(r"(?i)(^|\s)[-~?+]?all(\s|$)", record):
        return _spf_record(redirect.group(1), depth + 1)
    return record


def _spf_hard_fails_others(domain: str) -> bool:
    """Whether the domain's SPF record has ``-all`` (everyone it does not list fails)."""
    try:
        record = _spf_record(domain)
    except DnsError:
        return False
    return any(term.lower() == "-all" for term in record.split()[1:])


def _publishes_spf(domain: str) -> bool:
    """Whether ``domain`` (or its organisational domain) has an SPF record."""
    try:
        return bool(_spf_record(domain) or _spf_record(organizational_domain(domain)))
    except DnsError:
        return True  # unknown: do not let a pin stand in for the check


# --- Gathering the results ----------------------------------------------------------------------


def _spf_result(mail_from: str, peer: str, helo: str) -> Result:
    """SPF for the identity pyspf really checks, recorded under that identity's domain.

    The envelope sender's domain; for the null sender, the HELO name (RFC 7208 §2.4). A sender
    without ``@`` (``MAIL FROM:<evil.example>``) is a permanent error: pyspf would check the bare
    name as a domain of its own, and its pass must not be filed under anyone else's.
    """
    sender = (mail_from or "").strip().strip("<>").strip()
    helo = (helo or "").strip().rstrip(".").lower()
    if sender and "@" not in sender:
        return Result("spf", "permerror", "")
    identity = _domain(sender) if sender else helo
    if not (peer and identity):
        return Result("spf", "none", identity)
    try:
        outcome, _explanation = spf.check2(
            i=peer,
            s=sender or f"postmaster@{helo}",
            h=helo or identity,
            querytime=SPF_TIME,
            timeout=mail_dns.LIFETIME,
        )
    except Exception as exc:  # noqa: BLE001 - a broken record must not crash a door
        log.info("SPF check of %s from %s failed: %s", sender, peer, exc)
        outcome = "temperror"
    return Result("spf", str(outcome).lower(), identity)


def _own_results(raw: bytes, msg: Message, mail_from: str, peer: str, helo: str) -> list[Result]:
    results = [_spf_result(mail_from, peer, helo)]
    wire = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    signatures = msg.get_all("DKIM-Signature", []) or []
    if not signatures:
        results.append(Result("dkim", "none"))
    for index in range(min(len(signatures), MAX_SIGNATURES)):
        checker = dkim.DKIM(wire, timeout=int(mail_dns.LIFETIME))
        try:
            ok = checker.verify(idx=index, dnsfunc=_dkim_txt)
        except Exception as exc:  # noqa: BLE001 - dkimpy raises many kinds on hostile input
            log.info("DKIM signature %s could not be checked: %s", index, exc)
            ok = False
        d = checker.domain.decode("ascii", "replace").lower() if checker.domain else ""
        results.append(Result("dkim", "pass" if ok else "fail", d))
    return results


def _mta_results(msg: Message) -> list[Result]:
    out = []
    for r in trusted_results(msg, settings.LIST_TRUSTED_AUTHSERV_ID) or []:
        if r.method == "spf":
            domain = _domain(r.props.get("smtp.mailfrom", "") or r.props.get("smtp.helo", ""))
        elif r.method == "dkim":
            domain = r.props.get("header.d", "") or _domain(r.props.get("header.i", ""))
        else:
            domain = r.props.get("header.from", "")
        if r.method in ("spf", "dkim", "dmarc"):
            out.append(Result(r.method, r.result, domain.lower()))
    return out


# --- The verdict ----------------------------------------------------------------------------------


def _aligned(a: str, b: str, mode: str) -> bool:
    if not a or not b:
        return False
    if mode == "s":
        return a == b
    return organizational_domain(a) == organizational_domain(b)


def evaluate(address: str, results: list[Result], *, source: str) -> tuple[str, str, list[Result]]:
    """(verdict, reason, results with our DMARC result) for a From address and what was seen."""
    domain = _domain(address)
    # Our MTA's DMARC verdict counts only about this From domain: a pass for header.from=another
    # (a From that the MTA and Python read differently) proves nothing about this one.
    mta_dmarc = [
        r.result
        for r in results
        if r.method == "dmarc" and (r.domain == domain or (not r.domain and r.result != "pass"))
    ]
    if source == "mta" and "fail" in mta_dmarc:
        return (
            FORGED,
            _("Our mail server reports that the message fails the DMARC check of %(d)s.")
            % {"d": domain},
            results,
        )
    if source == "mta" and "pass" in mta_dmarc:
        return AUTHENTIC, "", results  # our MTA applied DMARC itself
    try:
        record = mail_dns.dmarc_record(domain) if domain else None
    except DnsError:
        return (
            UNKNOWN,
            _(
                "We could not verify that the message comes from %(a)s: the DNS of %(d)s did "
                "not answer. A moderator can release it."
            )
            % {"a": address, "d": domain},
            [*results, Result("dmarc", "temperror", domain)],
        )
    adkim = record.adkim if record else "r"
    aspf = record.aspf if record else "r"
    dkim_ok = any(
        r.method == "dkim" and r.result == "pass" and _aligned(r.domain, domain, adkim)
        for r in results
    )
    spf_aligned = [
        r
        for r in results
        if r.method == "spf" and r.result == "pass" and _aligned(r.domain, domain, aspf)
    ]
    spf_ok = bool(spf_aligned)
    if record is not None:
        dmarc = "pass" if (dkim_ok or spf_ok) else "fail"
        if source == "own":
            results = [*results, Result("dmarc", dmarc, domain)]
        if dmarc == "pass":
            return AUTHENTIC, "", results
        return (
            FORGED,
            _(
                "The message fails the DMARC check of %(d)s: it carries no valid signature of "
                "%(d)s and was not sent from a server %(d)s authorises. It may not come from "
                "%(a)s."
            )
            % {"d": domain, "a": address},
            results,
        )
    if source == "own":
        results = [*results, Result("dmarc", "none", domain)]
    if dkim_ok or any(_spf_hard_fails_others(r.domain) for r in spf_aligned):
        return AUTHENTIC, "", results
    spf_failed = any(
        r.method == "spf" and r.result == "fail" and _aligned(r.domain, domain, "r")
        for r in results
    )
    if spf_failed:
        return (
            FORGED,
            _(
                "The message was sent from a server that %(d)s does not authorise (SPF failed) "
                "and carries no valid signature of %(d)s: it may not come from %(a)s."
            )
            % {"d": organizational_domain(domain), "a": address},
            results,
        )
    if any(r.result == "temperror" for r in results):
        return (
            UNKNOWN,
            _(
                "We could not verify that the message comes from %(a)s: a DNS look-up did not "
                "answer. A moderator can release it."
            )
            % {"a": address},
            results,
        )
    if not spf_ok and _publishes_spf(domain):
        # A pin would trust the From alone: only for mail from a server the domain lists, or from
        # a domain that lists none (then there is nothing else to go by, and the pin says so).
        return (
            SUSPECT,
            _(
                "We cannot verify that the message comes from %(a)s: it carries no valid "
                "signature of %(d)s and was not sent from a server %(d)s lists in its SPF record "
                "(a pinned sender is held too). A moderator can release it."
            )
            % {"a": address, "d": domain},
            results,
        )
    return (
        UNVERIFIABLE,
        _(
            "We cannot verify that the message comes from %(a)s: it carries no valid signature "
            "of %(d)s, and %(d)s publishes no DMARC record and no SPF record ending in -all. "
            "A moderator can release it, and pin the sender so later posts are not held."
        )
        % {"a": address, "d": domain},
        results,
    )


def authres_header(results: list[Result]) -> str:
    """Our Authentication-Results value (RFC 8601) for ``results``."""
    parts = [settings.AUTHSERV_ID]
    for r in results:
        prop = {"spf": "smtp.mailfrom", "dkim": "header.d", "dmarc": "header.from"}[r.method]
        parts.append(f"{r.method}={r.result}" + (f" {prop}={r.domain}" if r.domain else ""))
    if len(parts) == 1:
        parts.append("none")
    return "; ".join(parts)


def check(inbound, msg: Message) -> SenderCheck:
    """Check the From address of a stored inbound message; records our header on the message.

    ``inbound`` is a :class:`~tldops.mail.models.InboundMessage` (its raw bytes, envelope
    sender, connecting address and HELO name). Never raises for hostile input.
    """
    if not enabled():
        return SenderCheck("", "", "off", verdict=AUTHENTIC)
    address = from_address(msg)
    domain = _domain(address)
    if not address:
        return SenderCheck(
            address="",
            domain="",
            source="own",
            verdict=FORGED,
            reason=_("The message has no single From address."),
        )
    counts = Counter(k.lower() for k in msg.keys())  # names only: values may not even parse
    doubled = [name for name in ONCE_ONLY if counts[name] > 1]
    if doubled:
        return SenderCheck(
            address,
            domain,
            "own" if not settings.LIST_TRUSTED_AUTHSERV_ID else "mta",
            verdict=FORGED,
            reason=_(
                "The message has more than one %(h)s header: a signed message may have been "
                "replayed with other headers put above it. It may not come from %(a)s."
            )
            % {"h": doubled[0].title(), "a": address},
        )
    if settings.LIST_TRUSTED_AUTHSERV_ID:
        source, results = "mta", _mta_results(msg)
    else:
        source = "own"
        results = _own_results(
            bytes(inbound.raw), msg, inbound.mail_from, inbound.peer, inbound.helo
        )
    verdict, reason, results = evaluate(address, results, source=source)
    header = authres_header(results) if source == "own" else ""
    if header and inbound.pk and inbound.auth_results != header:
        type(inbound).objects.filter(pk=inbound.pk).update(auth_results=header)
        inbound.auth_results = header
    return SenderCheck(address, domain, source, results, verdict, reason, header)


def unverified_reason(inbound, msg: Message) -> str:
    """ "" when the From address of a message to a door is verified (or checks are off), else why.

    For the doors that act on who wrote (authorisation, reachability answers): no pinning there,
    a moderator does not stand between them and the change they make.
    """
    result = check(inbound, msg)
    return "" if result.authentic else result.reason
