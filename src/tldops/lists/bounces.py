"""The list's ``-bounces+<token>`` address: which delivery a bounce is about, and what it says.

1. **Attribution** — the bounce arrives at ``tld-ops-bounces+<delivery id>-<day>-<mac>@…`` (VERP,
   :mod:`tldops.mail.verp`): the token names the :class:`~tldops.mail.models.Delivery`, so the
   failing address is the delivery's recipient, whatever forwarding did to the report's
   ``Final-Recipient``. A bounce without a valid token is not counted against anybody: anyone can
   write a fake report naming a member's address, nobody can forge the token's MAC. The token is
   dated (the MAC covers the day): one older than ``VERP_MAX_AGE_DAYS`` is not counted either, so
   an address seen once (a forwarded copy's ``Return-Path``) cannot be replayed for ever.
2. **Reading** — the mail core parses and classifies the report (:mod:`tldops.mail.dsn`).
3. **Counting** — the address's score is the directory's (:mod:`tldops.directory.bounces`): a
   bounce feeds it, a positive report clears it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from tldops.directory.bounces import record_bounce, record_success
from tldops.mail import verp
from tldops.mail.dsn import Report, classify, parse
from tldops.mail.intake import Outcome
from tldops.mail.models import Delivery, InboundMessage

# --- The route handler (-bounces+token) ---------------------------------------------------------------


def _delivery_of(inbound: InboundMessage, now: datetime) -> tuple[Delivery | None, str]:
    """The delivery a valid VERP token of the message's recipients names; otherwise ``None`` and
    why nothing may be counted (a forged token, an expired one, none), for the message's result.

    A token older than ``VERP_MAX_AGE_DAYS`` counts against nobody: whoever once saw the address
    could otherwise send bounces for that member for ever. A token of the legacy form (no day,
    made before tokens were dated) counts only while the delivery it names was handed over less
    than ``VERP_MAX_AGE_DAYS`` ago: the mail in flight at an upgrade keeps its bounces."""
    days = settings.VERP_MAX_AGE_DAYS
    why = "not attributable: no valid VERP token in the recipient address"
    for rcpt in inbound.rcpt_to:
        token = verp.check(rcpt, now=now)
        if token.state in (verp.VALID, verp.LEGACY):
            delivery = (
                Delivery.objects.filter(pk=token.delivery_id).select_related("message").first()
            )
            if delivery is None:
                why = f"not attributable: the VERP token names no delivery ({token.delivery_id})"
            elif token.state == verp.VALID or (
                delivery.sent_at is not None and delivery.sent_at >= now - timedelta(days=days)
            ):
                return delivery, ""
            else:
                why = (
                    f"not counted: expired VERP token of the old form (no date) for delivery "
                    f"{token.delivery_id}, which was not handed over in the last {days} days "
                    "(TLDOPS_VERP_MAX_AGE_DAYS)"
                )
        elif token.state == verp.EXPIRED:
            why = (
                f"not counted: expired VERP token for delivery {token.delivery_id}, made on "
                f"{verp.day_date(token.day or 0).isoformat()}, more than {days} days ago "
                "(TLDOPS_VERP_MAX_AGE_DAYS) or ahead of our clock"
            )
        elif token.state == verp.FORGED:
            why = (
                f"not attributable: forged VERP token (its MAC does not match) naming delivery "
                f"{token.delivery_id}"
            )
    return None, why


def _pick(reports: list[Report], recipient: str) -> Report | None:
    """The report about ``recipient`` if there is one, else the first failure, else the first."""
    recipient = recipient.lower()
    for report in reports:
        if report.recipient == recipient:
            return report
    return next((r for r in reports if classify(r)), reports[0] if reports else None)


def handle_bounce(inbound: InboundMessage) -> Outcome:
    """The ``-bounces`` route: attribute the report by its VERP token, classify, score. A forged
    or expired token counts against nobody; the message is marked rejected, saying which."""
    delivery, why = _delivery_of(inbound, timezone.now())
    if delivery is None:
        return Outcome.rejected(f"{why}; nothing counted")
    report = _pick(parse(bytes(inbound.raw)), delivery.recipient)
    if report is None:
        return Outcome.done(
            f"not a delivery report (auto-reply?); ignored for {delivery.recipient}"
        )
    if report.is_success:
        record_success(delivery.recipient, why="a delivery report says it was delivered")
        return Outcome.done(f"delivered to {delivery.recipient}")
    kind = classify(report)
    if kind is None:
        return Outcome.done(
            f"delay warning for {delivery.recipient} ({report.status}); not counted"
        )
    _event, row = record_bounce(
        delivery.recipient,
        kind,
        status_code=report.status,
        diagnostic=report.diagnostic,
        delivery=delivery,
        inbound=inbound,
    )
    verdict = "unreachable" if row.unreachable_since else "reachable"
    return Outcome.done(
        f"{kind} bounce for {delivery.recipient} ({report.status or 'no status'}); "
        f"score {row.score:.2f}/{settings.BOUNCE_THRESHOLD:g}, {verdict}"
    )
