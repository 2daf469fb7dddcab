"""The periods durations are kept for (days, weeks from Monday, months), and how a range
of days is read from as few of them as it takes. Pure."""

from datetime import date, timedelta
from typing import Literal

Period = Literal["day", "week", "month"]
Piece = tuple[Period, date]


def containing(day: date) -> list[Piece]:
    """The periods ``day`` counts in, each named by its first day."""
    return [
        ("day", day),
        ("week", day - timedelta(days=day.weekday())),
        ("month", day.replace(day=1)),
    ]


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def cover(first: date, last: date) -> list[Piece]:
    """Whole periods holding exactly the days ``first`` to ``last``: each month that fits,
    each week that fits without reaching into such a month, and days for the rest (at most
    38 pieces for a year or less, 49 for two years)."""
    pieces: list[Piece] = []
    day = first
    while day <= last:
        next_month = _next_month(day)
        if day.day == 1 and next_month - timedelta(days=1) <= last:
            pieces.append(("month", day))
            day = next_month
            continue
        week_end = day + timedelta(days=6)
        month_ahead = _next_month(next_month) - timedelta(days=1) <= last
        if day.weekday() == 0 and week_end <= last and (week_end < next_month or not month_ahead):
            pieces.append(("week", day))
            day = week_end + timedelta(days=1)
            continue
        pieces.append(("day", day))
        day += timedelta(days=1)
    return pieces
