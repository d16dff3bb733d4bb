"""When periodic work is due: the monthly edition and the reachability rounds.

A period is *due* once its send time has passed; the caller then runs it unless it already ran
(the period's unique row says so). Only the latest due period is ever returned: a system that was
down for three months sends the current edition once on its next start, not three old ones.

Nothing periodic fires on an empty or just-born community (:func:`periodic_start`): a period is
only due if its send time comes after the first contact confirmed and after ``SCHEDULE_FROM``.
So an install made on 5 December sends nothing that month, and its first edition and round go
out on the first send day after contacts exist, not a minute after the first one confirms.

Days are counted in UTC. "First working day" means the first Monday-to-Friday day of the month:
the community spans every country, so no single holiday calendar applies.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings

from tldops.directory.queries import first_confirmation


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


def _schedule_from() -> datetime | None:
    raw = str(settings.SCHEDULE_FROM).strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ScheduleError(
            f"TLDOPS_SCHEDULE_FROM must be a date YYYY-MM-DD, not {raw!r}"
        ) from None
    return datetime.combine(day, time(0, 0, tzinfo=UTC))


def periodic_start() -> datetime | None:
    """The moment after which periodic sends may fall due: the later of the first contact's
    confirmation and ``SCHEDULE_FROM``; ``None`` while no contact has confirmed (nothing is due)."""
    born = first_confirmation()
    if born is None:
        return None
    held = _schedule_from()
    return max(born, held) if held else born


def allowed(send: datetime, start: datetime | None) -> bool:
    """Whether work whose send time is ``send`` may run, given :func:`periodic_start`."""
    return start is not None and send > start


def period_send_time(period: str) -> datetime:
    """The send time of an edition period ``YYYY-MM``."""
    year, month = (int(x) for x in period.split("-")[:2])
    return send_time(year, month)


def next_edition(now: datetime, exists: Callable[[str], bool]) -> datetime | None:
    """When the next scheduled edition goes out: the due one's send time if it has not been
    sent (it goes at the worker's next minute), else the next month's; the first allowed one on
    a new install; ``None`` while no contact has confirmed."""
    start = periodic_start()
    if start is None:
        return None
    year, month = now.year, now.month
    if now < send_time(year, month):
        year, month = _months_back(year, month, 1)
    for _i in range(25):
        at = send_time(year, month)
        if allowed(at, start) and not exists(edition_period(year, month)):
            return at
        year, month = _months_back(year, month, -1)
    return None


def next_round(now: datetime, exists: Callable[[str], bool]) -> tuple[str, datetime] | None:
    """The next scheduled reachability round (label, start), as :func:`next_edition`."""
    start = periodic_start()
    if start is None:
        return None
    interval = settings.REACHABILITY_INTERVAL_MONTHS
    period, at = due_round(now)
    year, month = at.year, at.month
    for _i in range(25):
        at = send_time(year, month)
        period = round_period(year, month, interval)
        if allowed(at, start) and not exists(period):
            return period, at
        year, month = _months_back(year, month, -interval)
    return None
