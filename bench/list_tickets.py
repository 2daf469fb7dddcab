"""How fast ticket lists are at scale: latency of common triage and portal queries.

Fills a database with N tickets (default 1,000,000) spread over 2,000 submitters and
20 agents, then times `tickets.listing.list_tickets` — the code the API runs — for
the first page and for a page reached by following cursors, and prints the plan's
top node so an index scan is visible.

    .venv/bin/python bench/list_tickets.py [--tickets 1000000] [--keep]

Uses BENCH_DATABASE_URL's server (default: postgres on 127.0.0.1:5432) and a database
of its own, `ticketdesk_bench`, which it reuses when already filled to the same size.
"""

import argparse
import asyncio
import os
import statistics
import time
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ticketdesk import db
from ticketdesk.auth.service import Actor
from ticketdesk.config import Settings
from ticketdesk.tickets import listing
from ticketdesk.tickets.schemas import SortKey, TicketFilters

SERVER = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NAME = "ticketdesk_bench"
WINDOW = Settings().reopen_window

FILL = """
insert into users (id, email, name, role, password_hash)
select uuidv7(), 'user' || lpad(n::text, 4, '0') || '@bench.test', 'User ' || n,
       case when n <= 20 then 'agent' else 'user' end, null
from generate_series(1, 2020) n;

insert into tickets (user_id, type, priority, status, title, description,
                     assigned_to_user_id, tags, metadata, created_at, updated_at)
select
    people.ids[21 + (g %% 2000)],
    (array['bug', 'feature', 'support'])[1 + g %% 3],
    (array['low', 'medium', 'medium', 'high', 'critical'])[1 + g %% 5],
    (array['open', 'in_progress', 'waiting', 'resolved', 'closed', 'closed', 'closed'])[1 + g %% 7],
    'Ticket number ' || g || ' about '
        || (array['exports', 'invoices', 'login', 'search'])[1 + g %% 4],
    'Steps to reproduce the problem with ' || md5(g::text) || ' in the reports page.',
    case when g %% 4 = 0 then null else people.ids[1 + (g %% 20)] end,
    case when g %% 10 = 0 then array['billing'] else array[]::text[] end,
    jsonb_build_object('os', (array['Linux', 'macOS', 'Windows'])[1 + g %% 3]),
    now() - make_interval(secs => (%(n)s - g) * 30),
    now() - make_interval(secs => (%(n)s - g) * 30) + make_interval(secs => g %% 5000)
from generate_series(1, %(n)s) g,
     (select array_agg(id order by email) as ids from users) people;
analyze
"""


def ensure_database(tickets: int) -> str:
    """The bench database, migrated and holding ``tickets`` tickets."""
    dsn = psycopg.conninfo.make_conninfo(SERVER, dbname=NAME)
    with psycopg.connect(SERVER, autocommit=True) as conn:
        if conn.execute("select 1 from pg_database where datname = %s", (NAME,)).fetchone():
            with psycopg.connect(dsn) as bench:
                row = bench.execute("select count(*) from tickets").fetchone()
            if row is not None and row[0] == tickets:
                asyncio.run(db.migrate(dsn))  # indexes added since it was filled
                return dsn
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(NAME)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(NAME)))
    asyncio.run(db.migrate(dsn))
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in filter(str.strip, FILL.split(";\n")):
            conn.execute(statement, {"n": tickets})
    print(f"filled {tickets:,} tickets in {time.perf_counter() - started:.0f} s")
    return dsn


CASES: list[tuple[str, str, dict[str, Any], SortKey]] = [
    ("agent: all tickets, newest", "agent", {}, "-created"),
    ("agent: open, by priority", "agent", {"status": ["open"]}, "-priority"),
    ("agent: Unassigned open", "agent", {"status": ["open"], "assignee": "none"}, "-created"),
    (
        "agent: Mine, open+in progress",
        "agent",
        {"status": ["open", "in_progress"], "assignee": "me"},
        "-updated",
    ),
    ("agent: label billing", "agent", {"tag": ["billing"]}, "-created"),
    ("agent: metadata os=macOS", "agent", {"metadata": {"os": "macOS"}}, "-created"),
    ("agent: full text 'invoices'", "agent", {"q": "invoices"}, "-created"),
    ("submitter: my tickets", "user", {}, "-created"),
    ("submitter: my open tickets", "user", {"status": ["open"]}, "-updated"),
]


async def run_case(
    pool: Any, actor: Actor, filters: TicketFilters, sort: SortKey, pages: int
) -> tuple[list[float], float | None]:
    """Time the first page 20 times, then follow cursors ``pages`` deep."""
    first: list[float] = []
    async with pool.connection() as conn:
        for _ in range(20):
            started = time.perf_counter()
            page = await listing.list_tickets(
                conn, actor, filters, sort=sort, cursor=None, limit=25, reopen_window=WINDOW
            )
            first.append((time.perf_counter() - started) * 1000)
        cursor = page.next_cursor
        followed = 0
        started = time.perf_counter()
        while cursor is not None and followed < pages:
            page = await listing.list_tickets(
                conn, actor, filters, sort=sort, cursor=cursor, limit=25, reopen_window=WINDOW
            )
            cursor = page.next_cursor
            followed += 1
        deep = (time.perf_counter() - started) * 1000 / followed if followed == pages else None
    return first, deep


async def bench(dsn: str, pages: int) -> None:
    """Print a line per case: median and p95 of the first page, and a deep page."""
    pool = await db.open_pool(dsn, min_size=1, max_size=2)
    async with await psycopg.AsyncConnection.connect(dsn, row_factory=dict_row) as conn:
        cur = await conn.execute(
            "select id, email, name, role from users where id = ("
            " select assigned_to_user_id from tickets where assigned_to_user_id is not null"
            " limit 1)"
        )
        agent = Actor(**(await cur.fetchone() or {}))
        cur = await conn.execute(
            "select u.id, u.email, u.name, u.role from users u "
            "where role = 'user' order by email limit 1"
        )
        user = Actor(**(await cur.fetchone() or {}))
    print(f"{'case':<34} {'first page p50':>15} {'p95':>8} {f'page {pages + 1} avg':>12}")
    for label, who, filters, sort in CASES:
        actor = agent if who == "agent" else user
        first, deep = await run_case(pool, actor, TicketFilters(**filters), sort, pages)
        p95 = statistics.quantiles(first, n=20)[-1]
        deep_text = f"{deep:>9.1f} ms" if deep is not None else f"{'(fewer pages)':>12}"
        print(f"{label:<34} {statistics.median(first):>12.1f} ms {p95:>5.1f} ms {deep_text}")
    await pool.close()


def main() -> None:
    """Fill (or reuse) the database and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--pages", type=int, default=40, help="how deep to follow cursors")
    args = parser.parse_args()
    dsn = ensure_database(args.tickets)
    asyncio.run(bench(dsn, args.pages))


if __name__ == "__main__":
    main()
