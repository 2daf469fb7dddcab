"""The periods a range of days is read from, and percentiles of added-up histograms."""

from datetime import date, timedelta

import pytest

from ticketdesk.reports import periods, sketch


def _days(pieces: list[periods.Piece]) -> list[date]:
    held: list[date] = []
    for period, start in pieces:
        length = {"day": 1, "week": 7}.get(period)
        if length is None:  # a month
            length = ((start + timedelta(days=31)).replace(day=1) - start).days
        held.extend(start + timedelta(days=n) for n in range(length))
    return held


class TestCover:
    @pytest.mark.parametrize(
        "first", [date(2025, 12, 3) + timedelta(days=n) for n in range(0, 40, 3)]
    )
    @pytest.mark.parametrize("length", [1, 2, 7, 8, 31, 45, 92, 365, 366, 731])
    def test_the_pieces_hold_each_day_of_the_range_once(self, first: date, length: int) -> None:
        last = first + timedelta(days=length - 1)
        pieces = periods.cover(first, last)
        assert _days(pieces) == [first + timedelta(days=n) for n in range(length)]
        assert len(pieces) <= (38 if length <= 366 else 49)

    def test_the_most_pieces_a_year_takes(self) -> None:
        # Tuesday 6 August 2024 to Saturday 26 July 2025: the edges fall worst.
        pieces = periods.cover(date(2024, 8, 6), date(2025, 7, 26))
        assert len(pieces) == 38
        assert [kind for kind, _ in pieces].count("month") == 10

    def test_whole_months_then_weeks_then_days(self) -> None:
        # Wednesday 3 December 2025 to Wednesday 2 December 2026.
        pieces = periods.cover(date(2025, 12, 3), date(2026, 12, 2))
        assert pieces[:5] == [("day", date(2025, 12, d)) for d in range(3, 8)]
        assert pieces[5:8] == [("week", date(2025, 12, d)) for d in (8, 15, 22)]
        # The week from Monday the 29th would reach into January, read as a whole month.
        assert pieces[8:11] == [("day", date(2025, 12, d)) for d in (29, 30, 31)]
        assert pieces[11:22] == [("month", date(2026, m, 1)) for m in range(1, 12)]
        assert pieces[22:] == [("day", date(2026, 12, 1)), ("day", date(2026, 12, 2))]

    def test_a_day_counts_in_its_day_week_and_month(self) -> None:
        assert periods.containing(date(2026, 12, 3)) == [
            ("day", date(2026, 12, 3)),
            ("week", date(2026, 11, 30)),
            ("month", date(2026, 12, 1)),
        ]


class TestHistograms:
    def test_added_up_bucket_by_bucket(self) -> None:
        assert sketch.merge([([1, 5], [2, 1]), ([2, 5], [4, 3])]) == ([1, 2, 5], [2, 4, 4])

    @pytest.mark.parametrize(
        ("counts", "median", "p90"),
        [
            ([1], 10, 10),
            ([1, 1], 10, 20),  # nearest rank: the median of two is the smaller
            ([5, 4, 1], 10, 20),  # rank 5 of 10 is in the first bucket, rank 9 in the second
            ([5, 5, 0], 10, 20),
            ([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 50, 90),
        ],
    )
    def test_median_and_90th_percentile_by_nearest_rank(
        self, counts: list[int], median: int, p90: int
    ) -> None:
        buckets = [10 * (n + 1) for n in range(len(counts))]
        assert sketch.summarize(buckets, counts) == (sum(counts), median, p90)
