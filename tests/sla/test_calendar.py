"""Business-time arithmetic, as pure functions: weekends, holidays, daylight saving time,
and clocks standing still while a ticket waits."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ticketdesk.sla import clocks
from ticketdesk.sla.calendar import Calendar, add_business_time

BERLIN = ZoneInfo("Europe/Berlin")
NINE_TO_FIVE = ((time(9), time(17)),)
WEEKDAYS_ONLY = (NINE_TO_FIVE,) * 5 + ((), ())


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def office(**kwargs: object) -> Calendar:
    return Calendar(zone=BERLIN, week=WEEKDAYS_ONLY, **kwargs)  # type: ignore[arg-type]


class TestAddBusinessTime:
    def test_within_one_day(self) -> None:
        # Tuesday 10:00 + 3 h = Tuesday 13:00.
        assert add_business_time(office(), berlin(2026, 3, 3, 10), timedelta(hours=3)) == berlin(
            2026, 3, 3, 13
        )

    def test_before_opening_starts_at_opening(self) -> None:
        assert add_business_time(office(), berlin(2026, 3, 3, 6), timedelta(hours=1)) == berlin(
            2026, 3, 3, 10
        )

    def test_across_a_weekend(self) -> None:
        # Friday 15:00 + 4 h: 2 h on Friday, the weekend skipped, 2 h on Monday.
        friday = berlin(2026, 3, 6, 15)
        assert add_business_time(office(), friday, timedelta(hours=4)) == berlin(2026, 3, 9, 11)

    def test_across_a_listed_holiday(self) -> None:
        # Wednesday 16:00 + 2 h, Thursday a company holiday: Friday 10:00.
        calendar = office(dates=frozenset({date(2026, 3, 5)}))
        wednesday = berlin(2026, 3, 4, 16)
        assert add_business_time(calendar, wednesday, timedelta(hours=2)) == berlin(2026, 3, 6, 10)

    def test_across_a_country_holiday(self) -> None:
        # Germany: Good Friday 2026 is 3 April, Easter Monday 6 April. Thursday 16:00 +
        # 2 h lands on Tuesday 10:00; without the holidays it would be Friday 10:00.
        thursday = berlin(2026, 4, 2, 16)
        german = office(country="DE")
        assert add_business_time(german, thursday, timedelta(hours=2)) == berlin(2026, 4, 7, 10)
        assert add_business_time(office(), thursday, timedelta(hours=2)) == berlin(2026, 4, 3, 10)

    def test_a_subdivision_has_its_own_holidays(self) -> None:
        # Epiphany (6 January) is a holiday in Bavaria, not in Berlin.
        monday = berlin(2026, 1, 5, 16)
        bavaria = office(country="DE", subdivision="BY")
        assert add_business_time(bavaria, monday, timedelta(hours=2)) == berlin(2026, 1, 7, 10)
        berlin_state = office(country="DE", subdivision="BE")
        assert add_business_time(berlin_state, monday, timedelta(hours=2)) == berlin(2026, 1, 6, 10)

    def test_a_region_the_holidays_package_no_longer_knows_counts_no_holidays(self) -> None:
        # Clocks stored with a subdivision a later package version dropped still run.
        thursday = berlin(2026, 4, 2, 16)
        gone = office(country="DE", subdivision="XX")
        assert add_business_time(gone, thursday, timedelta(hours=2)) == berlin(2026, 4, 3, 10)

    def test_a_night_shift_runs_on_past_midnight(self) -> None:
        # Monday 22:00-24:00 and Tuesday 00:00-06:00: Monday 23:00 + 2 h is Tuesday 01:00.
        night = Calendar(
            zone=BERLIN,
            week=(((time(22), None),), ((time(0), time(6)),), (), (), (), (), ()),
        )
        monday = berlin(2026, 3, 2, 23)
        assert add_business_time(night, monday, timedelta(hours=2)) == berlin(2026, 3, 3, 1)

    def test_across_daylight_saving_time(self) -> None:
        # Clocks go forward on Sunday 29 March 2026 in Berlin. Friday 16:00 CET + 2 h is
        # Monday 10:00 CEST: 08:00 UTC, not 09:00 as a count in UTC would have it.
        friday = berlin(2026, 3, 27, 16)
        due = add_business_time(office(), friday, timedelta(hours=2))
        assert due == berlin(2026, 3, 30, 10)
        assert due is not None
        assert due.astimezone(UTC) == datetime(2026, 3, 30, 8, tzinfo=UTC)

    def test_a_round_the_clock_day_loses_the_hour_daylight_saving_time_takes(self) -> None:
        always = Calendar(zone=BERLIN, week=(((time(0), None),),) * 7)
        saturday = berlin(2026, 3, 28, 12)
        # 24 h of business time from Saturday noon ends Sunday 13:00 local: Sunday has 23.
        assert add_business_time(always, saturday, timedelta(hours=24)) == berlin(2026, 3, 29, 13)
        sunday = berlin(2026, 3, 29, 0)
        assert add_business_time(always, sunday, timedelta(hours=23)) == berlin(2026, 3, 30, 0)

    def test_a_pause_moves_the_due_time_by_the_business_time_it_covered(self) -> None:
        # Monday 09:00 + 8 h would be Monday 17:00; waiting from 11:00 to Tuesday 10:00
        # covers 6 h of Monday and 1 h of Tuesday: Tuesday 16:00.
        pauses = [(berlin(2026, 3, 2, 11), berlin(2026, 3, 3, 10))]
        assert add_business_time(
            office(), berlin(2026, 3, 2, 9), timedelta(hours=8), pauses
        ) == berlin(2026, 3, 3, 16)

    def test_an_open_pause_means_never(self) -> None:
        pauses = [(berlin(2026, 3, 2, 11), None)]
        start = berlin(2026, 3, 2, 9)
        assert add_business_time(office(), start, timedelta(hours=8), pauses) is None
        # What fell due before the pause still did.
        assert add_business_time(office(), start, timedelta(hours=1), pauses) == berlin(
            2026, 3, 2, 10
        )


class TestClocks:
    START = berlin(2026, 3, 2, 9)  # a Monday

    def make(self, **kwargs: object) -> clocks.Clocks:
        defaults: dict[str, object] = {
            "calendar": office(),
            "started_at": self.START,
            "first_response_minutes": 60,
            "resolution_minutes": 480,
        }
        return clocks.Clocks(**{**defaults, **kwargs})  # type: ignore[arg-type]

    def test_ok_then_at_risk_at_75_percent_then_breached(self) -> None:
        ok = clocks.read(self.make(), status="open", now=berlin(2026, 3, 2, 9, 30))
        assert ok.state == "ok"
        assert ok.first_response_due_at == berlin(2026, 3, 2, 10)
        assert ok.resolution_due_at == berlin(2026, 3, 2, 17)
        assert ok.due_at == berlin(2026, 3, 2, 10)
        assert ok.next_check_at == berlin(2026, 3, 2, 9, 45)  # 75 % of the first hour
        risky = clocks.read(self.make(), status="open", now=berlin(2026, 3, 2, 9, 45))
        assert (risky.state, risky.breaches) == ("at_risk", [])
        assert risky.next_check_at == berlin(2026, 3, 2, 10)
        late = clocks.read(self.make(), status="open", now=berlin(2026, 3, 2, 10))
        assert (late.state, late.breaches) == ("breached", ["first_response"])
        assert late.due_at == berlin(2026, 3, 2, 10)  # overdue until answered
        # The resolution target turns at risk at 15:00 (6 of its 8 hours).
        assert late.next_check_at == berlin(2026, 3, 2, 15)

    def test_a_breach_is_reported_once(self) -> None:
        noticed = self.make(first_response_breached_at=berlin(2026, 3, 2, 10))
        again = clocks.read(noticed, status="open", now=berlin(2026, 3, 2, 11))
        assert (again.state, again.breaches) == ("breached", [])

    def test_a_first_reply_in_time_meets_the_target(self) -> None:
        answered = self.make(first_responded_at=berlin(2026, 3, 2, 9, 50))
        reading = clocks.read(answered, status="in_progress", now=berlin(2026, 3, 2, 12))
        assert (reading.state, reading.breaches) == ("ok", [])
        assert reading.due_at == berlin(2026, 3, 2, 17)

    def test_a_late_first_reply_is_a_breach(self) -> None:
        answered = self.make(first_responded_at=berlin(2026, 3, 2, 10, 5))
        reading = clocks.read(answered, status="in_progress", now=berlin(2026, 3, 2, 10, 5))
        assert reading.breaches == ["first_response"]

    def test_waiting_stops_the_clock_and_nothing_is_due(self) -> None:
        waiting = self.make(
            first_responded_at=berlin(2026, 3, 2, 9, 30),
            pauses=[(berlin(2026, 3, 2, 10), None)],
        )
        reading = clocks.read(waiting, status="waiting", now=berlin(2026, 3, 9, 9))
        assert reading.state == "ok"
        assert reading.due_at is None
        assert reading.next_check_at is None
        # Back in progress on Tuesday 09:00: the 7 h left run from there.
        resumed = self.make(
            first_responded_at=berlin(2026, 3, 2, 9, 30),
            pauses=[(berlin(2026, 3, 2, 10), berlin(2026, 3, 3, 9))],
        )
        reading = clocks.read(resumed, status="in_progress", now=berlin(2026, 3, 3, 9))
        assert reading.resolution_due_at == berlin(2026, 3, 3, 16)

    def test_resolving_meets_the_resolution_target(self) -> None:
        resolved = self.make(
            first_responded_at=berlin(2026, 3, 2, 9, 30),
            pauses=[(berlin(2026, 3, 2, 16), None)],
        )
        reading = clocks.read(resolved, status="resolved", now=berlin(2026, 3, 5, 9))
        assert (reading.state, reading.breaches, reading.due_at) == ("ok", [], None)
