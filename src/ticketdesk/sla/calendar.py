"""Business time: when a policy's clock runs, and where a target of so much of it ends.

A calendar is a weekly set of local time ranges in an IANA time zone (``zoneinfo``, so
daylight saving time is the zone's), minus holidays: dates the admin lists and a
country's (and optionally a subdivision's) public holidays from the ``holidays``
package. Business time is real elapsed time inside those ranges: a 09:00-17:00 day is 8
hours on a day the clocks change too, and a 00:00-24:00 day that loses an hour to
daylight saving time is 23. Everything here is pure: no database, no clock.
"""

import functools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays

log = logging.getLogger(__name__)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How far ahead a target may end: further than this, it is taken as never (a calendar
# whose every day is a holiday, or a clock standing still).
HORIZON_DAYS = 3 * 366

Interval = tuple[datetime, datetime]
# A stretch the clock stood still: from, until (None: it still does).
Pause = tuple[datetime, datetime | None]


@functools.cache
def _country_holidays(country: str, subdivision: str | None) -> holidays.HolidayBase | None:
    # Years are filled in as dates are asked about; one calendar a country and region.
    try:
        return holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError:
        # Stored clocks name a code a newer ``holidays`` no longer knows: its days count as
        # business days rather than every read of those clocks (and the timed job) failing.
        log.warning("no public holidays known for %s %s", country, subdivision or "")
        return None


def check_country(country: str, subdivision: str | None) -> str | None:
    """Why ``country`` (and ``subdivision``) has no public holidays to offer, or None."""
    try:
        holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError as exc:
        return str(exc)
    return None


def parse_clock(text: str) -> time | None:
    """``HH:MM`` as a time of day; ``24:00`` (the end of the day) as None."""
    if text == "24:00":
        return None
    return time.fromisoformat(text)


@dataclass(frozen=True)
class Calendar:
    """When business time runs."""

    zone: ZoneInfo
    # Per weekday (Monday first): the local ranges, an end of None meaning midnight.
    week: tuple[tuple[tuple[time, time | None], ...], ...]
    dates: frozenset[date] = frozenset()
    country: str | None = None
    subdivision: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Calendar":
        """A calendar as policies store it (``sla.schemas.Calendar``'s JSON)."""
        week = data["week"]
        return cls(
            zone=ZoneInfo(data["time_zone"]),
            week=tuple(
                tuple(
                    (time.fromisoformat(r["start"]), parse_clock(r["end"]))
                    for r in week.get(day, [])
                )
                for day in WEEKDAYS
            ),
            dates=frozenset(date.fromisoformat(d) for d in data.get("holidays", [])),
            country=data.get("holiday_country"),
            subdivision=data.get("holiday_subdivision"),
        )

    def is_holiday(self, day: date) -> bool:
        """Whether ``day`` is a holiday: listed, or a public holiday of the country."""
        if day in self.dates:
            return True
        if self.country is None:
            return False
        public = _country_holidays(self.country, self.subdivision)
        return public is not None and day in public

    def open_intervals(self, start: datetime) -> Iterator[Interval]:
        """The business intervals from ``start`` on, in UTC and in order, the first cut
        to begin at ``start``; they end after ``HORIZON_DAYS`` days."""
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(HORIZON_DAYS + 1):
            if not self.is_holiday(day):
                for begin, end in self.week[day.weekday()]:
                    a = datetime.combine(day, begin, tzinfo=self.zone).astimezone(UTC)
                    b = (
                        datetime.combine(day + timedelta(days=1), time(), tzinfo=self.zone)
                        if end is None
                        else datetime.combine(day, end, tzinfo=self.zone)
                    ).astimezone(UTC)
                    if b > start:
                        yield max(a, start), b
            day += timedelta(days=1)


def _without_pauses(interval: Interval, pauses: Sequence[Pause]) -> Iterator[Interval]:
    """``interval`` less the stretches in ``pauses`` (sorted by start)."""
    a, b = interval
    for since, until in pauses:
        if until is not None and until <= a:
            continue
        if since >= b:
            break
        if since > a:
            yield a, since
        if until is None:
            return
        a = max(a, until)
        if a >= b:
            return
    if a < b:
        yield a, b


def add_business_time(
    calendar: Calendar, start: datetime, duration: timedelta, pauses: Sequence[Pause] = ()
) -> datetime | None:
    """The instant ``duration`` of business time after ``start``, not counting
    ``pauses``; None if it never comes (the clock stands still before it, or it lies
    beyond the horizon)."""
    remaining = duration
    still_from = pauses[-1][0] if pauses and pauses[-1][1] is None else None
    for interval in calendar.open_intervals(start):
        if still_from is not None and interval[0] >= still_from:
            return None
        for a, b in _without_pauses(interval, pauses):
            if b - a >= remaining:
                return a + remaining
            remaining -= b - a
    return None
