"""Durations as counts in log-spaced buckets, so percentiles add up across days and values.

A duration of ``s`` seconds (``s >= 1``) falls in bucket ``ceil(log(s) / log(GAMMA))``
and is read back as that bucket's middle, within ``RELATIVE_ERROR`` of the truth (the
DDSketch construction); under a second is bucket 0, read back as 0. Histograms add up
bucket by bucket, and a percentile is read from the sum. Pure.
"""

import math
from collections import Counter
from collections.abc import Iterable, Sequence
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


def merge(histograms: Iterable[tuple[Sequence[int], Sequence[int]]]) -> tuple[list[int], list[int]]:
    """The sum of histograms given as ascending buckets and their counts, in the same form."""
    total: Counter[int] = Counter()
    for buckets, counts in histograms:
        for index, count in zip(buckets, counts, strict=True):
            total[index] += count
    ordered = sorted(total)
    return ordered, [total[index] for index in ordered]


def summarize(buckets: Sequence[int], counts: Sequence[int]) -> tuple[int, int, int]:
    """How many durations a histogram holds, and the buckets of their median and 90th
    percentile: nearest rank, the first bucket whose running count reaches ``ceil(q * n)``
    (for one or more durations)."""
    total = sum(counts)
    ranks = [max(1, (total + 1) // 2), max(1, (9 * total + 9) // 10)]
    found: list[int] = []
    seen = 0
    for index, count in zip(buckets, counts, strict=True):
        seen += count
        while len(found) < len(ranks) and seen >= ranks[len(found)]:
            found.append(index)
    median, p90 = found
    return total, median, p90


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
