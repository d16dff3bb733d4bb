"""Reachability endpoints: the staff report, a member's own status, and the one-click answer.

Thin doors onto :mod:`tldops.repository.reachability`; the rules (who is reachable, what an answer
does) live there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from tldops.api.auth import AUTH, caller, require_member, require_staff
from tldops.api.schemas import AUTH_ERRORS, errors
from tldops.repository import reachability
from tldops.repository.models import Challenge

router = Router(auth=AUTH, tags=["reachability"])


class ReachabilityShareOut(Schema):
    key: str = Field(description="A-label for a ccTLD, region code for a region; empty overall.")
    label: str = Field(description="How it is shown: `.fr`, `CENTR` …")
    contacts: int = Field(description="Active contacts.")
    reachable: int = Field(description="Of those, how many are reachable.")
    percent: float = Field(description="reachable / contacts, in percent, one decimal.")
    tlds: int = Field(description="Member ccTLDs counted (1 for a ccTLD).")
    at_risk: int = Field(description="Member ccTLDs without a reachable contact.")


class ReachabilityUnverifiedOut(Schema):
    membership_id: int
    person_id: int
    name: str
    email: str
    tld: str = Field(description="The ccTLD as shown (`.fr`).")
    number: int = Field(description="Contact number within the ccTLD.")
    last_reachable: datetime | None = Field(description="When the contact last proved reachable.")
    bounced: bool = Field(description="List mail to the main address bounces.")
    challenge: str = Field(description="Latest round: awaiting, reminded, escalated or answered.")


class ReachabilityRoundOut(Schema):
    period: str
    started_at: datetime
    trigger: str = Field(description="schedule, cli, web or api.")
    challenged: int
    answered: int = Field(description="Answered by now.")
    on_time: int = Field(description="Answered before the colleagues would have been told.")
    reminded: int
    escalated: int
    percent: float = Field(description="answered / challenged, in percent.")
    percent_on_time: float = Field(description="on_time / challenged, in percent.")


class ReachabilityReportOut(Schema):
    overall: ReachabilityShareOut
    by_tld: list[ReachabilityShareOut]
    by_region: list[ReachabilityShareOut]
    oldest_unverified: list[ReachabilityUnverifiedOut]
    trend: list[ReachabilityRoundOut] = Field(description="Every round, oldest first.")
    at_risk: list[ReachabilityShareOut] = Field(
        description="Member ccTLDs without a reachable contact."
    )


def _share(s: reachability.Share) -> dict[str, Any]:
    return {
        "key": s.key,
        "label": s.label,
        "contacts": s.contacts,
        "reachable": s.reachable,
        "percent": s.percent,
        "tlds": s.tlds,
        "at_risk": s.at_risk,
    }


def _round(s: reachability.RoundStat) -> dict[str, Any]:
    return {
        **{
            k: getattr(s, k)
            for k in ReachabilityRoundOut.model_fields
            if k not in ("percent", "percent_on_time")
        },
        "percent": s.percent,
        "percent_on_time": s.percent_on_time,
    }


@router.get(
    "/reachability/report",
    response={200: ReachabilityReportOut, **errors(*AUTH_ERRORS)},
    summary="Reachability report (staff)",
)
def report(request: HttpRequest) -> dict[str, Any]:
    """Per ccTLD and per region: contacts, reachable, percentage; the oldest unverified contacts;
    answer rates per round; the member ccTLDs at risk. Secretariat and committee only."""
    require_staff(request)
    rep = reachability.report()
    return {
        "overall": _share(rep.overall),
        "by_tld": [_share(s) for s in rep.by_tld],
        "by_region": [_share(s) for s in rep.by_region],
        "oldest_unverified": [
            {k: getattr(s, k) for k in ReachabilityUnverifiedOut.model_fields}
            for s in rep.oldest_unverified
        ],
        "trend": [_round(s) for s in rep.trend],
        "at_risk": [_share(s) for s in rep.at_risk],
    }


class ReachabilityStatusOut(Schema):
    reachable: bool = Field(description="False when list mail bounces or a check went unanswered.")
    last_reachable: datetime | None = Field(description="When you last proved reachable.")
    bounced: bool = Field(description="List mail to your main address bounces.")
    period: str = Field(description="The latest round you were checked in; empty if none.")
    challenge: str = Field(
        description="Your check of the latest round: awaiting, reminded, escalated, answered, "
        "or empty."
    )
    answered_at: datetime | None


@router.get(
    "/reachability/me",
    response={200: ReachabilityStatusOut, **errors(*AUTH_ERRORS)},
    summary="Your reachability",
)
def me(request: HttpRequest) -> dict[str, Any]:
    """When you last proved reachable and the state of your latest check."""
    require_member(request)
    status = reachability.person_status(caller(request))
    return {
        "reachable": status.reachable,
        "last_reachable": status.last_reachable,
        "bounced": status.bounced,
        "period": status.period,
        "challenge": status.challenge,
        "answered_at": status.answered_at,
    }


class ReachabilityAnswerOut(Schema):
    period: str
    answered_at: datetime
    answered_via: str = Field(description="click or reply.")


@router.post(
    "/reachability/answer/{token}",
    auth=None,
    response={200: ReachabilityAnswerOut, **errors(410)},
    tags=["public"],
    summary="Answer a reachability check (the token of its link)",
)
def answer(request: HttpRequest, token: str) -> dict[str, Any]:
    """The same as pressing the button behind the check's link; no account needed, the token is
    the proof. It answers that check only, while its round lasts: 410 once a later round has
    started or it is older than `REACHABILITY_ANSWER_DAYS`. Answering again changes nothing."""
    challenge = reachability.answer(token, Challenge.Via.CLICK, door="api")
    return {
        "period": challenge.round.period,
        "answered_at": challenge.answered_at,
        "answered_via": challenge.answered_via,
    }
