"""When periodic work is due: the monthly edition and the reachability rounds.

A period is *due* once its send time has passed; the caller then runs it unless it already ran
(the period's unique row says so). Only the latest due period is ever returned: a system that was
down for three months sends the current edition once on its next start, not three old ones.

Days are counted in UTC. "First working day" means the first Monday-to-Friday day of the month:
the community spans every country, so no single holiday calendar applies.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings


class ScheduleError(ValueError):
    """A schedule setting that cannot be understood (the message says which and why)."""


def first_working_day(year: int, month: int) -> date:
    """The first Monday–Friday of the month (a 1st on Saturday gives Monday the 3rd)."""
    day = date(year, month, 1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _send_clock() -> time:
    raw = str(settings.REPOSITORY_TIME).strip()
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", raw)
    if not match:
        raise ScheduleError(f"TLDOPS_REPOSITORY_TIME must be HH:MM (UTC), not {raw!r}")
    return time(int(match[1]), int(match[2]), tzinfo=UTC)


def send_day(year: int, month: int) -> date:
    """The day of the month the edition (or a round starting that month) goes out."""
    raw = str(settings.REPOSITORY_DAY).strip().lower()
    if raw in ("first-working-day", "first_working_day", ""):
        return first_working_day(year, month)
    if raw.isdigit() and 1 <= int(raw) <= 28:
        return date(year, month, int(raw))
    raise ScheduleError(
        f"TLDOPS_REPOSITORY_DAY must be 'first-working-day' or a day 1–28, not {raw!r}"
    )


def send_time(year: int, month: int) -> datetime:
    """The UTC moment the work of that month is due."""
    return datetime.combine(send_day(year, month), _send_clock())


def _months_back(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) - n
    return index // 12, index % 12 + 1


def edition_period(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def due_edition(now: datetime) -> str:
    """The period of the latest edition whose send time is not in the future (``2026-11``)."""
    year, month = now.year, now.month
    if now < send_time(year, month):
        year, month = _months_back(year, month, 1)
    return edition_period(year, month)


def round_period(year: int, month: int, interval: int | None = None) -> str:
    """The label of the reachability round starting in that month: ``2026-Q4`` when quarterly,
    ``2026-H2`` half-yearly, ``2026`` yearly, else the starting month ``2026-10``."""
    interval = interval or settings.REACHABILITY_INTERVAL_MONTHS
    if interval == 3:
        return f"{year:04d}-Q{(month - 1) // 3 + 1}"
    if interval == 6:
        return f"{year:04d}-H{(month - 1) // 6 + 1}"
    if interval == 12:
        return f"{year:04d}"
    return edition_period(year, month)


def due_round(now: datetime) -> tuple[str, datetime]:
    """The latest reachability round already started: (period label, its start time).

    Rounds start in the months where ``(month - 1) % interval == 0`` (January, April, July and
    October when quarterly), on the same day and time as the edition of that month.
    """
    interval = settings.REACHABILITY_INTERVAL_MONTHS
    if not 1 <= interval <= 12 or 12 % interval:
        raise ScheduleError(
            f"TLDOPS_REACHABILITY_INTERVAL_MONTHS must divide 12 (1, 2, 3, 4, 6 or 12), not {interval}"
        )
    year, month = now.year, now.month
    back = (month - 1) % interval
    year, month = _months_back(year, month, back)
    if now < send_time(year, month):
        year, month = _months_back(year, month, interval)
    return round_period(year, month, interval), send_time(year, month)
