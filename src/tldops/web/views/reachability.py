"""Reachability pages: the one-click answer to a check, and the report for secretariat and committee.

The answer link opens a page with one button; only pressing it (a POST) records the answer, so a
mail scanner or a link preview that fetches the link changes nothing. The report's trend chart is
inline SVG drawn here on the server: no script, a few kilobytes, readable by screen readers through
its title and the data table that follows it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tldops.directory import permissions
from tldops.directory.audit import Actor
from tldops.kernel.errors import DirectoryError, LinkInvalid
from tldops.repository import reachability, schedule
from tldops.repository.models import Challenge
from tldops.web.access import staff_required

#: The chart shows this many rounds, the latest last (the table below it shows them all).
CHART_ROUNDS = 12


def answer(request: HttpRequest, token: str) -> HttpResponse:
    """``/reachable/<token>/``: GET shows the button, POST records the answer. A link of a round
    that has ended (or a broken one) gets 410 and a page that says so."""
    done = False
    try:
        challenge = reachability.open_challenge(token)
        if request.method == "POST":
            already = challenge.answered_at is not None
            challenge = reachability.answer(token, Challenge.Via.CLICK, door="web")
            done = not already
    except LinkInvalid as exc:
        closed = isinstance(exc, reachability.ChallengeClosed)
        return render(
            request,
            "web/reachability/answer.html",
            {"error": exc.message, "closed": closed},
            status=410,
        )
    return render(
        request,
        "web/reachability/answer.html",
        {"challenge": challenge, "person": challenge.person, "done": done},
    )


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: float
    series: str  # on-time | by-now
    period: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[tuple[float, float, str]]  # x, y, period
    grid: list[tuple[float, str]]  # y, label
    left: int
    right: float


def trend_chart(
    stats: list[reachability.RoundStat], *, width: int = 640, height: int = 240
) -> Chart:
    """Two bars per round: answered before escalation, and answered by now (in percent)."""
    stats = stats[-CHART_ROUNDS:]
    left, right, top, bottom = 48, 8, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / max(1, len(stats))
    bar = min(32.0, slot * 0.35)
    bars, labels = [], []
    for i, stat in enumerate(stats):
        centre = left + i * slot + slot / 2
        for j, (value, series) in enumerate(
            ((stat.percent_on_time, "on-time"), (stat.percent, "by-now"))
        ):
            h = plot_h * value / 100
            bars.append(
                Bar(
                    x=round(centre - bar + j * bar, 1),
                    y=round(top + plot_h - h, 1),
                    width=round(bar - 2, 1),
                    height=round(h, 1),
                    value=value,
                    series=series,
                    period=stat.period,
                )
            )
        labels.append((round(centre, 1), height - bottom + 18, stat.period))
    grid = [(round(top + plot_h * (1 - p / 100), 1), f"{p} %") for p in (0, 25, 50, 75, 100)]
    return Chart(width, height, bars, labels, grid, left, width - right)


@staff_required
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """Per ccTLD and per region, the oldest unverified contacts, and the trend over the rounds.

    A POST starts a round by hand (:func:`tldops.repository.reachability.start_round`): the one
    that is due now unless a name for an extra round is given."""
    due = schedule.due_round(timezone.now())[0]
    status = 200
    if request.method == "POST":
        period = request.POST.get("period", "").strip() or due
        actor = Actor.of(permissions.person_of(request.user), "web")
        try:
            rnd = reachability.start_round(period, trigger="web", actor=actor)
        except DirectoryError as exc:
            messages.error(request, exc.message)
            status = exc.status
        else:
            messages.success(
                request,
                _("Round %(period)s started: %(n)d contact(s) were sent a check.")
                % {"period": rnd.period, "n": rnd.challenges.count()},
            )
            return redirect("web:reachability")
    rep = reachability.report()
    return render(
        request,
        "web/reachability/report.html",
        {
            "report": rep,
            "chart": trend_chart(rep.trend) if rep.trend else None,
            "due": due,
            "next_round": reachability.next_due(),
        },
        status=status,
    )
