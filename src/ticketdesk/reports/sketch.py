"""Durations as counts in log-spaced buckets, so percentiles add up across days and values.

A duration of ``s`` seconds (``s >= 1``) falls in bucket ``ceil(log(s) / log(GAMMA))``
and is read back as that bucket's middle, within ``RELATIVE_ERROR`` of the truth (the
DDSketch construction); under a second is bucket 0, read back as 0. The percentiles
themselves are read in SQL (``reports/queries.sql``, ``durations``). Pure.
"""

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from ticketdesk.sla.calendar import Calendar

RELATIVE_ERROR = 0.01
GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR)
_LOG_GAMMA = math.log(GAMMA)


def bucket(seconds: float) -> int:
    """The bucket ``seconds`` counts in."""
    if seconds < 1:
        return 0
    return max(1, math.ceil(math.log(seconds) / _LOG_GAMMA))


def value(index: int) -> float:
    """What bucket ``index`` reads back as, in seconds."""
    if index == 0:
        return 0.0
    return 2 * GAMMA**index / (GAMMA + 1)


def business_seconds(calendar: Calendar | None, start: datetime, end: datetime) -> float:
    """The business time from ``start`` to ``end`` in ``calendar``, in seconds; every
    second counts without one (around the clock)."""
    if end <= start:
        return 0.0
    if calendar is None:
        return (end - start).total_seconds()
    total = timedelta()
    intervals: Iterable[tuple[datetime, datetime]] = calendar.open_intervals(start)
    for a, b in intervals:
        if a >= end:
            break
        total += min(b, end) - a
    return total.total_seconds()
