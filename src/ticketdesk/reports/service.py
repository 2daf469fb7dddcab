"""Reports: daily rollups kept by the ticket changes, and the figures read from them.

``on_change`` hears every change to a ticket in the changing transaction and adds what
it counts as to each bucket the ticket is in: the whole ('all'), its team, agent, type,
priority and each of its labels, '' standing for none. It only inserts rows
(``report_day_changes``, ``report_duration_changes``), so that changes to tickets never
wait on each other; ``fold``, run by each report and by the minutely ``reports.fold``
job, sums them into the rollups (``report_days``, ``report_durations``). A figure counts
in the buckets of the ticket's attributes when the counted event happened (a ticket
created and routed in one transaction counts where it was routed). The backlog is kept
as deltas: each ticket remembers the buckets it adds to the backlog
(``report_tickets``), and a change moves it out of those and into the ones it is in now.
``rebuild`` makes the rollups again from what the tickets hold.
"""

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from psycopg.pq import TransactionStatus
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from ticketdesk.changes import Change
from ticketdesk.db import Connection
from ticketdesk.reports import periods, sketch
from ticketdesk.reports.schemas import (
    BacklogReport,
    CsatReport,
    DurationsReport,
    Interval,
    SlaReport,
    SplitBy,
    VolumeReport,
)
from ticketdesk.sla.calendar import Calendar
from ticketdesk.sql import execute, fetch_all, fetch_one, fetch_value, load_queries

Q = load_queries(__package__)

Bucket = tuple[str, str]
Metric = Literal["first_response", "resolution"]
COUNTERS = (
    "created",
    "resolved",
    "backlog_delta",
    "first_response_met",
    "first_response_missed",
    "resolution_met",
    "resolution_missed",
    "csat_good",
    "csat_bad",
)
DONE = frozenset({"resolved", "closed"})
# The kinds that can move a figure; the others are not looked at.
_COUNTED = frozenset(
    {
        "created",
        "status_changed",
        "type_changed",
        "priority_changed",
        "tags_changed",
        "assigned",
        "team_changed",
        "commented",
        "sla_breached",
        "merged",
        "unmerged",
        "rated",
    }
)


def buckets(
    *,
    ticket_type: str,
    priority: str,
    tags: Sequence[str],
    team_id: UUID | None,
    agent_id: UUID | None,
) -> list[Bucket]:
    """The buckets a ticket with these attributes counts in."""
    return [
        ("all", ""),
        ("team", str(team_id) if team_id else ""),
        ("agent", str(agent_id) if agent_id else ""),
        ("type", ticket_type),
        ("priority", priority),
        *([("label", tag) for tag in tags] or [("label", "")]),
    ]


@dataclass
class Tally:
    """Additions to the rollups, written in one go."""

    days: dict[tuple[str, date, str], dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    )
    durations: dict[tuple[str, str, date, str, int], int] = field(
        default_factory=lambda: defaultdict(int)
    )

    def add(self, day: date, where: Iterable[Bucket], counter: str, amount: int = 1) -> None:
        for dimension, value in where:
            self.days[(dimension, day, value)][counter] += amount

    def duration(self, day: date, where: Iterable[Bucket], metric: Metric, seconds: float) -> None:
        index = sketch.bucket(seconds)
        for dimension, value in where:
            self.durations[(dimension, metric, day, value, index)] += 1

    async def write(self, conn: Connection) -> None:
        """Add the tallied figures as rows of their own, for ``fold`` to sum."""
        rows = [(key, counts) for key, counts in self.days.items() if any(counts.values())]
        if rows:
            await execute(
                conn,
                Q.add_day_changes,
                {
                    "dimension": [k[0] for k, _ in rows],
                    "day": [k[1] for k, _ in rows],
                    "value": [k[2] for k, _ in rows],
                    **{name: [c[name] for _, c in rows] for name in COUNTERS},
                },
            )
        if self.durations:
            keys = list(self.durations)
            await execute(
                conn,
                Q.add_duration_changes,
                {
                    "dimension": [k[0] for k in keys],
                    "metric": [k[1] for k in keys],
                    "day": [k[2] for k in keys],
                    "value": [k[3] for k in keys],
                    "bucket": [k[4] for k in keys],
                    "count": [self.durations[k] for k in keys],
                },
            )


_HISTOGRAM_KEY = ("dimension", "metric", "period", "start", "value")
# Histograms summarized a statement at a time.
_SUMMARY_CHUNK = 5_000


@dataclass(slots=True)
class _Key:
    dimension: str
    metric: str
    period: periods.Period
    start: date
    value: str


@dataclass(slots=True)
class _Histogram:
    dimension: str
    metric: str
    period: periods.Period
    start: date
    value: str
    buckets: list[int]
    counts: list[int]


async def fold(conn: Connection) -> None:
    """Fold the rows the changes added into the rollups, and work out again the
    percentiles of the histograms that changed. Two folds at once: the second waits for
    the first to commit, then folds what is left."""
    await execute(conn, Q.fold_day_changes)
    keys = await fetch_all(conn, _Key, Q.fold_duration_changes)
    for offset in range(0, len(keys), _SUMMARY_CHUNK):
        chunk = keys[offset : offset + _SUMMARY_CHUNK]
        histograms = await fetch_all(
            conn,
            _Histogram,
            Q.durations_by_key,
            {name: [getattr(k, name) for k in chunk] for name in _HISTOGRAM_KEY},
        )
        summaries = [sketch.summarize(h.buckets, h.counts) for h in histograms]
        await execute(
            conn,
            Q.summarize_durations,
            {
                **{name: [getattr(h, name) for h in histograms] for name in _HISTOGRAM_KEY},
                "median": [median for _, median, _ in summaries],
                "p90": [p90 for _, _, p90 in summaries],
            },
        )


class _Facts(BaseModel):
    status: str
    type: str
    priority: str
    tags: list[str]
    team_id: UUID | None
    assigned_to_user_id: UUID | None
    merged_into_id: UUID | None
    created_at: datetime
    calendar: dict[str, Any] | None
    first_response_minutes: int | None
    resolution_minutes: int | None
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_response_breached_at: datetime | None
    resolution_breached_at: datetime | None
    created_now: bool | None
    created_day: date | None
    created_buckets: list[tuple[str, str]]
    backlog_buckets: list[tuple[str, str]]
    first_responded: bool
    first_response_decided: bool
    resolution_decided: bool
    rating: Literal["good", "bad"] | None
    rating_day: date | None
    rating_buckets: list[tuple[str, str]]
    actor_is_staff: bool
    now: datetime
    today: date

    def buckets(self) -> list[Bucket]:
        return buckets(
            ticket_type=self.type,
            priority=self.priority,
            tags=self.tags,
            team_id=self.team_id,
            agent_id=self.assigned_to_user_id,
        )

    def in_backlog(self) -> bool:
        return self.status not in DONE and self.merged_into_id is None

    def calendar_(self) -> Calendar | None:
        return Calendar.from_json(self.calendar) if self.calendar is not None else None


def _move(
    tally: Tally, day: date, old: Sequence[Bucket], new: Sequence[Bucket], counter: str
) -> None:
    """Count ``counter`` out of ``old`` and into ``new`` on ``day`` (what both name stays)."""
    tally.add(day, [b for b in old if b not in new], counter, -1)
    tally.add(day, [b for b in new if b not in old], counter, 1)


def _met(due_at: datetime | None, breached_at: datetime | None, now: datetime) -> bool:
    return breached_at is None and (due_at is None or due_at > now)


async def on_change(conn: Connection, change: Change) -> None:
    """Add what ``change`` counts as to today's rollups (subscriber of ``record_change``)."""
    if change.kind not in _COUNTED or (change.kind == "commented" and change.is_internal):
        return
    if conn.info.transaction_status == TransactionStatus.INTRANS:
        # Without a transaction (autocommit, as the demo loads) no lock outlives its
        # statement, and there is nothing to take up front.
        await execute(conn, Q.lock_for_change)
    facts = await fetch_one(
        conn, _Facts, Q.change_facts, {"ticket_id": change.ticket_id, "actor_id": change.actor_id}
    )
    tally = Tally()
    now, today = facts.now, facts.today
    where = facts.buckets()
    created_day = facts.created_day or today
    created_buckets: list[Bucket] = list(facts.created_buckets)
    created_now = bool(facts.created_now)
    if change.kind == "created":
        tally.add(today, where, "created")
        created_day, created_buckets, created_now = today, where, True
    elif created_now:
        # Still the creating transaction (routing, rules): its creation counts where it ends up.
        _move(tally, created_day, created_buckets, where, "created")
        created_buckets = where
    backlog = where if facts.in_backlog() else []
    _move(tally, today, facts.backlog_buckets, backlog, "backlog_delta")
    first_responded = facts.first_responded
    first_response_decided = facts.first_response_decided
    resolution_decided = facts.resolution_decided
    if (
        change.kind == "status_changed"
        and change.data.get("from") not in DONE
        and (change.data.get("to") in DONE)
    ):
        tally.add(today, where, "resolved")
        tally.duration(
            today,
            where,
            "resolution",
            sketch.business_seconds(facts.calendar_(), facts.created_at, now),
        )
        if facts.resolution_minutes is not None and not resolution_decided:
            met = _met(facts.resolution_due_at, facts.resolution_breached_at, now)
            tally.add(today, where, "resolution_met" if met else "resolution_missed")
            resolution_decided = True
    if change.kind == "commented" and facts.actor_is_staff and not first_responded:
        first_responded = True
        tally.duration(
            today,
            where,
            "first_response",
            sketch.business_seconds(facts.calendar_(), facts.created_at, now),
        )
        if facts.first_response_minutes is not None and not first_response_decided:
            met = _met(facts.first_response_due_at, facts.first_response_breached_at, now)
            tally.add(today, where, "first_response_met" if met else "first_response_missed")
            first_response_decided = True
    if change.kind == "sla_breached":
        if change.data.get("target") == "first_response" and not first_response_decided:
            tally.add(today, where, "first_response_missed")
            first_response_decided = True
        if change.data.get("target") == "resolution" and not resolution_decided:
            tally.add(today, where, "resolution_missed")
            resolution_decided = True
    rating, rating_day = facts.rating, facts.rating_day
    rating_buckets: list[Bucket] = list(facts.rating_buckets)
    if change.kind == "rated":
        if rating is not None and rating_day is not None:
            tally.add(rating_day, rating_buckets, f"csat_{rating}", -1)
        rating, rating_day, rating_buckets = change.data["rating"], today, where
        tally.add(today, where, f"csat_{rating}")
    await tally.write(conn)
    await execute(
        conn,
        Q.save_ticket,
        {
            "ticket_id": change.ticket_id,
            "created_now": created_now,
            "created_day": created_day,
            "created_buckets": Jsonb(created_buckets),
            "backlog_buckets": Jsonb(backlog),
            "first_responded": first_responded,
            "first_response_decided": first_response_decided,
            "resolution_decided": resolution_decided,
            "rating": rating,
            "rating_day": rating_day,
            "rating_buckets": Jsonb(rating_buckets),
        },
    )


# --- rebuilding ---------------------------------------------------------------------------


class _Source(BaseModel):
    id: UUID
    status: str
    type: str
    priority: str
    tags: list[str]
    team_id: UUID | None
    assigned_to_user_id: UUID | None
    merged_into_id: UUID | None
    created_at: datetime
    resolved_at: datetime | None
    calendar: dict[str, Any] | None
    first_response_minutes: int | None
    resolution_minutes: int | None
    first_response_breached_at: datetime | None
    resolution_breached_at: datetime | None
    replied_at: datetime | None
    rating: Literal["good", "bad"] | None
    rated_at: datetime | None


_REBUILD_CHUNK = 10_000


def _rebuild_ticket(
    row: _Source,
    day: Callable[[datetime], date],
    tally: Tally,
    durations: list[tuple[str, str, date, str, int]],
    states: list[tuple[Any, ...]],
) -> None:
    """Add what ``row`` counts as to ``tally``, its durations and its state row."""
    where = buckets(
        ticket_type=row.type,
        priority=row.priority,
        tags=row.tags,
        team_id=row.team_id,
        agent_id=row.assigned_to_user_id,
    )
    calendar = Calendar.from_json(row.calendar) if row.calendar is not None else None
    created = day(row.created_at)
    tally.add(created, where, "created")
    tally.add(created, where, "backlog_delta")
    done_at = row.resolved_at or row.created_at
    in_backlog = row.status not in DONE and row.merged_into_id is None
    if not in_backlog:
        tally.add(day(done_at), where, "backlog_delta", -1)
    if row.status in DONE:
        tally.add(day(done_at), where, "resolved")
        seconds = sketch.business_seconds(calendar, row.created_at, done_at)
        durations.extend(
            (dimension, "resolution", day(done_at), value, sketch.bucket(seconds))
            for dimension, value in where
        )
    if row.replied_at is not None:
        seconds = sketch.business_seconds(calendar, row.created_at, row.replied_at)
        durations.extend(
            (dimension, "first_response", day(row.replied_at), value, sketch.bucket(seconds))
            for dimension, value in where
        )
    first_response_decided = False
    if row.first_response_minutes is not None:
        if row.first_response_breached_at is not None:
            tally.add(day(row.first_response_breached_at), where, "first_response_missed")
            first_response_decided = True
        elif row.replied_at is not None:
            tally.add(day(row.replied_at), where, "first_response_met")
            first_response_decided = True
    resolution_decided = False
    if row.resolution_minutes is not None:
        if row.resolution_breached_at is not None:
            tally.add(day(row.resolution_breached_at), where, "resolution_missed")
            resolution_decided = True
        elif row.status in DONE:
            tally.add(day(done_at), where, "resolution_met")
            resolution_decided = True
    rating_day = None
    if row.rating is not None and row.rated_at is not None:
        rating_day = day(row.rated_at)
        tally.add(rating_day, where, f"csat_{row.rating}")
    states.append(
        (
            row.id,
            created,
            json.dumps(where),
            json.dumps(where if in_backlog else []),
            row.replied_at is not None,
            first_response_decided,
            resolution_decided,
            row.rating if rating_day else None,
            rating_day,
            json.dumps(where if rating_day else []),
        )
    )


async def rebuild(conn: Connection, *, zone: str | None = None) -> int:
    """Make the rollups again from the tickets as they are now (their current team,
    agent, type, priority and labels; resolved when their resolution or closing stamp
    says), with days split at ``zone``'s midnights (None: the zone they use now); return
    how many tickets were counted. Changes to tickets wait until it commits."""
    await execute(conn, Q.lock_rollups)
    if zone is not None:
        await execute(conn, Q.set_time_zone, {"time_zone": zone})
    local = ZoneInfo(await time_zone(conn))
    await execute(conn, Q.clear_rollups)
    tally = Tally()
    count = 0

    def day(at: datetime) -> date:
        return at.astimezone(local).date()

    async with conn.cursor(name="rebuild_reports") as source:
        await source.execute(Q.rebuild_source)
        while records := await source.fetchmany(_REBUILD_CHUNK):
            durations: list[tuple[str, str, date, str, int]] = []
            states: list[tuple[Any, ...]] = []
            for record in records:
                row = _Source.model_validate(record)
                count += 1
                _rebuild_ticket(row, day, tally, durations, states)
            async with conn.cursor().copy(Q.copy_duration_changes) as copy:
                for duration in durations:
                    await copy.write_row((*duration, 1))
            async with conn.cursor().copy(Q.copy_ticket_states) as copy:
                for state in states:
                    await copy.write_row(state)
    await tally.write(conn)
    await fold(conn)
    await execute(conn, Q.release_changes)
    return count


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """What a report covers: days ``start`` to ``end`` (both included), in periods of
    ``interval``, one series per value of ``split_by`` (None: one for all tickets)."""

    start: date
    end: date
    interval: Interval
    split_by: SplitBy | None

    @property
    def dimension(self) -> str:
        return self.split_by or "all"

    def period(self, day: date) -> date:
        """The period ``day`` falls in, as its first day within the range."""
        if self.interval == "day":
            return day
        return max(self.start, day - timedelta(days=day.weekday()))

    def last_day(self, period: date) -> date:
        """The last day within the range of the period starting on ``period``."""
        if self.interval == "day":
            return period
        return min(self.end, period + timedelta(days=6 - period.weekday()))

    def periods(self) -> list[date]:
        days = (self.end - self.start).days + 1
        return sorted({self.period(self.start + timedelta(days=n)) for n in range(days)})


_NONE_NAMES = {
    "all": "All tickets",
    "team": "No team",
    "agent": "Unassigned",
    "label": "No label",
}


class _Name(BaseModel):
    value: str
    name: str


class _Open(BaseModel):
    value: str
    open: int


async def _names(conn: Connection, dimension: str, values: Iterable[str]) -> dict[str, str]:
    """What to call each value of ``dimension``."""
    wanted = sorted(set(values))
    names = {value: _NONE_NAMES.get(dimension, value) if value == "" else value for value in wanted}
    query = {"team": Q.team_names, "agent": Q.user_names}.get(dimension)
    ids = [value for value in wanted if value]
    if query is not None and ids:
        for row in await fetch_all(conn, _Name, query, {"values": ids}):
            names[row.value] = row.name
    return names


def _ordered(names: Mapping[str, str]) -> list[str]:
    """The values as their series are listed: by name, then by value."""
    return sorted(names, key=lambda v: (names[v].lower(), v))


# Rows and points below are plain dataclasses and dicts, and a report is validated once
# as a whole: a year split by agent is some 7,700 points, and a model a point would cost
# most of the report's time.
@dataclass(slots=True)
class _Day:
    day: date
    value: str
    created: int
    resolved: int
    backlog_delta: int
    first_response_met: int
    first_response_missed: int
    resolution_met: int
    resolution_missed: int
    csat_good: int
    csat_bad: int


Counts = dict[str, int]
_NO_COUNTS: Counts = dict.fromkeys(COUNTERS, 0)


async def time_zone(conn: Connection) -> str:
    """The zone whose midnights split the rollups' days."""
    return await fetch_value(conn, str, Q.time_zone)


async def _sums(
    conn: Connection, span: Range
) -> tuple[dict[str, dict[date, Counts]], dict[str, Counts]]:
    """The counters summed per value and period, and per value over the range."""
    per_period: dict[str, dict[date, Counts]] = defaultdict(dict)
    total: dict[str, Counts] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    rows = await fetch_all(
        conn, _Day, Q.days, {"dimension": span.dimension, "from": span.start, "to": span.end}
    )
    for row in rows:
        periods_of_value = per_period[row.value]
        period = span.period(row.day)
        counts = periods_of_value.get(period)
        if counts is None:
            counts = periods_of_value[period] = dict.fromkeys(COUNTERS, 0)
        whole = total[row.value]
        for name in COUNTERS:
            amount = getattr(row, name)
            counts[name] += amount
            whole[name] += amount
    return per_period, total


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


R = TypeVar("R", VolumeReport, BacklogReport, DurationsReport, SlaReport, CsatReport)


async def _report(conn: Connection, model: type[R], span: Range, series: list[dict[str, Any]]) -> R:
    return model.model_validate(
        {
            "from": span.start,
            "to": span.end,
            "interval": span.interval,
            "split_by": span.split_by,
            "time_zone": await time_zone(conn),
            "series": series,
        }
    )


async def _counted(
    conn: Connection, span: Range, figures: Callable[[Counts], dict[str, Any]]
) -> list[dict[str, Any]]:
    """A series per value: ``figures`` of the counters of each period and of the range."""
    per_period, total = await _sums(conn, span)
    names = await _names(conn, span.dimension, per_period)
    periods_ = span.periods()
    return [
        {
            "key": value,
            "name": names[value],
            "points": [
                {"period": p, "values": figures(per_period[value].get(p, _NO_COUNTS))}
                for p in periods_
            ],
            "total": figures(total[value]),
        }
        for value in _ordered(names)
    ]


def _volume(c: Counts) -> dict[str, Any]:
    return {"created": c["created"], "resolved": c["resolved"]}


async def volume(conn: Connection, span: Range) -> VolumeReport:
    """Tickets created and resolved per period."""
    await fold(conn)
    return await _report(conn, VolumeReport, span, await _counted(conn, span, _volume))


async def backlog(conn: Connection, span: Range) -> BacklogReport:
    """Tickets open at the end of each period."""
    await fold(conn)
    per_period, _ = await _sums(conn, span)
    before = {
        row.value: row.open
        for row in await fetch_all(
            conn, _Open, Q.backlog_before, {"dimension": span.dimension, "from": span.start}
        )
    }
    values = {v for v, n in before.items() if n} | set(per_period)
    names = await _names(conn, span.dimension, values)
    series = []
    for value in _ordered(names):
        running = before.get(value, 0)
        points = []
        for p in span.periods():
            running += per_period[value].get(p, _NO_COUNTS)["backlog_delta"]
            points.append({"period": p, "values": {"open": running}})
        series.append(
            {"key": value, "name": names[value], "points": points, "total": {"open": running}}
        )
    return await _report(conn, BacklogReport, span, series)


def _target(c: Counts, target: str) -> dict[str, Any]:
    met, missed = c[f"{target}_met"], c[f"{target}_missed"]
    return {"met": met, "missed": missed, "attainment": _ratio(met, met + missed)}


def _sla(c: Counts) -> dict[str, Any]:
    return {
        "first_response": _target(c, "first_response"),
        "resolution": _target(c, "resolution"),
    }


async def sla(conn: Connection, span: Range) -> SlaReport:
    """SLA targets met and missed per period."""
    await fold(conn)
    return await _report(conn, SlaReport, span, await _counted(conn, span, _sla))


def _csat(c: Counts) -> dict[str, Any]:
    good, bad = c["csat_good"], c["csat_bad"]
    return {"good": good, "bad": bad, "score": _ratio(good, good + bad)}


async def csat(conn: Connection, span: Range) -> CsatReport:
    """Satisfaction ratings per period."""
    await fold(conn)
    return await _report(conn, CsatReport, span, await _counted(conn, span, _csat))


@dataclass(slots=True)
class _Summary:
    period: periods.Period
    start: date
    value: str
    count: int
    median: int
    p90: int


Figures = dict[str, Any]


def _read(count: int, median: int, p90: int) -> Figures:
    return {
        "count": count,
        "median_seconds": round(sketch.value(median), 1),
        "p90_seconds": round(sketch.value(p90), 1),
    }


_NO_DURATIONS: Figures = {"count": 0, "median_seconds": None, "p90_seconds": None}


async def _summaries(
    conn: Connection, span: Range, metric: Metric, pieces: Iterable[periods.Piece]
) -> dict[periods.Piece, dict[str, Figures]]:
    """``metric``'s durations in each of ``pieces`` per value, as kept beside them."""
    wanted = sorted(set(pieces))
    found: dict[periods.Piece, dict[str, Figures]] = defaultdict(dict)
    for row in await fetch_all(
        conn,
        _Summary,
        Q.duration_summaries,
        {
            "dimension": span.dimension,
            "metric": metric,
            "periods": [period for period, _ in wanted],
            "starts": [start for _, start in wanted],
        },
    ):
        found[(row.period, row.start)][row.value] = _read(row.count, row.median, row.p90)
    return found


async def _histograms(
    conn: Connection, span: Range, metric: Metric, pieces: Iterable[periods.Piece]
) -> dict[periods.Piece, list[_Histogram]]:
    """``metric``'s histograms of each of ``pieces``, one a value."""
    wanted = sorted(set(pieces))
    found: dict[periods.Piece, list[_Histogram]] = defaultdict(list)
    for histogram in await fetch_all(
        conn,
        _Histogram,
        Q.duration_histograms,
        {
            "dimension": span.dimension,
            "metric": metric,
            "periods": [period for period, _ in wanted],
            "starts": [start for _, start in wanted],
        },
    ):
        found[(histogram.period, histogram.start)].append(histogram)
    return found


def _added_up(
    histograms: Mapping[periods.Piece, Sequence[_Histogram]], pieces: Iterable[periods.Piece]
) -> dict[str, Figures]:
    """The durations of ``pieces`` together, per value."""
    per_value: dict[str, list[_Histogram]] = defaultdict(list)
    for piece in pieces:
        for histogram in histograms.get(piece, ()):
            per_value[histogram.value].append(histogram)
    return {
        value: _read(*sketch.summarize(*sketch.merge((h.buckets, h.counts) for h in held)))
        for value, held in per_value.items()
    }


async def _durations(
    conn: Connection, span: Range, metric: Metric
) -> tuple[dict[str, dict[date, Figures]], dict[str, Figures]]:
    """``metric``'s durations per value and period, and per value over the range. A
    period that is one whole day, week or month is read from its summary; the others, and
    the range, from the sum of the histograms of the periods that make them up."""
    covers = {p: periods.cover(p, span.last_day(p)) for p in span.periods()}
    whole = {p: pieces[0] for p, pieces in covers.items() if len(pieces) == 1}
    split = {p: pieces for p, pieces in covers.items() if len(pieces) > 1}
    total = periods.cover(span.start, span.end)
    summaries = await _summaries(conn, span, metric, whole.values())
    histograms = await _histograms(
        conn, span, metric, [*total, *(piece for pieces in split.values() for piece in pieces)]
    )
    found: dict[str, dict[date, Figures]] = defaultdict(dict)
    for point, piece in whole.items():
        for value, figures in summaries.get(piece, {}).items():
            found[value][point] = figures
    for point, pieces in split.items():
        for value, figures in _added_up(histograms, pieces).items():
            found[value][point] = figures
    return found, _added_up(histograms, total)


async def durations(conn: Connection, span: Range) -> DurationsReport:
    """First response and resolution times per period."""
    await fold(conn)
    first, first_total = await _durations(conn, span, "first_response")
    resolution, resolution_total = await _durations(conn, span, "resolution")
    names = await _names(conn, span.dimension, set(first) | set(resolution))
    periods_ = span.periods()
    series = [
        {
            "key": value,
            "name": names[value],
            "points": [
                {
                    "period": p,
                    "values": {
                        "first_response": first[value].get(p, _NO_DURATIONS),
                        "resolution": resolution[value].get(p, _NO_DURATIONS),
                    },
                }
                for p in periods_
            ],
            "total": {
                "first_response": first_total.get(value, _NO_DURATIONS),
                "resolution": resolution_total.get(value, _NO_DURATIONS),
            },
        }
        for value in _ordered(names)
    ]
    return await _report(conn, DurationsReport, span, series)
