"""Hold posts whose From address may be forged, so a moderator looks before members trust them.

The rule fires on three signals, and only on these (kept simple so a moderator can tell why):

1. **DMARC failed at our MTA.** The topmost ``Authentication-Results`` header whose authserv-id is
   ``settings.LIST_TRUSTED_AUTHSERV_ID`` (the one our own MTA, e.g. Postfix with OpenDMARC, added
   last) says ``dmarc=fail``.
2. **A member's address sent from a server its domain does not authorise.** That header says
   ``spf=fail`` for an envelope sender in the From address's organisational domain, and no
   ``dkim=pass`` from that organisational domain vouches for the message (for domains that publish
   no DMARC policy, so the MTA reports ``dmarc=none``).
3. **Our own domain from outside.** The From address is in ``MAIL_DOMAIN`` or the list's domain,
   and our MTA did not report ``dmarc=pass``: the list and the secretariat's system never post to
   the list by mail from the outside.

Headers from other servers, and everything below our MTA's header, are ignored: anyone can write
an ``Authentication-Results`` header. Without ``LIST_TRUSTED_AUTHSERV_ID`` only signal 3 applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import Message

from django.conf import settings
from django.utils.translation import gettext as _

from tldops.lists.dns import organizational_domain
from tldops.lists.rules import RuleContext


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
    """The results of the topmost Authentication-Results header from our MTA; None without one."""
    if not authserv_id:
        return None
    for value in msg.get_all("Authentication-Results", []):
        server, results = parse_authentication_results(str(value))
        if server == authserv_id.strip().lower():
            return results
    return None


def _domain(address: str) -> str:
    return address.rpartition("@")[2].strip().strip(">").rstrip(".").lower()


class Spoofing:
    name = "spoofing"
    description = (
        "The From address may be forged (DMARC or SPF failed at our MTA, or our own domain)."
    )
    action = "hold"

    def check(self, ctx: RuleContext) -> str | None:
        domain = _domain(ctx.sender)
        if not domain:
            return None
        results = trusted_results(ctx.msg, settings.LIST_TRUSTED_AUTHSERV_ID) or []
        by_method: dict[str, list[AuthResult]] = {}
        for r in results:
            by_method.setdefault(r.method, []).append(r)

        if any(r.result == "fail" for r in by_method.get("dmarc", [])):
            return _(
                "Our mail server reports that the message failed the DMARC check of %(d)s: "
                "it may not come from %(a)s."
            ) % {"d": domain, "a": ctx.sender}

        org = organizational_domain(domain)
        spf_failed = any(
            r.result == "fail"
            and organizational_domain(
                _domain(r.props.get("smtp.mailfrom", "") or ctx.inbound.mail_from)
            )
            == org
            for r in by_method.get("spf", [])
        )
        dkim_vouches = any(
            r.result == "pass" and organizational_domain(r.props.get("header.d", "") or "-") == org
            for r in by_method.get("dkim", [])
        )
        if spf_failed and not dkim_vouches:
            return _(
                "The message was sent from a server that %(d)s does not authorise (SPF failed) "
                "and carries no valid signature of %(d)s: it may not come from %(a)s."
            ) % {"d": org, "a": ctx.sender}

        ours = {settings.MAIL_DOMAIN.lower(), _domain(settings.LIST_ADDRESS)}
        dmarc_passed = any(r.result == "pass" for r in by_method.get("dmarc", []))
        if domain in ours and not dmarc_passed:
            return _(
                "The message claims to come from %(a)s, an address of the list's own domain, "
                "but arrived from outside: the list never posts to itself by mail."
            ) % {"a": ctx.sender}
        return None


RULE = Spoofing()
