"""Reading delivery reports: what an RFC 3464 DSN (or a non-standard notice) says about each
recipient, and what kind of failure it is — for every app that receives bounces.

:func:`parse` reads ``multipart/report; report-type=delivery-status`` reports (as Postfix, Exim,
Exchange, Gmail … send them) and falls back to the enhanced status code found in the text of a
non-standard notice. :func:`classify` says *hard* (permanent: ``5.1.x``, ``5.2.1``, any other
``5.x.x``), *soft* (``4.x.x``, a full mailbox, an oversized message) or *policy* (``x.7.x``, spam,
block lists, DMARC, content ``x.6.x``: the receiving side refused *our* message, which says nothing
of whether the person can be reached). What a bounce then costs an address is the list's business
(:mod:`tldops.lists.bounces`).
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses, parseaddr

HARD = "hard"
SOFT = "soft"
POLICY = "policy"

ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
BASIC = re.compile(r"(?<![\d.])([45]\d\d)(?=[ -])")


@dataclass(frozen=True)
class Report:
    """One recipient's part of a delivery report (or what a text notice says about it)."""

    recipient: str
    action: str  # failed, delayed, delivered, relayed, expanded; "" when the notice does not say
    status: str  # the enhanced status code, e.g. "5.1.1"; "" when none was found
    diagnostic: str  # the remote server's answer or the notice's explanation, one line

    @property
    def is_success(self) -> bool:
        return self.action in ("delivered", "relayed", "expanded")


def _one_line(value: object) -> str:
    return " ".join(str(value or "").split())


def _addr(value: str) -> str:
    """``rfc822; Ana@NIC.fr`` → ``ana@nic.fr``."""
    _type, _semi, address = value.rpartition(";")
    return parseaddr(address.strip())[1].strip().lower()


def _status(status_field: str, diagnostic: str) -> str:
    """The most precise enhanced status code: the report's ``Status``, unless it is a generic
    ``x.0.0`` (as Exim writes) and the server's answer has a precise one of the same class; without
    any, the basic SMTP code of the answer (``550`` → ``5.0.0``, ``552`` → ``5.2.2``)."""
    found = ENHANCED.search(status_field)
    status = ".".join(found.groups()) if found else ""
    in_diag = ENHANCED.search(diagnostic)
    if in_diag and (not status or (status.endswith(".0.0") and in_diag.group(1) == status[0])):
        status = ".".join(in_diag.groups())
    if not status:
        basic = BASIC.search(diagnostic)
        if basic:
            code = basic.group(1)
            status = "5.2.2" if code == "552" else f"{code[0]}.0.0"
    return status


def _dsn_reports(part: Message) -> list[Report]:
    blocks = part.get_payload()
    if not isinstance(blocks, list):
        return []
    reports = []
    for block in blocks:
        if not isinstance(block, Message) or not (block.get("Action") or block.get("Status")):
            continue  # the per-message block (Reporting-MTA, Arrival-Date …)
        recipient = _addr(
            str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
        )
        diagnostic = _one_line(block.get("Diagnostic-Code"))
        diagnostic = diagnostic.partition(";")[2].strip() if ";" in diagnostic else diagnostic
        reports.append(
            Report(
                recipient=recipient,
                action=_one_line(block.get("Action")).lower(),
                status=_status(str(block.get("Status") or ""), diagnostic),
                diagnostic=diagnostic,
            )
        )
    return reports


def _text_of(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain" and not part.get_filename():
            try:
                return part.get_content()
            except (LookupError, UnicodeError):
                return part.get_payload(decode=True).decode("utf-8", "replace")
        if part.get_content_type() == "message/rfc822":
            break  # the returned message's text is not the notice
    return ""


DELAY_WORDS = re.compile(r"\b(delayed|warning|not yet been delivered)\b", re.IGNORECASE)
FAILURE_WORDS = re.compile(
    r"(could not be delivered|undeliver|delivery (has )?failed|failure notice|returned mail|"
    r"permanent (error|failure)|address(es)? failed|rejected|does not exist|unknown user|"
    r"user unknown)",
    re.IGNORECASE,
)


def _text_reports(msg: Message) -> list[Report]:
    """A notice that is not RFC 3464 (old Exim, qmail …): the first status code in its text."""
    text = _text_of(msg)
    subject = _one_line(msg.get("Subject"))
    code = ENHANCED.search(text)
    basic = None if code else BASIC.search(text)
    if not code and not (basic and FAILURE_WORDS.search(text + " " + subject)):
        return []  # an auto-reply or anything else without a status: not a bounce
    match = code or basic
    assert match is not None
    start = text.rfind("\n", 0, match.start()) + 1
    end = text.find("\n", match.end())
    diagnostic = _one_line(text[start : end if end >= 0 else None])
    failed = [a for _n, a in getaddresses([str(v) for v in msg.get_all("X-Failed-Recipients", [])])]
    return [
        Report(
            recipient=(failed[0].lower() if failed else ""),
            action="delayed" if DELAY_WORDS.search(subject) else "failed",
            status=_status("", diagnostic),
            diagnostic=diagnostic,
        )
    ]


def parse(raw: bytes) -> list[Report]:
    """The per-recipient reports in a bounce, in order; ``[]`` if it is not a bounce at all."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    reports: list[Report] = []
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            reports.extend(_dsn_reports(part))
    return reports or _text_reports(msg)


# --- Classification ----------------------------------------------------------------------------------

POLICY_WORDS = re.compile(
    r"(spam|junk|blocked|block ?list|black ?list|deny ?list|blocklisted|blacklisted|policy|"
    r"reputation|dmarc|\bspf\b|dkim|\brbl\b|spamhaus|barracuda|virus|malware|phish|"
    r"content rejected|not allowed to send|unsolicited)",
    re.IGNORECASE,
)
FULL_WORDS = re.compile(
    r"(mailbox (is )?full|over ?quota|quota (exceeded|exceed)|exceeded storage|"
    r"insufficient (system )?storage|mailbox size limit|storage space)",
    re.IGNORECASE,
)
#: (subject, detail) of 5.x.y codes that are not the address's permanent fault: mailbox full,
#: message too big for the mailbox or the system, delivery time expired.
SOFT_DETAILS = {(2, 2), (2, 3), (3, 4), (4, 7)}


def classify(report: Report) -> str | None:
    """``hard``, ``soft`` or ``policy`` for a failure; ``None`` for a success or a delay warning."""
    if report.is_success or report.action == "delayed":
        return None
    match = ENHANCED.fullmatch(report.status) if report.status else None
    klass, subject, detail = (int(g) for g in match.groups()) if match else (0, 0, 0)
    if klass == 2:
        return None
    if subject in (6, 7) or POLICY_WORDS.search(report.diagnostic):
        return POLICY
    if (subject, detail) in SOFT_DETAILS or FULL_WORDS.search(report.diagnostic):
        return SOFT
    if klass == 4:
        return SOFT
    return HARD  # 5.x.x, or a failure that names no code


def refusal_report(recipient: str, error: str) -> Report:
    """The report our own outbox makes of an SMTP refusal it saw (no DSN comes back for those)."""
    text = _one_line(error)
    return Report(recipient, "failed", _status("", text), text)
