"""How fast the reports are at scale: each report over a year, unsplit and split.

    .venv/bin/python bench/reports.py --synthetic 1000000 [--runs 20]
    .venv/bin/python bench/reports.py --database ticketdesk_bench_100000 [--runs 20]

``--synthetic N`` creates a database of its own (``ticketdesk_bench_reports``, dropped
at the end), migrates it and writes the rollups of N tickets spread over the last 365
days directly (the daily counts as ``reports.service.Tally`` adds them: created,
resolved after a log-normal time, backlog, SLA targets for half of them, ratings for a
fifth; the first response and resolution durations folded into the histograms of each
day, week and month by ``reports.service.fold``, as a rebuild does), across 5 teams, 20 agents, 3
types, 4 priorities and 16 labels (0 to 2 a ticket). A report reads only these rows, so
their number, not the tickets table, is what it costs.

``--database NAME`` takes a database filled by ``bench/fill.py``, times
``reports.service.rebuild`` over its tickets, then the reports.

Each report is timed as the API runs it (``reports.service``, on one connection), over
the last 365 days per day and per week, ``--runs`` times; p50 and p95 are printed in milliseconds.
``BENCH_POSTGRES`` names the server (default ``postgresql://postgres@127.0.0.1:5432/postgres``).
"""

import argparse
import asyncio
import itertools
import math
import os
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ticketdesk import db
from ticketdesk.reports import service, sketch
from ticketdesk.reports.schemas import Interval, SplitBy

SERVER = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
SYNTHETIC = "ticketdesk_bench_reports"
REPORTS = {
    "volume": service.volume,
    "backlog": service.backlog,
    "durations": service.durations,
    "sla": service.sla,
    "csat": service.csat,
}
SPLITS: tuple[SplitBy | None, ...] = (None, "team", "agent", "type", "priority", "label")
INTERVALS: tuple[Interval, ...] = ("day", "week")
ROLLUPS = ("report_days", "report_durations", "report_day_changes", "report_duration_changes")


def _dsn(name: str) -> str:
    return urlsplit(SERVER)._replace(path=f"/{name}").geturl()


# One row a synthetic ticket: when it was created, answered and resolved (NULL: not yet,
# by the range's end), its attributes, and what its SLA targets and rating came to.
# Durations are log-normal (first response: median 3 h; resolution: median 30 h more),
# drawn with the Box-Muller transform; setseed makes every run draw the same tickets.
_TICKETS = """
create temporary table synthetic as
with drawn as (
    select %(start)s::date + floor(random() * 365)::int as created,
           floor(random() * 6)::int as team,
           floor(random() * 21)::int as agent,
           random() as type, random() as priority,
           floor(random() * 5)::int as label_count,
           floor(random() * 16)::int as label_a, 1 + floor(random() * 15)::int as label_b,
           exp(ln(3 * 3600) + 1.2 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))
               as first_seconds,
           exp(ln(30 * 3600) + 1.0 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))
               as more_seconds,
           random() as first_sla, random() as resolution_sla, random() as rated,
           random() as good
    from generate_series(1, %(total)s)
), timed as (
    select *, created + floor(first_seconds / 86400)::int as answered,
           created + floor((first_seconds + more_seconds) / 86400)::int as done
    from drawn
)
select created,
       case when answered <= %(end)s then answered end as answered,
       case when done <= %(end)s then done end as done,
       first_seconds, first_seconds + more_seconds as resolution_seconds,
       case when team < 5 then 'team-' || team else '' end as team,
       case when agent < 20 then 'agent-' || agent else '' end as agent,
       case when type < 0.45 then 'bug' when type < 0.85 then 'support' else 'feature' end
           as type,
       case when priority < 0.25 then 'low' when priority < 0.80 then 'medium'
            when priority < 0.95 then 'high' else 'critical' end as priority,
       case when label_count < 2 then array[]::text[]
            when label_count < 4 then array['label-' || label_a]
            else array['label-' || label_a, 'label-' || (label_a + label_b) %% 16] end
           as labels,
       case when first_sla < 0.5 then first_seconds < 4 * 3600 end as first_met,
       case when resolution_sla < 0.5 then first_seconds + more_seconds < 48 * 3600 end
           as resolution_met,
       case when rated < 0.2 then good < 0.85 end as rated_good
from timed
"""

# Each ticket in each (dimension, value) it counts in: as reports.service.buckets puts it.
_PLACED = """
create temporary view placed as
select t.*, w.dimension, w.value
from synthetic t cross join lateral (
    values ('all', ''), ('team', t.team), ('agent', t.agent), ('type', t.type),
           ('priority', t.priority)
    union all
    select 'label', l from unnest(t.labels) l
    union all
    select 'label', '' where cardinality(t.labels) = 0
) w(dimension, value)
"""

_DAYS = """
insert into report_days (
    dimension, day, value, created, resolved, backlog_delta, first_response_met,
    first_response_missed, resolution_met, resolution_missed, csat_good, csat_bad)
select t.dimension, e.day, t.value, sum(e.created), sum(e.resolved), sum(e.backlog_delta),
       sum(e.first_response_met), sum(e.first_response_missed), sum(e.resolution_met),
       sum(e.resolution_missed), sum(e.csat_good), sum(e.csat_bad)
from placed t
cross join lateral (
    select t.created as day, 1 as created, 0 as resolved, 1 as backlog_delta,
           0 as first_response_met, 0 as first_response_missed, 0 as resolution_met,
           0 as resolution_missed, 0 as csat_good, 0 as csat_bad
    union all
    select t.done, 0, 1, -1, 0, 0, (t.resolution_met is true)::int,
           (t.resolution_met is false)::int, (t.rated_good is true)::int,
           (t.rated_good is false)::int
    where t.done is not null
    union all
    select t.answered, 0, 0, 0, (t.first_met is true)::int, (t.first_met is false)::int,
           0, 0, 0, 0
    where t.answered is not null and t.first_met is not null
) e
group by t.dimension, e.day, t.value
"""

# The buckets as reports.sketch.bucket computes them, added as the changes add them, for
# reports.service.fold to fold into the histograms of each day, week and month.
_DURATIONS = """
insert into report_duration_changes (dimension, metric, day, value, bucket, count)
select t.dimension, d.metric, d.day, t.value, d.bucket, 1
from placed t
cross join lateral (
    select 'first_response' as metric, t.answered as day,
           greatest(1, ceil(ln(t.first_seconds) / %(log_gamma)s))::smallint as bucket
    where t.answered is not null
    union all
    select 'resolution', t.done,
           greatest(1, ceil(ln(t.resolution_seconds) / %(log_gamma)s))::smallint
    where t.done is not null
) d
"""


async def _synthesize(dsn: str, total: int, end: date) -> None:
    params = {
        "start": end - timedelta(days=364),
        "end": end,
        "total": total,
        "log_gamma": math.log(sketch.GAMMA),
    }
    async with await psycopg.AsyncConnection.connect(dsn, row_factory=dict_row) as conn:
        await conn.execute("set local work_mem = '256MB'")
        await conn.execute("select setseed(0.5)")
        await conn.execute(_TICKETS, params)
        await conn.execute(_PLACED)
        await conn.execute(_DAYS)
        await conn.execute(_DURATIONS, params)
        await service.fold(conn)
        await conn.commit()
    # As autovacuum would: the folded changes leave their rows dead.
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        for table in ROLLUPS:
            await conn.execute(sql.SQL("vacuum analyze {}").format(sql.Identifier(table)))


async def _rebuild(dsn: str) -> date:
    async with await psycopg.AsyncConnection.connect(dsn, row_factory=dict_row) as conn:
        started = time.perf_counter()
        count = await service.rebuild(conn)
        await conn.commit()
        print(f"rebuild from {count:,} tickets: {time.perf_counter() - started:.1f} s")
        found = await conn.execute("select max(day) as day from report_days")
        row = await found.fetchone()
        assert row is not None
        assert row["day"] is not None
        end: date = row["day"]
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        for table in ROLLUPS:
            await conn.execute(sql.SQL("vacuum analyze {}").format(sql.Identifier(table)))
    return end


async def _time(dsn: str, end: date, runs: int) -> None:
    async with await psycopg.AsyncConnection.connect(dsn, row_factory=dict_row) as conn:
        sizes = await conn.execute(
            "select (select count(*) from report_days) as days,"
            " (select count(*) from report_durations) as durations,"
            " (select sum(cardinality(buckets)) from report_durations) as buckets"
        )
        size = await sizes.fetchone()
        assert size is not None
        print(
            f"rollups: {size['days']:,} daily rows, {size['durations']:,} duration histograms"
            f" ({size['buckets']:,} buckets)"
        )
        print(f"{'report':<10} {'interval':<8} {'split':<9} {'p50 ms':>8} {'p95 ms':>8}")
        for (name, read), interval, split in itertools.product(REPORTS.items(), INTERVALS, SPLITS):
            span = service.Range(
                start=end - timedelta(days=364), end=end, interval=interval, split_by=split
            )
            took = []
            for _ in range(runs):
                started = time.perf_counter()
                await read(conn, span)
                took.append((time.perf_counter() - started) * 1000)
                await conn.rollback()
            p95 = statistics.quantiles(took, n=20)[-1] if runs > 1 else took[0]
            print(
                f"{name:<10} {interval:<8} {split or '-':<9}"
                f" {statistics.median(took):>8.1f} {p95:>8.1f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--synthetic", type=int, metavar="N", help="rollups of N tickets")
    where.add_argument("--database", help="a database bench/fill.py filled")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if args.database:
        dsn = _dsn(args.database)
        end = asyncio.run(_rebuild(dsn))
        asyncio.run(_time(dsn, end, args.runs))
        return
    dsn = _dsn(SYNTHETIC)
    with psycopg.connect(SERVER, autocommit=True) as conn:
        ident = sql.Identifier(SYNTHETIC)
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(ident))
        conn.execute(sql.SQL("create database {}").format(ident))
    try:
        asyncio.run(db.migrate(dsn))
        end = datetime.now(UTC).date()
        started = time.perf_counter()
        asyncio.run(_synthesize(dsn, args.synthetic, end))
        print(f"rollups of {args.synthetic:,} tickets: {time.perf_counter() - started:.1f} s")
        asyncio.run(_time(dsn, end, args.runs))
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(SYNTHETIC))
            )


if __name__ == "__main__":
    main()
